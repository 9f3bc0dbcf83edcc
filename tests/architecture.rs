//! What `docs/ARCHITECTURE.md` states about the crate's shape, checked.
//!
//! **Layers.** Reads every file under `src/` (except `main.rs`, the binary), maps it
//! to its top-level module (`src/pbx/intake.rs` → `pbx`, `src/config.rs` →
//! `config`), and collects the top-level modules it names through `crate::` paths
//! (`use crate::journal::Journal`, `crate::{db::Db, journal}`, `crate::db::is_postgres_url(…)`).
//! Comments are skipped; `#[cfg(test)]` code is counted like any other code, so a
//! test module cannot bring a cycle back either. Names that are not modules (the
//! crate's exported macros, `crate::on_db!`) are ignored. Every module must be
//! placed in `LAYERS` (the page's "Layers" as data), and none imports a module of a
//! higher layer, nor of its own step or a later one within its layer.
//!
//! **Tables.** Each table has one owner (`OWNERS`, the page's "Invariants"): its name
//! appears in SQL (after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, `ON`,
//! `TRUNCATE`, in string literals) only in its owner's files under `src/`, and in the
//! migrations named after its owner (`MIGRATION_NAMES`), but for the applied
//! migrations listed in `APPLIED_CROSSINGS`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The layers of `docs/ARCHITECTURE.md`, bottom up, as steps: a module may import
/// a module of a lower layer, or of an earlier step of its own layer; never one of
/// its own step, a later step or a higher layer. Every top-level module of `src/`
/// is placed here (a module not yet in the tree, such as one being added on
/// another branch, may be placed before it exists).
const LAYERS: &[&[&[&str]]] = &[
    // 1. The bottom: the first step imports nothing of the crate.
    &[
        &[
            "clock",
            "text_enum",
            "tokens",
            "instance",
            "authority",
            "derivation",
            "pdf",
            "calendar",
            "db",
            "private_fs",
        ],
        // Who may do what (issue 21): only `text_enum` of the crate.
        &["rulebook"],
        &["sealing"],
        &["journal"],
    ],
    // 2. Configuration, logs, the lexicon, the deadlines, the people.
    &[
        &["config", "triage"],
        &["telemetry", "deadlines", "persons"],
    ],
    // 3. The outbox, then the alerts.
    &[&["outbox"], &["alerts"]],
    // 4. The channels and the case work, then the investigation; then retention,
    //    the materials and the report; then the documents.
    &[
        &["pbx", "mailbox", "cases"],
        &["investigation"],
        &["retention", "materials", "report"],
        &["documents"],
    ],
    // 5. The assembled daemon.
    &[&["app"]],
    // 6. The top: the server, then the command line (`senim serve` starts it).
    &[&["server"], &["cli"]],
];

/// Each table and the one module that owns it (`docs/ARCHITECTURE.md`,
/// "Invariants"). `retention` owns none: it calls the owners.
const OWNERS: &[(&str, &[&str])] = &[
    (
        "journal",
        &[
            "appeals",
            "appeal_sources",
            "appeal_events",
            "registration_counters",
            "audit_head",
            "appeal_envelopes",
            "appeal_earlier_values",
            "appeal_reasons",
        ],
    ),
    ("sealing", &["sealing_keys", "person_keys", "key_grants"]),
    (
        "deadlines",
        &["deadlines", "deadline_events", "deadline_seals"],
    ),
    ("pbx", &["pbx_calls", "pbx_recordings", "pbx_cti_events"]),
    (
        "mailbox",
        &[
            "mail_messages",
            "mail_refs",
            "mail_attachments",
            "mail_ack_log",
            "mail_folders",
            "mail_settle_claims",
        ],
    ),
    ("outbox", &["outbox"]),
    ("alerts", &["alert_marks"]),
    ("persons", &["persons"]),
    (
        "documents",
        &["outgoing_counters", "outgoing_register", "outgoing_files"],
    ),
    (
        "investigation",
        &[
            "investigation_files",
            "investigation_members",
            "investigation_grants",
            "investigation_entries",
        ],
    ),
];

