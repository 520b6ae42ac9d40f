//! `show stat typed|json [desc]`, `show info typed|json|desc|float` and
//! `show schema json`: HAProxy 2.6.12's machine-readable formats.
//!
//! Owns: converting the CSV text of [`crate::stats::csv`] and the field
//! list of [`crate::stats::info`] into the typed and JSON formats, with
//! the per-field metadata of [`super::fields`]. Works on their output
//! only: must not compute any value itself nor change state.

use super::fields::{FIELDS, INFO};

/// The JSON schema `show schema json` prints (one line, as 2.6.12).
pub const SCHEMA: &str = include_str!("schema.json");

/// One parsed `show stat` row.
struct StatRow {
    kind: char,
    iid: String,
    sid: String,
    pid: String,
    /// Values by typed position.
    cells: Vec<String>,
}

/// Splits one CSV line into cells (`"..."` quoting, `""` escapes).
pub fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses `show stat` CSV into rows keyed by typed position: the `-`
/// separator column of the header is not a field.
fn parse_stat(csv: &str) -> Vec<StatRow> {
    let mut lines = csv.lines();
    let header = lines
        .next()
        .map(|h| split_csv(h.trim_start_matches("# ")))
        .unwrap_or_default();
    let dash = header.iter().position(|h| h == "-");
    let col = |name: &str| header.iter().position(|h| h == name);
    let (ty, iid, sid, pid) = (col("type"), col("iid"), col("sid"), col("pid"));
    let mut rows = Vec::new();
    for l in lines.filter(|l| !l.is_empty()) {
        let cells = split_csv(l);
        let get = |i: Option<usize>| i.and_then(|i| cells.get(i)).cloned().unwrap_or_default();
        let kind = match get(ty).as_str() {
            "0" => 'F',
            "1" => 'B',
            "2" => 'S',
            "3" => 'L',
            _ => '?',
        };
        let (iid, sid, pid) = (get(iid), get(sid), get(pid));
        let typed: Vec<String> = cells
            .into_iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != dash)
            .map(|(_, c)| c)
            .collect();
        rows.push(StatRow {
            kind,
            iid,
            sid,
            pid: if pid.is_empty() { "1".into() } else { pid },
            cells: typed,
        });
    }
    rows
}

type Meta = (&'static str, &'static str, &'static str, &'static str);

/// `(name, tags, type, description)` of field `idx` on a row of `kind`.
fn stat_meta(idx: usize, kind: char) -> Option<Meta> {
    let f = FIELDS.get(idx)?;
    let (_, tags, ty) = f
        .tags
        .iter()
        .find(|(k, _, _)| k.contains(kind))
        .or_else(|| f.tags.first())?;
    Some((f.name, tags, ty, f.desc))
}

/// Whether field `idx` is dumped: non-empty, or one of the string fields
/// HAProxy fills even when empty (`last_chk`/`last_agt` of a checked
/// server).
fn present(r: &StatRow, idx: usize) -> bool {
    let v = |i: usize| r.cells.get(i).is_some_and(|c| !c.is_empty());
    v(idx) || (r.kind == 'S' && ((idx == 56 && v(36)) || (idx == 57 && v(62))))
}

