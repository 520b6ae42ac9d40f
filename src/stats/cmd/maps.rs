//! The map/ACL runtime API of the CLI (management.txt 9.3): `show map|acl`,
//! `get`, `add`, `del`, `set map`, `clear`, with HAProxy 2.6.12's texts.
//!
//! Owns: parsing those commands' arguments and formatting the answers.
//! Acts only through [`crate::session::patref::PatRef`] (the shared,
//! runtime-mutable pattern references). Must not do I/O nor check levels
//! (the dispatcher does).

pub mod index;

use super::{Reply, text};
use crate::config::sample::MatchMethod;
use crate::session::fetch::Smp;
use crate::session::patref::{Entry, PatRef, parse_ref};
use std::sync::Arc;

fn unknown(map: bool) -> Reply {
    text(if map {
        "Unknown map identifier. Please use #<id> or <file>.\n"
    } else {
        "Unknown ACL identifier. Please use #<id> or <file>.\n"
    })
}

fn find(map: bool, name: &str) -> Result<Arc<PatRef>, Reply> {
    // `#<id>` is HAProxy's number from the start-up list when there is one.
    if let (Some(list), Some(n)) = (index::installed(), name.strip_prefix('#')) {
        let l = n
            .parse::<u32>()
            .ok()
            .and_then(|id| list.iter().find(|l| l.id == id))
            .filter(|l| !l.file.is_empty() && if map { l.map } else { l.acl });
        return l
            .and_then(|l| PatRef::lookup(map, &l.file))
            .ok_or_else(|| unknown(map));
    }
    PatRef::lookup(map, name).ok_or_else(|| unknown(map))
}

/// `show map|acl` without an argument, from the start-up list.
fn listing(map: bool, list: &[index::Listed]) -> String {
    let mut out = String::from("# id (file) description\n");
    for l in list.iter().filter(|l| if map { l.map } else { l.acl }) {
        let now = match PatRef::lookup(map, &l.file).filter(|_| !l.file.is_empty()) {
            Some(r) => r.entries().len(),
            None => l.entries.len(),
        };
        out.push_str(&format!(
            "{} ({}) {}. curr_ver=0 next_ver=0 entry_cnt={}\n",
            l.id,
            l.file,
            l.desc,
            if l.file.is_empty() {
                now
            } else {
                l.entry_cnt(now)
            }
        ));
    }
    out
}

/// `show acl #<id>` of an anonymous ACL expression: its inline patterns.
fn anonymous(map: bool, name: &str) -> Option<String> {
    let id: u32 = name.strip_prefix('#')?.parse().ok()?;
    let l = index::installed()?
        .iter()
        .find(|l| l.id == id && l.file.is_empty() && !map)?;
    Some(
        l.entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                format!(
                    "0x{:x} {e}\n",
                    ANON_PTR + i as u64 * 0x50 + u64::from(id) * 0x1000
                )
            })
            .collect(),
    )
}

/// Where the made-up addresses of anonymous entries start.
const ANON_PTR: u64 = 0x5608_1f00_0000;

fn entry_line(map: bool, e: &Entry) -> String {
    match (&e.value, map) {
        (Some(v), true) => format!("0x{:x} {} {}\n", e.ptr, e.key, v),
        _ => format!("0x{:x} {}\n", e.ptr, e.key),
    }
}

/// `show map|acl [<id|file>]`.
pub fn show(map: bool, arg: Option<&str>) -> Reply {
    if let (None, Some(list)) = (arg, index::installed()) {
        return text(listing(map, list));
    }
    if let Some(out) = arg.and_then(|a| anonymous(map, a)) {
        return text(out);
    }
    let Some(name) = arg else {
        let mut out = String::from("# id (file) description\n");
        for r in PatRef::all(map) {
            out.push_str(&format!(
                "{} ({}) {}. curr_ver=0 next_ver=0 entry_cnt={}\n",
                r.id,
                r.file,
                r.desc,
                r.entries().len()
            ));
        }
        return text(out);
    };
    match find(map, name) {
        Ok(r) => text(
            r.entries()
                .iter()
                .map(|e| entry_line(map, e))
                .collect::<String>(),
        ),
        Err(e) => e,
    }
}

fn type_name(m: MatchMethod) -> &'static str {
    match m {
        MatchMethod::Ip => "ip",
        MatchMethod::Int | MatchMethod::Len | MatchMethod::DottedVer => "int",
        MatchMethod::Bool | MatchMethod::Found => "bool",
        MatchMethod::Bin => "bin",
        _ => "str",
    }
}

fn idx_name(m: MatchMethod) -> &'static str {
    match m {
        MatchMethod::Str | MatchMethod::Beg | MatchMethod::Ip => "tree",
        _ => "list",
    }
}

/// `get map|acl <id|file> <value>`.
pub fn get(map: bool, args: &[&str]) -> Reply {
    let (Some(name), Some(val)) = (args.first(), args.get(1)) else {
        return text(if map {
            "Missing map identifier and/or key.\n"
        } else {
            "Missing ACL identifier and/or key.\n"
        });
    };
    let r = match find(map, name) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Some(u) = r.first_user() else {
        return text("");
    };
    let case = if u.icase { "insensitive" } else { "sensitive" };
    let mut out = format!("type={}, case={case}, ", type_name(u.method));
    let hit = u.find(&Smp::str(val.as_bytes()));
    match (hit, map) {
        (None, true) => out.push_str("found=no\n"),
        (None, false) => out.push_str("match=no\n"),
        (Some((e, _)), true) => out.push_str(&format!(
            "found=yes, idx={}, key=\"{}\", value=\"{}\", type=\"{}\"\n",
            idx_name(u.method),
            e.key,
            e.value.as_deref().unwrap_or(""),
            u.out.map_or("str", |o| o.name())
        )),
        (Some((e, _)), false) => out.push_str(&format!(
            "match=yes, idx={}, pattern=\"{}\"\n",
            idx_name(u.method),
            e.key
        )),
    }
    text(out)
}