/// A migration belongs to the module its name begins with
/// (`<version>_<module>[_<what>].sql`: `20261222000100_deadlines_end.sql` →
/// `deadlines`). These applied ones were named otherwise, and a name cannot change
/// meaningfully once applied: their module is given here. A new migration is
/// named after its module and needs no line here.
const MIGRATION_NAMES: &[(&str, &str)] = &[
    ("mail_notes", "mailbox"),
    ("chain_key", "journal"),
    ("seal_mail", "mailbox"),
    ("seal_pbx", "pbx"),
    ("console", "persons"),
    ("person_language", "persons"),
    ("deadline_events_chained", "deadlines"),
    ("outgoing", "documents"),
    ("corrections", "journal"),
    ("signed_rows", "sealing"),
    ("signed_chain", "journal"),
    ("reasons", "journal"),
];

/// Applied migrations that change tables of modules other than their own, each
/// with those tables. They cannot be split or moved: sqlx keeps each applied
/// version's checksum (SHA-384 of the file's bytes) and refuses to start on a
/// changed file (`VersionMismatch`) or a removed version (`VersionMissing`), and a
/// copy under a new version would run the same `ALTER TABLE … ADD COLUMN` twice on
/// every database that has the old one. So they stay, listed here; never add to
/// this list: a new migration changes the tables of the module it is named after.
const APPLIED_CROSSINGS: &[(&str, &[&str])] = &[
    // The first outbox migration also made the alerts' marks (before `alerts`
    // had migrations of its own).
    ("20261125000200_outbox", &["alert_marks"]),
    // Retention's columns (`destroyed_at`, `file_removed`) on the tables whose
    // content it has the owners destroy (`src/retention.rs` calls their
    // `destroy_*_in`): retention owns no table.
    (
        "20261210000100_retention",
        &["mail_messages", "pbx_recordings", "outbox"],
    ),
    // Sealing the Journal at rest: the appeals' envelopes and the head's generation.
    (
        "20261215000100_sealing",
        &["appeals", "audit_head", "appeal_envelopes"],
    ),
    // Sealing the mail store, and the outbox with it.
    ("20261215000200_seal_mail", &["outbox"]),
    // The installation's signature on the key rows, and on the persons rows.
    ("20261223000100_signed_rows", &["persons"]),
    // The signed head, and the deadlines' seals signed with it.
    ("20261223000200_signed_chain", &["deadline_seals"]),
];

