//! HAProxy's hash functions and the `hash-type` setting.
//!
//! Owns: `sdbm`, `djb2`, `wt6`, `crc32`, the `avalanche` modifier
//! (Bob Jenkins' full avalanche integer hash) and parsing of
//! `hash-type <method> [<function> [<modifier>]]`. Pure functions only;
//! must not know about servers.

/// How hashes are mapped to servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// A weighted array indexed by `hash % total_weight` (the default).
    #[default]
    MapBased,
    /// A ring of weight-scaled points per server.
    Consistent,
}

/// The hash function applied to the key bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Func {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

/// A backend's `hash-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashType {
    pub method: Method,
    pub func: Func,
    pub avalanche: bool,
}

impl HashType {
    /// Parses the words after `hash-type`. As documented for 2.6, a
    /// consistent hash without a function uses sdbm with avalanche. Errors
    /// are HAProxy's alert texts.
    pub fn parse(words: &[String]) -> Result<HashType, String> {
        let mut ht = HashType::default();
        match words.first().map(String::as_str) {
            Some("map-based") => {}
            Some("consistent") => ht.method = Method::Consistent,
            _ => return Err("'hash-type' only supports 'consistent' and 'map-based'.".into()),
        }
        match words.get(1).map(String::as_str) {
            None => ht.avalanche = ht.method == Method::Consistent,
            Some(f) => {
                ht.func = match f {
                    "sdbm" => Func::Sdbm,
                    "djb2" => Func::Djb2,
                    "wt6" => Func::Wt6,
                    "crc32" => Func::Crc32,
                    _ => {
                        return Err("'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.".into());
                    }
                };
                match words.get(2).map(String::as_str) {
                    None => {}
                    Some("avalanche") => ht.avalanche = true,
                    Some(_) => {
                        return Err(
                            "'hash-type' only supports 'avalanche' as a modifier for hash functions."
                                .into(),
                        );
                    }
                }
            }
        }
        Ok(ht)
    }

    /// Hashes `key` with the function, then the modifier.
    pub fn hash(&self, key: &[u8]) -> u32 {
        let h = match self.func {
            Func::Sdbm => sdbm(key),
            Func::Djb2 => djb2(key),
            Func::Wt6 => wt6(key),
            Func::Crc32 => crc32(key),
        };
        self.modify(h)
    }

    /// Applies only the modifier (the `source` algorithm hashes the
    /// address words itself and then only honours `avalanche`).
    pub fn modify(&self, h: u32) -> u32 {
        if self.avalanche { full_hash(h) } else { h }
    }
}

/// sdbm: `h = c + (h << 6) + (h << 16) - h` over unsigned bytes.
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// djb2: `h = h * 33 + c`, starting at 5381.
pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// wt6, HAProxy's own: two words rotated by data-dependent steps.
pub fn wt6(key: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965a_u32, 0x5ca6_953a_u32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in key {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !h1.wrapping_add(t);
        let r = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = r;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// The common (Ethernet, gzip) reflected CRC32.
pub fn crc32(key: &[u8]) -> u32 {
    let mut h = !0u32;
    for &c in key {
        h ^= u32::from(c);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// Bob Jenkins' 32-bit full-avalanche integer hash, then (as HAProxy's
/// `full_hash` does) a multiplication by the prime 3221225473 to spread
/// values around the tree.
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}
