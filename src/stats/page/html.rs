//! The HTML stats page: HAProxy's layout reduced to its essentials (page
//! header, process information, one table per proxy with a row per
//! frontend, server and backend, HAProxy's colour classes).
//!
//! Owns: the markup only. Every number comes from the `show stat` rows
//! ([`super::super::csv`]), so the page never disagrees with the CSV.
//! Must not change state.

use super::super::Stats;
use super::super::csv::{Filter, col_index, show_stat};
use super::super::info::fields;
use super::Conf;
use std::fmt::Write;

/// HAProxy's style sheet, trimmed to the classes this page uses.
const STYLE: &str = "body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em;}
.hr {margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre	{background: #20D0D0;color: #000000; font-weight: bold; text-align: center;}
.frontend	{background: #e8e8d0;}
.backend	{background: #e8e8d0;}
.active_down		{background: #ff9090;}
.active_going_up		{background: #ffd020;}
.active_going_down	{background: #ffffa0;}
.active_up		{background: #c0ffc0;}
.active_draining		{background: #20a0FF;}
.active_no_check		{background: #e0e0e0;}
.backup_down		{background: #ff9090;}
.backup_going_up		{background: #ff80ff;}
.backup_going_down	{background: #c060ff;}
.backup_up		{background: #b0d0ff;}
.backup_draining		{background: #cc9900;}
.backup_no_check		{background: #e0e0e0;}
.maintain	{background: #c07820;}
a.px:link {color: #ffff40; text-decoration: none;}a.px:visited {color: #ffff40; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border-width: 1px 1px 1px 1px; border-style: solid solid solid solid; padding: 2px 3px; border-color: gray; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl th { border-width: 1px; border-style: solid solid solid solid; border-color: gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white;}
table.tbl th.desc { background: white; border-style: solid solid none solid; text-align: left; padding: 2px 3px;}
";

/// The CSV columns shown per row, in order (then `bck`).
const COLS: [&str; 15] = [
    "qcur", "qmax", "qlimit", "scur", "smax", "slim", "stot", "bin", "bout", "dreq", "ereq",
    "econ", "status", "weight", "act",
];

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Splits one CSV line (cells quoted by `"` when they hold `,` or `"`).
pub fn split_csv(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

/// HAProxy's row class for a server, from its `status` and `bck` cells.
pub fn server_class(status: &str, backup: bool) -> &'static str {
    let kind = if backup { "backup" } else { "active" };
    let state = if status.starts_with("MAINT") {
        return "maintain";
    } else if status == "no check" {
        "no_check"
    } else if status == "DRAIN" || status.starts_with("NOLB") {
        "draining"
    } else if status == "UP" {
        "up"
    } else if status.starts_with("UP") {
        "going_down"
    } else if status.starts_with("DOWN ") {
        "going_up"
    } else {
        "down"
    };
    match (kind, state) {
        ("backup", "no_check") => "backup_no_check",
        ("backup", "draining") => "backup_draining",
        ("backup", "up") => "backup_up",
        ("backup", "going_down") => "backup_going_down",
        ("backup", "going_up") => "backup_going_up",
        ("backup", _) => "backup_down",
        (_, "no_check") => "active_no_check",
        (_, "draining") => "active_draining",
        (_, "up") => "active_up",
        (_, "going_down") => "active_going_down",
        (_, "going_up") => "active_going_up",
        _ => "active_down",
    }
}

fn cell<'a>(cells: &'a [String], col: &str) -> &'a str {
    col_index(col)
        .and_then(|i| cells.get(i))
        .map_or("", String::as_str)
}

fn table_head(o: &mut String, px: &str) {
    let n = esc(px);
    let _ = write!(
        o,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{n}\"></a><a class=px href=\"#{n}\">{n}</a></th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th rowspan=2></th><th colspan=3>Queue</th><th colspan=4>Sessions</th><th colspan=2>Bytes</th><th colspan=1>Denied</th><th colspan=2>Errors</th><th colspan=4>Server</th></tr>\n<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>In</th><th>Out</th><th>Req</th><th>Req</th><th>Conn</th><th>Status</th><th>Wght</th><th>Act</th><th>Bck</th></tr>\n"
    );
}

fn row(o: &mut String, cells: &[String]) {
    let sv = cell(cells, "svname");
    let status = cell(cells, "status");
    let class = match sv {
        "FRONTEND" => "frontend",
        "BACKEND" => "backend",
        _ => server_class(status, cell(cells, "bck") == "1"),
    };
    let name = match sv {
        "FRONTEND" => "Frontend".to_string(),
        "BACKEND" => "Backend".to_string(),
        s => esc(s),
    };
    let _ = write!(o, "<tr class=\"{class}\"><td class=ac>{name}</td>");
    for c in COLS {
        let v = esc(cell(cells, c));
        if c == "status" {
            let _ = write!(o, "<td class=ac>{v}</td>");
        } else {
            let _ = write!(o, "<td>{v}</td>");
        }
    }
    let bck = esc(cell(cells, "bck"));
    let _ = writeln!(o, "<td>{bck}</td></tr>");
}

/// The whole HTML document.
pub fn page(conf: &Conf, st: &Stats, filter: Filter<'_>, norefresh: bool) -> String {
    let info = fields(st);
    let get = |k: &str| {
        info.iter()
            .find(|(n, _)| *n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let mut o = String::with_capacity(8192);
    o.push_str("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n<html><head><title>Statistics Report for HAProxy");
    if let Some(n) = &conf.node {
        let _ = write!(o, " on {}", esc(n));
    }
    o.push_str("</title>\n<link rel=\"icon\" href=\"data:,\">\n<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n<style type=\"text/css\"><!--\n");
    o.push_str(STYLE);
    o.push_str("-->\n</style></head>\n<body><h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy");
    if !conf.hide_version {
        let _ = write!(o, " version {}", esc(&get("Version")));
    }
    o.push_str("</a></h1>\n<h2>Statistics Report for pid ");
    o.push_str(&get("Pid"));
    if let Some(n) = &conf.node {
        let _ = write!(o, " on {}", esc(n));
    }
    o.push_str("</h2>\n");
    if let Some(d) = conf.desc.as_ref().filter(|d| !d.is_empty()) {
        let _ = writeln!(o, "<h2>{}</h2>", esc(d));
    }
    let _ = write!(
        o,
        "<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n<p><b>pid = </b> {} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b> {}<br>\n<b>maxconn = </b> {}<br>\ncurrent conns = {}<br>\n</p>\n",
        get("Pid"),
        get("Nbthread"),
        esc(&get("Uptime")),
        get("Maxconn"),
        get("CurrConns"),
    );
    let u = esc(&conf.uri);
    let _ = write!(
        o,
        "<ul><li><a href=\"{u};up\">Hide 'DOWN' servers</a>\n<li><a href=\"{u}{}\">{}</a>\n<li><a href=\"{u};csv;norefresh\">CSV export</a>\n</ul>\n",
        if norefresh { "" } else { ";norefresh" },
        if norefresh {
            "Refresh now"
        } else {
            "Disable refresh"
        },
    );
    let csv = show_stat(st, filter);
    let mut current: Option<String> = None;
    for line in csv.lines().skip(1) {
        let cells = split_csv(line);
        let px = cell(&cells, "pxname").to_string();
        if current.as_deref() != Some(px.as_str()) {
            if current.is_some() {
                o.push_str("</table><p>\n");
            }
            table_head(&mut o, &px);
            current = Some(px);
        }
        row(&mut o, &cells);
    }
    if current.is_some() {
        o.push_str("</table><p>\n");
    }
    o.push_str("</body></html>\n");
    o
}
