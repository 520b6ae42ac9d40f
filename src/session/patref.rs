//! Runtime-mutable pattern references (HAProxy's `pat_ref`): the entries
//! of a map file or ACL pattern file, shared by every converter or ACL
//! that loaded the same file, and registered process-wide so that the CLI
//! (`show/get/add/del/set/clear map|acl`) can reach them.
//!
//! Owns: the registry (ids in registration order), the entries with their
//! stable reference numbers, and recompiling the users' matchers after a
//! change. The request path only loads an `ArcSwap` (lock-free). Must not
//! parse CLI commands nor read configuration files.

use crate::config::sample::pattern::parse_pattern;
use crate::config::sample::{MatchMethod, Pattern};
use crate::session::acl::pat::Pats;
use crate::session::fetch::Smp;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

/// Base of the fake entry addresses shown by `show map`.
const PTR_BASE: u64 = 0x55d0_c64a_c000;
static NEXT_PTR: AtomicU64 = AtomicU64::new(0);
static REGISTRY: LazyLock<Mutex<Vec<Arc<PatRef>>>> = LazyLock::new(|| Mutex::new(Vec::new()));

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One entry: a key (pattern) and, for maps, its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable fake address (`0x...` in listings, `#0x...` to delete).
    pub ptr: u64,
    pub key: String,
    pub value: Option<String>,
}

/// The value type of a map user (`map_*_int`, `map_*_ip`, else string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Str,
    Int,
    Ip,
}

impl Out {
    /// The name `get map` prints.
    pub fn name(self) -> &'static str {
        match self {
            Out::Str => "str",
            Out::Int => "sint",
            Out::Ip => "ip",
        }
    }

    /// Converts a map value.
    pub fn value(self, v: &str) -> Option<Smp<'static>> {
        match self {
            Out::Str => Some(Smp::owned(v.as_bytes().to_vec())),
            Out::Int => v.trim().parse().ok().map(Smp::Int),
            Out::Ip => Smp::str(v.trim().as_bytes()).to_ip().map(Smp::Ip),
        }
    }
}

/// The compiled form a user matches against.
#[derive(Debug)]
pub struct Compiled {
    pub pats: Pats,
    /// Index into the ref's entries of each compiled pattern.
    pub entries: Vec<Entry>,
    /// For maps: the converted value of each pattern.
    pub values: Vec<Option<Smp<'static>>>,
}

/// One converter or ACL using a ref, with its own match method.
#[derive(Debug)]
pub struct User {
    pub method: MatchMethod,
    pub icase: bool,
    /// `Some` for maps.
    pub out: Option<Out>,
    cur: ArcSwap<Compiled>,
}

impl User {
    /// The current compiled patterns (lock-free).
    pub fn load(&self) -> arc_swap::Guard<Arc<Compiled>> {
        self.cur.load()
    }

    /// Whether `v` matches an entry (no allocation: the ACL path).
    pub fn matches(&self, v: &Smp<'_>) -> bool {
        self.cur.load().pats.find(v).is_some()
    }

    /// The map value of the entry `v` matches (the converter path).
    pub fn value_of(&self, v: &Smp<'_>) -> Option<Smp<'static>> {
        let c = self.cur.load();
        c.values.get(c.pats.find(v)?).cloned().flatten()
    }

    /// The entry `v` matches, with the map value.
    pub fn find(&self, v: &Smp<'_>) -> Option<(Entry, Option<Smp<'static>>)> {
        let c = self.cur.load();
        let i = c.pats.find(v)?;
        let e = c.entries.get(i)?.clone();
        Some((e, c.values.get(i).cloned().flatten()))
    }

    fn compile(&self, entries: &[Entry]) -> Result<Compiled, String> {
        let mut pats = Vec::with_capacity(entries.len());
        let mut kept = Vec::with_capacity(entries.len());
        let mut values = Vec::with_capacity(entries.len());
        for e in entries {
            let pv = parse_pattern(self.method, &e.key, self.icase, true)?;
            let val = match self.out {
                Some(o) => Some(
                    o.value(e.value.as_deref().unwrap_or(""))
                        .ok_or_else(|| format!("unable to parse '{}'", e.key))?,
                ),
                None => None,
            };
            pats.push(Pattern {
                text: e.key.clone(),
                value: pv,
                origin: None,
            });
            kept.push(e.clone());
            values.push(val);
        }
        Ok(Compiled {
            pats: Pats::compile(self.method, self.icase, &pats)?,
            entries: kept,
            values,
        })
    }
}

/// A pattern reference: a file's entries and the users compiled from them.
#[derive(Debug)]
pub struct PatRef {
    /// `#<id>` in the CLI.
    pub id: u32,
    pub file: String,
    /// Used by a map (else an ACL).
    pub is_map: bool,
    /// The `show map`/`show acl` description.
    pub desc: String,
    entries: Mutex<Vec<Entry>>,
    users: Mutex<Vec<Arc<User>>>,
}

fn next_ptr() -> u64 {
    PTR_BASE + NEXT_PTR.fetch_add(1, Ordering::Relaxed) * 0x90
}

impl PatRef {
    /// The ref of `file` (created with `entries` on first use, shared
    /// afterwards) with a new user compiled from its entries.
    pub fn attach(
        file: &str,
        is_map: bool,
        desc: &str,
        entries: impl FnOnce() -> Vec<(String, Option<String>)>,
        method: MatchMethod,
        icase: bool,
        out: Option<Out>,
    ) -> Result<(Arc<PatRef>, Arc<User>), String> {
        let r = {
            let mut reg = lock(&REGISTRY);
            match reg.iter().find(|r| r.file == file && r.is_map == is_map) {
                Some(r) => r.clone(),
                None => {
                    let es = entries()
                        .into_iter()
                        .map(|(key, value)| Entry {
                            ptr: next_ptr(),
                            key,
                            value,
                        })
                        .collect();
                    let r = Arc::new(PatRef {
                        id: reg.len() as u32,
                        file: file.to_string(),
                        is_map,
                        desc: desc.to_string(),
                        entries: Mutex::new(es),
                        users: Mutex::new(Vec::new()),
                    });
                    reg.push(r.clone());
                    r
                }
            }
        };
        let es = lock(&r.entries).clone();
        let empty = Compiled {
            pats: Pats::compile(method, icase, &[])?,
            entries: Vec::new(),
            values: Vec::new(),
        };
        let u = Arc::new(User {
            method,
            icase,
            out,
            cur: ArcSwap::from_pointee(empty),
        });
        u.cur.store(Arc::new(u.compile(&es)?));
        lock(&r.users).push(u.clone());
        Ok((r, u))
    }

