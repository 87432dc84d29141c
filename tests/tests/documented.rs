#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What README says about configuration is what the code reads: every variable of
//! `Config::SETTINGS` is in README's configuration table with the same default, and the table
//! lists nothing else but the log filter. Needs no emulator.

use std::collections::BTreeMap;

use shared::config::Config;

/// README's configuration table: variable → default as written (`(required)` for none).
fn documented() -> BTreeMap<String, String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("README has a Configuration section");
    let mut table = BTreeMap::new();
    for row in section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let names: Vec<&str> = cells[1]
            .split(',')
            .map(|n| n.trim().trim_matches('`'))
            .collect();
        let defaults: Vec<&str> = cells[2].split(',').map(str::trim).collect();
        for (i, name) in names.iter().enumerate() {
            let default = defaults.get(i).or(defaults.first()).unwrap();
            table.insert((*name).to_string(), (*default).to_string());
        }
    }
    table
}

#[test]
fn readme_lists_every_setting_with_its_default() {
    let mut documented = documented();
    for (name, default) in Config::SETTINGS {
        let expected = default.map_or("(required)".to_string(), |d| d.to_string());
        assert_eq!(
            documented.remove(*name).as_deref(),
            Some(expected.as_str()),
            "README's configuration table on {name}"
        );
    }
    // the log filter is the telemetry's, the metrics' namespace the metrics', not Config's
    documented.remove("RUST_LOG");
    assert_eq!(
        documented
            .remove(shared::metrics::NAMESPACE_VARIABLE)
            .as_deref(),
        Some("(unset: no metrics)"),
        "README's configuration table on the metrics' namespace"
    );
    assert!(
        documented.is_empty(),
        "README documents settings the code does not read: {documented:?}"
    );
}

#[test]
fn the_required_settings_are_required() {
    let required: Vec<&str> = Config::SETTINGS
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(n, _)| *n)
        .collect();
    for missing in &required {
        let lookup = |name: &str| (name != *missing).then(|| "x".to_string());
        let err = Config::from_lookup(lookup).unwrap_err().to_string();
        assert!(err.contains(missing), "{err}");
    }
    let all = |_: &str| Some("1".to_string());
    assert!(Config::from_lookup(all).is_ok());
}
