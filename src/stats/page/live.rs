//! The live stats page (`;live` after the stats URI): HAProxy's page
//! plus a small inline script that fetches `;json` every few seconds and
//! updates the table cells (counters, status, row colours) in place,
//! instead of reloading the whole page (HAProxy's `stats refresh`).
//!
//! Owns: the script and where it goes. The page without `;live` is left
//! exactly as HAProxy renders it. Must not change the table layout (the
//! script finds rows by HAProxy's `<a name="proxy/server">` anchors and
//! cells by column position).

use super::Conf;
use std::time::Duration;

/// Update period when `stats refresh` is not set.
const DEFAULT_EVERY: Duration = Duration::from_secs(2);

/// The script, `@EVERY@` standing for the period in milliseconds.
const SCRIPT: &str = include_str!("live.js");

/// What goes before `</body>` on a `;live` page: a status line and the
/// updating script. The period is `stats refresh` (at least 1 s), else 2 s.
pub fn tail(conf: &Conf) -> String {
    let every = conf
        .refresh
        .unwrap_or(DEFAULT_EVERY)
        .max(Duration::from_secs(1));
    format!(
        "<p id=\"live-update\">live update</p>\n<script type=\"text/javascript\">\n{}</script>\n",
        SCRIPT.replace("@EVERY@", &every.as_millis().to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(refresh: Option<Duration>) -> Conf {
        Conf {
            proxy: "p".into(),
            scope: Vec::new(),
            legends: false,
            access: Default::default(),
            uri: "/s".into(),
            realm: String::new(),
            users: Vec::new(),
            refresh,
            hide_version: false,
            node: None,
            desc: None,
        }
    }

    #[test]
    fn period_follows_stats_refresh() {
        assert!(tail(&conf(None)).contains("var every = 2000;"));
        let t = tail(&conf(Some(Duration::from_secs(5))));
        assert!(t.contains("var every = 5000;"));
        assert!(t.contains("</script>"));
        // A script is one element: nothing in it may end it early.
        assert_eq!(t.matches("</script>").count(), 1);
    }
}
