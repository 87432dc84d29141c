#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Faults on every route: Cognito, then DynamoDB, refusing connections, hanging past the
//! timeouts, and answering 500. Every route answers 503 (or 429) with `Retry-After` within its
//! budget, and leaves nothing half-done: no lock, no spent attempt, no directory change.
//! The broken dependency is a loopback server (tests/src/loopback.rs); the healthy side is in
//! memory, so each route gets past the healthy port to the broken one. Needs no emulator.

use shared::domain::lock::Locks;
use std::time::{Duration, Instant};

use account_api_tests::{
    catalogue::ROUTES,
    loopback::{Fault, broken_dependency},
    stack::{api_request_with_headers, demo_headers, dispatch},
};
use futures::future::join_all;
use lambda_http::{Body, Response};
use serde_json::Value;
use shared::{
    domain::user_id::UserId,
    testing::{InMemoryDirectory, MemUser, access_token, cognito_app, dynamo_app, tenant},
};

/// Connect and attempt timeouts of the clients here, and the most a failing route may take:
/// the first failing call ends the request (fail closed), but a route may have made calls
/// before it, and a 500 is retried once.
const CONNECT: Duration = Duration::from_millis(200);
const ATTEMPT: Duration = Duration::from_millis(300);
const OPERATION: Duration = Duration::from_millis(900);
const BUDGET: Duration = Duration::from_millis(2500);

const FAULTS: [Fault; 3] = [Fault::Closed, Fault::Hang, Fault::Error500];
const USERS: [&str; 2] = ["demo-user", "boss"];

/// Password recovery needs no DynamoDB, by contract: it stays available to a locked account,
/// lifting a lockout after the reset is best effort (logged when it fails, since the password
/// has changed by then), and an audit entry that cannot be written goes to the error log.
const RECOVERY: [&str; 2] = ["/forgot-password", "/confirm-forgot-password"];

/// The catalogue's requests that answer before any Cognito call: a sign-in with an identity
/// provider starts with a DynamoDB write alone (the pool is asked nothing until the browser
/// comes back), and a callback without a state, or the retrieve of an intent nobody kept, is
/// refused on the kept records alone. Each must still answer without a server error.
const NO_COGNITO_CALL: [&str; 3] = [
    "/idp-intents",
    "/idp-intents/callback",
    "/idp-intents/{i}/retrieve",
];

/// The same for DynamoDB: a callback without a state is refused before anything is read
/// (one with a state is `a_callback_fails_closed_when_dynamodb_fails`, below).
const NO_DYNAMODB_CALL: [&str; 1] = ["/idp-intents/callback"];

async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(shared::https::client().unwrap())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(CONNECT)
                .operation_attempt_timeout(ATTEMPT)
                .operation_timeout(OPERATION)
                .build(),
        )
        .load()
        .await
}

fn directory() -> InMemoryDirectory {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    directory.add("boss", MemUser::confirmed("Boss-Passw0rd!"));
    directory
}

/// The catalogue's request of a route with a valid body; an admin calls the admin routes, the
/// account itself its own (`change-password`).
fn request(method: &str, template: &str, valid: &str, bearer: bool) -> lambda_http::Request {
    let own = template.ends_with("/change-password");
    let token = if own {
        access_token("demo-user", &[], 3600)
    } else {
        access_token("boss", &["admins"], 3600)
    };
    let headers = demo_headers(bearer.then_some(token.as_str()));
    let body: Value = serde_json::from_str(valid).unwrap();
    api_request_with_headers(
        method,
        &account_api_tests::catalogue::fill(template, "demo-user"),
        &body,
        &headers,
    )
}

