#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! change-password's bearer checks over in-memory ports, with tokens signed by the test key
//! whose public half the verifier is seeded with.

use lambda_http::{Body, Request};
use serde_json::Value;
use shared::testing::{InMemoryDirectory, MemApp, MemUser, access_token, app, test_verifier};

fn seeded_app() -> MemApp {
    let mut app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed("Old-Passw0rd!"),
    ));
    app.tokens = test_verifier(&app.config);
    app
}

fn change(bearer: &str) -> Request {
    let text = std::fs::read_to_string(format!(
        "{}/../../events/password/change-password.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let req = lambda_http::request::from_str(&text).unwrap();
    let (mut parts, body) = req.into_parts();
    parts
        .headers
        .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
    Request::from_parts(parts, body)
}

async fn call(app: &MemApp, req: Request) -> (u16, Value) {
    let resp = app.handle::<password::Group>(req).await;
    let Body::Text(text) = resp.body() else {
        panic!("text body")
    };
    (resp.status().as_u16(), serde_json::from_str(text).unwrap())
}

#[tokio::test]
async fn an_expired_or_foreign_token_is_unauthenticated_and_changes_nothing() {
    let app = seeded_app();
    // (a token of another pool or client is pinned in shared::domain::token's tests)
    for (bad, why) in [
        (access_token("demo-user", &[], -120), "expired"),
        ("not-a-token".to_string(), "garbage"),
    ] {
        let (status, body) = call(&app, change(&bad)).await;
        assert_eq!(status, 401, "{why}: {body}");
        assert_eq!(body["error"]["type"], "/problems/unauthenticated", "{why}");
    }
    assert_eq!(app.directory.calls(), 0, "nothing reached the directory");
}
