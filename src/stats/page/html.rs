//! The HTML stats page in HAProxy 2.6's layout: page header, process
//! information with the legend, display options and resources, the admin
//! action result, one table per proxy (HAProxy's 29 columns, colour
//! classes, `stats show-legends` tips) with the admin form when allowed.
//!
//! Owns: the markup only. Every number comes from the `show stat` rows
//! ([`super::super::csv`]), so the page never disagrees with the CSV.
//! Must not change state.

use super::super::Stats;
use super::super::csv::{Filter, col_index, show_stat};
use super::super::info::fields;
use super::{Conf, Opts, in_scope};
use std::fmt::Write;

/// HAProxy 2.6.12's style sheet (as its page prints it).
const STYLE: &str = include_str!("style.css");

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

/// A number with HAProxy's thousands grouping (`<span class="rls">1</span>000`).
pub fn u2h(v: &str) -> String {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() <= 3 {
        return esc(v);
    }
    let head = v.len() % 3;
    let mut o = String::new();
    let mut groups: Vec<&str> = Vec::new();
    if head > 0 {
        groups.push(&v[..head]);
    }
    let mut i = head;
    while i < v.len() {
        groups.push(&v[i..i + 3]);
        i += 3;
    }
    let last = groups.len() - 1;
    for (k, g) in groups.iter().enumerate() {
        if k == last {
            o.push_str(g);
        } else {
            let _ = write!(o, "<span class=\"rls\">{g}</span>");
        }
    }
    o
}

/// HAProxy's `human_time` for a number of seconds (`9s`, `1m5s`, `2h3m`, `1d2h`).
pub fn human_time(v: &str) -> String {
    let Ok(t) = v.parse::<u64>() else {
        return esc(v);
    };
    match t {
        0..60 => format!("{t}s"),
        60..3600 => format!("{}m{}s", t / 60, t % 60),
        3600..86400 => format!("{}h{}m", t / 3600, (t / 60) % 60),
        _ => format!("{}d{}h", t / 86400, (t / 3600) % 24),
    }
}

fn dash(v: &str) -> String {
    if v.is_empty() { "-".into() } else { u2h(v) }
}

fn last_sess(v: &str) -> String {
    if v.is_empty() || v.starts_with('-') {
        "?".into()
    } else {
        human_time(v)
    }
}

/// The name cell, with the `show-legends` tip when asked.
fn name_cell(o: &mut String, px: &str, anchor: &str, label: &str, tip: Option<String>) {
    let (px, anchor, label) = (esc(px), esc(anchor), esc(label));
    let link =
        format!("<a name=\"{px}/{anchor}\"></a><a class=lfsb href=\"#{px}/{anchor}\">{label}</a>");
    match tip {
        Some(t) => {
            let _ = write!(
                o,
                "<td class=ac><u>{link}<div class=tips>{t}</div></u></td>"
            );
        }
        None => {
            let _ = write!(o, "<td class=ac>{link}</td>");
        }
    }
}

fn table_head(o: &mut String, px: &str, admin_form: bool) {
    let n = esc(px);
    if admin_form {
        o.push_str("<form method=\"post\">");
    }
    let _ = write!(
        o,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{n}\"></a><a class=px href=\"#{n}\">{n}</a></th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">"
    );
    if admin_form {
        let _ = write!(
            o,
            "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{n}-checkbox')) document.getElementsByClassName('{n}-checkbox').item(c).checked = this.checked\"></th>"
        );
    } else {
        o.push_str("<th rowspan=2></th>");
    }
    o.push_str("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>");
}

/// `<td>v</td>` for each value (numbers grouped).
fn tds(o: &mut String, vals: &[&str]) {
    for v in vals {
        let _ = write!(o, "<td>{}</td>", u2h(v));
    }
}

