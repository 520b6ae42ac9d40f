//! The exporter's text: HELP/TYPE lines, then one sample per object, for
//! every metric of [`super::table::METRICS`] in order.
//!
//! Owns: turning `show stat` cells and `show info` fields into promex
//! samples (labels, per-state expansions, ms -> seconds, empty cell ->
//! `NaN`). Must not change state.

use super::super::Stats;
use super::super::csv::{Filter, col_index, show_stat};
use super::super::info::fields;
use super::super::page::html::split_csv;
use super::table::METRICS;
use super::{M, Query, Sec};
use std::fmt::Write;

/// Server states of `haproxy_server_status` and the `agg_*` gauges.
const SRV_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

/// Check results of `haproxy_server_check_status`, in HAProxy's order.
const CHECK_STATES: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];

/// `hrsp_*` columns and their `code` label.
const CODES: [(&str, &str); 6] = [
    ("1xx", "hrsp_1xx"),
    ("2xx", "hrsp_2xx"),
    ("3xx", "hrsp_3xx"),
    ("4xx", "hrsp_4xx"),
    ("5xx", "hrsp_5xx"),
    ("other", "hrsp_other"),
];

/// One `show stat` row.
struct Row(Vec<String>);

impl Row {
    fn get(&self, col: &str) -> &str {
        col_index(col)
            .and_then(|i| self.0.get(i))
            .map_or("", String::as_str)
    }
    fn http(&self) -> bool {
        self.get("mode") == "http"
    }
}

/// Escapes a label value (`\`, `"`, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A numeric cell as promex prints it: `NaN` when empty or not a number.
fn num(v: &str) -> String {
    if !v.is_empty() && v.parse::<f64>().is_ok() {
        v.to_string()
    } else {
        "NaN".into()
    }
}

/// A millisecond cell in seconds (`%f`).
fn secs(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(ms) => format!("{:.6}", ms / 1000.0),
        Err(_) => "NaN".into(),
    }
}

/// Columns holding milliseconds that promex prints in seconds.
fn is_ms(col: &str) -> bool {
    matches!(
        col,
        "qtime"
            | "ctime"
            | "rtime"
            | "ttime"
            | "qtime_max"
            | "ctime_max"
            | "rtime_max"
            | "ttime_max"
            | "check_duration"
    )
}

/// The state label of a server's `status` cell.
fn srv_state(status: &str) -> &'static str {
    if status.starts_with("MAINT") {
        "MAINT"
    } else if status.starts_with("DRAIN") {
        "DRAIN"
    } else if status.starts_with("NOLB") {
        "NOLB"
    } else if status.starts_with("UP") || status == "no check" {
        "UP"
    } else {
        "DOWN"
    }
}

/// The check result of a `check_status` cell (`* ` marks a running check).
fn check_state(cell: &str) -> &str {
    cell.trim_start_matches("* ")
}

/// The text for `q`.
pub fn metrics(st: &Stats, q: Query) -> String {
    let info = fields(st);
    let filter = Filter {
        hide_maint: q.no_maint,
        ..Filter::default()
    };
    let csv = show_stat(st, filter);
    let rows: Vec<Row> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| Row(split_csv(l)))
        .collect();
    let fes: Vec<&Row> = rows
        .iter()
        .filter(|r| r.get("svname") == "FRONTEND")
        .collect();
    let bes: Vec<&Row> = rows
        .iter()
        .filter(|r| r.get("svname") == "BACKEND")
        .collect();
    let srvs: Vec<&Row> = rows
        .iter()
        .filter(|r| !matches!(r.get("svname"), "FRONTEND" | "BACKEND"))
        .collect();
    let with_srv: Vec<&str> = st
        .proxies
        .iter()
        .filter(|p| p.be.as_ref().is_some_and(|b| !b.servers().is_empty()))
        .map(|p| p.name.as_str())
        .collect();
    let mut o = String::with_capacity(64 * 1024);
    for m in METRICS.iter().filter(|m| q.wants(m.sec)) {
        let mut lines = String::new();
        let objs: &[&Row] = match m.sec {
            Sec::Process => &[],
            Sec::Frontend => &fes,
            Sec::Backend => &bes,
            Sec::Server => &srvs,
        };
        if m.src == "hrsp" {
            // HAProxy lists this one code by code, each over every object.
            for (code, col) in CODES {
                for r in objs.iter().filter(|r| r.http()) {
                    let _ = writeln!(
                        lines,
                        "haproxy_{}_{}{{{},code=\"{code}\"}} {}",
                        m.sec.name(),
                        m.name,
                        labels(m.sec, r),
                        num(r.get(col))
                    );
                }
            }
        } else {
            match m.sec {
                Sec::Process => process(&mut lines, m, &info),
                Sec::Frontend => {
                    for r in &fes {
                        proxy_metric(&mut lines, m, r, &srvs);
                    }
                }
                Sec::Backend => {
                    for r in &bes {
                        // The aggregated gauges exist for backends with servers only.
                        if m.src.starts_with("agg_") && !with_srv.contains(&r.get("pxname")) {
                            continue;
                        }
                        proxy_metric(&mut lines, m, r, &srvs);
                    }
                }
                Sec::Server => {
                    for r in &srvs {
                        proxy_metric(&mut lines, m, r, &srvs);
                    }
                }
            }
        }
        if lines.is_empty() {
            continue;
        }
        let full = format!("haproxy_{}_{}", m.sec.name(), m.name);
        let kind = if m.counter { "counter" } else { "gauge" };
        let _ = write!(o, "# HELP {full} {}\n# TYPE {full} {kind}\n{lines}", m.help);
    }
    o
}

