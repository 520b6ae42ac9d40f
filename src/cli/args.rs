//! HAProxy 2.6's command-line grammar.
//!
//! HAProxy's flags are single-dash words with glued values (`-dKcfg`,
//! `-dM0x55`), multi-letter flags (`-db`, `-Ws`, `-cc`) and variadic lists
//! (`-sf pid pid ...`), which declarative parsers such as clap do not model;
//! a small hand-written scanner keeps the behaviour byte-identical.

/// Everything the command line can ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    pub files: Vec<String>,
    pub check: bool,
    pub check_cond: Option<String>,
    pub quiet: bool,
    pub verbose: bool,
    pub debug: bool,
    pub foreground: bool,
    pub zero_warning: bool,
    pub ignore_resolve_failures: bool,
    pub diag: bool,
    pub dump_keywords: Option<String>,
    pub daemon: bool,
    pub master_worker: bool,
    pub systemd: bool,
    pub master_cli: Vec<String>,
    pub pidfile: Option<String>,
    pub soft_stop_pids: Vec<u32>,
    pub hard_stop_pids: Vec<u32>,
    pub local_peer: Option<String>,
    pub chdir: Option<String>,
    pub sockets_from: Option<String>,
    pub version: bool,
    pub build_options: bool,
    pub maxconn: Option<String>,
    pub proxy_maxconn: Option<String>,
    pub mem_limit: Option<String>,
    pub memory_debug: Option<String>,
    /// `--format json` (our extension for `-c`).
    pub json: bool,
    /// `--dump-config` (our extension).
    pub dump_config: bool,
}

/// Why the command line was rejected: HAProxy prints its usage text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    Usage(Option<String>),
}

/// Parses `argv[1..]`.
pub fn parse(argv: &[String]) -> Result<Args, ArgError> {
    let mut a = Args::default();
    let mut i = 0;
    let take = |i: &mut usize| -> Result<String, ArgError> {
        *i += 1;
        argv.get(*i).cloned().ok_or(ArgError::Usage(None))
    };
    while i < argv.len() {
        let arg = argv[i].as_str();
        if arg == "--" {
            a.files.extend(argv[i + 1..].iter().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            // HAProxy treats stray words as usage errors.
            return Err(ArgError::Usage(Some(arg.to_string())));
        }
        match arg {
            "--format" => {
                let v = take(&mut i)?;
                if v != "json" && v != "haproxy" {
                    return Err(ArgError::Usage(Some(arg.to_string())));
                }
                a.json = v == "json";
            }
            "--dump-config" => a.dump_config = true,
            "-f" => a.files.push(take(&mut i)?),
            "-c" => a.check = true,
            "-cc" => a.check_cond = Some(take(&mut i)?),
            "-q" => a.quiet = true,
            "-V" => a.verbose = true,
            "-d" => a.debug = true,
            "-db" => a.foreground = true,
            "-dW" => a.zero_warning = true,
            "-dr" => a.ignore_resolve_failures = true,
            "-dD" => a.diag = true,
            "-de" | "-dp" | "-dS" | "-dG" | "-dR" | "-dV" | "-dL" | "-dF" | "-dZ" => {}
            "-D" => a.daemon = true,
            "-W" => a.master_worker = true,
            "-Ws" => {
                a.master_worker = true;
                a.systemd = true;
            }
            "-S" => a.master_cli.push(take(&mut i)?),
            "-p" => a.pidfile = Some(take(&mut i)?),
            "-sf" | "-st" => {
                let list = if arg == "-sf" {
                    &mut a.soft_stop_pids
                } else {
                    &mut a.hard_stop_pids
                };
                while let Some(n) = argv.get(i + 1).and_then(|s| s.parse::<u32>().ok()) {
                    list.push(n);
                    i += 1;
                }
            }
            "-L" => a.local_peer = Some(take(&mut i)?),
            "-C" => a.chdir = Some(take(&mut i)?),
            "-x" => a.sockets_from = Some(take(&mut i)?),
            "-v" => a.version = true,
            "-vv" => {
                a.version = true;
                a.build_options = true;
            }
            "-N" => a.proxy_maxconn = Some(take(&mut i)?),
            "-n" => a.maxconn = Some(take(&mut i)?),
            "-m" => a.mem_limit = Some(take(&mut i)?),
            _ if arg.starts_with("-dK") => {
                a.dump_keywords = Some(arg[3..].to_string());
            }
            _ if arg.starts_with("-dM") => {
                a.memory_debug = Some(arg[3..].to_string());
            }
            _ => return Err(ArgError::Usage(Some(arg.to_string()))),
        }
        i += 1;
    }
    Ok(a)
}

/// HAProxy's usage text (stderr), with our program name.
pub fn usage(prog: &str) -> String {
    format!(
        "Usage : {prog} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available
        -dp disables poll() usage even when available
        -dS disables splice usage (broken on old kernels)
        -dG disables getaddrinfo() usage
        -dR disables SO_REUSEPORT usage
        -dL dumps loaded object files after config checks
        -dK{{class[,...]}} dump registered keywords (use 'help' for list)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI
        --format json   with -c: machine-readable diagnostics (Switchyard)
        --dump-config   print the resolved configuration as JSON (Switchyard)

"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, ArgError> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn haproxy_flags() {
        let a = p("-c -f a.cfg -f dir -q -dW -dKcfg,cli -sf 12 13 -db").unwrap_or_default();
        assert!(a.check && a.quiet && a.zero_warning && a.foreground);
        assert_eq!(a.files, vec!["a.cfg", "dir"]);
        assert_eq!(a.dump_keywords.as_deref(), Some("cfg,cli"));
        assert_eq!(a.soft_stop_pids, vec![12, 13]);
        let b = p("-f x -- y z").unwrap_or_default();
        assert_eq!(b.files, vec!["x", "y", "z"]);
    }

    #[test]
    fn unknown_flag_is_usage_error() {
        assert!(p("-c -Z").is_err());
        assert!(p("-f").is_err());
    }
}