fn frontend_row(o: &mut String, c: &[String]) {
    let px = cell(c, "pxname");
    o.push_str("<tr class=\"frontend\"><td></td>");
    name_cell(o, px, "Frontend", "Frontend", None);
    o.push_str("<td colspan=3></td>");
    let http = cell(c, "mode") == "http";
    let rate = |kind: &str, conn: &str, sess: &str, req: &str| {
        let mut r = tr(
            &format!("{kind} connection rate:"),
            &format!("{}/s", cell(c, conn)),
            None,
        );
        r.push_str(&tr(
            &format!("{kind} session rate:"),
            &format!("{}/s", cell(c, sess)),
            None,
        ));
        if http {
            r.push_str(&tr(
                &format!("{kind} request rate:"),
                &format!("{}/s", cell(c, req)),
                None,
            ));
        }
        r
    };
    tip_cell(
        o,
        cell(c, "rate"),
        &rate("Current", "conn_rate", "rate", "req_rate"),
    );
    tip_cell(
        o,
        cell(c, "rate_max"),
        &rate("Max", "conn_rate_max", "rate_max", "req_rate_max"),
    );
    // No limit (0 or empty) reads `-`.
    let lim = cell(c, "rate_lim");
    let _ = write!(o, "<td>{}</td>", dash(if lim == "0" { "" } else { lim }));
    tds(o, &[cell(c, "scur"), cell(c, "smax"), cell(c, "slim")]);
    let mut t = tr("Cum. connections:", cell(c, "conn_tot"), None);
    t.push_str(&tr("Cum. sessions:", cell(c, "stot"), None));
    if http {
        t.push_str(&tr("Cum. HTTP requests:", cell(c, "req_tot"), None));
        t.push_str(&hrsp_rows(c, None, true));
        t.push_str(&tr("Intercepted requests:", cell(c, "intercepted"), None));
        t.push_str(&tr("Cache lookups:", cell(c, "cache_lookups"), None));
        t.push_str(&tr(
            "Cache hits:",
            cell(c, "cache_hits"),
            pct(n(c, "cache_hits"), n(c, "cache_lookups")),
        ));
        t.push_str(&tr("Failed hdr rewrites:", cell(c, "wrew"), None));
        t.push_str(&tr("Internal errors:", cell(c, "eint"), None));
    }
    tip_cell(o, cell(c, "stot"), &t);
    o.push_str("<td></td><td></td>");
    tds(o, &[cell(c, "bin")]);
    bout_cell(o, c);
    tds(o, &[cell(c, "dreq"), cell(c, "dresp"), cell(c, "ereq")]);
    let _ = write!(
        o,
        "<td></td><td></td><td></td><td></td><td class=ac>{}</td><td class=ac colspan=8></td></tr>",
        esc(cell(c, "status"))
    );
}

/// The `Status` cell of a server or backend: time since the last change
/// and the state (HAProxy's arrows for transitions).
fn status_cell(c: &[String]) -> String {
    let status = cell(c, "status");
    let status = if status.starts_with("UP ") {
        format!("{} &darr;", esc(status))
    } else if status.starts_with("DOWN ") {
        format!("{} &uarr;", esc(status))
    } else {
        esc(status)
    };
    format!("{} {status}", human_time(cell(c, "lastchg")))
}

