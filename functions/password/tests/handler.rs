#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! change-password's bearer checks over in-memory ports, with tokens signed by the test key
//! whose public half the verifier is seeded with.

use lambda_http::Request;
use serde_json::Value;
use shared::testing::{
    self as testing, Answer, InMemoryDirectory, MemApp, MemUser, access_token, app, test_verifier,
};

fn seeded_app() -> MemApp {
    let mut app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed("Old-Passw0rd!"),
    ));
    app.tokens = test_verifier(&app.config);
    app
}

fn change(bearer: &str) -> Request {
    testing::with_bearer(testing::sample_event("password", "change-password"), bearer)
}

async fn call(app: &MemApp, req: Request) -> (u16, Value) {
    let a = Answer::from(app.handle::<password::Group>(req).await);
    (a.status, a.body)
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
