//! Files and system databases HAProxy 2.6 opens while checking a
//! configuration (`haproxy -c`): certificates (`crt`, `crt` directories,
//! `crt-list`), CA/CRL files, `errorfile`s, ACL pattern / map files, the
//! server state file, and `user`/`group` names.
//!
//! Every `Err` is HAProxy's own text, without the location prefix the caller
//! adds (`parsing [f:l] : 'bind x' in section 'frontend' : `...). Paths are
//! used as given: `crt-base`/`ca-base` joining is the caller's job.
//! Must not touch: diagnostics printing, the AST, sockets.

mod pem;

use pem::{PubKey, parse_pem};
use std::path::Path;

fn errno_text(e: &std::io::Error) -> String {
    crate::config::addr::strerror(e.raw_os_error().unwrap_or(0))
}

/// An error with HAProxy's two alert lines: `line` goes after the keyword
/// line's prefix, `extra` (when present) is a stand-alone alert. For `bind`
/// the stand-alone alert comes first; for `server` it comes after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: String,
    pub extra: Option<String>,
}

impl From<String> for FileError {
    fn from(line: String) -> Self {
        FileError { line, extra: None }
    }
}

// ---------------------------------------------------------------- certs ---

/// Loads one `crt` PEM file like HAProxy's `ssl_sock_load_files_into_ckch`
/// plus the SSL context checks (`.ocsp`, `.sctl`). `Err` text examples:
/// `unable to stat SSL certificate from file 'x.pem' : No such file or directory.`,
/// `unable to load certificate from file 'x.pem'.`,
/// `No Private Key found in 'x.pem.key'.`,
/// `inconsistencies between private key and certificate loaded 'x.pem'.`
pub fn check_cert_file(path: &str) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "unable to stat SSL certificate from file '{path}' : {}.",
            errno_text(&e)
        )
    })?;
    if meta.is_dir() {
        // `crt` on a server line: HAProxy's stat() succeeded, errno is 0
        return Err(format!(
            "unable to stat SSL certificate from file '{path}' : Success."
        ));
    }
    let leaf = load_ckch(path)?;
    check_ctx(path, &leaf)
}

/// The key/certificate/chain part (errors carry HAProxy's trailing `\n`
/// trimmed); returns the leaf certificate's public key.
fn load_ckch(path: &str) -> Result<(PubKey, Vec<PubKey>), String> {
    let data = std::fs::read(path).map_err(|e| {
        format!(
            "unable to load certificate from file '{path}' : {}.",
            errno_text(&e)
        )
    })?;
    let blocks = parse_pem(&data);
    // private key: the first key-labelled block, any decode failure = none
    let mut key: Option<PubKey> = None;
    for b in &blocks {
        match &b.der {
            Err(_) => break,
            Ok(der) if pem::is_key_label(&b.label) => {
                if !b.encrypted {
                    key = pem::private_key(&b.label, der);
                }
                break;
            }
            Ok(_) => {}
        }
    }
    // leaf certificate: first certificate block
    let mut certs = blocks
        .iter()
        .skip_while(|b| b.der.is_ok() && !pem::is_cert_label(&b.label));
    let leaf = certs
        .next()
        .filter(|b| pem::is_cert_label(&b.label))
        .and_then(|b| b.der.as_ref().ok())
        .and_then(|d| pem::cert_pubkey(d))
        .ok_or_else(|| format!("unable to load certificate from file '{path}'."))?;
    let mut chain = Vec::new();
    for b in certs {
        let k = match &b.der {
            Err(_) => None,
            Ok(_) if !pem::is_cert_label(&b.label) => continue,
            Ok(d) => pem::cert_pubkey(d),
        };
        match k {
            Some(k) => chain.push(k),
            None => {
                return Err(format!(
                    "unable to load certificate chain from file '{path}'."
                ));
            }
        }
    }
    let key = match key {
        Some(k) => k,
        None => {
            let kp = format!("{path}.key");
            if !Path::new(&kp).exists() {
                return Err(format!("No Private Key found in '{kp}'."));
            }
            let kdata = std::fs::read(&kp).unwrap_or_default();
            parse_pem(&kdata)
                .iter()
                .find(|b| pem::is_key_label(&b.label) || b.der.is_err())
                .filter(|b| !b.encrypted)
                .and_then(|b| b.der.as_ref().ok().and_then(|d| pem::private_key(&b.label, d)))
                .ok_or_else(|| {
                    format!(
                        "unable to load private key from file '{kp}'.\n '{kp}' is present but cannot be read or parsed'."
                    )
                })?
        }
    };
    if !pem::key_matches(&leaf, &key) {
        return Err(format!(
            "inconsistencies between private key and certificate loaded '{path}'."
        ));
    }
    Ok((leaf, chain))
}

