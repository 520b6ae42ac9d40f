//! The list `show map` / `show acl` print without an argument, as HAProxy
//! 2.6.12 builds it: one pattern reference per `-f` file (maps and ACLs
//! alike, shared between their users) and one anonymous reference per ACL
//! expression (its inline patterns), numbered in the order HAProxy parses
//! them (configuration lines in order; within a line the action's map
//! converters, then its conditions; within an ACL its `-f` files, then the
//! expression itself), then its internal `httpclient` ACLs, then the
//! dynamic `use_backend` expressions it parses after the sections.
//!
//! Owns: building that list from the configuration and the ids it gives.
//! Reads the configuration only; the entries of file references stay in
//! [`crate::session::patref`]. Must not change matching.

use crate::config::ir::{Config, RawRule};
use crate::config::sample::parse_acl;
use regex::Regex;
use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

/// One listed pattern reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: u32,
    /// The file (`-f` or map), empty for an anonymous ACL expression.
    pub file: String,
    pub desc: String,
    pub acl: bool,
    pub map: bool,
    /// Patterns loaded at start-up (anonymous: the inline ones).
    pub entries: Vec<String>,
    /// Pattern kinds (match method, case) that loaded the file: HAProxy's
    /// `entry_cnt` counts the entries once per kind.
    kinds: Vec<String>,
}

impl Listed {
    /// `entry_cnt` for `now` entries in the reference.
    pub fn entry_cnt(&self, now: usize) -> usize {
        now * self.kinds.len().max(1)
    }
}

static INDEX: OnceLock<Vec<Listed>> = OnceLock::new();

/// Builds the list for `cfg` (first call wins).
pub fn install(cfg: &Config) {
    let _ = INDEX.set(build(cfg));
}

/// The installed list, if any.
pub fn installed() -> Option<&'static [Listed]> {
    INDEX.get().map(Vec::as_slice)
}

fn map_conv() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:^|[,\[\s(])map((?:_[a-z]+)*)\(\s*([^,)\s]+)").expect("static regex")
    })
}

struct Builder {
    out: Vec<Listed>,
    next: u32,
}

impl Builder {
    fn push(&mut self, l: Listed) {
        self.out.push(l);
        self.next += 1;
    }

    /// A file used by an ACL (`map`: by a map converter) at `at`.
    fn file(&mut self, file: &str, map: bool, at: &str, kind: String, entries: Vec<String>) {
        let by = if map { "map" } else { "acl" };
        if let Some(l) = self.out.iter_mut().find(|l| l.file == file) {
            l.desc.push_str(&format!(", by {by} at {at}"));
            l.acl |= !map;
            l.map |= map;
            if !l.kinds.contains(&kind) {
                l.kinds.push(kind);
            }
            return;
        }
        let id = self.next;
        self.push(Listed {
            id,
            file: file.to_string(),
            desc: format!("pattern loaded from file '{file}' used by {by} at {at}"),
            acl: !map,
            map,
            entries,
            kinds: vec![kind],
        });
    }

    /// An ACL expression (`args`: criterion first) at `at`.
    fn acl(&mut self, args: &[&str], at: &str) {
        let Ok(def) = parse_acl(args, Path::new(".")) else {
            return;
        };
        let method = format!("{:?}", def.match_method);
        for f in &def.files {
            // The file is loaded with the flags seen before its `-f`.
            let pos = args.iter().position(|a| *a == f.as_str()).unwrap_or(0);
            let icase = args[..pos].contains(&"-i");
            let entries = def
                .patterns
                .iter()
                .filter(|p| {
                    p.origin
                        .as_ref()
                        .is_some_and(|(o, _)| o == Path::new(f) || o.ends_with(f))
                })
                .map(|p| p.text.clone())
                .collect();
            self.file(f, false, at, format!("{method}/{icase}"), entries);
        }
        let id = self.next;
        self.push(Listed {
            id,
            file: String::new(),
            desc: format!("acl '{}' {at}", def.kw),
            acl: true,
            map: false,
            entries: def
                .patterns
                .iter()
                .filter(|p| p.origin.is_none())
                .map(|p| p.text.clone())
                .collect(),
            kinds: Vec::new(),
        });
    }

