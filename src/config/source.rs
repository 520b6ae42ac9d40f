//! Configuration sources: the `-f` arguments turned into an ordered list of
//! files with their bytes.
//!
//! Owns: file and directory expansion (a directory contributes its `*.cfg`
//! files in lexical order) and the file names used in messages. Must not
//! interpret the content.

use std::path::Path;

/// One configuration file as read from disk.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name as HAProxy prints it (the `-f` argument, or `dir/file`).
    pub name: String,
    pub content: Vec<u8>,
}

/// Why a `-f` argument could not be read; the text is HAProxy's.
#[derive(Debug, thiserror::Error)]
#[error("Cannot open configuration file/directory {path} : {reason}")]
pub struct SourceError {
    pub path: String,
    pub reason: String,
}

/// Expands `-f` arguments into files, in order.
pub fn expand(args: &[String]) -> Result<Vec<String>, SourceError> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        let meta = std::fs::metadata(p).map_err(|e| SourceError {
            path: a.clone(),
            reason: os_reason(&e),
        })?;
        if meta.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| SourceError {
                path: a.clone(),
                reason: os_reason(&e),
            })?;
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".cfg") && !n.starts_with('.'))
                .collect();
            names.sort();
            for n in names {
                let full = if a.ends_with('/') {
                    format!("{a}{n}")
                } else {
                    format!("{a}/{n}")
                };
                if Path::new(&full).is_file() {
                    out.push(full);
                }
            }
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// Reads one file.
pub fn read(name: &str) -> Result<SourceFile, SourceError> {
    let content = std::fs::read(name).map_err(|e| SourceError {
        path: name.to_string(),
        reason: os_reason(&e),
    })?;
    Ok(SourceFile {
        name: name.to_string(),
        content,
    })
}

/// The libc strerror text for an I/O error (what HAProxy prints).
pub fn os_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            // std's Display adds " (os error N)"; strip it to match strerror.
            let s = std::io::Error::from_raw_os_error(code).to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
        None => e.to_string(),
    }
}