/// SSL context stage: OpenSSL's default security level refuses RSA keys
/// under 2048 bits, then the `.ocsp` / `.sctl` companions are checked.
fn check_ctx(path: &str, (leaf, chain): &(PubKey, Vec<PubKey>)) -> Result<(), String> {
    if too_weak(leaf) {
        return Err(format!(
            "unable to load SSL certificate into SSL Context '{path}'."
        ));
    }
    if chain.iter().any(too_weak) {
        return Err(format!(
            "unable to load chain certificate into SSL Context '{path}'. Make sure you are linking against Openssl >= 1.0.2."
        ));
    }
    check_ctx_extras(path)
}

fn too_weak(k: &PubKey) -> bool {
    match k {
        PubKey::Rsa { n, .. } => {
            let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
            bits < 2048
        }
        _ => false,
    }
}

/// `.ocsp` / `.sctl` companions, checked when the SSL context is built.
/// (`.issuer` files are read but their errors are not fatal in 2.6.)
fn check_ctx_extras(path: &str) -> Result<(), String> {
    let ocsp = format!("{path}.ocsp");
    if Path::new(&ocsp).exists() {
        // Computing the OCSP certificate ID needs the issuer: a second
        // certificate in the chain or a `.issuer` file.
        let data = std::fs::read(path).unwrap_or_default();
        let chain = parse_pem(&data)
            .iter()
            .filter(|b| pem::is_cert_label(&b.label))
            .count();
        if chain < 2 && !Path::new(&format!("{path}.issuer")).exists() {
            return Err(format!(
                " '{ocsp}' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'."
            ));
        }
    }
    let sctl = format!("{path}.sctl");
    if Path::new(&sctl).exists() {
        let ok = std::fs::read(&sctl).is_ok_and(|d| sctl_ok(&d));
        if !ok {
            // HAProxy appends ".sctl" twice in this message.
            return Err(format!(
                " '{sctl}.sctl' is present but cannot be read or parsed'."
            ));
        }
    }
    Ok(())
}

/// `ssl_sock_parse_sctl`: a 2-byte total length then 2-byte-length entries.
fn sctl_ok(d: &[u8]) -> bool {
    if d.len() < 2 || usize::from(u16::from_be_bytes([d[0], d[1]])) + 2 != d.len() {
        return false;
    }
    let mut rest = &d[2..];
    while !rest.is_empty() {
        if rest.len() < 2 {
            return false;
        }
        let l = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if l == 0 || rest.len() < l + 2 {
            return false;
        }
        rest = &rest[l + 2..];
    }
    true
}

/// `crt <path>` on a `bind` line: a file, or a directory whose regular files
/// are each loaded (names starting with `.` and ending in `.key`, `.ocsp`,
/// `.issuer`, `.sctl` skipped, alphabetical order). Returns how many
/// certificates were loaded (0 for an empty directory: the caller then
/// reports `no SSL certificate specified for bind ...`).
pub fn check_cert_path(path: &str) -> Result<usize, String> {
    let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
    if !is_dir {
        return check_cert_file(path).map(|()| 1);
    }
    let trimmed = path.trim_end_matches('/');
    let dir = if trimmed.is_empty() { "/" } else { trimmed };
    let rd = std::fs::read_dir(dir)
        .map_err(|e| format!("unable to scan directory '{dir}' : {}.", errno_text(&e)))?;
    let mut names: Vec<Vec<u8>> = rd
        .filter_map(Result::ok)
        .map(|e| e.file_name().into_encoded_bytes())
        .collect();
    names.sort();
    let mut n = 0;
    for name in names {
        let name = String::from_utf8_lossy(&name).into_owned();
        if name.starts_with('.') {
            continue;
        }
        if [".key", ".ocsp", ".issuer", ".sctl"]
            .iter()
            .any(|ext| name.rsplit_once('.').is_some_and(|(_, e)| e == &ext[1..]))
        {
            continue;
        }
        let fp = format!("{dir}/{name}");
        let meta = std::fs::metadata(&fp).map_err(|e| {
            format!(
                "unable to stat SSL certificate from file '{fp}' : {}.",
                errno_text(&e)
            )
        })?;
        if !meta.is_file() {
            continue;
        }
        let leaf = load_ckch(&fp)?;
        check_ctx(&fp, &leaf)
            .map_err(|e| format!("error processing line 0 in file '{dir}' : {e}"))?;
        n += 1;
    }
    Ok(n)
}