/// `show stat typed [desc]`.
pub fn stat_typed(csv: &str, desc: bool) -> String {
    let mut out = String::new();
    for r in parse_stat(csv) {
        for idx in 0..r.cells.len() {
            if !present(&r, idx) {
                continue;
            }
            let Some((name, tags, ty, d)) = stat_meta(idx, r.kind) else {
                continue;
            };
            out.push_str(&format!(
                "{}.{}.{}.{}.{}.{}:{}:{}:{}",
                r.kind, r.iid, r.sid, idx, name, r.pid, tags, ty, r.cells[idx]
            ));
            if desc {
                out.push_str(&format!(":\"{}\"", d));
            }
            out.push('\n');
        }
    }
    out
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The JSON tags object of a 3-letter code.
fn json_tags(code: &str) -> String {
    let mut c = code.chars();
    let origin = match c.next() {
        Some('M') => "Metric",
        Some('S') => "Status",
        Some('K') => "Key",
        Some('C') => "Config",
        Some('P') => "Product",
        _ => "Unknown",
    };
    let nature = match c.next() {
        Some('G') => "Gauge",
        Some('L') => "Limit",
        Some('m') => "Min",
        Some('M') => "Max",
        Some('R') => "Rate",
        Some('C') => "Counter",
        Some('D') => "Duration",
        Some('A') => "Age",
        Some('T') => "Time",
        Some('N') => "Name",
        Some('O') => "Output",
        Some('a') => "Avg",
        _ => "Unknown",
    };
    let scope = match c.next() {
        Some('P') => "Process",
        Some('S') => "Service",
        Some('s') => "System",
        Some('C') => "Cluster",
        _ => "Unknown",
    };
    format!("\"tags\":{{\"origin\":\"{origin}\",\"nature\":\"{nature}\",\"scope\":\"{scope}\"}}")
}

/// The JSON value object; a number field whose text is not a number is
/// sent as a string rather than as invalid JSON.
fn json_value(ty: &str, v: &str) -> String {
    let numeric = match ty {
        "u32" | "u64" => v.parse::<u64>().is_ok(),
        "s32" | "s64" => v.parse::<i64>().is_ok(),
        "flt" => v.parse::<f64>().is_ok(),
        _ => false,
    };
    if numeric {
        format!("\"value\":{{\"type\":\"{ty}\",\"value\":{v}}}")
    } else {
        format!("\"value\":{{\"type\":\"str\",\"value\":{}}}", json_str(v))
    }
}

/// `show stat json`.
pub fn stat_json(csv: &str) -> String {
    let mut rows = Vec::new();
    for r in parse_stat(csv) {
        let obj = match r.kind {
            'F' => "Frontend",
            'B' => "Backend",
            'S' => "Server",
            'L' => "Listener",
            _ => "Unknown",
        };
        let num = |s: &str| s.parse::<u64>().unwrap_or(0);
        let mut items = Vec::new();
        for idx in 0..r.cells.len() {
            if !present(&r, idx) {
                continue;
            }
            let Some((name, tags, ty, _)) = stat_meta(idx, r.kind) else {
                continue;
            };
            items.push(format!(
                "{{\"objType\":\"{obj}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{idx},\"name\":\"{name}\"}},\"processNum\":{},{},{}}}",
                num(&r.iid),
                num(&r.sid),
                num(&r.pid),
                json_tags(tags),
                json_value(ty, &r.cells[idx]),
            ));
        }
        rows.push(format!("[{}]", items.join(",")));
    }
    format!("[{}]\n", rows.join(","))
}

/// Options of `show info`.
#[derive(Debug, Default, Clone, Copy)]
pub struct InfoOpts {
    pub typed: bool,
    pub json: bool,
    pub desc: bool,
    pub float: bool,
}

/// Formats a float as HAProxy does (`%f` without trailing zeros).
pub fn float_text(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `show info` in any of its formats. `fields` is the `(name, value)`
/// list of [`crate::stats::info::fields`]; `floats` overrides values
/// (`Uptime_sec`, `Start_time_sec`) when `float` was asked for.
pub fn info(fields: &[(&str, String)], floats: &[(&str, f64)], o: InfoOpts) -> String {
    let mut out = String::new();
    let mut items = Vec::new();
    for (name, value) in fields {
        let meta = INFO.iter().find(|m| m.0 == *name);
        let (pos, tags, mut ty, desc) =
            meta.map_or((0, "???", "str", ""), |m| (m.1, m.2, m.3, m.4));
        let mut value = value.clone();
        if o.float
            && let Some((_, f)) = floats.iter().find(|(n, _)| n == name)
        {
            value = float_text(*f);
            ty = "flt";
        }
        if o.json {
            items.push(format!(
                "{{\"field\":{{\"pos\":{pos},\"name\":{}}},\"processNum\":1,{},{}}}",
                json_str(name),
                json_tags(tags),
                json_value(ty, &value)
            ));
            continue;
        }
        if o.typed {
            out.push_str(&format!("{pos}.{name}.1:{tags}:{ty}:{value}"));
        } else {
            out.push_str(&format!("{name}: {value}"));
        }
        if o.desc {
            out.push_str(&format!(":\"{desc}\""));
        }
        out.push('\n');
    }
    if o.json {
        return format!("[{}]\n", items.join(","));
    }
    out
}

#[cfg(test)]
mod tests;
