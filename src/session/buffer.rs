//! Recycled I/O buffers: the 16 KiB buffers a request or response head is
//! read into come from a small per-thread free list instead of the
//! allocator, and go back when a connection turns idle.
//!
//! Owns: the free list. Must not keep more than [`KEEP`] buffers per
//! thread (memory goes back to the allocator beyond that).

use std::cell::RefCell;

/// Capacity of a fresh buffer (HAProxy's default `tune.bufsize`).
pub const SIZE: usize = 16384;

/// Buffers kept per thread.
const KEEP: usize = 64;

thread_local! {
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with at least [`SIZE`] bytes of capacity.
pub fn take() -> Vec<u8> {
    FREE.with(|f| f.borrow_mut().pop())
        .unwrap_or_else(|| Vec::with_capacity(SIZE))
}

/// Returns `buf` to the free list (dropped when the list is full or the
/// buffer has an unusual size).
pub fn give(mut buf: Vec<u8>) {
    if buf.capacity() < SIZE || buf.capacity() > 4 * SIZE {
        return;
    }
    buf.clear();
    FREE.with(|f| {
        let mut f = f.borrow_mut();
        if f.len() < KEEP {
            f.push(buf);
        }
    });
}

/// A buffer from the free list that goes back to it when dropped.
#[derive(Debug)]
pub struct Pooled(Vec<u8>);

impl Pooled {
    pub fn take() -> Pooled {
        Pooled(take())
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.0));
    }
}

impl std::ops::Deref for Pooled {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycles_cleared_buffers() {
        let mut b = take();
        assert!(b.capacity() >= SIZE);
        b.extend_from_slice(b"abc");
        let p = b.as_ptr();
        give(b);
        let again = take();
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), p);
        // Small buffers are not kept.
        give(Vec::with_capacity(10));
        let fresh = take();
        assert!(fresh.capacity() >= SIZE);
    }
}
