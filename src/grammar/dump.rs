//! `haproxy -dK<class>` output for the classes this registry owns:
//! `cfg`, `cli`, `flt`, `svc`.
//!
//! The `acl`, `cnv` and `smp` classes are produced from
//! [`crate::grammar::samples`] (owned by another module); [`dump`] returns
//! an empty string for them and `all` contains only the parts owned here, in
//! HAProxy's order. Callers that print `-dKall` must interleave the samples
//! parts (acl before cfg, cnv after cli, smp after flt).

use super::keywords::{Registration, Section, registry};

/// The `-dK` classes, in HAProxy's order, with their help text.
pub const CLASSES: &[(&str, &str)] = &[
    ("all", "list all keywords"),
    ("acl", "ACL keywords"),
    ("cfg", "configuration keywords"),
    ("cli", "CLI keywords"),
    ("cnv", "sample converter keywords"),
    ("flt", "filter names"),
    ("smp", "sample fetch functions"),
    ("svc", "service names"),
];

/// Output of `-dKhelp`.
pub fn help() -> String {
    let mut s = String::from("# List of supported keyword classes:\n");
    for (c, h) in CLASSES {
        s.push_str(&format!("{c}: {h}\n"));
    }
    s
}

/// Output of `-dK<class>` for `cfg`, `cli`, `flt`, `svc`, `all` (owned parts only).
pub fn dump(class: &str) -> String {
    match class {
        "cfg" => dump_cfg(),
        "cli" => dump_cli(),
        "flt" => dump_flt(),
        "svc" => dump_svc(),
        "acl" => super::samples::dump_acl(),
        "cnv" => super::samples::dump_cnv(),
        "smp" => super::samples::dump_smp(),
        "help" => help(),
        "all" => dump_classes("all"),
        _ => String::new(),
    }
}

/// Sorted, de-duplicated (byte order, like HAProxy's `strordered`).
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn dump_cfg() -> String {
    let reg = registry();
    let mut out = String::from("# List of registered configuration keywords:\n");
    let registered = |secs: &[Section]| -> Vec<String> {
        sorted(
            secs.iter()
                .flat_map(|s| reg.keywords(*s))
                .filter(|k| k.registered == Registration::Table)
                .map(|k| k.first_word().to_string())
                .collect(),
        )
    };
    out.push_str("global\n");
    for k in registered(&[Section::Global]) {
        out.push_str(&format!("\t{k}\n"));
    }
    out.push_str("listen\n");
    let proxies = [
        Section::Defaults,
        Section::Frontend,
        Section::Listen,
        Section::Backend,
    ];
    for k in registered(&proxies) {
        out.push_str(&format!("\t{k}\n"));
    }
    let args = |n: u8, var: bool| -> String {
        if var {
            " +-1".to_string()
        } else if n > 0 {
            format!(" +{n}")
        } else {
            String::new()
        }
    };
    let mut plain: Vec<_> = reg
        .bind_kws()
        .filter(|k| !k.ssl && !k.crt_list_only)
        .collect();
    plain.sort_by_key(|k| k.name);
    for k in plain {
        out.push_str(&format!(
            "\tbind <addr> {}{}\n",
            k.name,
            args(k.args, k.variable_args)
        ));
    }
    let mut ssl: Vec<_> = reg
        .bind_kws()
        .filter(|k| k.ssl && k.name != "ssl")
        .collect();
    ssl.sort_by_key(|k| k.name);
    for k in ssl {
        out.push_str(&format!(
            "\tbind <addr> ssl {}{}\n",
            k.name,
            args(k.args, k.variable_args)
        ));
    }
    let mut srv: Vec<_> = reg.server_kws().collect();
    srv.sort_by_key(|k| k.name);
    for k in srv {
        out.push_str(&format!(
            "\tserver <name> <addr> {}{}\n",
            k.name,
            args(k.args, k.variable_args)
        ));
    }
    let mut opts: Vec<_> = reg
        .options()
        .filter(|o| o.registered == Registration::Table)
        .collect();
    opts.sort_by_key(|o| o.name);
    for o in opts {
        let flags = if o.dump_flags.is_empty() {
            String::new()
        } else {
            format!("{} ", o.dump_flags)
        };
        out.push_str(&format!("\toption {} [ {}]\n", o.name, flags));
    }
    for rs in [
        "tcp-request connection",
        "tcp-request session",
        "tcp-request content",
        "tcp-response content",
        "http-request",
        "http-response",
        "http-after-response",
    ] {
        let mut acts: Vec<String> = reg
            .actions(rs)
            .filter(|a| a.registered)
            .map(|a| format!("{}{}", a.name, if a.prefix { "*" } else { "" }))
            .collect();
        acts.sort_by(|a, b| a.trim_end_matches('*').cmp(b.trim_end_matches('*')));
        for a in acts {
            out.push_str(&format!("\t{rs} {a}\n"));
        }
    }
    out.push_str("userlist\n");
    for k in registered(&[Section::Userlist]) {
        out.push_str(&format!("\t{k}\n"));
    }
    out.push_str("peers\n");
    for k in registered(&[Section::Peers]) {
        out.push_str(&format!("\t{k}\n"));
    }
    out.push_str("crt-list\n");
    let mut crt: Vec<_> = reg.bind_kws().filter(|k| k.crt_list).collect();
    crt.sort_by_key(|k| k.name);
    for k in crt {
        out.push_str(&format!("\t{}{}\n", k.name, args(k.args, k.variable_args)));
    }
    out
}

fn dump_cli() -> String {
    let mut out = String::from("# List of registered CLI keywords:\n");
    for c in registry().cli_commands() {
        out.push_str(c.command);
        out.push(' ');
        if c.master {
            out.push_str("[MASTER] ");
        }
        if c.worker {
            out.push_str("[WORKER] ");
        }
        if c.expert {
            out.push_str("[EXPERT] ");
        }
        if c.experimental {
            out.push_str("[EXPERIM] ");
        }
        out.push('\n');
    }
    out
}

