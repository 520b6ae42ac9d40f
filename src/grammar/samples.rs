//! Sample fetches, converters and ACL keywords (from `grammar/fetches.tsv`,
//! `grammar/converters.tsv`, `grammar/acl-keywords.tsv`).
//!
//! Owns: the typed registry of every fetch/converter/ACL keyword HAProxy
//! 2.6.12 registers (names, argument signatures, sample types, validity mask,
//! our implementation status), the sample cast matrix, and the
//! `-dKsmp`/`-dKcnv`/`-dKacl` dumps. Must not parse configuration text: that
//! lives in `config::sample`.

use std::sync::OnceLock;

/// A sample type, as HAProxy names them (`smp_to_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmpType {
    Any,
    Bool,
    Sint,
    Addr,
    Ipv4,
    Ipv6,
    Str,
    Bin,
    Meth,
}

impl SmpType {
    /// Parses HAProxy's type name (`any`, `bool`, `sint`, ...).
    pub fn from_name(s: &str) -> Option<SmpType> {
        Some(match s {
            "any" => SmpType::Any,
            "bool" => SmpType::Bool,
            "sint" => SmpType::Sint,
            "addr" => SmpType::Addr,
            "ipv4" => SmpType::Ipv4,
            "ipv6" => SmpType::Ipv6,
            "str" => SmpType::Str,
            "bin" => SmpType::Bin,
            "meth" => SmpType::Meth,
            _ => return None,
        })
    }

    /// HAProxy's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            SmpType::Any => "any",
            SmpType::Bool => "bool",
            SmpType::Sint => "sint",
            SmpType::Addr => "addr",
            SmpType::Ipv4 => "ipv4",
            SmpType::Ipv6 => "ipv6",
            SmpType::Str => "str",
            SmpType::Bin => "bin",
            SmpType::Meth => "meth",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// `sample_casts[from][to]` of HAProxy 2.6: whether a sample of type `from`
/// may be fed to something expecting `to`. Rows/columns in `SmpType` order.
/// Verified against the real binary for every (fetch type, converter input
/// type) pair that exists.
const CASTS: [[bool; 9]; 9] = {
    const Y: bool = true;
    const N: bool = false;
    [
        //any bool sint addr ipv4 ipv6 str bin meth
        [Y, Y, Y, Y, Y, Y, Y, Y, Y], // any
        [Y, Y, Y, N, N, N, Y, Y, N], // bool
        [Y, Y, Y, Y, Y, Y, Y, Y, N], // sint
        [Y, N, N, N, N, N, N, N, N], // addr
        [Y, N, Y, Y, Y, Y, Y, Y, N], // ipv4
        [Y, N, N, Y, Y, Y, Y, Y, N], // ipv6
        [Y, Y, Y, Y, Y, Y, Y, Y, Y], // str
        [Y, N, N, N, N, N, Y, Y, Y], // bin
        [Y, N, N, N, N, N, Y, Y, Y], // meth
    ]
};

/// Whether a sample of type `from` can be cast to `to`.
pub fn can_cast(from: SmpType, to: SmpType) -> bool {
    CASTS[from.index()][to.index()]
}

/// An argument type (`arg_type_names` of HAProxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgType {
    Sint,
    Str,
    Ipv4,
    Msk4,
    Ipv6,
    Msk6,
    Time,
    Size,
    Fe,
    Be,
    Tab,
    Srv,
    Usr,
    Map,
    Reg,
    Var,
    PbufFnum,
}

impl ArgType {
    /// HAProxy's display name of the type, as used in messages and dumps.
    pub fn name(self) -> &'static str {
        match self {
            ArgType::Sint => "integer",
            ArgType::Str => "string",
            ArgType::Ipv4 => "IPv4 address",
            ArgType::Msk4 => "IPv4 mask",
            ArgType::Ipv6 => "IPv6 address",
            ArgType::Msk6 => "IPv6 mask",
            ArgType::Time => "delay",
            ArgType::Size => "size",
            ArgType::Fe => "frontend",
            ArgType::Be => "backend",
            ArgType::Tab => "table",
            ArgType::Srv => "server",
            ArgType::Usr => "user list",
            ArgType::Map => "map",
            ArgType::Reg => "regex",
            ArgType::Var => "variable",
            ArgType::PbufFnum => "Protocol buffers field number",
        }
    }

    fn from_name(s: &str) -> Option<ArgType> {
        const ALL: [ArgType; 17] = [
            ArgType::Sint,
            ArgType::Str,
            ArgType::Ipv4,
            ArgType::Msk4,
            ArgType::Ipv6,
            ArgType::Msk6,
            ArgType::Time,
            ArgType::Size,
            ArgType::Fe,
            ArgType::Be,
            ArgType::Tab,
            ArgType::Srv,
            ArgType::Usr,
            ArgType::Map,
            ArgType::Reg,
            ArgType::Var,
            ArgType::PbufFnum,
        ];
        ALL.into_iter().find(|t| t.name() == s)
    }
}