fn server_row(o: &mut String, c: &[String], admin_form: bool, legends: bool) {
    let px = cell(c, "pxname");
    let sv = cell(c, "svname");
    let status = cell(c, "status");
    let backup = cell(c, "bck") == "1";
    let _ = write!(o, "<tr class=\"{}\">", server_class(status, backup));
    if admin_form {
        let _ = write!(
            o,
            "<td><input class='{}-checkbox' type=\"checkbox\" name=\"s\" value=\"{}\"></td>",
            esc(px),
            esc(sv)
        );
    } else {
        o.push_str("<td></td>");
    }
    let tip = legends.then(|| {
        let addr = cell(c, "addr");
        let fam = if addr.starts_with('[') {
            "IPv6"
        } else {
            "IPv4"
        };
        let mut t = format!("{fam}: {}, id: {}", esc(addr), esc(cell(c, "sid")));
        if !cell(c, "cookie").is_empty() {
            let _ = write!(t, ", cookie: '{}'", esc(cell(c, "cookie")));
        }
        t
    });
    name_cell(o, px, sv, sv, tip);
    tds(o, &[cell(c, "qcur"), cell(c, "qmax")]);
    let _ = write!(o, "<td>{}</td>", dash(cell(c, "qlimit")));
    tds(o, &[cell(c, "rate"), cell(c, "rate_max")]);
    o.push_str("<td></td>");
    let http = cell(c, "mode") == "http";
    let mut t = tr("Current active connections:", cell(c, "scur"), None);
    t.push_str(&tr(
        "Current used connections:",
        cell(c, "used_conn_cur"),
        None,
    ));
    t.push_str(&tr("Current idle connections:", cell(c, "srv_icur"), None));
    t.push_str(&tr("- unsafe:", cell(c, "idle_conn_cur"), None));
    t.push_str(&tr("- safe:", cell(c, "safe_conn_cur"), None));
    t.push_str(&tr(
        "Estimated need of connections:",
        cell(c, "need_conn_est"),
        None,
    ));
    t.push_str(&tr(
        "Active connections limit:",
        &dash(cell(c, "slim")),
        None,
    ));
    t.push_str(&tr(
        "Idle connections limit:",
        &dash(cell(c, "src_ilim")),
        None,
    ));
    tip_cell(o, cell(c, "scur"), &t);
    tds(o, &[cell(c, "smax")]);
    let _ = write!(o, "<td>{}</td>", dash(cell(c, "slim")));
    let mut t = tr("Cum. sessions:", cell(c, "stot"), None);
    if http {
        t.push_str(&conn_rows(c));
        t.push_str(&tr("Cum. HTTP requests:", cell(c, "req_tot"), None));
        t.push_str(&hrsp_rows(c, Some(n(c, "req_tot")), false));
        t.push_str(&tr("Failed hdr rewrites:", cell(c, "wrew"), None));
        t.push_str(&tr("Internal error:", cell(c, "eint"), None));
    }
    t.push_str(&timing_rows(c, http));
    tip_cell(o, cell(c, "stot"), &t);
    tds(o, &[cell(c, "lbtot")]);
    let _ = write!(o, "<td>{}</td>", last_sess(cell(c, "lastsess")));
    tds(o, &[cell(c, "bin"), cell(c, "bout")]);
    o.push_str("<td></td>");
    tds(o, &[cell(c, "dresp")]);
    o.push_str("<td></td>");
    tds(o, &[cell(c, "econ")]);
    eresp_cell(o, c);
    tds(o, &[cell(c, "wretr"), cell(c, "wredis")]);
    let _ = write!(o, "<td class=ac>{}</td>", status_cell(c));
    let chk = cell(c, "check_status");
    if chk.is_empty() {
        o.push_str("<td></td>");
    } else {
        let code = cell(c, "check_code");
        let code = if code.is_empty() {
            String::new()
        } else {
            format!("/{}", esc(code))
        };
        // HAProxy's tip: the status description, then the last check's details.
        let mut desc = cell(c, "check_desc").to_string();
        if !cell(c, "last_chk").is_empty() {
            desc = format!("{desc}: {}", cell(c, "last_chk"));
        }
        let _ = write!(
            o,
            "<td class=ac><u> {}{code} in {}ms<div class=tips>{}</div></u></td>",
            esc(chk),
            esc(cell(c, "check_duration")),
            esc(&desc)
        );
    }
    let _ = write!(
        o,
        "<td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td>",
        esc(cell(c, "weight")),
        esc(cell(c, "uweight")),
        if backup { "-" } else { "Y" },
        if backup { "Y" } else { "-" },
    );
    let tracked = cell(c, "tracked");
    if !tracked.is_empty() {
        let t = esc(tracked);
        let _ = write!(
            o,
            "<td class=ac colspan=3><a class=lfsb href=\"#{t}\">via {t}</a></td>"
        );
    } else if chk.is_empty() {
        o.push_str("<td class=ac colspan=3>-</td>");
    } else {
        let _ = write!(
            o,
            "<td><u>{}<div class=tips>Failed Health Checks</div></u></td><td>{}</td><td>{}</td>",
            u2h(cell(c, "chkfail")),
            u2h(cell(c, "chkdown")),
            human_time(cell(c, "downtime"))
        );
    }
    let _ = writeln!(o, "<td class=ac>{}</td></tr>", dash(cell(c, "throttle")));
}

