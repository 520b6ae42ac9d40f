//! `stats scope` (and the scope box) applied to the `;json` and `;typed`
//! exports, which come from the runtime API text of every proxy.
//!
//! Owns: keeping only the objects of the proxies in scope, without
//! re-encoding them (the bytes stay the CLI's). Must not change state.

/// Splits the top-level elements of a JSON array (`[[...],[...]]`).
fn elements(json: &str) -> Option<Vec<&str>> {
    let inner = json.trim().strip_prefix('[')?.strip_suffix(']')?;
    let b = inner.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut esc, mut start) = (0i32, false, false, 0usize);
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        out.push(&inner[start..]);
    }
    Some(out)
}

/// The `pxname` of one JSON object (its field list).
fn json_pxname(obj: &str) -> Option<String> {
    let at = obj.find("\"name\":\"pxname\"")?;
    let rest = &obj[at..];
    let v = rest.find("\"value\":{\"type\":\"str\",\"value\":\"")?;
    let s = &rest[v + 31..];
    let end = s.find('"')?;
    Some(s[..end].to_string())
}

/// Keeps the objects of `show stat json` whose proxy passes `keep`.
pub fn json(text: &str, keep: impl Fn(&str) -> bool) -> String {
    let Some(objs) = elements(text) else {
        return text.to_string();
    };
    let kept: Vec<&str> = objs
        .into_iter()
        .filter(|o| json_pxname(o).is_none_or(|p| keep(&p)))
        .collect();
    let nl = if text.ends_with('\n') { "\n" } else { "" };
    format!("[{}]{nl}", kept.join(","))
}

/// Keeps the lines of `show stat typed` whose object's proxy passes
/// `keep` (an object: the lines sharing `T.<proxy id>.<id>.`).
pub fn typed(text: &str, keep: impl Fn(&str) -> bool) -> String {
    let key = |l: &str| -> String { l.splitn(4, '.').take(3).collect::<Vec<_>>().join(".") };
    let mut out = String::with_capacity(text.len());
    let mut cur: Option<(String, bool)> = None;
    for l in text.split_inclusive('\n') {
        let k = key(l);
        if cur.as_ref().is_none_or(|(ck, _)| *ck != k) {
            // The first line of an object is its pxname.
            let px = l.rsplit(':').next().unwrap_or("").trim_end();
            let shown = !l.contains(".pxname.") || keep(px);
            cur = Some((k, shown));
        }
        if cur.as_ref().is_some_and(|(_, s)| *s) {
            out.push_str(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_filtered_by_proxy() {
        let t = "[[{\"objType\":\"Frontend\",\"field\":{\"pos\":0,\"name\":\"pxname\"},\"value\":{\"type\":\"str\",\"value\":\"f\"}}],[{\"objType\":\"Backend\",\"field\":{\"pos\":0,\"name\":\"pxname\"},\"value\":{\"type\":\"str\",\"value\":\"web\"}},{\"x\":\"a,]\"}]]\n";
        let kept = json(t, |p| p == "web");
        assert!(kept.starts_with("[[{\"objType\":\"Backend\""));
        assert!(kept.ends_with("{\"x\":\"a,]\"}]]\n"));
        assert_eq!(json(t, |_| true), t);
    }

    #[test]
    fn typed_objects_filtered_by_proxy() {
        let t = "F.2.0.0.pxname.1:KNSN:str:f\nF.2.0.1.svname.1:KNSN:str:FRONTEND\nB.3.0.0.pxname.1:KNSN:str:web\nB.3.0.1.svname.1:KNSN:str:BACKEND\n";
        assert_eq!(
            typed(t, |p| p == "web"),
            "B.3.0.0.pxname.1:KNSN:str:web\nB.3.0.1.svname.1:KNSN:str:BACKEND\n"
        );
    }
}