/// An argument signature: the types in order, of which the first `min` are
/// mandatory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgSpec {
    pub types: Vec<ArgType>,
    pub min: usize,
    /// The signature exactly as dumped, e.g. `([string,integer])`, or empty.
    pub text: String,
}

impl ArgSpec {
    /// Parses a dumped signature such as `(string,integer[,string])`.
    fn parse(text: &str) -> Option<ArgSpec> {
        if text.is_empty() {
            return Some(ArgSpec {
                types: Vec::new(),
                min: 0,
                text: String::new(),
            });
        }
        let inner = text.strip_prefix('(')?.strip_suffix(')')?;
        let (mand, opt) = match inner.find('[') {
            Some(p) => (&inner[..p], inner[p + 1..].strip_suffix(']')?),
            None => (inner, ""),
        };
        let names = |s: &str| -> Option<Vec<ArgType>> {
            s.split(',')
                .filter(|w| !w.is_empty())
                .map(ArgType::from_name)
                .collect()
        };
        let mut types = names(mand)?;
        let min = types.len();
        types.extend(names(opt)?);
        Some(ArgSpec {
            types,
            min,
            text: text.to_string(),
        })
    }
}

/// Whether a keyword is implemented by our engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Supported,
    Unsupported,
}

/// A sample fetch function.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub name: String,
    pub args: ArgSpec,
    pub out: SmpType,
    /// Validity per check point, in the dump's column order (22 entries).
    pub mask: [bool; 22],
    pub status: Status,
}

/// A sample converter.
#[derive(Debug, Clone)]
pub struct Converter {
    pub name: String,
    pub args: ArgSpec,
    pub input: SmpType,
    pub out: SmpType,
    pub status: Status,
}

/// An ACL-specific keyword (`path_beg` = `path -m beg`, ...).
#[derive(Debug, Clone)]
pub struct AclKeyword {
    pub name: String,
    pub fetch: String,
    /// The default match method name (`str`, `beg`, `int`, ...).
    pub match_method: String,
}

struct Registry {
    fetches: Vec<Fetch>,
    converters: Vec<Converter>,
    acl_keywords: Vec<AclKeyword>,
}

fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').collect())
}

fn status(s: &str) -> Status {
    if s == "supported" {
        Status::Supported
    } else {
        Status::Unsupported
    }
}

fn load() -> Registry {
    let fetches = rows(include_str!("../../grammar/fetches.tsv"))
        .filter_map(|c| {
            let [name, args, out, mask, st] = c[..] else {
                return None;
            };
            let mut m = [false; 22];
            for (i, ch) in mask.chars().take(22).enumerate() {
                m[i] = ch == 'Y';
            }
            Some(Fetch {
                name: name.to_string(),
                args: ArgSpec::parse(args)?,
                out: SmpType::from_name(out)?,
                mask: m,
                status: status(st),
            })
        })
        .collect();
    let converters = rows(include_str!("../../grammar/converters.tsv"))
        .filter_map(|c| {
            let [name, args, input, out, st] = c[..] else {
                return None;
            };
            Some(Converter {
                name: name.to_string(),
                args: ArgSpec::parse(args)?,
                input: SmpType::from_name(input)?,
                out: SmpType::from_name(out)?,
                status: status(st),
            })
        })
        .collect();
    let acl_keywords = rows(include_str!("../../grammar/acl-keywords.tsv"))
        .filter_map(|c| {
            let [name, fetch, m] = c[..] else {
                return None;
            };
            Some(AclKeyword {
                name: name.to_string(),
                fetch: fetch.to_string(),
                match_method: m.to_string(),
            })
        })
        .collect();
    Registry {
        fetches,
        converters,
        acl_keywords,
    }
}

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(load)
}

