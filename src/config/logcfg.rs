//! The `log` directive's arguments (global and proxies).
//!
//! Owns: validation of `log <target> [len n] [format f] [sample r:s]
//! <facility> [level [minlevel]]` with HAProxy's texts. The address itself
//! goes through [`crate::config::addr`].

const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

const FORMATS: &[&str] = &[
    "local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw",
];

/// Checks the words after `log`. `in_global` selects the "missing" text.
pub fn check_log_args(args: &[&str]) -> Result<(), String> {
    if args.first() == Some(&"global") {
        if let Some(extra) = args.get(1).filter(|e| !FACILITIES.contains(e)) {
            return Err(format!("log : unknown log facility '{extra}'"));
        }
        return Ok(());
    }
    if args.len() < 2 {
        return Err("log : expects <address> and <facility> or global as arguments".into());
    }
    let target = args[0];
    check_target(target)?;
    let mut i = 1;
    loop {
        match args.get(i).copied() {
            Some("len") => {
                let v = args.get(i + 1).copied().unwrap_or("");
                let n: i64 = v.parse().unwrap_or(0);
                if !(80..=65535).contains(&n) {
                    return Err(format!(
                        "log : invalid log length '{v}', must be between 80 and 65535"
                    ));
                }
                i += 2;
            }
            Some("format") => {
                let v = args.get(i + 1).copied().unwrap_or("");
                if !FORMATS.contains(&v) {
                    return Err(format!("log : unknown log format '{v}'"));
                }
                i += 2;
            }
            Some("sample") => i += 2,
            _ => break,
        }
    }
    let Some(fac) = args.get(i).copied() else {
        return Err("log : expects <address> and <facility> or global as arguments".into());
    };
    if !FACILITIES.contains(&fac) {
        return Err(format!("log : unknown log facility '{fac}'"));
    }
    for lvl in args.iter().skip(i + 1).take(2) {
        if !LEVELS.contains(lvl) {
            return Err(format!("log : unknown optional log level '{lvl}'"));
        }
    }
    Ok(())
}

fn check_target(t: &str) -> Result<(), String> {
    if t == "stdout" || t == "stderr" || t.starts_with('/') || t.starts_with("fd@") {
        return Ok(());
    }
    if let Some(r) = t.strip_prefix("ring@") {
        let _ = r;
        return Ok(());
    }
    use crate::config::addr;
    let a = addr::parse_addr(t, &addr::AddrOpts::log()).map_err(|e| format!("log : {e}"))?;
    if a.ip.is_none() && a.path.is_none() {
        let host = a.host.clone().unwrap_or_default();
        if addr::resolve_host(&host).is_none() {
            return Err(format!("log : invalid address: '{host}' in '{t}'"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities_and_levels() {
        assert!(check_log_args(&["global"]).is_ok());
        assert_eq!(
            check_log_args(&["global", "x"]),
            Err("log : unknown log facility 'x'".into())
        );
        assert!(check_log_args(&["stdout", "format", "raw", "local0"]).is_ok());
        assert!(check_log_args(&["/dev/log", "local0", "notice"]).is_ok());
        assert_eq!(
            check_log_args(&["/dev/log", "local0", "frob"]),
            Err("log : unknown optional log level 'frob'".into())
        );
    }
}