/// Result of reading a `crt-list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrtList {
    /// (line number, certificate path) of every entry.
    pub entries: Vec<(usize, String)>,
    /// Non-fatal messages (`'crt-list' : parsing [f:n]: malformated line...`).
    pub warnings: Vec<String>,
}

/// SSL options accepted between `[` `]` in a crt-list line.
const CRTLIST_SSL_KW: &[&str] = &[
    "allow-0rtt",
    "alpn",
    "ca-file",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "curves",
    "ecdhe",
    "no-ca-names",
    "npn",
    "verify",
    "ssl-min-ver",
    "ssl-max-ver",
];

/// Keywords taking no argument.
const CRTLIST_FLAG_KW: &[&str] = &["allow-0rtt", "no-ca-names"];

/// `crt-list <file>`: parses the list and loads every certificate. Error
/// texts start with `'crt-list' : ` like HAProxy's.
pub fn check_crt_list(path: &str) -> Result<CrtList, String> {
    let data = std::fs::read(path).map_err(|e| {
        format!(
            "'crt-list' : cannot open file '{path}' : {}",
            errno_text(&e)
        )
    })?;
    let mut out = CrtList::default();
    let lines = data.split_inclusive(|&c| c == b'\n');
    let mut linenum = 0;
    for raw in lines {
        linenum += 1;
        let perr = |m: &str| format!("'crt-list' : parsing [{path}:{linenum}]: {m}");
        if raw.len() >= 65535 && raw.last() != Some(&b'\n') {
            return Err(perr("line too long, limit is 65535 characters"));
        }
        if matches!(raw.first(), Some(b'#' | b'\n' | b'\r')) {
            continue;
        }
        if let Some(p) = raw.iter().position(|&c| c == 0) {
            return Err(perr(&format!("Stray NUL character at position {}.", p + 1)));
        }
        let line = match raw.strip_suffix(b"\n") {
            Some(l) => l,
            None => {
                return Err(perr(&format!(
                    "Missing LF on last line, file might have been truncated at position {}.",
                    raw.len() + 1
                )));
            }
        };
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        let Some(&first) = words.first() else {
            continue;
        };
        if first.starts_with('[') {
            return Err(perr("file must start with a cert"));
        }
        // options between [ ]
        let mut i = 1;
        let open = words.iter().position(|w| w.starts_with('['));
        if let Some(o) = open {
            if o > 1 {
                out.warnings.push(perr(
                    "malformated line, filters can't be between filename and options!",
                ));
            }
            let mut opts: Vec<&str> = Vec::new();
            let mut j = o;
            let mut closed = false;
            while let Some(w) = words.get(j) {
                let w = w.strip_prefix('[').unwrap_or(w);
                let (w, end) = match w.strip_suffix(']') {
                    Some(x) => (x, true),
                    None => (w, false),
                };
                if !w.is_empty() {
                    opts.push(w);
                }
                j += 1;
                if end {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(perr(&format!("ssl args out of '[]' for {}", first)));
            }
            let mut k = 0;
            while let Some(kw) = opts.get(k) {
                if !CRTLIST_SSL_KW.contains(kw) {
                    return Err(perr(&format!("unknown ssl keyword {kw}")));
                }
                k += if CRTLIST_FLAG_KW.contains(kw) { 1 } else { 2 };
            }
            i = j;
        }
        let _filters = &words[i.min(words.len())..];
        let cert = first.to_string();
        check_cert_path(&cert).map_err(|e| format!("'crt-list' : {e}"))?;
        out.entries.push((linenum, cert));
    }
    Ok(out)
}

// --------------------------------------------------------------- CA/CRL ---

/// `ca-file` / `crl-file`: OpenSSL's `X509_load_cert_crl_file`. `Err` is the
/// stand-alone alert `Couldn't open the ca-file '<f>' (<reason>).` (HAProxy
/// says "ca-file" for CRL files too). Directories and `@system-ca` load.
pub fn check_ca_file(path: &str) -> Result<(), String> {
    if path == "@system-ca" || std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let fail = |why: &str| format!("Couldn't open the ca-file '{path}' ({why}).");
    let data = std::fs::read(path).map_err(|e| fail(&errno_text(&e)))?;
    let mut found = 0;
    for b in parse_pem(&data) {
        let is_cert = pem::is_cert_label(&b.label);
        let is_crl = b.label == "X509 CRL";
        let der = match b.der {
            Ok(d) => d,
            Err(why) => return Err(fail(why)),
        };
        if is_cert {
            if pem::cert_pubkey(&der).is_none() {
                return Err(fail("wrong tag"));
            }
            found += 1;
        } else if is_crl {
            if !pem::crl_ok(&der) {
                return Err(fail("wrong tag"));
            }
            found += 1;
        }
    }
    if found == 0 {
        return Err(fail("no certificate or crl found"));
    }
    Ok(())
}

/// Same loader as [`check_ca_file`].
pub fn check_crl_file(path: &str) -> Result<(), String> {
    check_ca_file(path)
}

/// Checks a file-taking `bind` option (`crt`, `crt-list`, `ca-file`,
/// `ca-verify-file`, `crl-file`) and returns both alert texts (see
/// [`FileError`]): for CA/CRL files `line` is `'ca-file' : unable to load <f>`
/// and `extra` is `Couldn't open the ca-file ...`.
pub fn check_bind_file_full(kw: &str, path: &str) -> Result<(), FileError> {
    match kw {
        "crt" => check_cert_path(path).map(|_| ()).map_err(FileError::from),
        "crt-list" => check_crt_list(path).map(|_| ()).map_err(FileError::from),
        "ca-file" | "ca-verify-file" | "crl-file" => check_ca_file(path).map_err(|e| FileError {
            line: format!("'{kw}' : unable to load {path}"),
            extra: Some(e),
        }),
        _ => Ok(()),
    }
}

/// [`check_bind_file_full`] reduced to the text printed on the bind line.
pub fn check_bind_file(kw: &str, path: &str) -> Result<(), String> {
    check_bind_file_full(kw, path).map_err(|e| e.line)
}

/// Checks a file-taking `server` option (`crt`, `ca-file`, `crl-file`): for
/// CA/CRL files `line` is `Couldn't open the ca-file ...` and `extra` the
/// stand-alone `'ca-file' : unable to load <f>.`.
pub fn check_server_file_full(kw: &str, path: &str) -> Result<(), FileError> {
    match kw {
        "crt" => check_cert_file(path).map_err(FileError::from),
        "ca-file" | "crl-file" => check_ca_file(path).map_err(|e| FileError {
            line: e,
            extra: Some(format!("'{kw}' : unable to load {path}.")),
        }),
        _ => Ok(()),
    }
}

/// [`check_server_file_full`] reduced to the text on the server line.
pub fn check_server_file(kw: &str, path: &str) -> Result<(), String> {
    check_server_file_full(kw, path).map_err(|e| e.line)
}

// ------------------------------------------------------------ errorfile ---

/// Status codes HAProxy 2.6 can hold an error message for.
pub const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// `errorfile <code> <path>`: returns the file content. `Err` is the full
/// text HAProxy prints after the location, e.g.
/// `errorfile : error opening file 'x.http'.`,
/// `errorfile : status code '999' not handled.`,
/// `errorfile : 'x.http': unable to parse headers (error offset: 0)`.
/// An empty file is accepted (no message).
pub fn load_errorfile(path: &str, code: &str) -> Result<Vec<u8>, String> {
    let status = crate::config::units::atoi(code);
    if !ERRORFILE_CODES.iter().any(|&c| i32::from(c) == status) {
        return Err(format!("errorfile : status code '{status}' not handled."));
    }
    let data = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound
            || e.kind() == std::io::ErrorKind::PermissionDenied
        {
            format!("errorfile : error opening file '{path}'.")
        } else {
            format!("errorfile : error reading file '{path}'.")
        }
    })?;
    if data.is_empty() {
        return Ok(data);
    }
    check_http_response(&data).map_err(|e| format!("errorfile : {}", e.render(path)))?;
    Ok(data)
}

