#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The routes are one set everywhere: what each function routes, and what `cargo lambda watch`
//! serves (the workspace metadata). Needs no emulator.

use std::collections::BTreeSet;

fn functions() -> Vec<(&'static str, &'static [shared::request::Route])> {
    vec![
        ("auth", auth::ROUTES),
        ("password", password::ROUTES),
        ("admin", admin::ROUTES),
        ("lock", lock::ROUTES),
        ("users", users::ROUTES),
    ]
}

/// `(method, path, function)` as the functions route them.
fn routed() -> BTreeSet<(String, String, String)> {
    functions()
        .into_iter()
        .flat_map(|(f, routes)| {
            routes
                .iter()
                .map(move |r| (r.method.to_string(), r.path.to_string(), f.to_string()))
        })
        .collect()
}

#[test]
fn the_local_router_serves_exactly_the_functions_routes() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .unwrap();
    let served: BTreeSet<(String, String, String)> = router
        .iter()
        .flat_map(|(path, entries)| {
            entries.as_array().unwrap().iter().map(move |e| {
                (
                    e["method"].as_str().unwrap().to_string(),
                    path.clone(),
                    e["function"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    let routed = routed();
    let missing: Vec<_> = routed.difference(&served).collect();
    let extra: Vec<_> = served.difference(&routed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not served locally: {missing:?}; served but not routed: {extra:?}"
    );
}

#[test]
fn no_two_functions_claim_the_same_route() {
    let mut seen = BTreeSet::new();
    for (f, routes) in functions() {
        for r in routes {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} is routed twice (again in {f})",
                r.method,
                r.path
            );
        }
    }
}
