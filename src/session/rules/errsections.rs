//! The `http-errors` sections as the `errorfiles <name>` argument of
//! `deny`/`return`/`tarpit`/`http-error` sees them.
//!
//! Owns: the registry of the sections (name, then status to file path),
//! filled at start-up by [`register`] before the rules are compiled.
//! Must not read the files (the reply parser does, once).

use crate::config::ir::Config;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

type Sections = HashMap<String, HashMap<u16, String>>;

fn registry() -> &'static RwLock<Sections> {
    static R: OnceLock<RwLock<Sections>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Makes the `http-errors` sections of `cfg` reachable by name.
pub fn register(cfg: &Config) {
    if let Ok(mut g) = registry().write() {
        for s in &cfg.http_errors {
            let files = s.files.iter().map(|f| (f.code, f.path.clone())).collect();
            g.insert(s.name.clone(), files);
        }
    }
}

/// The file section `name` gives for `status`: `Err` for an unknown
/// section, `Ok(None)` when the section has no page for the status.
pub fn file(name: &str, status: u16) -> Result<Option<String>, String> {
    let g = registry()
        .read()
        .map_err(|_| "http-errors registry unavailable".to_string())?;
    let sec = g.get(name).ok_or_else(|| {
        format!("unknown http-errors section '{name}' referenced by http reply rule")
    })?;
    Ok(sec.get(&status).cloned())
}