fn check(what: &str, resp: &Response<Body>, took: Duration) {
    let status = resp.status().as_u16();
    let Body::Text(text) = resp.body() else {
        panic!("{what}: not a text body")
    };
    let body: Value = serde_json::from_str(text).unwrap();
    let slug = body["error"]["type"].as_str().unwrap_or_default();
    assert!(
        matches!(
            (status, slug),
            (503, "/problems/dependency-unavailable") | (429, "/problems/too-many-requests")
        ),
        "{what}: {status} {body}"
    );
    assert!(
        resp.headers().contains_key("retry-after"),
        "{what}: no Retry-After"
    );
    assert!(took < BUDGET, "{what}: took {took:?}, over {BUDGET:?}");
    assert!(
        !text.contains("127.0.0.1"),
        "{what}: the endpoint leaks: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_fails_closed_when_cognito_fails() {
    for fault in FAULTS {
        let sdk = sdk(&broken_dependency(fault)).await;
        let client = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let runs = ROUTES
            .iter()
            .map(|&(function, method, template, valid, bearer)| {
                let client = client.clone();
                async move {
                    let app = cognito_app(client);
                    let started = Instant::now();
                    let resp =
                        dispatch(&app, function, request(method, template, valid, bearer)).await;
                    let what = format!("{fault:?} Cognito: {method} {template}");
                    if NO_COGNITO_CALL.contains(&template) {
                        assert!(resp.status().as_u16() < 500, "{what}: {}", resp.status());
                        return;
                    }
                    check(&what, &resp, started.elapsed());
                    // the lock store is healthy: nothing may be left in it
                    for user in USERS {
                        let state = app
                            .locks
                            .state(&tenant().user_pool_id, &UserId::parse(user).unwrap())
                            .await
                            .unwrap();
                        assert!(state.lock.is_none(), "{what}: a lock was left on {user}");
                        assert_eq!(state.failed_attempts, 0, "{what}: an attempt was spent");
                        assert_eq!(
                            app.locks.attempts(user),
                            0,
                            "{what}: a reservation was kept"
                        );
                    }
                }
            });
        join_all(runs).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_fails_closed_when_dynamodb_fails() {
    for fault in FAULTS {
        let sdk = sdk(&broken_dependency(fault)).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        let runs = ROUTES
            .iter()
            .map(|&(function, method, template, valid, bearer)| {
                let client = client.clone();
                async move {
                    let app = dynamo_app(client, directory());
                    let before = snapshot(&app.directory);
                    let started = Instant::now();
                    let resp =
                        dispatch(&app, function, request(method, template, valid, bearer)).await;
                    let what = format!("{fault:?} DynamoDB: {method} {template}");
                    if RECOVERY.contains(&template) {
                        assert_eq!(resp.status(), 200, "{what}");
                        return;
                    }
                    if NO_DYNAMODB_CALL.contains(&template) {
                        assert_eq!(resp.status(), 400, "{what}");
                        return;
                    }
                    check(&what, &resp, started.elapsed());
                    // the directory is healthy: no password, status or user may have changed
                    assert_eq!(
                        snapshot(&app.directory),
                        before,
                        "{what}: the directory changed"
                    );
                }
            });
        join_all(runs).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_fails_closed_when_dynamodb_fails() {
    // the browser's return names its intent by a state, which only DynamoDB knows
    for fault in FAULTS {
        let sdk = sdk(&broken_dependency(fault)).await;
        let app = dynamo_app(aws_sdk_dynamodb::Client::new(&sdk), directory());
        let state = "A".repeat(43);
        let req = api_request_with_headers(
            "GET",
            &format!("/idp-intents/callback?code=c&state={state}"),
            &Value::Null,
            &[],
        );
        let started = Instant::now();
        let resp = dispatch(&app, "auth", req).await;
        check(
            &format!("{fault:?} DynamoDB: the callback"),
            &resp,
            started.elapsed(),
        );
        assert!(
            resp.headers().get("location").is_none(),
            "{fault:?}: redirected"
        );
    }
}

fn snapshot(d: &InMemoryDirectory) -> Vec<(String, String, bool, &'static str)> {
    let mut users: Vec<_> = d
        .users
        .lock()
        .unwrap()
        .iter()
        .map(|(name, u)| (name.clone(), u.password.clone(), u.enabled, u.status))
        .collect();
    users.sort();
    users
}
