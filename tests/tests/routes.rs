#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The routes are one set everywhere: what each function routes, what `cargo lambda watch`
//! serves (the workspace metadata), what `infra/openapi.yaml` documents and API Gateway deploys,
//! and the functions `infra/template.yaml` builds. Needs no emulator.

use std::collections::BTreeSet;

fn functions() -> Vec<(&'static str, &'static [shared::http::request::Route])> {
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

fn yaml(path: &str) -> serde_yaml_ng::Value {
    let text =
        std::fs::read_to_string(format!("{}/../infra/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

#[test]
fn the_openapi_contract_documents_exactly_the_functions_routes() {
    let doc = yaml("openapi.yaml");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            let function = op["x-function"]
                .as_str()
                .unwrap_or_else(|| panic!("{path:?} {method:?} has no x-function"));
            let uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
                .as_str()
                .unwrap();
            let resource = format!(
                "{}{}Function",
                &function[..1].to_uppercase(),
                &function[1..]
            );
            assert!(
                uri.contains(&format!("${{{resource}.Arn}}")),
                "{path:?} {method:?} integrates {uri}, not {resource}"
            );
            documented.insert((
                method.as_str().unwrap().to_uppercase(),
                path.as_str().unwrap().to_string(),
                function.to_string(),
            ));
        }
    }
    let routed = routed();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not documented: {missing:?}; documented but not routed: {extra:?}"
    );
}

#[test]
fn the_template_builds_every_function_from_the_workspace() {
    let template = yaml("template.yaml");
    let mut built = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() == Some("AWS::Serverless::Function") {
            assert_eq!(
                resource["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda")
            );
            assert_eq!(resource["Properties"]["CodeUri"].as_str(), Some("../"));
            built.insert(
                resource["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    let mut expected: BTreeSet<String> = functions()
        .into_iter()
        .map(|(f, _)| f.to_string())
        .collect();
    expected.insert("pre-authentication".into());
    assert_eq!(built, expected);
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml")).unwrap();
    for f in &expected {
        assert!(
            manifest.contains(&format!("\"functions/{f}\"")),
            "functions/{f} is not a workspace member"
        );
    }
}
