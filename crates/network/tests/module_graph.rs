//! The crate's files import each other without a cycle (a layered crate: `net` → `conn` →
//! `link`/`handshake` → `shared` → `queue`, `frame`, …). Reads `src/*.rs`, takes every
//! `crate::<file>` a file names outside its tests, and looks for a cycle.

use std::collections::{BTreeMap, BTreeSet};

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: BTreeMap<String, String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    let mut graph = BTreeMap::new();
    for (name, text) in &files {
        if name == "lib" {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut uses = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            // `crate::a::…` or `crate::{a::…, b, …}`: every identifier up to the end of the
            // path or use list that names a file.
            let end = if rest.starts_with('{') {
                rest.find('}').map_or(rest.len(), |e| e + 1)
            } else {
                rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())
            };
            for ident in rest[..end].split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if ident != name && files.contains_key(ident) && ident != "lib" {
                    uses.insert(ident.to_string());
                }
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

/// A cycle through `node`, if any (depth-first search with the path on a stack).
fn cycle(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|p| p == node) {
        let mut c = path[at..].to_vec();
        c.push(node.to_string());
        return Some(c);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(c) = cycle(graph, next, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn no_import_cycle_between_files() {
    let graph = edges();
    assert!(graph["net"].contains("conn") && graph["conn"].contains("link"), "{graph:?}");
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = cycle(&graph, node, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", c.join(" -> "));
        }
    }
}