/// All fetches, in HAProxy's dump order.
pub fn fetches() -> &'static [Fetch] {
    &registry().fetches
}

/// All converters, in HAProxy's dump order.
pub fn converters() -> &'static [Converter] {
    &registry().converters
}

/// All ACL keywords, in HAProxy's dump order.
pub fn acl_keywords() -> &'static [AclKeyword] {
    &registry().acl_keywords
}

/// Looks up a fetch by exact (case-sensitive) name.
pub fn fetch(name: &str) -> Option<&'static Fetch> {
    if name.starts_with("lua.") {
        return Some(lua_fetch());
    }
    static IDX: OnceLock<std::collections::HashMap<&'static str, usize>> = OnceLock::new();
    let idx = IDX.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for (i, f) in fetches().iter().enumerate() {
            m.entry(f.name.as_str()).or_insert(i);
        }
        m
    });
    idx.get(name).and_then(|&i| fetches().get(i))
}

/// `lua.*` fetches and converters are registered at run time by `lua-load`
/// scripts; HAProxy only knows their names then. We accept any of them with
/// up to five string arguments (Lua itself is unsupported, so a config
/// using them is refused at start-up).
fn lua_args() -> ArgSpec {
    ArgSpec {
        types: vec![ArgType::Str; 5],
        min: 0,
        text: "([string,string,string,string,string])".into(),
    }
}

fn lua_fetch() -> &'static Fetch {
    static F: OnceLock<Fetch> = OnceLock::new();
    F.get_or_init(|| Fetch {
        name: "lua.*".into(),
        args: lua_args(),
        out: SmpType::Str,
        mask: [true; 22],
        status: Status::Unsupported,
    })
}

fn lua_converter() -> &'static Converter {
    static C: OnceLock<Converter> = OnceLock::new();
    C.get_or_init(|| Converter {
        name: "lua.*".into(),
        args: lua_args(),
        input: SmpType::Any,
        out: SmpType::Str,
        status: Status::Unsupported,
    })
}

/// Looks up a converter by exact (case-sensitive) name.
pub fn converter(name: &str) -> Option<&'static Converter> {
    if name.starts_with("lua.") {
        return Some(lua_converter());
    }
    static IDX: OnceLock<std::collections::HashMap<&'static str, usize>> = OnceLock::new();
    let idx = IDX.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for (i, c) in converters().iter().enumerate() {
            m.entry(c.name.as_str()).or_insert(i);
        }
        m
    });
    idx.get(name).and_then(|&i| converters().get(i))
}

/// Looks up an ACL keyword by exact (case-sensitive) name.
pub fn acl_keyword(name: &str) -> Option<&'static AclKeyword> {
    acl_keywords().iter().find(|k| k.name == name)
}

/// Output of `haproxy -dKacl`.
pub fn dump_acl() -> String {
    let mut s = String::from("# List of registered ACL keywords:\n");
    for k in acl_keywords() {
        s.push_str(&format!("{} = {} -m {}\n", k.name, k.fetch, k.match_method));
    }
    s
}

/// Output of `haproxy -dKcnv`. HAProxy prints `<out> => <in>` (sic).
pub fn dump_cnv() -> String {
    let mut s = String::from("# List of registered sample converter functions:\n");
    for c in converters() {
        s.push_str(&format!(
            "{}{}: {} => {}\n",
            c.name,
            c.args.text,
            c.out.name(),
            c.input.name()
        ));
    }
    s
}