    /// All registered refs of one kind, in id order.
    pub fn all(is_map: bool) -> Vec<Arc<PatRef>> {
        lock(&REGISTRY)
            .iter()
            .filter(|r| r.is_map == is_map)
            .cloned()
            .collect()
    }

    /// Finds `#<id>` or a file name.
    pub fn lookup(is_map: bool, name: &str) -> Option<Arc<PatRef>> {
        let reg = lock(&REGISTRY);
        let found = match name.strip_prefix('#') {
            Some(n) => {
                let id: u32 = n.parse().ok()?;
                reg.iter().find(|r| r.id == id)
            }
            None => reg.iter().find(|r| r.file == name),
        };
        found.filter(|r| r.is_map == is_map).cloned()
    }

    /// A copy of the entries.
    pub fn entries(&self) -> Vec<Entry> {
        lock(&self.entries).clone()
    }

    /// The first user (for `get map|acl`).
    pub fn first_user(&self) -> Option<Arc<User>> {
        lock(&self.users).first().cloned()
    }

    /// Applies `f` to the entries, then recompiles every user; a user that
    /// cannot compile the result rejects the change.
    pub fn update(&self, f: impl FnOnce(&mut Vec<Entry>) -> bool) -> Result<bool, String> {
        let mut es = lock(&self.entries);
        let mut next = es.clone();
        if !f(&mut next) {
            return Ok(false);
        }
        let users = lock(&self.users);
        let mut compiled = Vec::with_capacity(users.len());
        for u in users.iter() {
            compiled.push(u.compile(&next)?);
        }
        for (u, c) in users.iter().zip(compiled) {
            u.cur.store(Arc::new(c));
        }
        *es = next;
        Ok(true)
    }

    /// Adds an entry.
    pub fn add(&self, key: &str, value: Option<&str>) -> Result<(), String> {
        self.update(|es| {
            es.push(Entry {
                ptr: next_ptr(),
                key: key.to_string(),
                value: value.map(str::to_string),
            });
            true
        })
        .map(|_| ())
    }
}

/// Parses `#0x...` entry references.
pub fn parse_ref(s: &str) -> Option<u64> {
    let h = s.strip_prefix("#0x").or_else(|| s.strip_prefix("#0X"))?;
    u64::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_mutable() {
        let f = "/nonexistent/patref-test.map";
        let es = || vec![("/a".to_string(), Some("A".to_string()))];
        let (r, u) = PatRef::attach(f, true, "d", es, MatchMethod::Str, false, Some(Out::Str))
            .expect("attach");
        let (_, u2) =
            PatRef::attach(f, true, "d", Vec::new, MatchMethod::Beg, false, None).expect("attach");
        assert_eq!(r.entries().len(), 1);
        assert!(u.find(&Smp::str(b"/a")).is_some());
        r.add("/b", Some("B")).expect("add");
        let (e, v) = u.find(&Smp::str(b"/b")).expect("found");
        assert_eq!(e.key, "/b");
        assert_eq!(v, Some(Smp::str(b"B")));
        assert!(u2.find(&Smp::str(b"/bcd")).is_some());
        let ptr = e.ptr;
        assert_eq!(parse_ref(&format!("#0x{ptr:x}")), Some(ptr));
        r.update(|es| {
            es.retain(|e| e.ptr != ptr);
            true
        })
        .expect("del");
        assert!(u.find(&Smp::str(b"/b")).is_none());
        assert!(PatRef::lookup(true, f).is_some());
        assert!(PatRef::lookup(false, f).is_none());
    }
}
