#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The routes are one set everywhere: what each function routes, what `cargo lambda watch`
//! serves (the workspace metadata), what `infra/openapi.yaml` documents and API Gateway deploys,
//! and the functions `infra/template.yaml` builds. Needs no emulator.

use std::collections::BTreeSet;

/// `(method, path)` of each route of a group.
fn table<G: shared::Group>() -> Vec<(&'static str, &'static str)> {
    G::ROUTES.iter().map(|r| (r.method, r.path)).collect()
}

fn functions() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("auth", table::<auth::Group>()),
        ("password", table::<password::Group>()),
        ("admin", table::<admin::Group>()),
        ("lock", table::<lock::Group>()),
        ("users", table::<users::Group>()),
    ]
}

/// `(method, path, function)` as the functions route them.
fn routed() -> BTreeSet<(String, String, String)> {
    functions()
        .into_iter()
        .flat_map(|(f, routes)| {
            routes
                .into_iter()
                .map(move |(method, path)| (method.to_string(), path.to_string(), f.to_string()))
        })
        .collect()
}

/// [`routed`] with each path's browser preflight (`OPTIONS`), which the path's function
/// answers (`App::handle`) wherever the API is served.
fn routed_with_preflights() -> BTreeSet<(String, String, String)> {
    let mut all = routed();
    let preflights: Vec<_> = all
        .iter()
        .map(|(_, path, f)| ("OPTIONS".to_string(), path.clone(), f.clone()))
        .collect();
    all.extend(preflights);
    all
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
    let routed = routed_with_preflights();
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
        for (method, path) in routes {
            assert!(
                seen.insert((method, path)),
                "{method} {path} is routed twice (again in {f})"
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
    expected.insert("custom-auth".into());
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

/// Every literal segment of every template, as a userID, still reaches the route it is put
/// into: `GET /users/users` is the user `users`, `PUT /users/lock/lock` locks the user `lock`.
/// Checked both ways a request can be routed: by the path alone (`cargo lambda watch`), and by
/// the resource template API Gateway names.
#[test]
fn a_user_id_equal_to_a_path_segment_is_still_a_user_id() {
    fn check<G: shared::Group>(words: &BTreeSet<&str>) {
        for route in G::ROUTES.iter().filter(|r| r.path.contains("{userID}")) {
            for word in words {
                let path = route.path.replace("{userID}", word);
                let by_path = http::Request::builder()
                    .method(route.method)
                    .uri(&path)
                    .body(lambda_http::Body::Empty)
                    .unwrap();
                // as an HTTP API (v2) event is read: no resource template, the raw path
                let by_path = lambda_http::RequestExt::with_raw_http_path(
                    lambda_http::Request::from(by_path),
                    &path,
                );
                let found = shared::http::routes::find(G::ROUTES, &by_path);
                assert_eq!(
                    found.map(|r| r.name),
                    Some(route.name),
                    "{} {path}",
                    route.method
                );
                let event = account_api_tests::stack::api_event(
                    route.method,
                    &path,
                    &serde_json::Value::Null,
                    &[],
                );
                let by_template = lambda_http::request::from_str(&event.to_string()).unwrap();
                let found = shared::http::routes::find(G::ROUTES, &by_template);
                assert_eq!(
                    found.map(|r| r.name),
                    Some(route.name),
                    "{} {path}",
                    route.method
                );
            }
        }
    }
    let words: BTreeSet<&str> = functions()
        .into_iter()
        .flat_map(|(_, routes)| routes)
        .flat_map(|(_, path)| path.split('/'))
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .collect();
    assert!(words.contains("users") && words.contains("lock") && words.contains("events"));
    check::<auth::Group>(&words);
    check::<password::Group>(&words);
    check::<admin::Group>(&words);
    check::<lock::Group>(&words);
    check::<users::Group>(&words);
}

/// Every operation a function declares has exactly one route in its table: a variant added to
/// `Op` without its line in `ROUTES` fails here (a line without its arm fails to compile).
#[test]
fn every_operation_has_one_route() {
    fn check<G: shared::Group>(function: &str) {
        use shared::http::routes::Operations;
        for op in <G::Op as Operations>::ALL {
            let routes = G::ROUTES.iter().filter(|r| r.op == *op).count();
            assert_eq!(routes, 1, "{function}: {op:?} has {routes} routes");
        }
    }
    check::<auth::Group>("auth");
    check::<password::Group>("password");
    check::<admin::Group>("admin");
    check::<lock::Group>("lock");
    check::<users::Group>("users");
}

/// A catalogue path template with the route tables' placeholder names.
fn as_template(catalogue_path: &str) -> String {
    catalogue_path
        .replace("{u}", "{userID}")
        .replace("{c}", "{credentialID}")
        .replace("{i}", "{intentID}")
        .replace("{p}", "{idpName}")
        .replace("{s}", "{idpUserID}")
}

#[test]
fn the_catalogue_sweeps_exactly_the_functions_routes() {
    let catalogued: BTreeSet<(String, String, String)> = account_api_tests::catalogue::ROUTES
        .iter()
        .map(|(function, method, path, _, _)| {
            (method.to_string(), as_template(path), function.to_string())
        })
        .collect();
    let routed = routed();
    let missing: Vec<_> = routed.difference(&catalogued).collect();
    let extra: Vec<_> = catalogued.difference(&routed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes tests/src/catalogue.rs lacks (the bad-input, property, fault, fuzz and IAM \
         sweeps would skip them): {missing:?}; catalogued but routed nowhere: {extra:?}"
    );
}

#[test]
fn the_test_events_name_each_route_as_its_table_does() {
    // `shared::testing::route_of` gives the functions' own tests the resource API Gateway
    // would match: it must agree with every route table
    for (method, template, function) in routed() {
        let filled = template
            .replace("{userID}", "u")
            .replace("{credentialID}", "AAAA")
            .replace("{intentID}", "iiii")
            .replace("{idpName}", "Okta")
            .replace("{idpUserID}", "s");
        let (resource, _) = shared::testing::route_of(&filled);
        assert_eq!(resource, template, "{method} {filled} ({function})");
    }
}

#[test]
fn every_route_has_a_sample_event() {
    let events = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut sampled = BTreeSet::new();
    for function in std::fs::read_dir(events).unwrap() {
        let function = function.unwrap();
        if !function.file_type().unwrap().is_dir() {
            continue;
        }
        let name = function.file_name().to_string_lossy().to_string();
        for event in std::fs::read_dir(function.path()).unwrap() {
            let text = std::fs::read_to_string(event.unwrap().path()).unwrap();
            let event: serde_json::Value = serde_json::from_str(&text).unwrap();
            if let (Some(method), Some(resource)) =
                (event["httpMethod"].as_str(), event["resource"].as_str())
            {
                sampled.insert((method.to_string(), resource.to_string(), name.clone()));
            }
        }
    }
    let missing: Vec<_> = routed().difference(&sampled).cloned().collect();
    assert!(
        missing.is_empty(),
        "routes without a sample event under events/<function>/ (cargo lambda invoke and the \
         smoke run start from these): {missing:?}"
    );
}
