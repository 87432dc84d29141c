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

/// A request ends itself before Lambda's deadline: a directory slower than the time the
/// invocation has left (less the margin kept for the answer) gives `503` with `Retry-After`
/// in time, instead of Lambda stopping the process and API Gateway answering its own 500.
/// The same request with time enough is answered.
#[tokio::test]
async fn a_request_past_its_deadline_ends_itself_as_unavailable() {
    let mut directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("x"));
    directory.add("boss", MemUser::confirmed("y"));
    directory.latency = std::time::Duration::from_millis(600);
    let app = app(directory);
    let token = access_token("boss", &["admins"], 600);
    let request = |left_ms: u64| {
        let req = testing::api_request(
            "GET",
            "/users/demo-user/lock",
            &Value::Null,
            &testing::demo_headers(Some(&token)),
        );
        let mut context = lambda_http::Context::default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        context.deadline = u64::try_from(now.as_millis()).unwrap() + left_ms;
        lambda_http::RequestExt::with_lambda_context(req, context)
    };
    // 1.2 s left, 1 s kept for the answer: 200 ms for a directory that takes 600
    let started = std::time::Instant::now();
    let a = Answer::from(app.handle::<lock::Group>(request(1_200)).await);
    assert_eq!(
        (a.status, a.slug()),
        (503, "dependency-unavailable"),
        "{}",
        a.body
    );
    assert_eq!(a.retry_after.as_deref(), Some("1"));
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "answered after {:?}",
        started.elapsed()
    );
    // ten seconds left: answered
    let a = Answer::from(app.handle::<lock::Group>(request(10_000)).await);
    assert_eq!(a.status, 200, "{}", a.body);
}
