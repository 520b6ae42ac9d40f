//! Read-only `show` commands beyond `show stat|info`: `show env`,
//! `show errors`, `show table`, `show pools`, `show activity`,
//! `show sess`, `show servers conn`.
//!
//! Owns: HAProxy 2.6.12's texts for these, restricted to what this
//! process really knows (no invented counters). Must not change state.

use super::registry::{self, Entry};
use crate::stats::Stats;
use std::time::{SystemTime, UNIX_EPOCH};

/// `[25/Nov/2026:12:39:52.942]`-style local date (HAProxy's log format,
/// milliseconds).
pub fn log_date(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (tm, ok) = localtime(d.as_secs() as libc::time_t);
    if !ok {
        return String::from("01/Jan/1970:00:00:00.000");
    }
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MON.get(tm.tm_mon as usize).copied().unwrap_or("Jan"),
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        d.subsec_millis()
    )
}

fn localtime(secs: libc::time_t) -> (libc::tm, bool) {
    // SAFETY: an all-zero `tm` is a valid value; localtime_r only writes
    // into the struct we own and reads `secs`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    (tm, ok)
}

/// `show env [<name>]`: the process environment, in its order.
pub fn env(name: Option<&str>) -> String {
    let mut out = String::new();
    for (k, v) in std::env::vars_os() {
        let (k, v) = (k.to_string_lossy(), v.to_string_lossy());
        if name.is_some_and(|n| n != k) {
            continue;
        }
        out.push_str(&format!("{k}={v}\n"));
        if name.is_some() {
            return out;
        }
    }
    if name.is_some() {
        return "Variable not found\n".into();
    }
    out
}

/// `show errors [<px>|-1] [request|response]`: this process keeps no
/// error snapshots, so the capture count is 0, as in a HAProxy that
/// has seen no invalid message.
pub fn errors(st: &Stats, px: Option<&str>) -> String {
    if let Some(p) = px.filter(|p| *p != "-1")
        && !st
            .proxies
            .iter()
            .any(|x| x.name == p || p.strip_prefix('#').and_then(|n| n.parse().ok()) == Some(x.iid))
    {
        return "No such proxy.\n".into();
    }
    format!(
        "Total events captured on [{}] : 0\n",
        log_date(SystemTime::now())
    )
}

/// `show table [<name>]`: no stick-table is exposed to the CLI.
pub fn table(name: Option<&str>) -> String {
    match name {
        Some(_) => "No such table\n".into(),
        None => String::new(),
    }
}

/// `show pools`: this process has no HAProxy-style memory pools.
pub fn pools() -> String {
    "Dumping pools usage. Use SIGQUIT to flush them.\n\
     Total: 0 pools, 0 bytes allocated, 0 used (~0 by thread caches).\n"
        .into()
}

/// `show activity`: the lines this process can state.
pub fn activity(st: &Stats) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let accepted: u64 = st
        .proxies
        .iter()
        .filter_map(|p| p.fe.as_ref())
        .map(|f| f.stot())
        .sum();
    format!(
        "thread_id: 1 (1..{})\ndate_now: {}.{:06}\naccepted: {}\n",
        st.nbthread.max(1),
        now.as_secs(),
        now.subsec_micros(),
        accepted
    )
}

/// `show servers conn [<backend>]`.
pub fn servers_conn(st: &Stats, be: Option<&str>) -> String {
    if let Some(b) = be
        && !st.proxies.iter().any(|p| p.name == b && p.be.is_some())
    {
        return "Can't find backend.\n".into();
    }
    let nt = st.nbthread.max(1);
    let mut out = format!(
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[{nt}]\n"
    );
    for p in &st.proxies {
        let Some(bv) = &p.be else { continue };
        if be.is_some_and(|b| b != p.name) {
            continue;
        }
        for s in bv.servers().iter() {
            let (ip, port) = match s.live.cur_addr() {
                Some(a) => (a.ip().to_string(), a.port().to_string()),
                None => (
                    s.ir.ip.clone().unwrap_or_else(|| "-".into()),
                    s.ir.port.map_or_else(|| "0".into(), |p| p.to_string()),
                ),
            };
            let used = s.live.conns();
            let idle = s.live.pool.len();
            out.push_str(&format!(
                "{}/{} {}/{} {} {} - 5000 {} {} {} 0 {} -1 {}{}\n",
                p.name,
                s.ir.name,
                p.iid,
                s.sid,
                ip,
                port,
                used,
                used,
                used,
                idle,
                idle,
                " 0".repeat(nt as usize),
            ));
        }
    }
    out
}