const SMP_HEADER: &str = "\
# List of registered sample fetch functions:
#                       _.---------------------- frontend tcp-request connection rule
#                      / _.--------------------- frontend tcp-request session rule
#                     / / _.-------------------- frontend tcp-request content rule
#                    / / / _.------------------- frontend http-request header rule
#                   / / / / _.------------------ frontend http-request body rule
#                  / / / / / _.----------------- frontend use-backend rule
#                 / / / / / / _.---------------- backend tcp-request content rule
#                / / / / / / / _.--------------- backend http-request header rule
#               / / / / / / / / _.-------------- backend http-request body rule
#              / / / / / / / / / _.------------- backend use-server, balance or stick-match rule
#             / / / / / / / / / / _.------------ server source selection
#            / / / / / / / / / / / _.----------- backend tcp-response content rule
#           / / / / / / / / / / / / _.---------- backend http-response header rule
#          / / / / / / / / / / / / / _.--------- backend http-response body rule
#         / / / / / / / / / / / / / / _.-------- backend stick-store rule
#        / / / / / / / / / / / / / / / _.------- frontend tcp-response content rule
#       / / / / / / / / / / / / / / / / _.------ frontend http-response header rule
#      / / / / / / / / / / / / / / / / / _.----- frontend http-response body rule
#     / / / / / / / / / / / / / / / / / / _.---- logs
#    / / / / / / / / / / / / / / / / / / / _.--- backend tcp-check rule
#   / / / / / / / / / / / / / / / / / / / / _.-- configuration parser
#  / / / / / / / / / / / / / / / / / / / / / _.- CLI parser
# / / / / / / / / / / / / / / / / / / / / / /  
# | | | | | | | | | | | | | | | | | | | | | | 
";

/// Output of `haproxy -dKsmp`.
pub fn dump_smp() -> String {
    let mut s = String::from(SMP_HEADER);
    for f in fetches() {
        s.push('[');
        for m in f.mask {
            s.push(' ');
            s.push(if m { 'Y' } else { '.' });
        }
        s.push_str(&format!(" ] {}{}: {}\n", f.name, f.args.text, f.out.name()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real `haproxy -dKall` dump, wherever shared/ was laid.
    fn reference_dump() -> Option<String> {
        let rel = "reference/haproxy-2.6/keywords/dump-dKall.txt";
        let manifest = env!("CARGO_MANIFEST_DIR");
        [
            format!("{manifest}/../shared/{rel}"),
            format!("/work/shared/{rel}"),
        ]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
    }

    /// Extracts one `# List of registered ...` section of the dump.
    fn section(dump: &str, title: &str) -> String {
        let mut out = String::new();
        let mut on = false;
        for l in dump.lines() {
            if l.starts_with("# List of registered") {
                on = l.starts_with(title);
            }
            if on {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn dumps_match_real_binary() {
        let Some(d) = reference_dump() else {
            eprintln!("reference dump not found; skipping byte comparison");
            return;
        };
        assert_eq!(dump_acl(), section(&d, "# List of registered ACL keywords"));
        assert_eq!(
            dump_cnv(),
            section(&d, "# List of registered sample converter")
        );
        assert_eq!(dump_smp(), section(&d, "# List of registered sample fetch"));
    }

    #[test]
    fn registry_is_complete() {
        assert_eq!(fetches().len(), 453);
        assert_eq!(converters().len(), 135);
        assert_eq!(acl_keywords().len(), 77);
        for k in acl_keywords() {
            assert!(fetch(&k.fetch).is_some(), "acl {} -> {}", k.name, k.fetch);
        }
    }

    #[test]
    fn lookups_and_types() {
        let h = fetch("req.hdr").expect("req.hdr");
        assert_eq!(h.args.min, 0);
        assert_eq!(h.args.types, vec![ArgType::Str, ArgType::Sint]);
        assert_eq!(h.out, SmpType::Str);
        assert_eq!(h.status, Status::Supported);
        let f = converter("field").expect("field");
        assert_eq!(f.args.min, 2);
        assert_eq!(f.args.types.len(), 3);
        let l = converter("length").expect("length");
        assert_eq!((l.input, l.out), (SmpType::Str, SmpType::Sint));
        assert_eq!(
            converter("ungrpc").map(|c| c.args.types[0]),
            Some(ArgType::PbufFnum)
        );
        assert_eq!(
            acl_keyword("path_beg").map(|k| k.match_method.as_str()),
            Some("beg")
        );
        assert!(fetch("Path").is_none());
        assert_eq!(
            fetch("ssl_c_used").map(|f| f.status),
            Some(Status::Unsupported)
        );
    }

    #[test]
    fn casts_as_observed() {
        // `method,add(1)` -> "converter 'add' cannot be applied"
        assert!(!can_cast(SmpType::Meth, SmpType::Sint));
        // `src,lower` is valid
        assert!(can_cast(SmpType::Ipv4, SmpType::Str));
        assert!(!can_cast(SmpType::Ipv6, SmpType::Sint));
        assert!(can_cast(SmpType::Bool, SmpType::Bin));
        assert!(!can_cast(SmpType::Bin, SmpType::Sint));
    }
}
