//! The module graph is a DAG, and the bottom layer imports nothing above it.
//!
//! Reads every file under `src/` (except `main.rs`, the binary), maps it to its
//! top-level module (`src/pbx/intake.rs` → `pbx`, `src/config.rs` → `config`),
//! and collects the top-level modules it names through `crate::` paths
//! (`use crate::journal::Journal`, `crate::{db::Db, journal}`, `crate::db::is_postgres_url(…)`).
//! Comments are skipped; `#[cfg(test)]` code is counted like any other code, so a
//! test module cannot bring a cycle back either. Names that are not modules (the
//! crate's exported macros, `crate::on_db!`) are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The bottom of the graph: these import none of the modules above them.
const BOTTOM: &[&str] = &["calendar", "clock", "db", "journal"];

/// The channels, the alert policy, the report, the assembled daemon and the top.
const ABOVE_BOTTOM: &[&str] = &[
    "alerts", "app", "cli", "mailbox", "outbox", "pbx", "report", "server", "triage",
];

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = module_graph();
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle among top-level modules: {}\nedges:\n{}",
            cycle.join(" -> "),
            describe(&graph)
        );
    }
}

#[test]
fn the_bottom_layer_imports_nothing_above_it() {
    let graph = module_graph();
    let mut wrong = Vec::new();
    for low in BOTTOM {
        for target in graph.get(*low).into_iter().flatten() {
            if ABOVE_BOTTOM.contains(&target.as_str()) {
                wrong.push(format!("{low} -> {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken: {}", wrong.join(", "));
}

/// The PDF machinery the letters and the report share sits below both: it
/// imports nothing of the crate, and the report does not reach the letters.
#[test]
fn the_pdf_machinery_is_shared_from_below() {
    let graph = module_graph();
    let pdf = graph.get("pdf").expect("the pdf module is read");
    assert!(pdf.is_empty(), "pdf imports {pdf:?}");
    for user in ["documents", "report"] {
        assert!(
            graph.get(user).is_some_and(|t| t.contains("pdf")),
            "{user} does not use the shared pdf module"
        );
    }
    assert!(
        !graph.get("report").is_some_and(|t| t.contains("documents")),
        "report imports documents"
    );
}

/// Time is explicit: only `clock` reads the wall clock; everything else is handed
/// the injected `SharedClock`, so tests pin it.
#[test]
fn only_the_clock_module_reads_the_time() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let readers: Vec<String> = files
        .iter()
        .filter(|f| top_level_module(&src, f).as_deref() != Some("clock"))
        .filter(|f| {
            let code = std::fs::read_to_string(f).unwrap_or_default();
            let code = strip_comments_and_strings(&code);
            ["Utc::now()", "Local::now()", "SystemTime::now()"]
                .iter()
                .any(|call| code.contains(call))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        readers.is_empty(),
        "the wall clock is read outside clock.rs: {readers:?}"
    );
}

#[test]
fn the_reader_finds_each_form_of_crate_path() {
    let code = r#"
        //! crate::outbox in a doc comment is not an import
        use crate::journal::{Appeal, Journal};
        use crate::{db::Db, calendar, on_db};
        /* crate::pbx in a block comment */
        fn f() { crate::clock::now(); } // crate::server
        let s = "crate::triage in a string is not an import";
    "#;
    let found = crate_references(code);
    let expected: BTreeSet<String> = ["journal", "db", "calendar", "on_db", "clock"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn the_cycle_finder_names_a_cycle() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    graph.entry("d".into()).or_default().insert("a".into());
    let cycle = find_cycle(&graph).expect("a -> b -> c -> a is a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    graph.get_mut("c").map(|t| t.remove("a"));
    assert_eq!(find_cycle(&graph), None);
}

/// Top-level module → the other top-level modules its files name.
fn module_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| top_level_module(&src, f))
        .collect();
    assert!(
        modules.contains("journal") && modules.contains("server"),
        "the reader found no modules under {}",
        src.display()
    );
    let mut graph = Graph::new();
    for file in &files {
        let Some(module) = top_level_module(&src, file) else {
            continue;
        };
        let code = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let targets = graph.entry(module.clone()).or_default();
        for name in crate_references(&code) {
            if name != module && modules.contains(&name) {
                targets.insert(name);
            }
        }
    }
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/pbx/intake.rs` → `pbx`; `src/config.rs` → `config`; the crate root
/// (`lib.rs`) and the binary (`main.rs`) belong to no module.
fn top_level_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" | "main" => None,
        _ => Some(name.to_owned()),
    }
}

/// The first segment of every `crate::` path in `code`, outside comments and strings.
fn crate_references(code: &str) -> BTreeSet<String> {
    let code = strip_comments_and_strings(code);
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` or `foo_crate::`
        }
        let rest_trimmed = rest.trim_start();
        if let Some(group) = rest_trimmed.strip_prefix('{') {
            for item in group_items(group) {
                found.insert(item);
            }
        } else if let Some(name) = identifier(rest_trimmed) {
            found.insert(name);
        }
    }
    found
}

/// The first identifier of each item of a `{ a::b, c, d::{e, f} }` group, given
/// the text after the opening brace.
fn group_items(group: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start_of_item = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start_of_item = true,
            c if start_of_item && depth == 0 && !c.is_whitespace() => {
                start_of_item = false;
                if let Some(name) = identifier(&group[i..]) {
                    items.push(name);
                }
            }
            _ => {}
        }
    }
    items
}

fn identifier(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    (starts_well && name != "self").then_some(name)
}

/// `code` with comments and the contents of string literals blanked out.
fn strip_comments_and_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < bytes.len() {
                if bytes[i] == '/' && bytes.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if bytes[i] == '*' && bytes.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&out) {
            // A raw string: r"…", r#"…"#, r##"…"##.
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= bytes.len() {
                    break;
                }
                if bytes[j] == '"' && (0..hashes).all(|k| bytes.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('"', '\'', '{') or a lifetime ('a): skip a literal whole.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < bytes.len() && bytes[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if bytes.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(out: &str) -> bool {
    out.chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// A cycle as a path that starts and ends at the same module, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(node, graph, &mut marks, &mut path) {
            return Some(cycle);
        }
    }
    None
}

fn describe(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(from, to)| {
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            format!("  {from} -> {}", to.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
