#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end on the local stack: the auth function with its production wiring (Cognito and
//! DynamoDB adapters) against the emulator, driven by API Gateway-shaped requests.

use account_api_tests::stack::{
    Answer, Stack, api_request, api_request_with_headers, random_password, sign_in, tenant_headers,
    unique,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

async fn post(app: &shared::AwsApp, req: lambda_http::Request) -> Answer {
    Answer::from(app.handle::<auth::Group>(req).await)
}

#[tokio::test]
async fn an_admin_signs_in_and_gets_tokens_with_a_matching_activity_id() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&t, "admin", &password).await;
    let app = stack.app().await;

    let a = sign_in(&app, &t, "admin", &password).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let tokens = &a.data()["authenticationResult"];
    assert!(tokens["accessToken"].as_str().is_some_and(|s| s.len() > 20));
    assert!(tokens["refreshToken"].as_str().is_some());
    assert_eq!(tokens["tokenType"], "Bearer");
    assert_eq!(a.body["error"], serde_json::Value::Null);
    assert!(!a.activity_id.is_empty());
    assert_eq!(a.body["debug"]["activityID"], a.activity_id.as_str());

    // the access token is a real token of the tenant's pool: the verifier accepts it
    let tenant = app
        .tenants
        .resolve(&shared::domain::tenant::TenantKey {
            client_id: t.client_id.clone(),
            client_code: t.client_code.clone(),
            database: t.database.clone(),
        })
        .await
        .unwrap();
    let caller = app
        .tokens
        .verify_access(&tenant, tokens["accessToken"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(caller.username, "admin");
}

#[tokio::test]
async fn the_temporary_password_flow_ends_with_tokens_that_refresh() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let temporary = random_password();
    stack
        .create_user_with_temporary_password(&t, "newcomer", &temporary)
        .await;
    let app = stack.app().await;

    let a = sign_in(&app, &t, "newcomer", &temporary).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["challengeName"], "NEW_PASSWORD_REQUIRED");
    assert_eq!(a.data()["authenticationResult"], serde_json::Value::Null);
    let session = a.data()["session"].as_str().unwrap().to_string();

    // a password that breaks the pool's policy is refused with the rule, before Cognito sees it
    let weak = post(
        &app,
        api_request(
            &t,
            "POST",
            "/change-temporary-password",
            &json!({"userID": "newcomer", "newPassword": "alllowercase1", "session": session}),
            None,
        ),
    )
    .await;
    assert_eq!((weak.status, weak.slug()), (400, "invalid-password"));
    assert!(
        weak.body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("upper-case")
    );

    let permanent = random_password();
    let a = post(
        &app,
        api_request(
            &t,
            "POST",
            "/change-temporary-password",
            &json!({"userID": "newcomer", "newPassword": permanent, "session": session}),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let refresh_token = a.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let first_access = a.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();

    // Cognito now holds the new password: the temporary one no longer works, the new one does
    let user = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username("newcomer")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
    let old = sign_in(&app, &t, "newcomer", &temporary).await;
    assert_eq!((old.status, old.slug()), (401, "invalid-credentials"));

    let r = post(
        &app,
        api_request(
            &t,
            "POST",
            "/user-refresh-tokens",
            &json!({"userID": "newcomer", "refreshToken": refresh_token}),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new_access = r.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap();
    assert!(new_access.len() > 20);
    assert_ne!(new_access, first_access);
}

#[tokio::test]
async fn a_garbage_refresh_token_is_invalid_credentials() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack.create_user(&t, "someone", &random_password()).await;
    let app = stack.app().await;
    let a = post(
        &app,
        api_request(
            &t,
            "POST",
            "/user-refresh-tokens",
            &json!({"userID": "someone", "refreshToken": "garbage.token.value"}),
            None,
        ),
    )
    .await;
    assert_eq!(
        (a.status, a.slug()),
        (401, "invalid-credentials"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_forged_session_is_invalid_credentials() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .create_user_with_temporary_password(&t, "someone", &random_password())
        .await;
    let app = stack.app().await;
    let a = post(&app, api_request(&t, "POST", "/change-temporary-password", &json!({"userID": "someone", "newPassword": random_password(), "session": "x".repeat(64)}), None)).await;
    assert_eq!(
        (a.status, a.slug()),
        (401, "invalid-credentials"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack.create_user(&t, "known", &random_password()).await;
    let app = stack.app().await;
    let mut wrong = sign_in(&app, &t, "known", "Wrong-Passw0rd").await;
    let mut unknown = sign_in(&app, &t, "unknown", "Wrong-Passw0rd").await;
    assert_eq!((wrong.status, wrong.slug()), (401, "invalid-credentials"));
    assert_eq!(wrong.status, unknown.status);
    assert_ne!(wrong.activity_id, unknown.activity_id);
    // the same body apart from the activity id (in `debug` and in the problem's `instance`)
    for a in [&mut wrong, &mut unknown] {
        a.body["debug"] = serde_json::Value::Null;
        a.body["error"]["instance"] = serde_json::Value::Null;
    }
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn user_ids_are_case_insensitive() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&t, "mixed.case", &password).await;
    let app = stack.app().await;
    let a = sign_in(&app, &t, "Mixed.CASE", &password).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

/// A disabled user signs in with the right password, on a tenant that hides account state or not.
async fn disabled_sign_in(hide_account_state: bool) -> Answer {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    if hide_account_state {
        stack
            .set_tenant_attribute(&t, "hideAccountState", AttributeValue::Bool(true))
            .await;
    }
    let password = random_password();
    stack.create_user(&t, "gone", &password).await;
    stack.disable_user(&t, "gone").await;
    let app = stack.app().await;
    sign_in(&app, &t, "gone", &password).await
}

#[tokio::test]
async fn a_disabled_user_gets_account_disabled() {
    let a = disabled_sign_in(false).await;
    assert_eq!(
        (a.status, a.slug()),
        (403, "account-disabled"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_tenant_that_hides_account_state_answers_invalid_credentials() {
    let a = disabled_sign_in(true).await;
    assert_eq!(
        (a.status, a.slug()),
        (401, "invalid-credentials"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_locked_user_is_refused_even_with_the_right_password_and_an_expired_lock_is_none() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&t, "locked", &password).await;
    let app = stack.app().await;
    let sign_in = || {
        api_request(
            &t,
            "POST",
            "/user-authentication",
            &json!({"userID": "locked", "password": password}),
            None,
        )
    };

    stack.put_lock(&t, "locked", "admin", None).await;
    let a = post(&app, sign_in()).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"), "{}", a.body);

    stack
        .put_lock(&t, "locked", "lockout-policy", Some(1))
        .await;
    let a = post(&app, sign_in()).await;
    assert_eq!(a.status, 200, "an expired lock is no lock: {}", a.body);
}

#[tokio::test]
async fn headers_and_bodies_are_checked_before_anything_else() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let body = json!({"userID": "someone", "password": "Some-Passw0rd"});

    let mut headers = tenant_headers(&t, None);
    headers.retain(|(k, _)| k != "vbasoftware-client-code");
    let a = post(
        &app,
        api_request_with_headers("POST", "/user-authentication", &body, &headers),
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "missing-header"));
    assert!(
        a.body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("vbasoftware-client-code")
    );

    let mut headers = tenant_headers(&t, None);
    headers[0].1 = unique("nobody");
    let a = post(
        &app,
        api_request_with_headers("POST", "/user-authentication", &body, &headers),
    )
    .await;
    assert_eq!((a.status, a.slug()), (401, "invalid-tenant"));

    for bad in [
        json!({"userID": "someone", "password": 12}),
        json!({"userID": "a/b", "password": "x"}),
        json!({"userID": "a".repeat(129), "password": "x"}),
        json!({"userID": "someone"}),
    ] {
        let a = post(
            &app,
            api_request(&t, "POST", "/user-authentication", &bad, None),
        )
        .await;
        assert_eq!((a.status, a.slug()), (400, "invalid-request"), "{bad}");
    }
    let big = json!({"userID": "someone", "password": "p".repeat(17 * 1024)});
    let a = post(
        &app,
        api_request(&t, "POST", "/user-authentication", &big, None),
    )
    .await;
    assert_eq!((a.status, a.slug()), (413, "payload-too-large"));
}

#[tokio::test]
async fn an_unreachable_lock_table_fails_sign_in_closed_with_503() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&t, "someone", &password).await;
    let real = stack.app().await;
    // the lock store's DynamoDB is a closed port; everything else is the emulator
    let mut config = stack.config.clone();
    config.connect_timeout = std::time::Duration::from_millis(300);
    let sdk = shared::aws::sdk_config(&config).expect("the SDK configuration");
    let closed = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let app = shared::App {
        locks: shared::adapters::dynamodb::DynamoLocks::new(closed, &config.account_state_table),
        ..real
    };
    let started = std::time::Instant::now();
    let a = sign_in(&app, &t, "someone", &password).await;
    assert_eq!(
        (a.status, a.slug()),
        (503, "dependency-unavailable"),
        "{}",
        a.body
    );
    assert!(a.retry_after.is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
