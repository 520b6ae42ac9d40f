use super::*;

const REF: &str = "/work/shared/reference/haproxy-2.6/transcripts/cli";

fn reference(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("{REF}/{name}")).ok()
}

/// The part of a typed line before the value (`K.iid.sid.pos.name.pid:tags:type`).
fn key(l: &str) -> String {
    l.splitn(4, ':').take(3).collect::<Vec<_>>().join(":")
}

#[test]
fn csv_split_handles_quotes() {
    assert_eq!(
        split_csv("a,\"b,c\",\"d\"\"e\","),
        vec!["a", "b,c", "d\"e", ""]
    );
}

#[test]
fn typed_matches_haproxy_layout() {
    // Same process, consecutive captures: only counter values may differ.
    let (Some(csv), Some(typed)) = (
        reference("002-show-stat.txt"),
        reference("003-show-stat-typed.txt"),
    ) else {
        return;
    };
    let ours = stat_typed(&csv, false);
    let want: Vec<String> = typed.lines().filter(|l| !l.is_empty()).map(key).collect();
    let got: Vec<String> = ours.lines().map(key).collect();
    assert_eq!(got, want);
}

#[test]
fn typed_desc_appends_quoted_description() {
    let (Some(csv), Some(typed)) = (
        reference("002-show-stat.txt"),
        reference("006-show-stat-typed-desc.txt"),
    ) else {
        return;
    };
    let ours = stat_typed(&csv, true);
    let descs = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.is_empty())
            .map(|l| format!("{}{}", key(l), &l[l.rfind(":\"").unwrap_or(0)..]))
            .collect()
    };
    assert_eq!(descs(&ours), descs(&typed));
}

#[test]
fn json_matches_haproxy_structure() {
    let (Some(csv), Some(json)) = (
        reference("002-show-stat.txt"),
        reference("004-show-stat-json.txt"),
    ) else {
        return;
    };
    let ours: serde_json::Value = serde_json::from_str(&stat_json(&csv)).expect("valid json");
    let want: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    let strip = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_array().cloned().unwrap_or_default())
            .map(|mut o| {
                o["value"]["value"] = serde_json::Value::Null;
                o.to_string()
            })
            .collect()
    };
    assert_eq!(strip(&ours), strip(&want));
    // Byte layout of one whole object.
    assert!(stat_json(&csv).starts_with("[[{\"objType\":\"Frontend\",\"proxyId\":2,\"id\":0,\"field\":{\"pos\":0,\"name\":\"pxname\"},\"processNum\":1,\"tags\":{\"origin\":\"Key\",\"nature\":\"Name\",\"scope\":\"Service\"},\"value\":{\"type\":\"str\",\"value\":\"fe_http\"}},"));
}

fn ref_info(name: &str) -> Option<Vec<(&'static str, String)>> {
    let text = reference(name)?;
    Some(
        text.lines()
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let (k, v) = l.split_once(": ")?;
                let k = INFO.iter().find(|m| m.0 == k)?.0;
                Some((k, v.to_string()))
            })
            .collect(),
    )
}

#[test]
fn info_formats_match_haproxy_byte_for_byte() {
    let Some(fields) = ref_info("017-show-info.txt") else {
        return;
    };
    let typed = info(
        &fields,
        &[],
        InfoOpts {
            typed: true,
            ..Default::default()
        },
    );
    let want = reference("018-show-info-typed.txt").unwrap_or_default();
    // Same capture run; the few time-dependent values differ.
    let k = |s: &str| s.lines().map(key).collect::<Vec<_>>();
    assert_eq!(k(&typed), k(want.trim_end()));
    let desc = info(
        &fields,
        &[],
        InfoOpts {
            desc: true,
            ..Default::default()
        },
    );
    let want = reference("020-show-info-desc.txt").unwrap_or_default();
    let d = |s: &str| {
        s.lines()
            .map(|l| l[l.rfind(":\"").unwrap_or(0)..].to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(d(&desc), d(want.trim_end()));
    let json = info(
        &fields,
        &[],
        InfoOpts {
            json: true,
            ..Default::default()
        },
    );
    let ours: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    let want: serde_json::Value =
        serde_json::from_str(&reference("019-show-info-json.txt").unwrap_or_default())
            .expect("valid json");
    let tags = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|o| format!("{}{}{}", o["field"], o["tags"], o["value"]["type"]))
            .collect()
    };
    assert_eq!(tags(&ours), tags(&want));
}

#[test]
fn float_format_trims_zeros() {
    assert_eq!(float_text(8.20122), "8.20122");
    assert_eq!(float_text(12.8), "12.8");
    assert_eq!(float_text(1795594052.439038), "1795594052.439038");
    assert_eq!(float_text(3.0), "3");
}

#[test]
fn schema_is_one_json_document() {
    let v: serde_json::Value = serde_json::from_str(SCHEMA).expect("valid json");
    assert_eq!(v["$schema"], "http://json-schema.org/draft-04/schema#");
}
