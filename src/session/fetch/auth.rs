//! `http_auth(<userlist>)`: HTTP Basic credentials checked against a
//! `userlist` section, like HAProxy's `get_http_auth` + `check_user`.
//!
//! Owns: the registry of the configured userlists (filled at start-up by
//! [`register_userlists`]) and the credential check. Must not send the
//! 401 (that is `http-request auth`).

use crate::config::ir::{Config, Password, Userlist};
use crate::session::http::head::Request;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

fn registry() -> &'static RwLock<HashMap<String, Arc<Userlist>>> {
    static R: OnceLock<RwLock<HashMap<String, Arc<Userlist>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Makes the userlists of `cfg` reachable by name for `http_auth()`.
pub fn register_userlists(cfg: &Config) {
    if let Ok(mut g) = registry().write() {
        for u in &cfg.userlists {
            g.insert(u.name.clone(), Arc::new(u.clone()));
        }
    }
}

/// Whether a userlist called `name` was registered.
pub fn known(name: &str) -> bool {
    registry().read().is_ok_and(|g| g.contains_key(name))
}

/// The `user:password` of the request's `Authorization: Basic` header
/// (HAProxy accepts any case-insensitive prefix of `Basic` as the scheme).
pub fn basic_credentials(req: &Request) -> Option<(String, Vec<u8>)> {
    let h = req.headers.iter().find(|h| h.name == "authorization")?;
    let v = h.value.as_slice();
    // The first comma-delimited value, as http_find_header returns it.
    let v = v.split(|&b| b == b',').next()?.trim_ascii();
    let sp = v.iter().position(|&b| b == b' ')?;
    if sp == 0 || sp > 5 || !b"basic"[..sp].eq_ignore_ascii_case(&v[..sp]) {
        return None;
    }
    // HAProxy's base64dec wants whole 4-character groups.
    let b64 = &v[sp + 1..];
    if !b64.len().is_multiple_of(4) {
        return None;
    }
    let cred = crate::stats::page::auth::base64_decode(b64)?;
    let colon = cred.iter().position(|&b| b == b':')?;
    let user = String::from_utf8_lossy(&cred[..colon]).into_owned();
    Some((user, cred[colon + 1..].to_vec()))
}

/// Whether `user`/`pass` authenticate against `list` (HAProxy's
/// `check_user`: the password is a C string, so it stops at a NUL; a
/// hashed password is checked with the system crypt(3), re-hashed on
/// every check as HAProxy does).
pub fn check_user(list: &Userlist, user: &str, pass: &[u8]) -> bool {
    let pass = &pass[..pass.iter().position(|&b| b == 0).unwrap_or(pass.len())];
    match list.user(user).map(|u| &u.password) {
        Some(Password::Insecure(p)) => p.as_bytes() == pass,
        Some(Password::Crypt(h)) => super::crypt::matches(pass, h),
        _ => false,
    }
}

/// `http_auth_group(<list>)` for `req`: the user name when the request's
/// Basic credentials authenticate against `list` (the fetch fails
/// otherwise); ACLs then match it against group names with [`in_group`].
pub fn http_auth_user(list: &str, req: &Request) -> Option<String> {
    let (user, pass) = basic_credentials(req)?;
    let g = registry().read().ok()?;
    let l = g.get(list)?;
    check_user(l, &user, &pass).then_some(user)
}

/// Whether userlist `list` declares a `group` called `group`.
pub fn group_known(list: &str, group: &str) -> bool {
    registry().read().is_ok_and(|g| {
        g.get(list)
            .is_some_and(|l| l.groups.iter().any(|x| x.name == group))
    })
}

/// Whether `user` of userlist `list` belongs to one of `groups`
/// (HAProxy's `pat_match_auth`).
pub fn in_group(list: &str, user: &[u8], groups: &[String]) -> bool {
    let Ok(user) = std::str::from_utf8(user) else {
        return false;
    };
    let Ok(g) = registry().read() else {
        return false;
    };
    g.get(list)
        .is_some_and(|l| groups.iter().any(|grp| l.in_group(user, grp)))
}

/// `http_auth(<list>)` for `req`: `None` when the request carries no
/// usable Basic credentials (the fetch fails), else the check's result.
pub fn http_auth(list: &str, req: &Request) -> Option<bool> {
    let (user, pass) = basic_credentials(req)?;
    let g = registry().read().ok()?;
    let l = g.get(list)?;
    Some(check_user(l, &user, &pass))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ir::{Origin, User};

    fn list() -> Userlist {
        Userlist {
            origin: Origin::default(),
            name: "L".into(),
            users: vec![User {
                origin: Origin::default(),
                name: "bob".into(),
                password: Password::Insecure("secret".into()),
                groups: vec![],
            }],
            groups: vec![],
        }
    }

    #[test]
    fn insecure_password_matches_exactly() {
        let l = list();
        assert!(check_user(&l, "bob", b"secret"));
        assert!(!check_user(&l, "bob", b"Secret"));
        assert!(!check_user(&l, "alice", b"secret"));
    }
}
