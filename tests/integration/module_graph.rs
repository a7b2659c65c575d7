//! No import cycle between the top-level modules of each crate: the
//! harness (`scenarios/src`), the reference (`reference/src`) and the
//! command line (`src/commands`). A module's dependencies are the
//! `crate::name` paths of its files' code (comments and the trailing
//! `#[cfg(test)]` module left out: tests may reach anywhere).
//!
//! Hand-made reading of the sources: the crates that draw module graphs
//! (`cargo-modules`) are programs that compile the crate, too heavy for a
//! test; a path that names a module is all this needs.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The `.rs` files of each top-level module of the crate rooted at `root`.
fn modules(root: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut files = Vec::new();
            walk(&path, &mut files);
            out.insert(name, files);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" && name != "mod" {
            out.insert(name, vec![path]);
        }
    }
    out
}

/// A file's code: comments removed, and its unit tests, which come last.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn graph(root: &Path) -> Graph {
    let modules = modules(root);
    let path = Regex::new(r"crate::(\w+)").unwrap();
    let group = Regex::new(r"crate::\{([^;]*?)\}").unwrap();
    let word = Regex::new(r"(?:^|[\s,{])(\w+)").unwrap();
    let mut graph = Graph::new();
    for (name, files) in &modules {
        let uses = graph.entry(name.clone()).or_default();
        for file in files {
            let code = code(&std::fs::read_to_string(file).unwrap());
            let named = path.captures_iter(&code).map(|c| c[1].to_owned()).chain(
                group
                    .captures_iter(&code)
                    .flat_map(|c| word.captures_iter(&c[1]).map(|w| w[1].to_owned()).collect::<Vec<_>>()),
            );
            for other in named {
                if other != *name && modules.contains_key(&other) {
                    uses.insert(other);
                }
            }
        }
    }
    graph
}

/// A cycle of the graph, as the modules met along it, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn a_cycle_is_found_and_named() {
    fn edge(graph: &mut Graph, a: &str, b: &str) {
        graph.entry(a.into()).or_default().insert(b.into());
    }
    let mut graph = Graph::new();
    edge(&mut graph, "runner", "report");
    edge(&mut graph, "report", "model");
    assert_eq!(cycle(&graph), None);
    edge(&mut graph, "model", "runner");
    assert_eq!(
        cycle(&graph),
        Some(vec!["model".into(), "runner".into(), "report".into(), "model".into()])
    );
}

#[test]
fn code_leaves_comments_and_unit_tests_out() {
    let text =
        "use crate::a;\n// crate::b\n//! crate::c\nfn f() {} // crate::d\n#[cfg(test)]\nmod tests { use crate::e; }";
    let code = code(text);
    assert!(code.contains("crate::a"));
    for gone in ["crate::b", "crate::c", "crate::d", "crate::e"] {
        assert!(!code.contains(gone), "{gone} in {code}");
    }
}

#[test]
fn no_crate_has_an_import_cycle_between_its_top_level_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for crate_root in ["scenarios/src", "reference/src", "src/commands"] {
        let graph = graph(&root.join(crate_root));
        assert!(graph.len() > 3, "{crate_root}: modules not found");
        if let Some(cycle) = cycle(&graph) {
            panic!("{crate_root}: an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_graph_sees_the_imports() {
    // The harness's runner runs the steps, which change the World: a
    // reading that missed these would find no cycle in anything.
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/src"));
    for (from, to) in [
        ("runner", "steps"),
        ("steps", "world"),
        ("world", "targets"),
        ("explore", "lockstep"),
    ] {
        assert!(graph[from].contains(to), "{from} -> {to} not seen: {:?}", graph[from]);
    }
}
