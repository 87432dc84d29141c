#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The users routes from the sample events in `events/users/`, over in-memory ports: every
//! request without a valid admin token is refused before anything is read or written.

use lambda_http::Body;
use serde_json::Value;
use shared::testing::{InMemoryDirectory, MemUser, app};

#[tokio::test]
async fn requests_without_a_valid_admin_token_are_refused() {
    let cases = [("events-without-token", 401, "unauthenticated")];
    let app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed("x"),
    ));
    for (name, status, slug) in cases {
        let path = format!(
            "{}/../../events/users/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let req = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let resp = app.handle::<users::Group>(req).await;
        let Body::Text(text) = resp.body() else {
            panic!("text body")
        };
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(resp.status().as_u16(), status, "{name}: {body}");
        assert_eq!(body["error"]["type"], format!("/problems/{slug}"), "{name}");
    }
    assert_eq!(app.directory.calls(), 0);
    assert_eq!(app.locks.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(app.audit.actions().is_empty());
}