/// `servers`: whether the backend has any server (else no downtime).
fn backend_row(o: &mut String, c: &[String], legends: bool, servers: bool) {
    let px = cell(c, "pxname");
    o.push_str("<tr class=\"backend\"><td></td>");
    let tip = legends.then(|| format!("balancing: {}", esc(cell(c, "algo"))));
    name_cell(o, px, "Backend", "Backend", tip);
    tds(o, &[cell(c, "qcur"), cell(c, "qmax")]);
    o.push_str("<td></td>");
    tds(o, &[cell(c, "rate"), cell(c, "rate_max")]);
    o.push_str("<td></td>");
    tds(o, &[cell(c, "scur"), cell(c, "smax"), cell(c, "slim")]);
    let http = cell(c, "mode") == "http";
    let mut t = tr("Cum. sessions:", cell(c, "stot"), None);
    if http {
        t.push_str(&conn_rows(c));
        t.push_str(&tr("Cum. HTTP requests:", cell(c, "req_tot"), None));
        t.push_str(&hrsp_rows(c, None, true));
        t.push_str(&tr("Cache lookups:", cell(c, "cache_lookups"), None));
        t.push_str(&tr(
            "Cache hits:",
            cell(c, "cache_hits"),
            pct(n(c, "cache_hits"), n(c, "cache_lookups")),
        ));
        t.push_str(&tr("Failed hdr rewrites:", cell(c, "wrew"), None));
        t.push_str(&tr("Internal errors:", cell(c, "eint"), None));
    }
    t.push_str(&timing_rows(c, http));
    tip_cell(o, cell(c, "stot"), &t);
    tds(o, &[cell(c, "lbtot")]);
    let _ = write!(o, "<td>{}</td>", last_sess(cell(c, "lastsess")));
    tds(o, &[cell(c, "bin")]);
    bout_cell(o, c);
    tds(o, &[cell(c, "dreq"), cell(c, "dresp")]);
    o.push_str("<td></td>");
    tds(o, &[cell(c, "econ")]);
    eresp_cell(o, c);
    tds(o, &[cell(c, "wretr"), cell(c, "wredis")]);
    let _ = write!(
        o,
        "<td class=ac>{}</td><td class=ac>&nbsp;</td><td class=ac>{}/{}</td><td class=ac>{}</td><td class=ac>{}</td><td class=ac>&nbsp;</td><td>{}</td><td>{}</td><td></td></tr>",
        status_cell(c),
        esc(cell(c, "weight")),
        esc(cell(c, "uweight")),
        esc(cell(c, "act")),
        esc(cell(c, "bck")),
        u2h(cell(c, "chkdown")),
        if servers {
            human_time(cell(c, "downtime"))
        } else {
            "&nbsp;".into()
        },
    );
}

/// HAProxy's admin action list under a backend's servers.
const ACTIONS: &str = "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option><option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option><option value=\"hdown\">Health: force DOWN</option><option value=\"dagent\">Agent: disable checks</option><option value=\"eagent\">Agent: enable checks</option><option value=\"arunn\">Agent: force UP</option><option value=\"adown\">Agent: force DOWN</option><option value=\"shutdown\">Kill Sessions</option></select>";

/// The legend of the row colours (HAProxy's text).
const LEGEND: &str = "<table class=\"lgd\"><tr>\n<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td><td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td><td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td></tr><tr>\n<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td><td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td></tr><tr>\n<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td><td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\nNote: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.";

/// The "Display option" links, as HAProxy words them.
fn options(o: &mut String, conf: &Conf, opts: &Opts) {
    let u = esc(&conf.uri);
    let refresh = conf.refresh.is_some();
    let nr = if refresh && opts.norefresh {
        ";norefresh"
    } else {
        ""
    };
    let up = if opts.up { ";up" } else { "" };
    let scope = esc(opts.scope.as_deref().unwrap_or(""));
    let _ = writeln!(
        o,
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\"><li><form method=\"GET\">Scope : <input value=\"{scope}\" name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>"
    );
    if opts.up {
        let _ = writeln!(o, "<li><a href=\"{u}{nr}\">Show all servers</a><br>");
    } else {
        let _ = writeln!(o, "<li><a href=\"{u};up{nr}\">Hide 'DOWN' servers</a><br>");
    }
    if refresh {
        if opts.norefresh {
            let _ = writeln!(o, "<li><a href=\"{u}{up}\">Enable refresh</a><br>");
        } else {
            let _ = writeln!(
                o,
                "<li><a href=\"{u}{up};norefresh\">Disable refresh</a><br>"
            );
        }
    }
    let _ = writeln!(o, "<li><a href=\"{u}{up}{nr}\">Refresh now</a><br>");
    let csv_nr = if refresh { ";norefresh" } else { "" };
    let _ = write!(
        o,
        "<li><a href=\"{u};csv{csv_nr}\">CSV export</a><br>\n<li><a href=\"{u};json{csv_nr}\">JSON export</a> (<a href=\"{u};json-schema\">schema</a>)<br>\n</ul></td>"
    );
}