/// Parses `show sess`/`shutdown session` ids as C's `strtoul(s, 0)`:
/// `0x` hex, leading `0` octal, else decimal; garbage gives 0.
pub fn parse_ptr(s: &str) -> u64 {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    u64::from_str_radix(&digits[..end], radix).unwrap_or(0)
}

/// HAProxy's short duration format: `5s`, `1m5s`, `2h3m`, `1d4h`.
pub fn human_time(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn age(e: &Entry) -> String {
    human_time(e.started.elapsed().as_secs())
}

fn short_line(e: &Entry) -> String {
    let (be, srv) = registry::target(e).unwrap_or_else(|| ("<NONE>".into(), "<none>".into()));
    let src = e.src.map_or_else(|| "unix".into(), |a| a.to_string());
    format!(
        "{:#x}: proto={} src={} fe={} be={} srv={} age={}\n",
        e.id,
        e.proto(),
        src,
        e.frontend().name,
        be,
        srv,
        age(e)
    )
}

fn long_dump(e: &Entry) -> String {
    let (be, srv) = registry::target(e).unwrap_or_else(|| ("<NONE>".into(), "<NONE>".into()));
    let started = SystemTime::now()
        .checked_sub(e.started.elapsed())
        .unwrap_or(UNIX_EPOCH);
    format!(
        "{:#x}: [{}] id={} proto={} source={}\n  frontend={}\n  backend={}\n  server={}\n",
        e.id,
        log_date(started),
        e.id,
        e.proto(),
        e.src.map_or_else(|| "unix".into(), |a| a.to_string()),
        e.frontend().name,
        be,
        srv
    )
}

/// `show sess [<id>|all]`.
pub fn sess(arg: Option<&str>) -> String {
    match arg {
        Some("all") => registry::list().iter().map(|e| long_dump(e)).collect(),
        Some(a) if parse_ptr(a) != 0 => match registry::get(parse_ptr(a)) {
            Some(e) => long_dump(&e),
            None => "Session not found.\n".into(),
        },
        _ => registry::list().iter().map(|e| short_line(e)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_like_ids() {
        assert_eq!(parse_ptr("0x1234"), 0x1234);
        assert_eq!(parse_ptr("abc"), 0);
        assert_eq!(parse_ptr("10"), 10);
        assert_eq!(parse_ptr("010"), 8);
        assert_eq!(parse_ptr("0x12zz"), 0x12);
    }

    #[test]
    fn env_lookup() {
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(env(Some("PATH")), format!("PATH={path}\n"));
        assert_eq!(env(Some("NO_SUCH_VAR_FOR_SURE")), "Variable not found\n");
        assert!(env(None).contains(&format!("PATH={path}\n")));
    }

    #[test]
    fn human_times() {
        assert_eq!(human_time(0), "0s");
        assert_eq!(human_time(65), "1m5s");
        assert_eq!(human_time(7380), "2h3m");
        assert_eq!(human_time(100000), "1d3h");
    }

    #[test]
    fn date_shape() {
        let d = log_date(SystemTime::now());
        // dd/Mon/yyyy:hh:mm:ss.mmm
        assert_eq!(d.len(), 24, "{d}");
        assert_eq!(&d[2..3], "/");
        assert_eq!(&d[20..21], ".");
    }

    #[tokio::test]
    async fn sessions_listed_and_found() {
        let fe = crate::session::fetch::sess::test_frontend("fe_test_show");
        let h = crate::session::fetch::Sess::new(&fe, "127.0.0.1:4242".parse().ok());
        let id = h.id;
        let list = sess(None);
        assert!(list.contains(&format!(
            "{id:#x}: proto=tcpv4 src=127.0.0.1:4242 fe=fe_test_show be=<NONE> srv=<none> age=0s\n"
        )));
        assert!(sess(Some(&format!("{id:#x}"))).contains("frontend=fe_test_show"));
        drop(h);
        assert_eq!(sess(Some(&format!("{id:#x}"))), "Session not found.\n");
    }
}
