//! The example configuration in `config/` is valid and documents every key.

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

/// Every key path (`section.key`) of a TOML table, tables of tables included.
fn keys(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let toml::Value::Table(table) = value {
        for (k, v) in table {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.insert(path.clone());
            keys(v, &path, out);
        }
    }
}

/// `name = value`, as a commented-out optional key.
fn is_key_line(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    })
}

/// `[section]` or `[[section.list]]` alone on the line.
fn is_table_header(line: &str) -> bool {
    let name = line.trim_start_matches('[').trim_end_matches(']');
    line.starts_with('[')
        && line.ends_with(']')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
}

#[test]
fn example_config_is_accepted_by_check_config() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/senim.example.toml");
    let output = support::senim::run_cli(&example, &["check-config"]);
    assert!(
        output.status.success(),
        "check-config rejected the example: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn example_config_mentions_every_key() {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/senim.example.toml"),
    )
    .expect("read the example");
    // Uncomment the commented-out keys, so optional keys count as documented.
    let uncommented: String = example
        .lines()
        .map(|l| {
            let t = l.trim_start();
            match t.strip_prefix("# ") {
                Some(rest) if is_key_line(rest) || is_table_header(rest) => rest.to_owned(),
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let documented: toml::Value = toml::from_str(&uncommented).expect("the example parses as TOML");
    let mut documented_keys = BTreeSet::new();
    keys(&documented, "", &mut documented_keys);

    let defaults =
        toml::Value::try_from(senim::config::Config::default()).expect("defaults serialise");
    let mut default_keys = BTreeSet::new();
    keys(&defaults, "", &mut default_keys);
    let missing: Vec<_> = default_keys.difference(&documented_keys).collect();
    assert!(
        missing.is_empty(),
        "keys missing from config/senim.example.toml: {missing:?}"
    );
}
