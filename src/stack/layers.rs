//! The layers of `stack/`, checked: every `crate::stack::X` and `super::X` path that leaves a
//! file's own top-level module must name a module of a lower layer, so that no import circle
//! can form inside `stack/` (test code is left out).

use std::path::Path;

/// Bottom up; a module may import only modules of earlier rows.
const LAYERS: &[&[&str]] = &[
    &["child", "ports"],
    &["error"],
    &["ready", "builtin"],
    &["images"],
    &["backend"],
    &["need"],
    &["plan"],
    &["choose"],
    &["process", "docker"],
    &["compose", "launch"],
    &["running"],
    &["start"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

/// The top-level `stack` modules a file's non-test code names, given its module path.
fn imported(text: &str, path: &[String]) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::stack::") {
        out.push(ident(&code[i + "crate::stack::".len()..]));
    }
    for (i, _) in code.match_indices("super::") {
        if code[..i].ends_with("super::") {
            continue;
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups == path.len() {
            out.push(ident(rest));
        }
    }
    out
}

fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn visit(dir: &Path, path: &[String], problems: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir)
        .expect("stack/ is readable")
        .flatten()
    {
        let file = entry.path();
        let name = entry
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let mut here = path.to_vec();
        if file.is_dir() {
            here.push(name);
            visit(&file, &here, problems);
            continue;
        }
        // `mod.rs` only declares; this file only checks.
        let skip = path.is_empty() && (name == "mod" || name == "layers");
        if file.extension().is_none_or(|e| e != "rs") || skip {
            continue;
        }
        if name != "mod" {
            here.push(name);
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        let own = &here[0];
        for target in imported(&text, &here) {
            match (layer(own), layer(&target)) {
                _ if &target == own => {}
                (Some(from), Some(to)) if to < from => {}
                _ => problems.push(format!("{} imports stack::{target}", file.display())),
            }
        }
    }
}

#[test]
fn every_import_inside_stack_points_to_a_lower_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/stack");
    let mut problems = Vec::new();
    visit(&root, &[], &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
}