/// The SQL keywords after which a table is named (the code writes SQL keywords in
/// capitals; English text in a message, "from the outbox", is not SQL).
const SQL_KEYWORDS: &[&str] = &["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "ON", "TRUNCATE"];

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
fn every_module_is_placed_in_one_layer() {
    let graph = module_graph();
    let places = layer_places();
    let mut seen = BTreeMap::new();
    let mut twice = Vec::new();
    for module in LAYERS.iter().flat_map(|l| l.iter()).flat_map(|s| s.iter()) {
        if seen.insert(*module, ()).is_some() {
            twice.push(*module);
        }
    }
    assert!(
        twice.is_empty(),
        "placed more than once in LAYERS: {twice:?}"
    );
    let unplaced: Vec<&str> = graph
        .keys()
        .map(String::as_str)
        .filter(|m| !places.contains_key(m))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules in no layer: {} (place each in LAYERS in tests/architecture.rs and in \
         docs/ARCHITECTURE.md's \"Layers\")",
        unplaced.join(", ")
    );
}

#[test]
fn no_module_imports_upward() {
    let wrong = upward_imports(&module_graph());
    assert!(
        wrong.is_empty(),
        "layering broken (LAYERS in tests/architecture.rs, docs/ARCHITECTURE.md's \
         \"Layers\"):\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_layer_check_names_an_upward_import() {
    let mut graph = Graph::new();
    for (from, to) in [
        ("journal", "server"),
        ("report", "documents"),
        ("alerts", "outbox"),
        ("rulebook", "journal"),
    ] {
        graph.entry(from.into()).or_default().insert(to.into());
    }
    assert_eq!(
        upward_imports(&graph),
        [
            "journal (layer 1, step 4) imports server (layer 6, step 1)",
            "report (layer 4, step 3) imports documents (layer 4, step 4)",
            "rulebook (layer 1, step 2) imports journal (layer 1, step 4)",
        ]
    );
}

/// No module reads or writes another's tables: a table's name appears in SQL only
/// in its owner's files.
#[test]
fn each_table_is_named_in_sql_only_by_its_owner() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let owner_of = table_owners();
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for file in &files {
        let module = top_level_module(&src, file).unwrap_or_else(|| "the crate root".into());
        let code = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for (line, literal) in lex(&code).literals {
            for table in sql_tables(&literal) {
                let Some(owner) = owner_of.get(table.as_str()) else {
                    continue;
                };
                seen.insert(table.clone());
                if *owner != module {
                    let file = file.strip_prefix(&src).unwrap_or(file).display();
                    wrong.push(format!(
                        "src/{file}:{line}: `{table}` (owned by {owner}) in SQL of {module}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "SQL names a table outside its owner; call the owner's method instead \
         (docs/ARCHITECTURE.md, \"Invariants\"):\n  {}",
        wrong.join("\n  ")
    );
    assert!(
        seen.contains("outbox") && seen.contains("appeals"),
        "the reader found no SQL under {}",
        src.display()
    );
}

/// A migration changes the tables of the module it is named after, but for the
/// applied ones in `APPLIED_CROSSINGS` (which name exactly what they cross).
#[test]
fn each_migration_changes_only_its_modules_tables() {
    let owner_of = table_owners();
    let mut wrong = Vec::new();
    let mut crossings_used = BTreeSet::new();
    for (backend, files) in migrations() {
        for (name, sql) in files {
            let Some(module) = migration_module(&name) else {
                wrong.push(format!(
                    "{backend}/{name}.sql names no module: call it <version>_<module>_<what>.sql"
                ));
                continue;
            };
            let allowed: &[&str] = APPLIED_CROSSINGS
                .iter()
                .find(|(file, _)| *file == name)
                .map_or(&[], |(_, tables)| tables);
            for table in sql_tables(&sql) {
                let Some(owner) = owner_of.get(table.as_str()) else {
                    continue;
                };
                if allowed.contains(&table.as_str()) {
                    crossings_used.insert((name.clone(), table));
                } else if *owner != module {
                    wrong.push(format!(
                        "{backend}/{name}.sql ({module}'s) changes `{table}`, owned by {owner}"
                    ));
                }
            }
        }
    }
    for (file, tables) in APPLIED_CROSSINGS {
        for table in *tables {
            if !crossings_used.contains(&((*file).to_owned(), (*table).to_owned())) {
                wrong.push(format!(
                    "APPLIED_CROSSINGS lists `{table}` for {file}, which does not name it"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "migrations cross table ownership:\n  {}",
        wrong.join("\n  ")
    );
}

/// The owners' list is the schema: every table the migrations leave has one
/// owner, and every owned table exists; both backends have the same migrations.
#[test]
fn the_owners_list_is_the_schema() {
    let listed: BTreeSet<String> = table_owners().keys().map(|t| (*t).to_owned()).collect();
    let mut names = Vec::new();
    for (backend, files) in migrations() {
        names.push(files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let mut tables = BTreeSet::new();
        for (_, sql) in &files {
            schema_changes(sql, &mut tables);
        }
        assert_eq!(
            tables, listed,
            "the tables {backend}'s migrations make (left) are not those OWNERS lists (right)"
        );
    }
    let [sqlite, postgres] = &names[..] else {
        panic!("two backends' migrations expected");
    };
    let only_one: Vec<&String> = sqlite
        .iter()
        .filter(|n| !postgres.contains(n))
        .chain(postgres.iter().filter(|n| !sqlite.contains(n)))
        .collect();
    assert!(
        only_one.is_empty(),
        "migrations in one backend only (a schema change is a migration for both): {only_one:?}"
    );
}

#[test]
fn the_sql_reader_finds_each_form_of_table_name() {
    let code = r##"
        // "SELECT x FROM outbox" in a comment is not SQL
        /// `DELETE FROM mail_refs` in a doc comment neither
        let a = "SELECT id FROM outbox o WHERE o.kind = $1";
        let b = "INSERT INTO persons (login) VALUES ($1) ON CONFLICT (login) DO NOTHING";
        let c = "UPDATE pbx_calls SET outcome = 'appeal' \
                 WHERE id IN (SELECT call_id FROM pbx_cti_events e \
                 JOIN appeals a ON a.id = e.appeal_id)";
        let d = r#"ALTER TABLE mail_messages ADD COLUMN x TEXT"#;
        let e = "SELECT 1 FROM deadlines d, deadline_events AS v";
        let f = "CREATE TABLE IF NOT EXISTS alert_marks (id INTEGER)";
        let g = "cannot read from outbox: the persons table"; // English, not SQL
        outbox.list(); let persons = journal_rows; // Rust, not SQL
    "##;
    let found: BTreeSet<String> = lex(code)
        .literals
        .iter()
        .flat_map(|(_, text)| sql_tables(text))
        .collect();
    let expected: BTreeSet<String> = [
        "outbox",
        "persons",
        "pbx_calls",
        "pbx_cti_events",
        "appeals",
        "a",
        "mail_messages",
        "deadlines",
        "deadline_events",
        "alert_marks",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, expected);
    let lines: Vec<usize> = lex(code).literals.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [4, 5, 6, 9, 10, 11, 12]);
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

/// Each placed module → (its layer, its step within the layer), both from 1.
fn layer_places() -> BTreeMap<&'static str, (usize, usize)> {
    let mut places = BTreeMap::new();
    for (layer, steps) in LAYERS.iter().enumerate() {
        for (step, modules) in steps.iter().enumerate() {
            for module in *modules {
                places.insert(*module, (layer + 1, step + 1));
            }
        }
    }
    places
}

/// Every import of a module placed at or above the importer, described.
fn upward_imports(graph: &Graph) -> Vec<String> {
    let places = layer_places();
    let mut wrong = Vec::new();
    for (from, targets) in graph {
        let Some(&(layer, step)) = places.get(from.as_str()) else {
            continue; // reported by every_module_is_placed_in_one_layer
        };
        for to in targets {
            let Some(&(to_layer, to_step)) = places.get(to.as_str()) else {
                continue;
            };
            if (to_layer, to_step) >= (layer, step) {
                wrong.push(format!(
                    "{from} (layer {layer}, step {step}) imports {to} (layer {to_layer}, step {to_step})"
                ));
            }
        }
    }
    wrong
}

/// Each table → its owner.
fn table_owners() -> BTreeMap<&'static str, &'static str> {
    let mut owner_of = BTreeMap::new();
    for (owner, tables) in OWNERS {
        for table in *tables {
            if let Some(other) = owner_of.insert(*table, *owner) {
                panic!("OWNERS gives `{table}` to both {other} and {owner}");
            }
        }
    }
    owner_of
}

/// Each backend's migrations, in order: (name without `.sql`, its SQL).
fn migrations() -> Vec<(&'static str, Vec<(String, String)>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    ["sqlite", "postgres"]
        .into_iter()
        .map(|backend| {
            let dir = root.join(backend);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            let mut files: Vec<(String, String)> = entries
                .map(|entry| entry.expect("directory entry").path())
                .filter(|path| path.extension().is_some_and(|e| e == "sql"))
                .map(|path| {
                    let name = path
                        .file_stem()
                        .and_then(|n| n.to_str())
                        .expect("a migration's name is UTF-8")
                        .to_owned();
                    let sql = std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                    (name, sql)
                })
                .collect();
            files.sort();
            assert!(!files.is_empty(), "no migrations in {}", dir.display());
            (backend, files)
        })
        .collect()
}

/// The module a migration belongs to: `20261222000100_deadlines_end` →
/// `deadlines` (the longest placed module its description begins with), or the
/// one `MIGRATION_NAMES` gives an applied migration named otherwise.
fn migration_module(name: &str) -> Option<String> {
    let (_, description) = name.split_once('_')?;
    if let Some((_, module)) = MIGRATION_NAMES.iter().find(|(n, _)| *n == description) {
        return Some((*module).to_owned());
    }
    layer_places()
        .keys()
        .filter(|m| {
            description == **m
                || description
                    .strip_prefix(**m)
                    .is_some_and(|rest| rest.starts_with('_'))
        })
        .max_by_key(|m| m.len())
        .map(|m| (*m).to_owned())
}

/// The names that follow a table keyword in `sql` (owned tables among them, and
/// aliases and other tables, which the callers ignore): `FROM a x, b` gives both.
fn sql_tables(sql: &str) -> Vec<String> {
    let tokens = sql_tokens(sql);
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !SQL_KEYWORDS.contains(&token.as_str()) {
            continue;
        }
        let mut j = i + 1;
        while tokens
            .get(j)
            .is_some_and(|t| ["IF", "NOT", "EXISTS", "ONLY"].contains(&t.as_str()))
        {
            j += 1;
        }
        while let Some(name) = tokens.get(j).filter(|t| is_sql_name(t)) {
            found.push(name.clone());
            if token != "FROM" {
                break;
            }
            // `FROM a [AS] [alias], b …`
            let mut k = j + 1;
            if tokens.get(k).is_some_and(|t| t == "AS") {
                k += 1;
            }
            if tokens.get(k).is_some_and(|t| is_sql_name(t)) {
                k += 1;
            }
            if tokens.get(k).is_some_and(|t| t == ",") {
                j = k + 1;
            } else {
                break;
            }
        }
    }
    found
}

/// Applies what `sql` does to the set of tables: `CREATE TABLE`, `DROP TABLE`,
/// `ALTER TABLE … RENAME TO`.
fn schema_changes(sql: &str, tables: &mut BTreeSet<String>) {
    let tokens = sql_tokens(sql);
    let name_after = |mut j: usize| {
        while tokens
            .get(j)
            .is_some_and(|t| ["IF", "NOT", "EXISTS"].contains(&t.as_str()))
        {
            j += 1;
        }
        tokens.get(j).filter(|t| is_sql_name(t)).cloned()
    };
    for (i, pair) in tokens.windows(2).enumerate() {
        match (pair[0].as_str(), pair[1].as_str()) {
            ("CREATE", "TABLE") => tables.extend(name_after(i + 2)),
            ("DROP", "TABLE") => {
                if let Some(name) = name_after(i + 2) {
                    tables.remove(&name);
                }
            }
            ("ALTER", "TABLE") => {
                let Some(name) = name_after(i + 2) else {
                    continue;
                };
                let rest = &tokens[i + 3..];
                if rest.first().is_some_and(|t| t == "RENAME")
                    && rest.get(1).is_some_and(|t| t == "TO")
                    && let Some(to) = rest.get(2).filter(|t| is_sql_name(t))
                {
                    tables.remove(&name);
                    tables.insert(to.clone());
                }
            }
            _ => {}
        }
    }
}

/// `sql` as words and single marks, its `--` comments left out.
fn sql_tokens(sql: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or_default();
        let mut word = String::new();
        for c in line.chars() {
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        }
        if !word.is_empty() {
            tokens.push(word);
        }
    }
    tokens
}

/// A table's or an alias's name: lower case (SQL keywords are in capitals).
fn is_sql_name(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
    lex(code).code
}

/// A Rust file read once: its code with comments and the contents of string
/// literals blanked out, and the string literals themselves.
struct Lexed {
    code: String,
    /// Each string literal's text (a line continuation read as nothing, `\n`
    /// and `\t` as a space) with the line it starts on.
    literals: Vec<(usize, String)>,
}

fn lex(code: &str) -> Lexed {
    let mut out = String::with_capacity(code.len());
    let mut literals = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let newlines: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == '\n').collect();
    let line_of = |at: usize| newlines.partition_point(|&n| n < at) + 1;
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
            let content = j;
            let mut end = bytes.len();
            while j < bytes.len() {
                if bytes[j] == '"' && (0..hashes).all(|k| bytes.get(j + 1 + k) == Some(&'#')) {
                    end = j;
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            literals.push((line_of(i), bytes[content..end].iter().collect()));
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            let start = i;
            let mut text = String::new();
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    match bytes.get(i + 1) {
                        Some('\n') => {
                            i += 2;
                            while i < bytes.len() && bytes[i].is_whitespace() {
                                i += 1;
                            }
                            continue;
                        }
                        Some('n' | 't' | 'r') => text.push(' '),
                        Some(&escaped) => text.push(escaped),
                        None => {}
                    }
                    i += 2;
                    continue;
                }
                text.push(bytes[i]);
                i += 1;
            }
            i += 1;
            literals.push((line_of(start), text));
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
    Lexed {
        code: out,
        literals,
    }
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