/// `add map <id> <key> <value>` / `add acl <id> <pattern>`.
pub fn add(map: bool, args: &[&str]) -> Reply {
    let ok = if map {
        args.len() >= 3
    } else {
        args.len() >= 2
    };
    if !ok {
        return text(if map {
            "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n"
        } else {
            "'add acl' expects two parameters: ACL identifier and pattern.\n"
        });
    }
    let r = match find(map, args[0]) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match r.add(args[1], map.then(|| args[2])) {
        Ok(()) => text(""),
        Err(e) => text(format!("{e}\n")),
    }
}

/// `del map|acl <id> <key|#ref>`.
pub fn del(map: bool, args: &[&str]) -> Reply {
    if args.len() != 2 {
        return text(if map {
            "This command expects two parameters: map identifier and key.\n"
        } else {
            "This command expects two parameters: ACL identifier and key.\n"
        });
    }
    let r = match find(map, args[0]) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let key = args[1];
    let by_ref = parse_ref(key);
    let res = r.update(|es| {
        let before = es.len();
        match by_ref {
            Some(p) => es.retain(|e| e.ptr != p),
            None => es.retain(|e| e.key != key),
        }
        es.len() != before
    });
    match res {
        Ok(true) => text(""),
        Ok(false) => text("Key not found.\n"),
        Err(e) => text(format!("{e}\n")),
    }
}

/// `set map <id> <key|#ref> <value>`.
pub fn set(args: &[&str]) -> Reply {
    if args.len() != 3 {
        return text("'set map' expects three parameters: map identifier, key and value.\n");
    }
    let r = match find(true, args[0]) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (key, val) = (args[1], args[2]);
    let by_ref = parse_ref(key);
    let res = r.update(|es| {
        let mut hit = false;
        for e in es.iter_mut() {
            let m = match by_ref {
                Some(p) => e.ptr == p,
                None => e.key == key,
            };
            if m {
                e.value = Some(val.to_string());
                hit = true;
            }
        }
        hit
    });
    match res {
        Ok(true) => text(""),
        Ok(false) => text("entry not found.\n"),
        Err(e) => text(format!("{e}\n")),
    }
}

/// `clear map|acl <id|file>`.
pub fn clear(map: bool, args: &[&str]) -> Reply {
    let Some(name) = args.first() else {
        return text(if map {
            "Missing map identifier.\n"
        } else {
            "Missing ACL identifier.\n"
        });
    };
    let r = match find(map, name) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match r.update(|es| {
        es.clear();
        true
    }) {
        Ok(_) => text(""),
        Err(e) => text(format!("{e}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(r: Reply) -> String {
        match r {
            Reply::Text(s) | Reply::Raw(s) => s,
            Reply::Quit => String::new(),
        }
    }

    #[test]
    fn haproxy_error_texts() {
        assert_eq!(
            t(show(true, Some("#999999"))),
            "Unknown map identifier. Please use #<id> or <file>.\n"
        );
        assert_eq!(
            t(show(false, Some("/none"))),
            "Unknown ACL identifier. Please use #<id> or <file>.\n"
        );
        assert_eq!(t(get(true, &[])), "Missing map identifier and/or key.\n");
        assert_eq!(
            t(add(false, &["x"])),
            "'add acl' expects two parameters: ACL identifier and pattern.\n"
        );
        assert_eq!(
            t(del(true, &["x"])),
            "This command expects two parameters: map identifier and key.\n"
        );
        assert_eq!(
            t(set(&["x", "y"])),
            "'set map' expects three parameters: map identifier, key and value.\n"
        );
        assert_eq!(t(clear(false, &[])), "Missing ACL identifier.\n");
    }

    #[test]
    fn edits_a_registered_map() {
        let f = "/nonexistent/maps-cli-test.map";
        let es = || vec![("/a".to_string(), Some("A".to_string()))];
        let (r, u) = PatRef::attach(
            f,
            true,
            "d",
            es,
            MatchMethod::Str,
            false,
            Some(crate::session::patref::Out::Str),
        )
        .expect("attach");
        assert_eq!(t(add(true, &[f, "/b", "B"])), "");
        assert_eq!(u.value_of(&Smp::str(b"/b")), Some(Smp::str(b"B")));
        assert_eq!(t(set(&[f, "/b", "B2"])), "");
        assert_eq!(u.value_of(&Smp::str(b"/b")), Some(Smp::str(b"B2")));
        let out = t(get(true, &[f, "/b"]));
        assert_eq!(
            out,
            "type=str, case=sensitive, found=yes, idx=tree, key=\"/b\", value=\"B2\", type=\"str\"\n"
        );
        let p = format!("#0x{:x}", r.entries()[0].ptr);
        assert_eq!(t(del(true, &[f, &p])), "");
        assert_eq!(t(del(true, &[f, "/a"])), "Key not found.\n");
        assert_eq!(t(show(true, Some(f))).lines().count(), 1);
        assert_eq!(t(clear(true, &[f])), "");
        assert!(u.value_of(&Smp::str(b"/b")).is_none());
    }
}
