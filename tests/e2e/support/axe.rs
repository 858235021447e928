//! axe-core, the accessibility engine, run in Chromium on the page the browser shows: its
//! script (installed once with npm under `target/`, or named by `AXE_CORE_JS`), and the
//! violations it finds, for the WCAG 2.0, 2.1 and 2.2 A and AA rules or for one rule.

use std::sync::OnceLock;

use fantoccini::Client;
use serde_json::{Value, json};

/// axe-core's tags for the success criteria of WCAG 2.0, 2.1 and 2.2 at levels A and AA: the
/// standard the UK's Public Sector Bodies Accessibility Regulations 2018 point to.
/// (`wcag22a` tags no rule in axe-core 4 today; it is listed so that one added later counts.)
pub const WCAG_2_2_AA: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// axe-core's script: `AXE_CORE_JS` names it, or it is installed once with npm under
/// `target/axe-core`. Read once per test run, however many tests ask at once.
pub fn axe_core_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        if let Ok(path) = std::env::var("AXE_CORE_JS") {
            return std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe-core");
        let script = dir.join("node_modules/axe-core/axe.min.js");
        if !script.exists() {
            let status = std::process::Command::new("npm")
                .args([
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                ])
                .arg(&dir)
                .arg("axe-core@4")
                .status()
                .expect("npm is needed to fetch axe-core (or set AXE_CORE_JS)");
            assert!(status.success(), "npm install axe-core failed");
        }
        std::fs::read_to_string(&script).unwrap()
    })
}

/// Which of axe-core's rules to run.
pub enum Rules {
    /// Every rule tagged with one of [`WCAG_2_2_AA`].
    Wcag22AA,
    /// This one rule (such as `color-contrast`).
    Only(&'static str),
}

/// The violations axe-core finds on the page the browser shows, each as
/// `{ id, help, nodes: [{ target, summary }] }` (empty when there are none).
pub async fn axe_violations(client: &Client, rules: Rules) -> Vec<Value> {
    // WebDriver scripts are not the page's: its CSP (no scripts at all) does not apply.
    client.execute(axe_core_script(), Vec::new()).await.unwrap();
    let run_only = match rules {
        Rules::Wcag22AA => json!({ "type": "tag", "values": WCAG_2_2_AA }),
        Rules::Only(rule) => json!({ "type": "rule", "values": [rule] }),
    };
    let found = client
        .execute_async(
            "const [runOnly, done] = arguments;
             axe.run(document, { runOnly, resultTypes: ['violations'] })
                .then(r => done(r.violations.map(v => ({
                    id: v.id,
                    help: v.help,
                    nodes: v.nodes.map(n => ({ target: n.target, summary: n.failureSummary }))
                }))))
                .catch(e => done('axe failed: ' + e));",
            vec![run_only],
        )
        .await
        .unwrap();
    match found {
        Value::Array(violations) => violations,
        other => panic!("axe-core did not run: {other}"),
    }
}

/// Fails, listing each violation, unless axe-core finds none of WCAG 2.2 A and AA on the
/// page the browser shows; `what` names the page.
pub async fn assert_accessible(client: &Client, what: &str) {
    let violations = axe_violations(client, Rules::Wcag22AA).await;
    assert!(
        violations.is_empty(),
        "{what} ({}): {}",
        client.current_url().await.unwrap(),
        serde_json::to_string_pretty(&violations).unwrap()
    );
}