/// Why a canned HTTP response was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// `unable to parse headers (error offset: N)` (-2 = incomplete).
    Headers(i64),
    InvalidStatus(u32),
    Chunked,
    LengthMismatch(usize, usize),
}

impl ResponseError {
    fn render(&self, path: &str) -> String {
        match self {
            ResponseError::Headers(o) => {
                format!("'{path}': unable to parse headers (error offset: {o})")
            }
            ResponseError::InvalidStatus(s) => {
                format!("invalid http status code for an error message ({s})")
            }
            ResponseError::Chunked => "chunk-encoded payload not supported".to_string(),
            ResponseError::LengthMismatch(a, b) => {
                format!("payload size does not match the announced content-length ({a} != {b})")
            }
        }
    }
}

/// HAProxy's H1 response-head parser, as far as error positions go.
pub fn check_http_response(d: &[u8]) -> Result<(), ResponseError> {
    let bad = |p: usize| ResponseError::Headers(p as i64);
    let incomplete = ResponseError::Headers(-2);
    let mut p = 0;
    while matches!(d.get(p), Some(b'\r' | b'\n')) {
        p += 1;
    }
    // version token
    let vstart = p;
    while let Some(&c) = d.get(p) {
        if c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'.' || c == b'/' {
            p += 1;
        } else {
            break;
        }
    }
    match d.get(p) {
        None => return Err(incomplete),
        Some(b' ') if p > vstart => {}
        Some(_) => return Err(bad(p)),
    }
    while d.get(p) == Some(&b' ') {
        p += 1;
    }
    // status code
    let cstart = p;
    while d.get(p).is_some_and(u8::is_ascii_digit) {
        p += 1;
    }
    match d.get(p) {
        None => return Err(incomplete),
        Some(b' ' | b'\r' | b'\n') if p > cstart => {}
        Some(_) => return Err(bad(p)),
    }
    let status: u32 = std::str::from_utf8(&d[cstart..p])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // reason
    while let Some(&c) = d.get(p) {
        p += 1;
        if c == b'\n' {
            break;
        }
    }
    if p >= d.len() && d.last() != Some(&b'\n') {
        return Err(incomplete);
    }
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    loop {
        match d.get(p) {
            None => return Err(incomplete),
            Some(b'\n') => {
                p += 1;
                break;
            }
            Some(b'\r') => match d.get(p + 1) {
                Some(b'\n') => {
                    p += 2;
                    break;
                }
                None => return Err(incomplete),
                Some(_) => return Err(bad(p + 1)),
            },
            Some(_) => {}
        }
        let nstart = p;
        while let Some(&c) = d.get(p) {
            if c == b':' {
                break;
            }
            if !is_token(c) {
                return Err(bad(p));
            }
            p += 1;
        }
        if d.get(p).is_none() {
            return Err(incomplete);
        }
        if p == nstart {
            return Err(bad(p));
        }
        let name = String::from_utf8_lossy(&d[nstart..p]).to_ascii_lowercase();
        p += 1;
        let vstart = p;
        while let Some(&c) = d.get(p) {
            if c == b'\n' {
                break;
            }
            p += 1;
        }
        if d.get(p).is_none() {
            return Err(incomplete);
        }
        let value = String::from_utf8_lossy(&d[vstart..p]);
        let value = value.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
        p += 1;
        if name == "content-length" {
            content_length = value.parse().ok();
        } else if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    if !(200..=599).contains(&status) {
        return Err(ResponseError::InvalidStatus(status));
    }
    if chunked {
        return Err(ResponseError::Chunked);
    }
    let body = d.len() - p;
    if let Some(cl) = content_length
        && cl != body
    {
        return Err(ResponseError::LengthMismatch(body, cl));
    }
    Ok(())
}

fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

// -------------------------------------------------------- pattern files ---

/// `acl ... -f <file>` / pattern files, with their line numbers: lines whose
/// first byte is `#` are comments, leading spaces/tabs are stripped, the
/// line ends at the first CR or LF, trailing spaces are kept, empty lines
/// skipped. `Err`: `failed to open pattern file <path>.`
pub fn load_pattern_lines(path: &str) -> Result<Vec<(usize, String)>, String> {
    let data = std::fs::read(path).map_err(|_| format!("failed to open pattern file <{path}>."))?;
    let mut out = Vec::new();
    for (i, raw) in data.split(|&c| c == b'\n').enumerate() {
        if raw.first() == Some(&b'#') {
            continue;
        }
        let start = raw
            .iter()
            .position(|&c| c != b' ' && c != b'\t')
            .unwrap_or(raw.len());
        let rest = &raw[start..];
        let end = rest.iter().position(|&c| c == b'\r').unwrap_or(rest.len());
        if end == 0 {
            continue;
        }
        out.push((i + 1, String::from_utf8_lossy(&rest[..end]).into_owned()));
    }
    Ok(out)
}

/// [`load_pattern_lines`] without line numbers.
pub fn load_pattern_file(path: &str) -> Result<Vec<String>, String> {
    load_pattern_lines(path).map(|v| v.into_iter().map(|(_, s)| s).collect())
}

/// Map files: each pattern line split into key (up to the first space/tab)
/// and value (after the following spaces/tabs, may be empty).
pub fn load_map_file(path: &str) -> Result<Vec<(usize, String, String)>, String> {
    Ok(load_pattern_lines(path)?
        .into_iter()
        .map(|(n, l)| match l.find([' ', '\t']) {
            Some(i) => {
                let v = l[i..].trim_start_matches([' ', '\t']).to_string();
                (n, l[..i].to_string(), v)
            }
            None => (n, l, String::new()),
        })
        .collect())
}

// ----------------------------------------------------- server state file ---

/// Reads the server state file. `Err` is HAProxy's warning text (it is not
/// fatal): `config: Can't open global server state file '<f>': <strerror>`.
pub fn read_server_state_file(path: &str) -> Result<String, String> {
    std::fs::read(path)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .map_err(|e| {
            format!(
                "config: Can't open global server state file '{path}': {}",
                errno_text(&e)
            )
        })
}

// ---------------------------------------------------------- users/groups ---

fn c_lookup(name: &str, user: bool) -> Result<Option<u32>, i32> {
    let Ok(c_name) = std::ffi::CString::new(name) else {
        return Ok(None);
    };
    let mut buf = vec![0 as libc::c_char; 16384];
    if user {
        // SAFETY: all-zero passwd is valid; buffers outlive the call.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: valid pointers and buffer length.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut res,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!res.is_null()).then_some(pw.pw_uid))
    } else {
        // SAFETY: all-zero group is valid; buffers outlive the call.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::group = std::ptr::null_mut();
        // SAFETY: valid pointers and buffer length.
        let rc = unsafe {
            libc::getgrnam_r(
                c_name.as_ptr(),
                &mut gr,
                buf.as_mut_ptr(),
                buf.len(),
                &mut res,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!res.is_null()).then_some(gr.gr_gid))
    }
}

/// `user <name>`: the uid from the passwd database (`getpwnam`).
pub fn lookup_user(name: &str) -> Option<u32> {
    c_lookup(name, true).ok().flatten()
}

/// `group <name>`: the gid from the group database (`getgrnam`).
pub fn lookup_group(name: &str) -> Option<u32> {
    c_lookup(name, false).ok().flatten()
}

/// HAProxy's message for an unknown user: `cannot find user id for 'x' (0:Success)`.
pub fn user_not_found_msg(name: &str) -> String {
    let errno = c_lookup(name, true).err().unwrap_or(0);
    format!(
        "cannot find user id for '{name}' ({errno}:{})",
        crate::config::addr::strerror(errno)
    )
}

/// HAProxy's message for an unknown group: `cannot find group id for 'x' (0:Success)`.
pub fn group_not_found_msg(name: &str) -> String {
    let errno = c_lookup(name, false).err().unwrap_or(0);
    format!(
        "cannot find group id for '{name}' ({errno}:{})",
        crate::config::addr::strerror(errno)
    )
}

#[cfg(test)]
mod tests;