fn process(o: &mut String, m: &M, info: &[(&'static str, String)]) {
    let full = format!("haproxy_process_{}", m.name);
    let v = info
        .iter()
        .find(|(n, _)| *n == m.src)
        .map(|(_, v)| v.as_str());
    if m.src == "Build info" {
        let version = info
            .iter()
            .find(|(n, _)| *n == "Version")
            .map_or("", |(_, v)| v.as_str());
        let _ = writeln!(o, "{full}{{version=\"{}\"}} 1", esc(version));
        return;
    }
    let _ = writeln!(o, "{full} {}", num(v.unwrap_or("")));
}

/// The `proxy` (and `server`) labels of a row.
fn labels(sec: Sec, r: &Row) -> String {
    let px = esc(r.get("pxname"));
    match sec {
        Sec::Server => format!("proxy=\"{px}\",server=\"{}\"", esc(r.get("svname"))),
        _ => format!("proxy=\"{px}\""),
    }
}

/// The samples of metric `m` for one frontend, backend or server row.
fn proxy_metric(o: &mut String, m: &M, r: &Row, srvs: &[&Row]) {
    if m.http && !r.http() {
        return;
    }
    let full = format!("haproxy_{}_{}", m.sec.name(), m.name);
    let labels = labels(m.sec, r);
    let status = r.get("status");
    match (m.sec, m.src) {
        (Sec::Frontend, "status") => {
            let up = status != "STOP";
            for (s, on) in [("DOWN", !up), ("UP", up)] {
                let _ = writeln!(o, "{full}{{{labels},state=\"{s}\"}} {}", u8::from(on));
            }
        }
        (Sec::Backend, "status") => {
            let up = status.starts_with("UP");
            for (s, on) in [("DOWN", !up), ("UP", up)] {
                let _ = writeln!(o, "{full}{{{labels},state=\"{s}\"}} {}", u8::from(on));
            }
        }
        (Sec::Server, "status") => {
            let cur = srv_state(status);
            for s in SRV_STATES {
                let _ = writeln!(o, "{full}{{{labels},state=\"{s}\"}} {}", u8::from(s == cur));
            }
        }
        (_, "agg_server_status" | "agg_server_check_status") => {
            let mine: Vec<&&Row> = srvs
                .iter()
                .filter(|s| s.get("pxname") == r.get("pxname"))
                .collect();
            for st in SRV_STATES {
                let n = mine
                    .iter()
                    .filter(|s| srv_state(s.get("status")) == st)
                    .count();
                let _ = writeln!(o, "{full}{{{labels},state=\"{st}\"}} {n}");
            }
        }
        (_, "agg_check_status") => {
            for st in CHECK_STATES {
                let n = srvs
                    .iter()
                    .filter(|s| s.get("pxname") == r.get("pxname"))
                    .filter(|s| check_state(s.get("check_status")) == st)
                    .count();
                let _ = writeln!(o, "{full}{{{labels},state=\"{st}\"}} {n}");
            }
        }
        (Sec::Server, "check_status") => {
            let cell = r.get("check_status");
            if cell.is_empty() {
                return;
            }
            let cur = check_state(cell);
            for s in CHECK_STATES {
                let _ = writeln!(o, "{full}{{{labels},state=\"{s}\"}} {}", u8::from(s == cur));
            }
        }
        (Sec::Server, "check_code" | "check_duration") => {
            if r.get("check_status").is_empty() {
                return;
            }
            let v = r.get(m.src);
            let v = match (v.is_empty(), m.src) {
                (true, "check_code") => "0".to_string(),
                (true, _) => "0.000000".to_string(),
                (false, "check_code") => num(v),
                (false, _) => secs(v),
            };
            let _ = writeln!(o, "{full}{{{labels}}} {v}");
        }
        (_, col) => {
            let v = r.get(col);
            let v = if is_ms(col) && !v.is_empty() {
                secs(v)
            } else {
                num(v)
            };
            let _ = writeln!(o, "{full}{{{labels}}} {v}");
        }
    }
}
