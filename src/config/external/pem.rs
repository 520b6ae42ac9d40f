//! Minimal PEM/DER reader: enough structure to decide what OpenSSL would
//! load or refuse (block framing, base64, DER shapes of certificates, CRLs
//! and private keys) and to compare a private key with a certificate's public
//! key. No signature or cryptographic verification.

/// One `-----BEGIN <label>-----` ... `-----END <label>-----` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    /// Decoded body, or OpenSSL's reason text when it cannot be decoded.
    pub der: Result<Vec<u8>, &'static str>,
    /// `Proc-Type: 4,ENCRYPTED` header present (needs a pass phrase).
    pub encrypted: bool,
}

/// Splits `data` into PEM blocks. Text outside blocks is ignored, like
/// OpenSSL. A block without its END line yields an error block and stops.
pub fn parse_pem(data: &[u8]) -> Vec<PemBlock> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_end_matches('\r');
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut encrypted = false;
        let mut closed = false;
        for l in lines.by_ref() {
            let l = l.trim_end_matches('\r');
            if l == end {
                closed = true;
                break;
            }
            if l.contains(':') {
                if l.starts_with("Proc-Type:") && l.contains("ENCRYPTED") {
                    encrypted = true;
                }
                continue;
            }
            body.push_str(l.trim());
        }
        let der = if closed {
            base64_decode(&body).ok_or("bad base64 decode")
        } else {
            Err("bad end line")
        };
        out.push(PemBlock {
            label: label.to_string(),
            der,
            encrypted,
        });
        if !closed {
            break;
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut pad = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    if pad > 2 || (out.len() + pad) % 3 != 0 && pad > 0 {
        return None;
    }
    Some(out)
}

/// One DER TLV: (tag, content, rest).
pub fn tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Elements of a constructed value.
fn items(mut d: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut v = Vec::new();
    while !d.is_empty() {
        let (t, c, r) = tlv(d)?;
        v.push((t, c));
        d = r;
    }
    Some(v)
}

/// The whole input is exactly one SEQUENCE; returns its elements.
fn seq(d: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let (t, c, rest) = tlv(d)?;
    (t == 0x30 && rest.is_empty()).then_some(())?;
    items(c)
}

/// Key material comparable between a certificate and a private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// EC point (uncompressed or compressed bytes); `None` when a private key
    /// does not carry its public point (cannot be compared).
    Ec(Option<Vec<u8>>),
    /// Other algorithms, by OID bytes; the public part is not derivable here.
    Other(Vec<u8>),
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

fn strip_int(i: &[u8]) -> Vec<u8> {
    let mut s = i;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    s.to_vec()
}

fn rsa_pub(d: &[u8]) -> Option<PubKey> {
    let v = seq(d)?;
    let (n, e) = (v.first()?, v.get(1)?);
    (n.0 == 2 && e.0 == 2).then(|| PubKey::Rsa {
        n: strip_int(n.1),
        e: strip_int(e.1),
    })
}

/// Decodes an X.509 certificate; returns its public key.
pub fn cert_pubkey(der: &[u8]) -> Option<PubKey> {
    let top = seq(der)?;
    if top.len() != 3 || top[0].0 != 0x30 || top[1].0 != 0x30 || top[2].0 != 0x03 {
        return None;
    }
    let tbs = items(top[0].1)?;
    let mut i = 0;
    if tbs.first()?.0 == 0xa0 {
        i = 1;
    }
    // serial, signature, issuer, validity, subject, spki
    let spki = tbs.get(i + 5)?;
    if tbs.get(i)?.0 != 0x02 || spki.0 != 0x30 {
        return None;
    }
    let sp = items(spki.1)?;
    let alg = items(sp.first()?.1)?;
    let oid = alg.first()?;
    let bits = sp.get(1)?;
    if bits.0 != 0x03 || bits.1.is_empty() {
        return None;
    }
    let key = &bits.1[1..];
    Some(match oid.1 {
        OID_RSA => rsa_pub(key)?,
        OID_EC => PubKey::Ec(Some(key.to_vec())),
        other => PubKey::Other(other.to_vec()),
    })
}

/// A CRL is a SEQUENCE { tbsCertList, signatureAlgorithm, signature }.
pub fn crl_ok(der: &[u8]) -> bool {
    seq(der).is_some_and(|t| t.len() == 3 && t[0].0 == 0x30 && t[1].0 == 0x30 && t[2].0 == 0x03)
}

fn rsa_priv(d: &[u8]) -> Option<PubKey> {
    let v = seq(d)?;
    if v.len() < 9 || v.iter().any(|x| x.0 != 2) {
        return None;
    }
    Some(PubKey::Rsa {
        n: strip_int(v[1].1),
        e: strip_int(v[2].1),
    })
}

fn ec_priv(d: &[u8]) -> Option<PubKey> {
    let v = seq(d)?;
    if v.len() < 2 || v[0].0 != 2 || v[1].0 != 4 {
        return None;
    }
    let public = v.iter().find(|x| x.0 == 0xa1).and_then(|x| {
        let (t, c, _) = tlv(x.1)?;
        (t == 3 && !c.is_empty()).then(|| c[1..].to_vec())
    });
    Some(PubKey::Ec(public))
}

/// Decodes a private key block by its PEM label (`PRIVATE KEY`,
/// `RSA PRIVATE KEY`, `EC PRIVATE KEY`); `None` when OpenSSL would fail.
pub fn private_key(label: &str, der: &[u8]) -> Option<PubKey> {
    match label {
        "RSA PRIVATE KEY" => rsa_priv(der),
        "EC PRIVATE KEY" => ec_priv(der),
        "PRIVATE KEY" => {
            let v = seq(der)?;
            let (ver, alg, key) = (v.first()?, v.get(1)?, v.get(2)?);
            if ver.0 != 2 || alg.0 != 0x30 || key.0 != 4 {
                return None;
            }
            let oid = items(alg.1)?.first()?.1.to_vec();
            match oid.as_slice() {
                OID_RSA => rsa_priv(key.1),
                OID_EC => ec_priv(key.1),
                _ => Some(PubKey::Other(oid)),
            }
        }
        _ => None,
    }
}

/// Labels OpenSSL's `PEM_read_bio_PrivateKey` looks at.
pub fn is_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

/// Labels OpenSSL's `PEM_read_bio_X509(_AUX)` looks at.
pub fn is_cert_label(label: &str) -> bool {
    matches!(
        label,
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
    )
}

/// `X509_check_private_key`: false only when the two provably differ.
pub fn key_matches(cert: &PubKey, key: &PubKey) -> bool {
    match (cert, key) {
        (PubKey::Rsa { .. }, PubKey::Rsa { .. }) => cert == key,
        (PubKey::Ec(Some(a)), PubKey::Ec(Some(b))) => a == b,
        (PubKey::Ec(_), PubKey::Ec(_)) => true,
        (PubKey::Other(a), PubKey::Other(b)) => a == b,
        _ => false,
    }
}
