//! Unix-domain listening sockets, for `bind unix@...` and `stats socket`.
//!
//! Owns: creating the socket file safely — bound under a temporary name,
//! given its `mode`/`uid`/`user`/`gid`/`group`, then renamed over the
//! path, so a client never sees a socket with the wrong permissions and
//! a stale file from an earlier run is replaced atomically. Must not
//! accept connections nor know which proxy or CLI uses the socket.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;

/// Ownership and permissions asked for a socket file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Perms {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl Perms {
    /// From the options of a `bind`/`stats socket` line (`opt(name)` gives
    /// the first argument of an option); `uid`/`gid` win over
    /// `user`/`group`. The error is the short reason HAProxy's texts use.
    pub fn from_options<'a>(opt: impl Fn(&str) -> Option<&'a str>) -> Result<Perms, String> {
        let mode = match opt("mode") {
            Some(m) => Some(u32::from_str_radix(m, 8).map_err(|_| "bad mode".to_string())?),
            None => None,
        };
        let uid = match (opt("uid"), opt("user")) {
            (Some(u), _) => Some(u.parse().map_err(|_| "bad uid".to_string())?),
            (None, Some(n)) => Some(
                crate::config::external::lookup_user(n)
                    .ok_or_else(|| "unknown user".to_string())?,
            ),
            _ => None,
        };
        let gid = match (opt("gid"), opt("group")) {
            (Some(g), _) => Some(g.parse().map_err(|_| "bad gid".to_string())?),
            (None, Some(n)) => Some(
                crate::config::external::lookup_group(n)
                    .ok_or_else(|| "unknown group".to_string())?,
            ),
            _ => None,
        };
        Ok(Perms { mode, uid, gid })
    }
}

/// Binds a listening socket at `path` with `perms` (see the module doc).
/// The error is the reason alone (no " (os error N)" suffix).
pub fn bind(path: &str, perms: Perms) -> Result<UnixListener, String> {
    if let Ok(md) = std::fs::symlink_metadata(path)
        && !md.file_type().is_socket()
    {
        return Err("a file which is not a socket is in the way".to_string());
    }
    let tmp = format!("{path}.{}.tmp", std::process::id());
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp).map_err(|e| reason(&e))?;
    let prepared = (|| {
        if let Some(mode) = perms.mode {
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
        }
        if perms.uid.is_some() || perms.gid.is_some() {
            std::os::unix::fs::chown(&tmp, perms.uid, perms.gid)?;
        }
        std::fs::rename(&tmp, path)?;
        l.set_nonblocking(true)
    })();
    match prepared {
        Ok(()) => Ok(l),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(reason(&e))
        }
    }
}

/// The OS error text without Rust's " (os error N)" suffix.
pub fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn opts<'a>(list: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| list.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    #[test]
    fn options_give_mode_and_owner() {
        let p = Perms::from_options(opts(&[("mode", "640"), ("uid", "0"), ("group", "root")]));
        assert_eq!(
            p,
            Ok(Perms {
                mode: Some(0o640),
                uid: Some(0),
                gid: Some(0)
            })
        );
        assert_eq!(
            Perms::from_options(opts(&[("mode", "9x")])),
            Err("bad mode".into())
        );
        assert_eq!(
            Perms::from_options(opts(&[("user", "no-such-user-here")])),
            Err("unknown user".into())
        );
    }

    #[test]
    fn the_socket_file_gets_its_mode_and_replaces_a_stale_one() {
        let dir = std::env::temp_dir().join(format!("sy-unix-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s.sock");
        let path = path.to_string_lossy().into_owned();
        let perms = Perms {
            mode: Some(0o600),
            ..Perms::default()
        };
        let first = bind(&path, perms).expect("bind");
        drop(first);
        // The file left behind is replaced, not an error.
        let again = bind(&path, perms).expect("rebind over a stale socket");
        let md = std::fs::metadata(&path).expect("stat");
        assert_eq!(md.mode() & 0o777, 0o600);
        drop(again);
        std::fs::write(dir.join("plain"), b"x").expect("write");
        let plain = dir.join("plain").to_string_lossy().into_owned();
        assert_eq!(
            bind(&plain, perms).err().as_deref(),
            Some("a file which is not a socket is in the way")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
