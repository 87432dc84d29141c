//! One fuzz input as one request through the function that serves it, on in-memory ports:
//! whatever a client sends, no panic and no 5xx. Shared by the cargo-fuzz target
//! (`tests/fuzz/fuzz_targets/request.rs`) and the corpus replay that runs with every test run
//! (`tests/tests/fuzz_corpus.rs`).
//!
//! Input layout: byte 0 picks the route (the catalogue's order), byte 1 the caller (bits 0-1:
//! no token, an admin's, the user's own, a garbage token; bit 2: drop a tenant header; bit 3:
//! a text/plain body), then the path's userID up to a 0xFF byte, then the body.

use account_api_tests::{catalogue::ROUTES, stack::dispatch};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::testing::{InMemoryDirectory, MemApp, MemUser, access_token, app, test_verifier};

fn fuzz_app() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    directory.add("boss", MemUser::confirmed("Boss-Passw0rd!"));
    let mut app = app(directory);
    app.tokens = test_verifier(&app.config);
    app.config.forgot_password_floor = std::time::Duration::ZERO;
    app
}

/// The request the input describes, or `None` where API Gateway itself could not have sent
/// it (a path that is no URI).
fn request(data: &[u8]) -> Option<(&'static str, Request)> {
    let (&pick, rest) = data.split_first()?;
    let (&flags, rest) = rest.split_first().unwrap_or((&0, &[]));
    let (function, method, template, _, _) = ROUTES[usize::from(pick) % ROUTES.len()];
    let (user, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let user = if user.is_empty() {
        "demo-user".to_string()
    } else {
        String::from_utf8_lossy(user).into_owned()
    };
    let path = account_api_tests::catalogue::fill(template, &user);
    let (resource, parameters) = account_api_tests::catalogue::gateway_route(template, &user);
    let token = match flags & 0b11 {
        0 => None,
        1 => Some(access_token("boss", &["admins"], 600)),
        2 => Some(access_token("demo-user", &[], 600)),
        _ => Some(String::from_utf8_lossy(body).into_owned()),
    };
    let mut headers = serde_json::Map::new();
    for (k, v) in [
        ("vbasoftware-client-id", "demo"),
        ("vbasoftware-client-code", "DEMO"),
        ("vbasoftware-database", "main"),
    ] {
        headers.insert(k.into(), json!(v));
    }
    if flags & 0b100 != 0 {
        headers.remove("vbasoftware-database");
    }
    let content_type = if flags & 0b1000 != 0 {
        "text/plain"
    } else {
        "application/json"
    };
    headers.insert("content-type".into(), json!(content_type));
    if let Some(t) = token {
        headers.insert("authorization".into(), json!(format!("Bearer {t}")));
    }
    let multi: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    let event = json!({
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": multi,
        "pathParameters": parameters,
        "requestContext": {"requestId": "fuzz", "resourcePath": resource, "httpMethod": method,
                           "path": path, "stage": "fuzz", "identity": {"sourceIp": "127.0.0.1"}},
        "body": null, "isBase64Encoded": false
    });
    let (parts, _) = lambda_http::request::from_str(&event.to_string())
        .ok()?
        .into_parts();
    Some((
        function,
        Request::from_parts(parts, Body::Binary(body.to_vec())),
    ))
}

/// Runs one input; panics on a 5xx, which the fuzzer reports as a finding.
pub fn one_request(data: &[u8]) {
    let Some((function, req)) = request(data) else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let app = fuzz_app();
    let resp = runtime.block_on(dispatch(&app, function, req));
    let status = resp.status().as_u16();
    assert!(
        status < 500,
        "{function} answered {status}: {:?}",
        resp.body()
    );
}
