//! `stats admin`: the form POSTed by the stats page (`s=<server>`...,
//! `action=<act>`, `b=<backend name or #iid>`) and HAProxy's answer, a
//! `303 See Other` back to the page with `;st=<CODE>`.
//!
//! Owns: decoding the form and mapping each action to the runtime API
//! command with the same effect (run through [`crate::stats::cmd`] at
//! admin level, so the page and the CLI never disagree). Must not render
//! the page.

use super::super::Stats;
use super::super::cmd::{Reply, execute};
use super::super::conn::Session;

/// The `;st=` codes, the class of the message box and its HTML, as
/// HAProxy 2.6.12 shows them (any other code: `UNKN`).
pub const STATUSES: [(&str, &str, &str); 7] = [
    ("DONE", "active_up", "Action processed successfully."),
    ("NONE", "active_going_down", "Nothing has changed."),
    (
        "PART",
        "active_going_down",
        "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).",
    ),
    (
        "ERRP",
        "active_down",
        "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>",
    ),
    (
        "EXCD",
        "active_down",
        "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>",
    ),
    ("DENY", "active_down", "<b>Action denied.</b>"),
    ("UNKN", "active_no_check", "Unexpected result."),
];

/// The message box of a `;st=` code.
pub fn message(code: &str) -> (&'static str, &'static str) {
    let (_, class, html) = STATUSES
        .iter()
        .find(|(c, _, _)| *c == code)
        .unwrap_or(&STATUSES[6]);
    (class, html)
}

/// Decodes one `application/x-www-form-urlencoded` value.
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The runtime API command for a form action on `b/s`.
fn command(action: &str, target: &str) -> Option<String> {
    Some(match action {
        "ready" | "enable" => format!("set server {target} state ready"),
        "drain" => format!("set server {target} state drain"),
        "maint" | "disable" => format!("set server {target} state maint"),
        "dhlth" => format!("disable health {target}"),
        "ehlth" => format!("enable health {target}"),
        "hrunn" => format!("set server {target} health up"),
        "hnolb" => format!("set server {target} health stopping"),
        "hdown" => format!("set server {target} health down"),
        "dagent" => format!("disable agent {target}"),
        "eagent" => format!("enable agent {target}"),
        "arunn" => format!("set server {target} agent up"),
        "adown" => format!("set server {target} agent down"),
        "shutdown" => format!("shutdown sessions server {target}"),
        _ => return None,
    })
}

/// Applies a POSTed form; returns the `;st=` code.
pub fn apply(st: &Stats, body: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(body);
    let mut backend: Option<String> = None;
    let mut action: Option<String> = None;
    let mut servers: Vec<String> = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = url_decode(v);
        match k {
            "b" => backend = Some(v),
            "action" => action = Some(v),
            "s" => servers.push(v),
            _ => {}
        }
    }
    let Some(b) = backend else { return "NONE" };
    let action = action.unwrap_or_default();
    // `#<iid>` names the backend by id.
    let px = st.proxies.iter().filter(|p| p.be.is_some()).find(|p| {
        p.name == b
            || b.strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|id| id == p.iid)
    });
    let Some(px) = px else { return "ERRP" };
    if action.is_empty() || command(&action, "x/y").is_none() {
        return "ERRP";
    }
    if servers.is_empty() {
        return "NONE";
    }
    let mut sess = Session {
        level: crate::stats::Level::Admin,
        prompt: false,
    };
    let mut done = 0;
    for s in &servers {
        if st.server(&px.name, s).is_err() {
            continue;
        }
        let Some(cmd) = command(&action, &format!("{}/{s}", px.name)) else {
            continue;
        };
        if let Reply::Text(t) = execute(&cmd, &mut sess, st)
            && t.is_empty()
        {
            done += 1;
        }
    }
    match done {
        0 => "ERRP",
        n if n == servers.len() => "DONE",
        _ => "PART",
    }
}

/// HAProxy's answer to a POST: `303` to the page with the status code.
/// `suffix`: the options kept (`;up`).
pub fn redirect(uri: &str, code: &str, suffix: &str, close: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: {uri};st={code}{suffix}\r\n"
    );
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        assert_eq!(url_decode("a+b%2Fc"), "a b/c");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(url_decode("%23"), "#");
    }

    /// Captured from HAProxy 2.6.12 (`admin-post-disable.headers.txt`).
    #[test]
    fn redirect_matches_haproxy() {
        let want = "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: /stats;st=DONE\r\n\r\n";
        assert_eq!(
            String::from_utf8_lossy(&redirect("/stats", "DONE", "", false)),
            want
        );
    }

    #[test]
    fn every_action_has_a_command() {
        for a in [
            "ready", "drain", "maint", "dhlth", "ehlth", "hrunn", "hnolb", "hdown", "dagent",
            "eagent", "arunn", "adown", "shutdown",
        ] {
            assert!(command(a, "b/s").is_some(), "{a}");
        }
        assert!(command("bogus", "b/s").is_none());
    }
}