    /// The map converters named in `words`.
    fn maps(&mut self, words: &[String], at: &str) {
        for w in words {
            for c in map_conv().captures_iter(w) {
                let kind = c[1]
                    .trim_start_matches('_')
                    .split('_')
                    .next()
                    .filter(|k| !k.is_empty())
                    .unwrap_or("str")
                    .to_string();
                let file = &c[2];
                let entries = read_keys(file);
                self.file(file, true, at, kind, entries);
            }
        }
    }
}

/// The keys of a map file (first word of each non-comment line).
fn read_keys(file: &str) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

/// The `{ ... }` groups of a condition (words after `if`/`unless`).
fn inline_acls(cond: &[String]) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<&str>> = None;
    for w in cond {
        match (w.as_str(), cur.as_mut()) {
            ("{" | "!{", None) => cur = Some(Vec::new()),
            ("}", Some(_)) => out.extend(cur.take()),
            (w, Some(c)) => c.push(w),
            _ => {}
        }
    }
    out
}

fn build(cfg: &Config) -> Vec<Listed> {
    // Every line once (defaults lines are copied into their proxies), in
    // file order then line order.
    let mut files: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    let mut lines: Vec<&RawRule> = Vec::new();
    for r in cfg
        .defaults
        .iter()
        .chain(&cfg.proxies)
        .flat_map(|p| &p.directives)
    {
        if !files.contains(&r.origin.file.as_str()) {
            files.push(&r.origin.file);
        }
        if seen.insert((r.origin.file.as_str(), r.origin.line)) {
            lines.push(r);
        }
    }
    let rank = |f: &str| files.iter().position(|x| *x == f).unwrap_or(0);
    lines.sort_by_key(|r| (rank(&r.origin.file), r.origin.line));
    let mut b = Builder {
        out: Vec::new(),
        next: 0,
    };
    let mut later = Vec::new();
    for r in lines {
        let at = format!("file '{}' line {}", r.origin.file, r.origin.line);
        let w = &r.words;
        let Some(kw) = w.first() else { continue };
        if kw == "acl" {
            let args: Vec<&str> = w.iter().skip(2).map(String::as_str).collect();
            b.acl(&args, &at);
            continue;
        }
        // A dynamic `use_backend` is resolved after the sections.
        if kw == "use_backend" && w.get(1).is_some_and(|n| n.contains("%[")) {
            later.push((r, at));
            continue;
        }
        let split = w
            .iter()
            .position(|x| x == "if" || x == "unless")
            .unwrap_or(w.len());
        b.maps(&w[..split], &at);
        for group in inline_acls(&w[split..]) {
            b.acl(&group, &at);
        }
    }
    // HAProxy's internal HTTP client declares two ACLs of its own.
    for _ in 0..2 {
        let id = b.next;
        b.push(Listed {
            id,
            file: String::new(),
            desc: "acl 'var' file 'httpclient' line 0".into(),
            acl: true,
            map: false,
            entries: vec!["0.0.0.0".into()],
            kinds: Vec::new(),
        });
    }
    for (r, at) in later {
        let w = &r.words;
        let split = w
            .iter()
            .position(|x| x == "if" || x == "unless")
            .unwrap_or(w.len());
        b.maps(&w[..split], &at);
        for group in inline_acls(&w[split..]) {
            b.acl(&group, &at);
        }
    }
    b.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn inline_groups_are_found_in_order() {
        let w = words("{ path /a } || ! { src 10.0.0.1 } named");
        let g = inline_acls(&w);
        assert_eq!(g, vec![vec!["path", "/a"], vec!["src", "10.0.0.1"]]);
    }

    #[test]
    fn map_converters_are_found() {
        let w = words("%[req.hdr(host),map_beg(/m1.map,none)],x,map(/m2.map)");
        let mut b = Builder {
            out: Vec::new(),
            next: 0,
        };
        b.maps(&w, "file 't' line 3");
        let files: Vec<&str> = b.out.iter().map(|l| l.file.as_str()).collect();
        assert_eq!(files, vec!["/m1.map", "/m2.map"]);
        assert!(b.out.iter().all(|l| l.map && !l.acl));
        assert_eq!(
            b.out[0].desc,
            "pattern loaded from file '/m1.map' used by map at file 't' line 3"
        );
    }
}
