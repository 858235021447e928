//! The shape of the codebase, checked as the issue that settled it asks: no source file
//! outside `tests/` over 400 lines; no module that imports, directly or through others, a
//! module that imports it back; the three services import nothing of each other; the e2e
//! support lives in one tree (`tests/e2e/support/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file outside `tests/` may be.
const MAX_LINES: usize = 400;

/// The workspace's crates: name as imported, and source folder.
const CRATES: [(&str, &str); 5] = [
    ("auth_server", "auth-server/src"),
    ("directory_api", "directory-api/src"),
    ("directory_web", "directory-web/src"),
    ("service_kit", "service-kit/src"),
    ("staff_directory", "src"),
];

/// The three services, which must not import each other.
const SERVICES: [&str; 3] = ["auth_server", "directory_api", "directory_web"];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The module path of a file under `src` (`store/mod.rs` and `store.rs` are `store`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments and its `#[cfg(test)]` part: what it imports to
/// run.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b…` and `super::a…` path in `code`, as absolute module paths (the
/// longest prefix that is a module of the crate).
fn imports(code: &str, here: &[String], modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for (keyword, base) in [
        ("crate", Vec::new()),
        ("super", here[..here.len().saturating_sub(1)].to_vec()),
    ] {
        let mut rest = code;
        while let Some(at) = rest.find(keyword) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + keyword.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut path = base.clone();
            let mut tail = rest;
            while let Some(next) = tail.strip_prefix("::") {
                let name: String = next
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.is_empty() {
                    break;
                }
                tail = &next[name.len()..];
                path.push(name);
            }
            // Also `use crate::{a, b::c}` groups: each member is a path of its own.
            if let Some(group) = tail.strip_prefix("::{") {
                let group = group.split('}').next().unwrap_or("");
                for member in group.split(',') {
                    let mut member_path = path.clone();
                    member_path.extend(
                        member
                            .trim()
                            .split("::")
                            .take_while(|p| {
                                p.chars().all(|c| {
                                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
                                }) && !p.is_empty()
                            })
                            .map(str::to_owned),
                    );
                    if let Some(module) = longest_module(&member_path, modules) {
                        found.insert(module);
                    }
                }
            }
            if let Some(module) = longest_module(&path, modules) {
                found.insert(module);
            }
        }
    }
    // A module's own submodules and its ancestors are one unit with it.
    found.retain(|m| !m.is_empty() && !here.starts_with(m) && !m.starts_with(here));
    found
}

fn longest_module(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].to_vec())
        .find(|p| modules.contains(p))
}

/// The groups of modules that import each other in a circle (Tarjan's strongly connected
/// components of more than one module).
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Vec<String>) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.graph[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    group.push(w.join("::"));
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_source_file_outside_the_tests_is_over_400_lines() {
    let mut long = Vec::new();
    for (_, src) in CRATES {
        for file in rust_files(&workspace().join(src)) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "split these files: {long:#?}");
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let mut found = Vec::new();
    for (name, src) in CRATES {
        let src = workspace().join(src);
        let files: BTreeMap<Vec<String>, PathBuf> = rust_files(&src)
            .into_iter()
            .map(|f| (module_of(&src, &f), f))
            .collect();
        let modules: BTreeSet<Vec<String>> = files.keys().cloned().collect();
        let graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = files
            .iter()
            .map(|(module, file)| {
                let code = code_of(&std::fs::read_to_string(file).unwrap());
                (module.clone(), imports(&code, module, &modules))
            })
            .collect();
        for group in circles(&graph) {
            found.push(format!("{name}: {}", group.join(" ↔ ")));
        }
    }
    assert!(found.is_empty(), "modules importing each other: {found:#?}");
}

#[test]
fn the_circle_finder_finds_a_circle_through_three_modules() {
    let m = |s: &str| vec![s.to_owned()];
    let graph = BTreeMap::from([
        (m("a"), BTreeSet::from([m("b")])),
        (m("b"), BTreeSet::from([m("c")])),
        (m("c"), BTreeSet::from([m("a")])),
        (m("d"), BTreeSet::from([m("a")])),
    ]);
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
    let modules = BTreeSet::from([m("a"), m("b"), vec!["b".into(), "c".into()]]);
    let found = imports(
        "use crate::{a::X, b::c::Y};\n// crate::d\nfn f() { super::b::g() }",
        &["z".to_owned(), "y".to_owned()],
        &modules,
    );
    assert_eq!(
        found,
        BTreeSet::from([m("a"), vec!["b".into(), "c".into()]])
    );
}

#[test]
fn the_three_services_import_nothing_of_each_other() {
    let mut found = Vec::new();
    for (name, src) in CRATES.iter().filter(|(n, _)| SERVICES.contains(n)) {
        let folder = workspace().join(src);
        let manifest =
            std::fs::read_to_string(folder.parent().unwrap().join("Cargo.toml")).unwrap();
        for other in SERVICES.iter().filter(|o| *o != name) {
            let package = other.replace('_', "-");
            if manifest
                .lines()
                .any(|l| l.trim_start().starts_with(&package))
            {
                found.push(format!("{name}'s Cargo.toml depends on {package}"));
            }
            for file in rust_files(&folder) {
                if std::fs::read_to_string(&file)
                    .unwrap()
                    .contains(&format!("{other}::"))
                {
                    found.push(format!("{} names {other}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_e2e_support_lives_in_one_tree() {
    let e2e = workspace().join("tests/e2e");
    let strays: Vec<String> = std::fs::read_dir(&e2e)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name != "support" && (name.contains("support") || name.contains("harness"))
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        strays.is_empty(),
        "move into tests/e2e/support/: {strays:#?}"
    );
    assert!(e2e.join("support").is_dir());
}
