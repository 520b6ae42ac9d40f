//! `map*` converters: a map file loaded at startup, looked up with one of
//! the ACL match methods, giving a string, integer or address.
//!
//! Owns: reading map files (HAProxy's rules: `#` comments, blank lines,
//! key = first word, value = the rest) and the lookup. Must not know the
//! sample expression around it.

use crate::config::sample::MatchMethod;
use crate::config::sample::pattern::parse_pattern;
use crate::session::fetch::Smp;
use crate::session::patref::{Out, PatRef, User};
use std::path::Path;
use std::sync::Arc;

/// A loaded map: a user of the file's shared, runtime-mutable
/// [`PatRef`] (the CLI's `add map` etc. reach the converter through it).
#[derive(Debug, Clone)]
pub struct Map {
    user: Arc<User>,
    default: Option<Smp<'static>>,
}

/// Reads a map file: `(key, value)` per line.
fn read(
    file: &str,
    method: MatchMethod,
    out: Out,
) -> Result<Vec<(String, Option<String>)>, String> {
    let text =
        std::fs::read(Path::new(file)).map_err(|_| format!("failed to open map file <{file}>"))?;
    let text = String::from_utf8_lossy(&text);
    let mut es = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let l = line.trim_start_matches([' ', '\t']).trim_end_matches('\r');
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (k, v) = match l.find([' ', '\t']) {
            Some(i) => (&l[..i], l[i..].trim_start_matches([' ', '\t'])),
            None => (l, ""),
        };
        parse_pattern(method, k, false, true)
            .map_err(|e| format!("{e} at line {} of map file '{file}'", n + 1))?;
        out.value(v)
            .ok_or_else(|| format!("bad value at line {} of map file '{file}'", n + 1))?;
        es.push((k.to_string(), Some(v.to_string())));
    }
    Ok(es)
}

impl Map {
    /// Loads `map_<method>[_<out>](file[,default])`.
    pub fn load(name: &str, file: &str, default: Option<&str>) -> Result<Map, String> {
        let rest = name.strip_prefix("map").unwrap_or("");
        let mut parts = rest.trim_start_matches('_').split('_');
        let m = parts.next().filter(|m| !m.is_empty()).unwrap_or("str");
        let method = MatchMethod::from_name(m)
            .filter(|m| *m != MatchMethod::Regm)
            .ok_or_else(|| format!("converter '{name}' is not implemented"))?;
        let out = match parts.next() {
            Some("int") => Out::Int,
            Some("ip") => Out::Ip,
            _ => Out::Str,
        };
        let entries = match PatRef::lookup(true, file) {
            Some(_) => Vec::new(),
            None => read(file, method, out)?,
        };
        let desc = format!("pattern loaded from file '{file}' used by map");
        let (_, user) = PatRef::attach(file, true, &desc, || entries, method, false, Some(out))?;
        let default = match default {
            Some(d) => Some(
                out.value(d)
                    .ok_or_else(|| format!("bad default value '{d}'"))?,
            ),
            None => None,
        };
        Ok(Map { user, default })
    }

    /// The value for `v`, else the default.
    pub fn lookup(&self, v: &Smp<'_>) -> Option<Smp<'static>> {
        self.user.value_of(v).or_else(|| self.default.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_looks_up() {
        let dir = std::env::temp_dir().join(format!("sy-map-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let f = dir.join("m.map");
        std::fs::write(&f, "# c\n  a.com   be1 x\n10.0.0.0/8 net\n\nb.com be2\r\n").unwrap();
        let p = f.to_str().unwrap();
        let m = Map::load("map", p, Some("dflt")).unwrap();
        assert_eq!(m.lookup(&Smp::str(b"a.com")), Some(Smp::str(b"be1 x")));
        assert_eq!(m.lookup(&Smp::str(b"b.com")), Some(Smp::str(b"be2")));
        assert_eq!(m.lookup(&Smp::str(b"c.com")), Some(Smp::str(b"dflt")));
        let f2 = dir.join("ip.map");
        std::fs::write(&f2, "10.0.0.0/8 net\n10.1.0.0/16 sub\n").unwrap();
        let m = Map::load("map_ip", f2.to_str().unwrap(), None).unwrap();
        assert_eq!(
            m.lookup(&Smp::Ip("10.2.3.4".parse().unwrap())),
            Some(Smp::str(b"net"))
        );
        assert_eq!(
            m.lookup(&Smp::Ip("10.1.3.4".parse().unwrap())),
            Some(Smp::str(b"sub"))
        );
        let m = Map::load("map_end", p, None).unwrap();
        assert_eq!(m.lookup(&Smp::str(b"www.b.com")), Some(Smp::str(b"be2")));
        let _ = std::fs::remove_dir_all(dir);
    }
}
