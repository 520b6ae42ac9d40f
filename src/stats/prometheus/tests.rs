use super::*;

#[test]
fn query_without_scope_dumps_everything() {
    let q = parse_query("/metrics").unwrap_or(Query {
        scopes: 0,
        no_maint: false,
    });
    for s in [Sec::Process, Sec::Frontend, Sec::Backend, Sec::Server] {
        assert!(q.wants(s));
    }
    assert!(!q.no_maint);
}

/// Behaviour of HAProxy 2.6.12 (captured with curl against the real
/// exporter): scopes add up, `*` is everything, an empty scope clears,
/// `listener`/`sticktable` are known, anything else is a 400.
#[test]
fn scopes_as_haproxy() {
    let q = parse_query("/m?scope=backend&scope=frontend").expect("valid");
    assert!(q.wants(Sec::Backend) && q.wants(Sec::Frontend));
    assert!(!q.wants(Sec::Server) && !q.wants(Sec::Process));
    let q = parse_query("/m?scope=server&scope=").expect("valid");
    assert_eq!(q.scopes, 0);
    let q = parse_query("/m?scope=global").expect("valid");
    assert!(q.wants(Sec::Process) && !q.wants(Sec::Server));
    assert_eq!(parse_query("/m?scope=*").map(|q| q.scopes), Ok(0xf));
    assert_eq!(parse_query("/m?scope=listener").map(|q| q.scopes), Ok(0));
    assert_eq!(parse_query("/m?scope=all"), Err(BadScope("all".into())));
    let q = parse_query("/m?no-maint&scope=server").expect("valid");
    assert!(q.no_maint && q.wants(Sec::Server));
}

#[test]
fn table_names_are_unique_and_prometheus_safe() {
    let mut seen = std::collections::HashSet::new();
    for m in table::METRICS {
        let full = format!("haproxy_{}_{}", m.sec.name(), m.name);
        assert!(
            full.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        );
        assert!(seen.insert(full), "duplicate {}", m.name);
    }
    assert_eq!(table::METRICS.len(), 187);
}
