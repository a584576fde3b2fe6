//! The module boundaries of docs/ARCHITECTURE.md, checked: every `crate::` path in non-test
//! code points from a higher layer to a lower one, and no folder's files import each other in
//! a circle. Reads the source tree as text (comments and string literals blanked out).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// perfgate's top-level modules in layers, front ends first. A module may use any module of a
/// lower layer and none of its own or a higher one; so no circle can form between them.
const LAYERS: &[&[&str]] = &[
    // Front ends: the CLI, the libtest harness, the benchmarks.
    &["cli", "gate", "bench"],
    // One run of one spec: the only module that knows every subsystem.
    &["run"],
    // Judging what a run measured.
    &["verdict", "snapshot"],
    // The run record and its renderings.
    &["report"],
    // Load engines and stacks.
    &["load", "stack"],
    // What stacks run and build on: the built-in services, container images and compose.
    &["demo_api", "origin", "otlp", "docker"],
    // The spec model: what a spec may say, its bounds, its `$phase` queries.
    &["spec"],
    // Prometheus's protocols: the HTTP API client and remote write.
    &["prom"],
    // External tools (Prometheus, collectors, FFmpeg): found or provisioned.
    &["tools"],
    // The ground floor, for everyone: clocks, paths, exit codes, the reaper of child processes
    // and containers, the built-ins' server runtime, how disturbed the machine was.
    &["clock", "paths", "error", "reaper", "serve", "host_noise"],
];

/// A top-level module's layer (0 = front ends), `None` for a module missing from `LAYERS`.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir` but test files, with its path relative to `src/`.
fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path.strip_prefix(src_dir()).expect("under src/").to_owned());
        }
    }
}

