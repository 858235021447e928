//! docs/security-checklist.md and the test names stay in step: every test named after a case
//! (`t14_…`, `h04_…`, `p07_…`) is listed in that case's row, and every test a row names exists
//! in the file the row gives. A reader can follow any test name to its case, and any case to
//! a test that runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn e2e_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// The test functions of each file in `tests/e2e/` (not `support/`): the `fn` that follows a
/// `#[test]` or `#[tokio::test…]` attribute, with only attributes between them.
fn tests_by_file() -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(e2e_folder()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut names = BTreeSet::new();
        let mut after_test_attribute = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
                after_test_attribute = true;
            } else if after_test_attribute && line.starts_with("#[") {
                continue;
            } else if after_test_attribute {
                let rest = line
                    .strip_prefix("async fn ")
                    .or_else(|| line.strip_prefix("fn "));
                if let Some(rest) = rest {
                    names.insert(rest.split('(').next().unwrap().to_owned());
                }
                after_test_attribute = false;
            }
        }
        found.insert(file, names);
    }
    found
}

/// The case numbers a test's name claims: `t32_t33_a_replay…` claims t32 and t33.
fn cases_claimed(name: &str) -> Vec<String> {
    name.split('_')
        .take_while(|part| {
            part.len() == 3
                && matches!(part.as_bytes()[0], b't' | b'h' | b'p')
                && part[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
}

/// Each case row of the checklist (`| t18 | … |`) with the tests it names, as (file, test).
/// Section L writes `api` for `tests/e2e/photos_api.rs` and `web` for `photos_web.rs`.
fn rows() -> BTreeMap<String, Vec<(String, String)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/security-checklist.md");
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("| ") else {
            continue;
        };
        let case = rest.split(' ').next().unwrap();
        if cases_claimed(&format!("{case}_")).len() != 1 {
            continue;
        }
        let mut named = Vec::new();
        for (at, _) in line.match_indices("` :: `") {
            let file_part = &line[..at];
            let file = &file_part[file_part.rfind('`').unwrap() + 1..];
            let file = match file {
                "api" => "photos_api.rs",
                "web" => "photos_web.rs",
                other => other.strip_prefix("tests/e2e/").unwrap_or(other),
            };
            let name_part = &line[at + "` :: `".len()..];
            let name = &name_part[..name_part.find('`').unwrap()];
            named.push((file.to_owned(), name.to_owned()));
        }
        let previous = rows.insert(case.to_owned(), named);
        assert!(
            previous.is_none(),
            "case {case} has two rows in the checklist"
        );
    }
    rows
}

#[test]
fn every_test_named_after_a_case_is_listed_in_that_cases_row() {
    let rows = rows();
    let mut missing = Vec::new();
    for (file, names) in tests_by_file() {
        for name in names {
            let claimed = cases_claimed(&name);
            if claimed.is_empty() {
                continue;
            }
            let listed = claimed.iter().any(|case| {
                rows.get(case)
                    .is_some_and(|named| named.contains(&(file.clone(), name.clone())))
            });
            if !listed {
                missing.push(format!("{file} :: {name} (cases {claimed:?})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests named after a case but not listed in its row of docs/security-checklist.md:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_test_the_checklist_names_exists_in_the_file_it_gives() {
    let tests = tests_by_file();
    let rows = rows();
    assert!(
        rows.len() > 100,
        "only {} case rows were read from the checklist",
        rows.len()
    );
    let mut missing = Vec::new();
    for (case, named) in &rows {
        for (file, name) in named {
            if !tests.get(file).is_some_and(|names| names.contains(name)) {
                missing.push(format!("{case}: {file} :: {name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/security-checklist.md names tests that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_test_name_claims_only_its_leading_case_numbers() {
    assert_eq!(
        cases_claimed("t32_t33_a_replay_revokes_the_family"),
        ["t32", "t33"]
    );
    assert_eq!(cases_claimed("t18_h03_the_right_secret"), ["t18", "h03"]);
    assert!(cases_claimed("a_sign_in_t12_later").is_empty());
    assert!(cases_claimed("the_api").is_empty());
}
