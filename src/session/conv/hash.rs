//! Hash converters (`sdbm`, `djb2`, `wt6`, `crc32`, `crc32c`, `xxh32`) and
//! HAProxy's `full_hash` avalanche, bit-exact with its `hash.c`.
//!
//! Owns: the hash functions only. Must not know about samples.

/// Thomas Wang's 32-bit integer hash (HAProxy's `full_hash`).
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    // spread values all around the tree
    a.wrapping_mul(3_221_225_473)
}

/// A key byte as C's (signed) `char` promoted to `unsigned int`.
pub fn sc(c: u8) -> u32 {
    c as i8 as i32 as u32
}

pub fn sdbm(k: &[u8]) -> u32 {
    k.iter().fold(0u32, |h, &c| {
        sc(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

pub fn djb2(k: &[u8]) -> u32 {
    k.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(sc(c))
    })
}

pub fn wt6(k: &[u8]) -> u32 {
    let mut h0: u32 = 0xa53c_965a;
    let mut h1: u32 = 0x5ca6_953a;
    let mut step0: u32 = 6;
    let mut step1: u32 = 18;
    for &c in k {
        let t = sc(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        // C shifts by 32 act as shifts by 0 on the CPUs HAProxy runs on.
        let t = h1.wrapping_shl(step0) | h1.wrapping_shr(32 - step0);
        h1 = h0.wrapping_shl(step1) | h0.wrapping_shr(32 - step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1F;
        step1 = t >> 11;
    }
    h0 ^ h1
}

fn crc_table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
        }
        *e = c;
    }
    t
}

fn crc(k: &[u8], poly: u32) -> u32 {
    let t = crc_table(poly);
    !k.iter().fold(!0u32, |c, &b| {
        (c >> 8) ^ t[((c ^ u32::from(b)) & 0xff) as usize]
    })
}

/// CRC32 (Ethernet polynomial), as `hash_crc32`.
pub fn crc32(k: &[u8]) -> u32 {
    crc(k, 0xedb8_8320)
}

/// CRC32c (Castagnoli), as `hash_crc32c`.
pub fn crc32c(k: &[u8]) -> u32 {
    crc(k, 0x82f6_3b78)
}

/// xxHash32 with `seed`.
pub fn xxh32(k: &[u8], seed: u32) -> u32 {
    const P1: u32 = 2_654_435_761;
    const P2: u32 = 2_246_822_519;
    const P3: u32 = 3_266_489_917;
    const P4: u32 = 668_265_263;
    const P5: u32 = 374_761_393;
    let rd = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let round = |acc: u32, v: u32| {
        acc.wrapping_add(v.wrapping_mul(P2))
            .rotate_left(13)
            .wrapping_mul(P1)
    };
    let mut i = 0;
    let mut h = if k.len() >= 16 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while i + 16 <= k.len() {
            for (j, vj) in v.iter_mut().enumerate() {
                *vj = round(*vj, rd(&k[i + 4 * j..]));
            }
            i += 16;
        }
        v[0].rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18))
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(k.len() as u32);
    while i + 4 <= k.len() {
        h = h
            .wrapping_add(rd(&k[i..]).wrapping_mul(P3))
            .rotate_left(17)
            .wrapping_mul(P4);
        i += 4;
    }
    while i < k.len() {
        h = h
            .wrapping_add(u32::from(k[i]).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^= h >> 16;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(xxh32(b"", 0), 0x02cc_5d05);
        assert_eq!(xxh32(b"abc", 0), 0x32d1_53ff);
        assert_eq!(djb2(b""), 5381);
    }
}