/// The file's code before its first `#[cfg(test)]`, with comments, strings and character
/// literals replaced by spaces (so a path in a doc comment or a message is no import).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let blank = |s: &str| {
        s.chars()
            .map(|c| if c == '\n' { c } else { ' ' })
            .collect::<String>()
    };
    let literal =
        Regex::new(r#"(?s)//[^\n]*|/\*.*?\*/|b?r(#*)"|b?"(\\.|[^"\\])*"|'(\\.[^']*|[^\\'])'"#)
            .expect("a valid regex");
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(m) = literal.find_at(text, at) {
        out.push_str(&text[at..m.start()]);
        let mut end = m.end();
        if let Some(hashes) = m.as_str().strip_suffix('"').and_then(|s| {
            let s = s.trim_start_matches('b');
            s.strip_prefix('r')
        }) {
            // A raw string: runs to the quote followed by the same number of hashes.
            let close = format!("\"{hashes}");
            end = text[end..]
                .find(&close)
                .map_or(text.len(), |i| end + i + close.len());
        }
        out.push_str(&blank(&text[m.start()..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The first segments of every `crate::` path in `code` (`crate::a::b` and `crate::{a, b::c}`
/// give `a` and `b`).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let single = Regex::new(r"\bcrate::([a-z_][a-z0-9_]*)").expect("a valid regex");
    let grouped = Regex::new(r"\bcrate::\{([^}]*)\}").expect("a valid regex");
    let first = Regex::new(r"(?:^|[,{\s])([a-z_][a-z0-9_]*)").expect("a valid regex");
    let mut out: BTreeSet<String> = single
        .captures_iter(code)
        .map(|c| c[1].to_owned())
        .collect();
    for group in grouped.captures_iter(code) {
        out.extend(first.captures_iter(&group[1]).map(|c| c[1].to_owned()));
    }
    out.retain(|m| m != "self" && m != "super");
    out
}

/// `stack/plan.rs` → `stack`; `run.rs` → `run`.
fn top_module(file: &Path) -> String {
    let first = file
        .iter()
        .next()
        .expect("a non-empty path")
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Top-level module → the top-level modules its non-test code names, with the first file that
/// does.
fn module_edges() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut files = Vec::new();
    source_files(&src_dir(), &mut files);
    let mut edges: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        let module = top_module(&file);
        // The crate root, and the test-only checks that read the whole crate.
        if matches!(
            module.as_str(),
            "lib" | "main" | "boundaries" | "metrics_doc"
        ) {
            continue;
        }
        let text = std::fs::read_to_string(src_dir().join(&file)).expect("a readable file");
        let into = edges.entry(module.clone()).or_default();
        for other in crate_paths(&code_of(&text)) {
            if other != module {
                into.entry(other).or_insert_with(|| file.clone());
            }
        }
    }
    edges
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unlisted: Vec<_> = module_edges()
        .into_keys()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unlisted.is_empty(),
        "modules missing from LAYERS in src/boundaries.rs (and docs/ARCHITECTURE.md): {unlisted:?}"
    );
}

#[test]
fn imports_only_point_to_lower_layers() {
    let mut wrong = Vec::new();
    for (module, uses) in module_edges() {
        let Some(from) = layer_of(&module) else {
            continue;
        };
        for (other, file) in uses {
            if layer_of(&other).is_none_or(|to| to <= from) {
                wrong.push(format!("{module} → {other} (src/{})", file.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers of docs/ARCHITECTURE.md:\n  {}",
        wrong.join("\n  ")
    );
}

/// For each folder module, its files (second-level modules) and which of their siblings each
/// names through `super::` or `crate::<module>::`.
fn sibling_edges() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    source_files(&src_dir(), &mut files);
    let parent = Regex::new(r"\bsuper::([a-z_][a-z0-9_]*)").expect("a valid regex");
    let grouped = Regex::new(r"\bsuper::\{([^}]*)\}").expect("a valid regex");
    let first = Regex::new(r"(?:^|[,{\s])([a-z_][a-z0-9_]*)").expect("a valid regex");
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let parts: Vec<String> = file
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.len() < 2 || parts[1] == "mod.rs" {
            continue;
        }
        let (module, me) = (&parts[0], parts[1].trim_end_matches(".rs").to_owned());
        let code = code_of(&std::fs::read_to_string(src_dir().join(&file)).expect("readable"));
        let within = Regex::new(&format!(r"\bcrate::{module}::([a-z_][a-z0-9_]*)")).expect("ok");
        let mut names: BTreeSet<String> = within
            .captures_iter(&code)
            .map(|c| c[1].to_owned())
            .collect();
        // `super::` names a sibling only in a file directly inside the folder.
        if parts.len() == 2 {
            names.extend(parent.captures_iter(&code).map(|c| c[1].to_owned()));
            for g in grouped.captures_iter(&code) {
                names.extend(first.captures_iter(&g[1]).map(|c| c[1].to_owned()));
            }
        }
        let dir = src_dir().join(module);
        names
            .retain(|n| *n != me && (dir.join(format!("{n}.rs")).exists() || dir.join(n).is_dir()));
        out.entry(module.clone())
            .or_default()
            .entry(me)
            .or_default()
            .extend(names);
    }
    out
}

/// A circle in `graph`, if there is one (depth-first search).
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_folder_imports_itself_in_a_circle() {
    let circles: Vec<String> = sibling_edges()
        .into_iter()
        .filter_map(|(module, graph)| {
            find_circle(&graph).map(|c| format!("{module}/: {}", c.join(" → ")))
        })
        .collect();
    assert!(
        circles.is_empty(),
        "import circles:\n  {}",
        circles.join("\n  ")
    );
}

#[test]
fn the_checker_sees_grouped_paths_and_ignores_comments_and_strings() {
    let code = code_of(
        "use crate::{spec::Spec, prom};\n// crate::run\nlet s = \"crate::gate\";\n\
         let r = r#\"crate::cli\"#;\nuse crate::load::x;\n#[cfg(test)]\nuse crate::bench;",
    );
    let found: Vec<_> = crate_paths(&code).into_iter().collect();
    assert_eq!(found, ["load", "prom", "spec"]);
}

#[test]
fn a_circle_is_found_and_a_chain_is_not() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry((*a).into()).or_default().insert((*b).into());
        }
        g
    };
    assert_eq!(find_circle(&graph(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        find_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "b")])),
        Some(vec!["b".into(), "c".into(), "b".into()])
    );
}