fn dump_flt() -> String {
    let mut out = String::from("# List of registered filter names:\n");
    for f in registry().filters().filter(|f| f.is_filter) {
        out.push_str(&format!("{} [{}]\n", f.name, f.tag));
    }
    out
}

fn dump_svc() -> String {
    let mut out = String::from("# List of registered service names:\n");
    for f in registry().filters().filter(|f| !f.is_filter) {
        out.push_str(&format!("{}\n", f.name));
    }
    out
}

/// Output of `-dK<classes>` for a comma-separated class list (`"cfg,cli"`,
/// `"all"`, `"help"`): parts are printed in HAProxy's fixed class order, not
/// in the order given. `acl`, `cnv` and `smp` parts are empty here (see the
/// module docs); unknown class names are ignored.
pub fn dump_classes(classes: &str) -> String {
    let wanted: Vec<&str> = classes.split(',').map(str::trim).collect();
    if wanted.contains(&"help") {
        return help();
    }
    let all = wanted.contains(&"all");
    CLASSES
        .iter()
        .skip(1)
        .filter(|(c, _)| all || wanted.contains(c))
        .map(|(c, _)| dump(c))
        .collect()
}

/// The generated `docs/compatibility.md`: per section, every keyword with its status.
pub fn compatibility_markdown() -> String {
    use super::keywords::Status;
    let reg = registry();
    let mut s = String::from(
        "# HAProxy 2.6 configuration compatibility\n\n\
         Generated from `grammar/*.tsv` by `src/grammar/dump.rs`; do not edit.\n\
         Regenerate with `SWITCHYARD_REGEN_DOCS=1 cargo test --lib grammar`.\n\n\
         Status: `supported` = implemented; `no-op` = accepted, no effect on proxy \
         behaviour; `unsupported` = valid HAProxy syntax not implemented; `removed` = \
         rejected by HAProxy 2.6 itself (same alert).\n",
    );
    let count = |st: Status, it: &mut dyn Iterator<Item = Status>| it.filter(|x| *x == st).count();
    s.push_str("\n## Sections\n\n| section | status |\n|---|---|\n");
    for d in reg.sections() {
        s.push_str(&format!(
            "| `{}` | {} |\n",
            d.section.name(),
            d.status.name()
        ));
    }
    for sec in Section::ALL {
        let kws: Vec<_> = reg.keywords(sec).collect();
        if kws.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "\n## `{}` ({} supported, {} no-op of {})\n\n| keyword | status |\n|---|---|\n",
            sec.name(),
            count(Status::Supported, &mut kws.iter().map(|k| k.status)),
            count(Status::NoOp, &mut kws.iter().map(|k| k.status)),
            kws.len()
        ));
        let mut names: Vec<_> = kws.iter().map(|k| (k.name, k.status)).collect();
        names.sort_by_key(|(n, _)| *n);
        names.dedup_by_key(|(n, _)| *n);
        for (n, st) in names {
            s.push_str(&format!("| `{}` | {} |\n", n, st.name()));
        }
    }
    s.push_str("\n## Options (`option <name>`)\n\n| option | sections | `no` allowed | needs `mode http` | status |\n|---|---|---|---|---|\n");
    let mut opts: Vec<_> = reg.options().collect();
    opts.sort_by_key(|o| o.name);
    for o in opts {
        let secs: Vec<&str> = [
            (Section::Defaults, "defaults"),
            (Section::Frontend, "frontend"),
            (Section::Listen, "listen"),
            (Section::Backend, "backend"),
        ]
        .iter()
        .filter(|(sec, _)| o.allowed_in(*sec))
        .map(|(_, n)| *n)
        .collect();
        let yn = |b: bool| if b { "yes" } else { "no" };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            o.name,
            secs.join(", "),
            yn(o.allows_no),
            yn(o.http_only),
            o.status.name()
        ));
    }
    s.push_str("\n## `bind` keywords\n\n| keyword | args | status |\n|---|---|---|\n");
    for k in reg.bind_kws() {
        let name = if k.ssl {
            format!("ssl {}", k.name)
        } else {
            k.name.to_string()
        };
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            name,
            k.args,
            k.status.name()
        ));
    }
    s.push_str("\n## `server` / `default-server` keywords\n\n| keyword | args | default-server | status |\n|---|---|---|---|\n");
    for k in reg.server_kws() {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            k.name,
            if k.variable_args {
                "variable".to_string()
            } else {
                k.args.to_string()
            },
            if k.default_server { "yes" } else { "no" },
            k.status.name()
        ));
    }
    for rs in [
        "tcp-request connection",
        "tcp-request session",
        "tcp-request content",
        "tcp-response content",
        "http-request",
        "http-response",
        "http-after-response",
    ] {
        s.push_str(&format!(
            "\n## `{rs}` actions\n\n| action | status |\n|---|---|\n"
        ));
        for a in reg.actions(rs) {
            s.push_str(&format!(
                "| `{}{}` | {} |\n",
                a.name,
                if a.prefix { "*" } else { "" },
                a.status.name()
            ));
        }
    }
    s.push_str("\n## CLI commands\n\n| command | status |\n|---|---|\n");
    for c in reg.cli_commands() {
        s.push_str(&format!("| `{}` | {} |\n", c.command, c.status.name()));
    }
    s.push_str("\n## Filters and services\n\n| name | kind | status |\n|---|---|---|\n");
    for f in reg.filters() {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.name,
            if f.is_filter { "filter" } else { "service" },
            f.status.name()
        ));
    }
    s
}
