//! crypt(3) through the system libcrypt, as HAProxy's `check_user` does
//! for `user <name> password <hash>` lines.
//!
//! Owns: the FFI call (`crypt_rn` of libxcrypt, reentrant, one
//! `struct crypt_data` per call on the heap) and the "hash of the given
//! password equals the stored hash" comparison. No cache: like HAProxy,
//! every check re-hashes. Must not know about userlists or HTTP.

use std::ffi::{CStr, CString, c_char, c_int, c_void};

/// `sizeof(struct crypt_data)` in libxcrypt (exactly 32768 bytes).
const CRYPT_DATA_SIZE: usize = 32768;

#[link(name = "crypt")]
unsafe extern "C" {
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
}

/// A C string of `b` up to its first NUL (HAProxy handles the decoded
/// credentials as C strings).
fn c_string(b: &[u8]) -> Option<CString> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).ok()
}

/// Whether `crypt(pass, hash) == hash` (HAProxy's `check_user` for a
/// hashed password). Unknown or malformed hashes never match.
pub fn matches(pass: &[u8], hash: &str) -> bool {
    let (Some(p), Some(h)) = (c_string(pass), c_string(hash.as_bytes())) else {
        return false;
    };
    let mut data = vec![0u8; CRYPT_DATA_SIZE];
    // SAFETY: both strings are NUL-terminated and outlive the call; `data`
    // is a zeroed buffer of the size libxcrypt requires, which crypt_rn
    // checks against `size`. The returned pointer points into `data` (or
    // is NULL) and is read before `data` is dropped.
    unsafe {
        let out = crypt_rn(
            p.as_ptr(),
            h.as_ptr(),
            data.as_mut_ptr().cast(),
            CRYPT_DATA_SIZE as c_int,
        );
        !out.is_null() && CStr::from_ptr(out).to_bytes() == h.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    // Generated with `openssl passwd -6/-5/-1 -salt saltsalt secret` and
    // Python's crypt.crypt("secret", "ab").
    const HASHES: [&str; 4] = [
        "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
        "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA",
        "$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
        "abNANd1rDfiNc",
    ];

    #[test]
    fn every_scheme_checks() {
        for h in HASHES {
            assert!(matches(b"secret", h), "{h}");
            assert!(!matches(b"Secret", h), "{h}");
            assert!(!matches(b"", h), "{h}");
        }
    }

    #[test]
    fn password_stops_at_nul() {
        assert!(matches(b"secret\0tail", HASHES[0]));
    }

    #[test]
    fn garbage_hash_never_matches() {
        assert!(!matches(b"x", "*0"));
        assert!(!matches(b"x", ""));
        assert!(!matches(b"x", "$9$nope"));
    }
}
