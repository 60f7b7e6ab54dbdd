//! The crate's files import each other without cycles (crate docs, "Layout"), and none is
//! past ~600 lines. Read from the sources, so a new `use` that closes a loop fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path of each source file, and the sibling modules its `use crate::…` and
/// `use super::…` lines name.
fn imports() -> BTreeMap<String, (BTreeSet<String>, usize)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in [src.clone(), src.join("eth")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let module = |path: &Path| {
        let rel = path.strip_prefix(&src).unwrap().with_extension("");
        let name = rel.to_string_lossy().replace('/', "::");
        name.strip_suffix("::mod").map(str::to_owned).unwrap_or(name)
    };
    let modules: BTreeSet<String> = files.iter().map(|f| module(f)).collect();
    let mut out = BTreeMap::new();
    for file in &files {
        let me = module(file);
        let text = std::fs::read_to_string(file).unwrap();
        let mut deps = BTreeSet::new();
        for line in text.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("use ") else { continue };
            let path = if let Some(p) = rest.strip_prefix("crate::") {
                p.to_string()
            } else if let Some(p) = rest.strip_prefix("super::") {
                let parent = me.rsplit_once("::").map_or("", |(p, _)| p);
                if parent.is_empty() { p.to_string() } else { format!("{parent}::{p}") }
            } else {
                continue;
            };
            let parts: Vec<&str> = path
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap()
                .split("::")
                .collect();
            let target = (1..=parts.len())
                .rev()
                .map(|k| parts[..k].join("::"))
                .find(|m| modules.contains(m));
            if let Some(t) = target
                && t != me
            {
                deps.insert(t);
            }
        }
        out.insert(me, (deps, text.lines().count()));
    }
    out
}

#[test]
fn no_import_cycles_and_no_oversized_files() {
    let graph = imports();
    assert!(graph.contains_key("eth::call") && graph.contains_key("service"), "{graph:?}");
    fn visit(
        n: &str,
        graph: &BTreeMap<String, (BTreeSet<String>, usize)>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(n) {
            return;
        }
        assert!(!path.iter().any(|p| p == n), "import cycle: {} -> {n}", path.join(" -> "));
        path.push(n.to_string());
        for d in &graph[n].0 {
            visit(d, graph, path, done);
        }
        path.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done);
    }
    for (m, (_, lines)) in &graph {
        assert!(*lines <= 600, "{m} has {lines} lines");
    }
}
