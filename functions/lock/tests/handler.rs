#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The lock routes from the sample events in `events/lock/`, over in-memory ports: every
//! request without a valid admin token is refused before anything is read or written.

use lambda_http::Body;
use serde_json::Value;
use shared::domain::lock::Locks;
use shared::{
    domain::user_id::UserId,
    testing::{self, Answer},
    testing::{InMemoryDirectory, MemUser, access_token, app, tenant, test_verifier},
};

#[tokio::test]
async fn requests_without_a_valid_admin_token_are_refused() {
    let cases = [
        ("lock-without-token", 401, "unauthenticated"),
        ("lock-with-invalid-token", 401, "unauthenticated"),
        ("unlock-without-token", 401, "unauthenticated"),
        ("get-lock-without-token", 401, "unauthenticated"),
        ("lock-invalid-user-id", 400, "invalid-request"),
    ];
    let app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed("x"),
    ));
    for (name, status, slug) in cases {
        let a = Answer::from(
            app.handle::<lock::Group>(testing::sample_event("lock", name))
                .await,
        );
        assert_eq!(a.status, status, "{name}: {}", a.body);
        assert_eq!(a.slug(), slug, "{name}");
    }
    assert_eq!(app.directory.calls(), 0);
    assert_eq!(app.locks.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(app.audit.actions().is_empty());
}

/// A lock is written before the account's sessions are ended. If the sign-out fails, the
/// answer says so (503), the lock stays (fail closed: a locked account's tokens are refused
/// anyway), and the same request again completes the sign-out.
#[tokio::test]
async fn a_lock_whose_sign_out_failed_is_reported_and_a_retry_completes_it() {
    let directory = InMemoryDirectory::with_user("smoke-user", MemUser::confirmed("x"));
    directory.add("boss", MemUser::confirmed("y"));
    let mut app = app(directory);
    app.tokens = test_verifier(&app.config);
    let event = std::fs::read_to_string(format!(
        "{}/../../events/lock/lock.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace(
        "<admin access token>",
        &access_token("boss", &["admins"], 600),
    );
    let call = || async {
        let resp = app
            .handle::<lock::Group>(lambda_http::request::from_str(&event).unwrap())
            .await;
        let Body::Text(text) = resp.body() else {
            panic!("text body")
        };
        let body: Value = serde_json::from_str(text).unwrap();
        (resp.status().as_u16(), body)
    };
    let locked = || async {
        app.locks
            .state(
                &tenant().user_pool_id,
                &UserId::parse("smoke-user").unwrap(),
            )
            .await
            .unwrap()
            .lock
            .is_some()
    };

    app.directory
        .sign_out_fails
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = call().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["type"], "/problems/dependency-unavailable");
    assert!(locked().await, "the lock stays in place");
    assert_eq!(
        app.audit.actions(),
        vec![("lock".to_string(), "dependency-unavailable".to_string())],
        "the failure is on the audit trail"
    );

    app.directory
        .sign_out_fails
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = call().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["locked"], true);
    assert!(locked().await);
    assert_eq!(
        app.directory
            .sign_outs
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the retry ended the sessions"
    );
}