/// The whole HTML document. `admin`: `stats admin` holds for this request.
pub fn page(conf: &Conf, st: &Stats, filter: Filter<'_>, opts: &Opts, admin: bool) -> String {
    let info = fields(st);
    let get = |k: &str| {
        info.iter()
            .find(|(n, _)| *n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let mut o = String::with_capacity(32768);
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
        "<hr width=\"100%\" class=\"hr\">\n<h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n<p><b>pid = </b> {} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b> {}<br>\n<b>system limits:</b> memmax = unlimited; ulimit-n = {}<br>\n<b>maxsock = </b> {}; <b>maxconn = </b> {}; <b>maxpipes = </b> {}<br>\ncurrent conns = {}; current pipes = {}/{}; conn rate = {}/sec; bit rate = 0.000 kbps<br>\nRunning tasks: {}/{}; idle = {} %<br>\n</td><td align=\"center\" nowrap>\n{LEGEND}</td>",
        get("Pid"),
        get("Nbthread"),
        esc(&get("Uptime")),
        get("Ulimit-n"),
        get("Maxsock"),
        get("Maxconn"),
        get("Maxpipes"),
        get("CurrConns"),
        get("PipesUsed"),
        get("PipesFree"),
        get("ConnRate"),
        get("Run_queue"),
        get("Tasks"),
        get("Idle_pct"),
    );
    options(&mut o, conf, opts);
    o.push_str("<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>External resources:</b><ul style=\"margin-top: 0.25em;\">\n<li><a href=\"http://www.haproxy.org/\">Primary site</a><br>\n<li><a href=\"http://www.haproxy.org/#down\">Updates (v2.6)</a><br>\n<li><a href=\"http://www.haproxy.org/#docs\">Online manual</a><br>\n</ul></td></tr></table>\n");
    if let Some(code) = &opts.st {
        let (class, msg) = super::admin::message(code);
        let _ = writeln!(
            o,
            "<p><div class={class}><a class=lfsb href=\"{}{}\" title=\"Remove this message\">[X]</a> {msg}</div>",
            esc(&conf.uri),
            esc(&opts.suffix(conf.refresh.is_some() && opts.norefresh))
        );
    }
    let csv = show_stat(st, filter);
    // Rows grouped per proxy, in order.
    let mut groups: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in csv.lines().skip(1).filter(|l| !l.is_empty()) {
        let cells = split_csv(line);
        let px = cell(&cells, "pxname").to_string();
        if !in_scope(conf, opts, &px) {
            continue;
        }
        match groups.last_mut() {
            Some((p, rows)) if *p == px => rows.push(cells),
            _ => groups.push((px, vec![cells])),
        }
    }
    for (px, rows) in &groups {
        let has_servers = rows
            .iter()
            .any(|c| !matches!(cell(c, "svname"), "FRONTEND" | "BACKEND"));
        let form = admin && has_servers;
        table_head(&mut o, px, form);
        let mut iid = String::new();
        for c in rows {
            match cell(c, "svname") {
                "FRONTEND" => frontend_row(&mut o, c),
                "BACKEND" => {
                    iid = cell(c, "iid").to_string();
                    backend_row(&mut o, c, conf.legends, has_servers);
                }
                _ => server_row(&mut o, c, form, conf.legends),
            }
        }
        o.push_str("</table>");
        if form {
            let _ = write!(
                o,
                "{ACTIONS}<input type=\"hidden\" name=\"b\" value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>",
                esc(&iid)
            );
        }
        o.push_str("<p>\n");
    }
    if opts.live {
        o.push_str(&super::live::tail(conf));
    }
    o.push_str("</body></html>\n");
    o
}

/// HAProxy's `<tr>` of a tip table; `pct` adds the `(n%)` cell.
fn tr(label: &str, v: &str, pct: Option<u64>) -> String {
    match pct {
        Some(p) => format!(
            "<tr><th>{label}</th><td>{}</td><td>({p}%)</td></tr>",
            u2h(v)
        ),
        None => format!("<tr><th>{label}</th><td>{}</td></tr>", u2h(v)),
    }
}

fn n(c: &[String], col: &str) -> u64 {
    cell(c, col).parse().unwrap_or(0)
}

fn pct(part: u64, total: u64) -> Option<u64> {
    Some(part.saturating_mul(100).checked_div(total).unwrap_or(0))
}

/// A cell with its tip table (`<u>v<div class=tips>...`).
fn tip_cell(o: &mut String, v: &str, rows: &str) {
    let _ = write!(
        o,
        "<td><u>{}<div class=tips><table class=det>{rows}</table></div></u></td>",
        u2h(v)
    );
}

/// The `Out` bytes cell with the compression tip.
fn bout_cell(o: &mut String, c: &[String]) {
    let (cin, cout) = (n(c, "comp_in"), n(c, "comp_out"));
    let saved = cin.saturating_sub(cout);
    let _ = write!(
        o,
        "<td>{}<div class=tips><table class=det>{}{}{}{}{}</table></div></td>",
        u2h(cell(c, "bout")),
        tr("Response bytes in:", cell(c, "bout"), None),
        tr("Compression in:", cell(c, "comp_in"), None),
        tr("Compression out:", cell(c, "comp_out"), pct(cout, cin)),
        tr("Compression bypass:", cell(c, "comp_byp"), None),
        tr(
            "Total bytes saved:",
            &saved.to_string(),
            pct(saved, n(c, "bout"))
        ),
    );
}

/// The `Resp` errors cell with the aborts tip.
fn eresp_cell(o: &mut String, c: &[String]) {
    let _ = write!(
        o,
        "<td><u>{}<div class=tips>Connection resets during transfers: {} client, {} server</div></u></td>",
        u2h(cell(c, "eresp")),
        u2h(cell(c, "cli_abrt")),
        u2h(cell(c, "srv_abrt"))
    );
}

/// The response code lines (`- HTTP 2xx responses:`...); `of`: the
/// total for percentages (servers), `comp`: the compressed 2xx line.
fn hrsp_rows(c: &[String], of: Option<u64>, comp: bool) -> String {
    let mut s = String::new();
    for (label, col) in [
        ("- HTTP 1xx responses:", "hrsp_1xx"),
        ("- HTTP 2xx responses:", "hrsp_2xx"),
        ("- HTTP 3xx responses:", "hrsp_3xx"),
        ("- HTTP 4xx responses:", "hrsp_4xx"),
        ("- HTTP 5xx responses:", "hrsp_5xx"),
        ("- other responses:", "hrsp_other"),
    ] {
        s.push_str(&tr(label, cell(c, col), of.and_then(|t| pct(n(c, col), t))));
        if comp && col == "hrsp_2xx" {
            s.push_str(&tr(
                "&nbsp;&nbsp;Compressed 2xx:",
                cell(c, "comp_rsp"),
                pct(n(c, "comp_rsp"), n(c, "hrsp_2xx")),
            ));
        }
    }
    s
}

/// The `Max / Avg` timing lines of servers and backends.
fn timing_rows(c: &[String], http: bool) -> String {
    let mut s = String::from("<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>");
    let mut line = |label: &str, max: &str, avg: &str| {
        let _ = write!(
            s,
            "<tr><th>{label}</th><td>{} / {}</td><td>ms</td></tr>",
            u2h(cell(c, max)),
            u2h(cell(c, avg))
        );
    };
    line("- Queue time:", "qtime_max", "qtime");
    line("- Connect time:", "ctime_max", "ctime");
    if http {
        line("- Responses time:", "rtime_max", "rtime");
    }
    line("- Total time:", "ttime_max", "ttime");
    s
}

/// The reuse lines of servers and HTTP backends.
fn conn_rows(c: &[String]) -> String {
    let (new, reuse) = (n(c, "connect"), n(c, "reuse"));
    format!(
        "{}{}",
        tr("New connections:", cell(c, "connect"), None),
        tr(
            "Reused connections:",
            cell(c, "reuse"),
            pct(reuse, new + reuse)
        )
    )
}
