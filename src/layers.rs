//! The crate's layers, checked: every `crate::` path in a module names a module of its own
//! layer or of one below (see `docs/architecture.md`). Data flows one way, from the command
//! line's options through the scan and the batch to the report; nothing below knows what
//! is above it.
use std::path::{Path, PathBuf};

/// Top-level modules, bottom first. A module may use its own layer and the ones below.
const LAYERS: &[&[&str]] = &[
    &["storage", "human", "names", "extsort"],
    &["error"],
    &["jpeg", "archive"],
    &["shard", "cancel", "memory"],
    &["options"],
    &["outcome"],
    &["inputs"],
    &["photo"],
    &["fleet"],
    &["batch"],
    &["report"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "bin") {
                sources(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules a source file names with `crate::` (in paths and in `use crate::{…}`
/// groups).
fn uses(text: &str) -> Vec<String> {
    let mut named = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").unwrap_or(group.len());
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        named.push(first_segment(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            // A path through a module (`crate::jpeg::…`); `crate::compress_bytes` names an
            // item of the root, which every layer may name.
            let first = first_segment(rest);
            // (A root re-export, `crate::Options`, counts too: see the check.)
            if rest[first.len()..].starts_with("::")
                || first.starts_with(|c: char| c.is_ascii_uppercase())
            {
                named.push(first);
            }
        }
    }
    named.retain(|m| !m.is_empty());
    named
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "the sources were found: {}", files.len());
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let top = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if top == "lib" || top == "layers" {
            continue;
        }
        let Some(own) = layer(&top) else {
            wrong.push(format!("{}: module {top} has no layer", relative.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for used in uses(&text) {
            if used.starts_with(|c: char| c.is_ascii_uppercase()) {
                // `crate::Options`: a re-export of the root, which imports every layer.
                wrong.push(format!(
                    "{}: uses the root's {used}: name the module that holds it",
                    relative.display()
                ));
                continue;
            }
            match layer(&used) {
                Some(l) if l <= own => {}
                Some(_) => wrong.push(format!(
                    "{}: uses {used}, a layer above",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "{}: uses {used}, which has no layer",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_paths_and_groups() {
    let text = "use crate::jpeg::header;\nuse crate::{batch::Totals, report};\nlet x = crate::photo::search::f();\n/// [`crate::compress_bytes`]\nfn f(o: &crate::Options) {}";
    assert_eq!(uses(text), ["jpeg", "batch", "report", "photo", "Options"]);
}
