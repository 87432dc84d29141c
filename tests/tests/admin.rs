#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: admin account operations and user management, tenant isolation included.

use account_api_tests::stack::{
    Answer, Stack, TenantFixture, api_request, random_password, sign_in, unique,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::AwsApp;

async fn admin_op(app: &AwsApp, t: &TenantFixture, user: &str, op: &str, token: &str) -> Answer {
    let path = format!("/users/{user}/{op}");
    Answer::from(
        app.handle::<admin::Group>(api_request(t, "POST", &path, &Value::Null, Some(token)))
            .await,
    )
}

async fn users(
    app: &AwsApp,
    t: &TenantFixture,
    method: &str,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> Answer {
    Answer::from(
        app.handle::<users::Group>(api_request(t, method, path, &body, token))
            .await,
    )
}

/// `user`'s refresh token was revoked: refused through the API (401 invalid-credentials) and
/// straight at Cognito with the app client's secret, as a caller around the API would send it.
async fn refresh_is_revoked(
    stack: &Stack,
    app: &AwsApp,
    t: &TenantFixture,
    user: &str,
    refresh_token: &str,
) {
    let refresh = api_request(
        t,
        "POST",
        "/user-refresh-tokens",
        &json!({"userID": user, "refreshToken": refresh_token}),
        None,
    );
    let a = Answer::from(app.handle::<auth::Group>(refresh).await);
    assert_eq!(
        (a.status, a.slug()),
        (401, "invalid-credentials"),
        "the refresh token was revoked: {}",
        a.body
    );
    let secret = stack.client_secret(t).await;
    let direct = stack
        .cognito
        .initiate_auth()
        .client_id(&t.app_client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", refresh_token)
        .auth_parameters(
            "SECRET_HASH",
            shared::adapters::cognito::secret_hash(&secret, user, &t.app_client_id),
        )
        .send()
        .await
        .expect_err("a revoked refresh token refreshes nothing at Cognito");
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    assert_eq!(direct.code(), Some("NotAuthorizedException"), "{direct:?}");
}

#[tokio::test]
async fn disable_ends_sessions_and_sign_in_until_enabled() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "sam", &password).await;
    let before = sign_in(&app, &t, "sam", &password).await;
    let refresh_token = before.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();

    for _ in 0..2 {
        let a = admin_op(&app, &t, "sam", "admin-disable", &token).await;
        assert_eq!(a.status, 200, "disable is idempotent: {}", a.body);
        assert_eq!(a.data(), &json!({"userID": "sam", "enabled": false}));
    }
    let a = sign_in(&app, &t, "sam", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-disabled"));
    refresh_is_revoked(&stack, &app, &t, "sam", &refresh_token).await;
    let user = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username("sam")
        .send()
        .await
        .unwrap();
    assert!(!user.enabled());

    let a = admin_op(&app, &t, "sam", "admin-enable", &token).await;
    assert_eq!(a.data(), &json!({"userID": "sam", "enabled": true}));
    assert_eq!(sign_in(&app, &t, "sam", &password).await.status, 200);
}

#[tokio::test]
async fn admin_reset_and_the_resends_check_the_users_state() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let old_password = random_password();
    stack.create_user(&t, "tess", &old_password).await;
    let session = sign_in(&app, &t, "tess", &old_password).await;
    assert_eq!(session.status, 200, "{}", session.body);
    let tokens = &session.data()["authenticationResult"];
    let access = tokens["accessToken"].as_str().unwrap().to_string();
    let read = users(&app, &t, "GET", "/users/tess", Value::Null, Some(&access)).await;
    assert_eq!(read.status, 200, "{}", read.body);

    let a = admin_op(&app, &t, "tess", "admin-reset-password", &token).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.data(),
        &json!({"userID": "tess", "status": "RESET_REQUIRED"})
    );
    // the sessions the account had end with the reset: the bearer token is refused at once,
    // the refresh token revoked
    let stale = users(&app, &t, "GET", "/users/tess", Value::Null, Some(&access)).await;
    assert_eq!(
        (stale.status, stale.slug()),
        (401, "unauthenticated"),
        "{}",
        stale.body
    );
    let refresh_token = tokens["refreshToken"].as_str().unwrap();
    refresh_is_revoked(&stack, &app, &t, "tess", refresh_token).await;
    let item = stack
        .state_item(format!("{}#tess", t.user_pool_id))
        .await
        .expect("the account's item");
    assert!(item.contains_key("sessionsEndedAt"), "{item:?}");
    let user = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username("tess")
        .send()
        .await
        .unwrap();
    assert_eq!(
        user.user_status().map(|s| s.as_str()),
        Some("RESET_REQUIRED")
    );
    // the old password no longer signs in, through the API or straight at Cognito: the user
    // takes the forgot-password flow (the emulator's `reset`, as Cognito documents it)
    let refused = sign_in(&app, &t, "tess", &old_password).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (403, "password-reset-required"),
        "{}",
        refused.body
    );
    let around = stack
        .cognito
        .admin_initiate_auth()
        .user_pool_id(&t.user_pool_id)
        .client_id(&t.app_client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "tess")
        .auth_parameters("PASSWORD", &old_password)
        .send()
        .await
        .expect_err("a reset password signs in nowhere");
    assert!(
        around
            .as_service_error()
            .is_some_and(|e| e.is_password_reset_required_exception()),
        "{around:?}"
    );

    // a confirmed (here: reset) user is in the wrong state for both resends
    for op in ["resend-confirmation-code", "resend-welcome-message"] {
        let a = admin_op(&app, &t, "tess", op, &token).await;
        assert_eq!((a.status, a.slug()), (409, "conflict"), "{op}: {}", a.body);
    }
    for op in [
        "admin-reset-password",
        "admin-disable",
        "admin-enable",
        "resend-confirmation-code",
        "resend-welcome-message",
    ] {
        let a = admin_op(&app, &t, "nobody-here", op, &token).await;
        assert_eq!(
            (a.status, a.slug()),
            (404, "user-not-found"),
            "{op}: {}",
            a.body
        );
    }
}

#[tokio::test]
async fn admin_routes_refuse_non_admins_and_other_tenants() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "uma", &password).await;
    let user_token = stack.sign_in(&t, &app, "uma", &password).await;
    let a = admin_op(&app, &t, "uma", "admin-disable", &user_token).await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"));

    let other = stack.fresh_tenant().await;
    let (_, foreign) = stack.admin_token(&other, &app).await;
    let a = admin_op(&app, &t, "uma", "admin-disable", &foreign).await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));
    let a = Answer::from(
        app.handle::<admin::Group>(api_request(
            &t,
            "POST",
            "/users/uma/admin-disable",
            &Value::Null,
            None,
        ))
        .await,
    );
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));
    assert_eq!(
        sign_in(&app, &t, "uma", &password).await.status,
        200,
        "uma is still enabled"
    );
}

#[tokio::test]
async fn tenant_isolation_holds_for_users_of_another_tenant() {
    let stack = Stack::connect().await;
    let a_tenant = stack.fresh_tenant().await;
    let b_tenant = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, a_admin) = stack.admin_token(&a_tenant, &app).await;
    let (_, b_admin) = stack.admin_token(&b_tenant, &app).await;
    let password = random_password();
    stack.create_user(&b_tenant, "only-in-b", &password).await;

    for op in ["admin-disable", "admin-reset-password"] {
        let a = admin_op(&app, &a_tenant, "only-in-b", op, &a_admin).await;
        assert_eq!((a.status, a.slug()), (404, "user-not-found"), "{op}");
    }
    let a = users(
        &app,
        &a_tenant,
        "DELETE",
        "/users/only-in-b",
        Value::Null,
        Some(&a_admin),
    )
    .await;
    assert_eq!((a.status, a.slug()), (404, "user-not-found"));
    let a = users(
        &app,
        &a_tenant,
        "GET",
        "/users/only-in-b",
        Value::Null,
        Some(&b_admin),
    )
    .await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));
    assert_eq!(
        sign_in(&app, &b_tenant, "only-in-b", &password)
            .await
            .status,
        200,
        "B's user is untouched"
    );
}

#[tokio::test]
async fn users_are_created_read_updated_and_deleted() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let temporary = random_password();
    let create = json!({
        "userID": "Vera", "email": "vera@example.com", "emailVerified": true,
        "phoneNumber": "+14155550100", "givenName": "Vera", "familyName": "Ng",
        "temporaryPassword": temporary, "sendWelcomeMessage": false
    });
    let a = users(&app, &t, "POST", "/users", create.clone(), Some(&token)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let u = a.data();
    assert_eq!(u["userID"], "vera");
    assert_eq!(u["state"], "INITIAL");
    assert_eq!(u["status"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(u["email"], "vera@example.com");
    assert_eq!(u["emailVerified"], true);
    assert_eq!(u["locked"], false);
    assert!(u["sub"].as_str().is_some());
    let a = users(&app, &t, "POST", "/users", create, Some(&token)).await;
    assert_eq!((a.status, a.slug()), (409, "conflict"));
    assert_eq!(
        sign_in(&app, &t, "vera", &temporary).await.data()["challengeName"],
        "NEW_PASSWORD_REQUIRED"
    );

    // an import: a permanent password, signs in at once
    let password = random_password();
    let a = users(
        &app,
        &t,
        "POST",
        "/users",
        json!({"userID": "walt", "email": "walt@example.com", "password": password}),
        Some(&token),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.data()["state"], "ACTIVE");
    assert_eq!(sign_in(&app, &t, "walt", &password).await.status, 200);

    // refused before anything is created
    for bad in [
        json!({"userID": "xena", "password": "weak"}),
        json!({"userID": "xena", "email": "not-an-email"}),
        json!({"userID": "xena", "phoneNumber": "555-0100"}),
        json!({"userID": "xena", "password": random_password(), "temporaryPassword": random_password()}),
        json!({"userID": "xena", "role": "admin"}),
    ] {
        let a = users(&app, &t, "POST", "/users", bad.clone(), Some(&token)).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
    }
    let a = users(&app, &t, "GET", "/users/xena", Value::Null, Some(&token)).await;
    assert_eq!((a.status, a.slug()), (404, "user-not-found"));

    // read: admin, self; not another user
    let walt_token = stack.sign_in(&t, &app, "walt", &password).await;
    assert_eq!(
        users(
            &app,
            &t,
            "GET",
            "/users/walt",
            Value::Null,
            Some(&walt_token)
        )
        .await
        .status,
        200
    );
    let a = users(
        &app,
        &t,
        "GET",
        "/users/vera",
        Value::Null,
        Some(&walt_token),
    )
    .await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"));

    // update
    let a = users(
        &app,
        &t,
        "PATCH",
        "/users/vera",
        json!({"givenName": "Veronica", "locale": "en-GB"}),
        Some(&token),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["givenName"], "Veronica");
    assert_eq!(a.data()["locale"], "en-GB");
    assert_eq!(a.data()["familyName"], "Ng");
    let a = users(&app, &t, "PATCH", "/users/vera", json!({}), Some(&token)).await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"));
    let a = users(
        &app,
        &t,
        "PATCH",
        "/users/nobody-here",
        json!({"name": "x"}),
        Some(&token),
    )
    .await;
    assert_eq!((a.status, a.slug()), (404, "user-not-found"));
    let a = users(
        &app,
        &t,
        "PATCH",
        "/users/vera",
        json!({"givenName": "V"}),
        Some(&walt_token),
    )
    .await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"));

    // a lock shows on the user
    stack.put_lock(&t, "vera", "admin", None).await;
    let a = users(&app, &t, "GET", "/users/vera", Value::Null, Some(&token)).await;
    assert_eq!(
        (a.data()["locked"].clone(), a.data()["state"].clone()),
        (json!(true), json!("LOCKED"))
    );

    // delete: the user, the lock item go; the audit trail stays
    let a = users(&app, &t, "DELETE", "/users/vera", Value::Null, Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data(), &json!({"userID": "vera", "deleted": true}));
    assert_eq!(
        users(&app, &t, "GET", "/users/vera", Value::Null, Some(&token))
            .await
            .status,
        404
    );
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.config.account_state_table)
        .key("pk", AttributeValue::S(format!("{}#vera", t.user_pool_id)))
        .send()
        .await
        .unwrap();
    assert!(item.item().is_none(), "the lock item went with the user");
    let a = users(
        &app,
        &t,
        "GET",
        "/users/vera/events",
        Value::Null,
        Some(&token),
    )
    .await;
    // refused calls are on the trail too, with the slug they got
    let outcomes: Vec<(&str, &str)> = a.data()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("delete-user", "success"),
            ("update-user", "invalid-request"),
            ("update-user", "success"),
            ("user-authentication", "success"),
            ("create-user", "conflict"),
            ("create-user", "success"),
        ],
        "{}",
        a.body
    );
}

#[tokio::test]
async fn listing_130_users_fifty_at_a_time_returns_each_once() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (admin, token) = stack.admin_token(&t, &app).await;
    let mut expected: Vec<String> = vec![admin];
    let creates = (0..129).map(|i| {
        let name = format!("member-{i:03}");
        expected.push(name.clone());
        let stack = &stack;
        let t = &t;
        async move {
            stack
                .create_user_with_temporary_password(t, &name, &random_password())
                .await
        }
    });
    futures::future::join_all(creates).await;

    let mut seen: Vec<String> = vec![];
    let mut token_param: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &token_param {
            Some(p) => format!("/users?limit=50&paginationToken={}", urlencode(p)),
            None => "/users?limit=50".to_string(),
        };
        let a = users(&app, &t, "GET", &path, Value::Null, Some(&token)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        pages += 1;
        let page = a.data()["users"].as_array().unwrap();
        assert!(page.len() <= 50);
        seen.extend(
            page.iter()
                .map(|u| u["userID"].as_str().unwrap().to_string()),
        );
        match a.data()["paginationToken"].as_str() {
            Some(p) => token_param = Some(p.to_string()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected, "each user exactly once");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn list_filters_are_checked_and_applied() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let prefix = unique("f").replace('-', "");
    stack
        .create_user(&t, &format!("{prefix}-one"), &random_password())
        .await;
    stack
        .create_user_with_temporary_password(&t, &format!("{prefix}-two"), &random_password())
        .await;

    let a = users(
        &app,
        &t,
        "GET",
        &format!("/users?userIDPrefix={prefix}"),
        Value::Null,
        Some(&token),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["users"].as_array().unwrap().len(), 2);
    let a = users(
        &app,
        &t,
        "GET",
        "/users?status=FORCE_CHANGE_PASSWORD",
        Value::Null,
        Some(&token),
    )
    .await;
    let names: Vec<&str> = a.data()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userID"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![format!("{prefix}-two").as_str()]);
    let a = users(
        &app,
        &t,
        "GET",
        &format!("/users?email={prefix}-one@example.com"),
        Value::Null,
        Some(&token),
    )
    .await;
    assert_eq!(a.data()["users"].as_array().unwrap().len(), 1, "{}", a.body);

    for bad in [
        "/users?limit=0",
        "/users?limit=61",
        "/users?status=HAPPY",
        "/users?email=a@b.c&status=CONFIRMED",
        "/users?emailPrefix=\"x",
        "/users?paginationToken=bm90LWEtdG9rZW4",
    ] {
        let a = users(&app, &t, "GET", bad, Value::Null, Some(&token)).await;
        assert_eq!(
            (a.status, a.slug()),
            (400, "invalid-request"),
            "{bad}: {}",
            a.body
        );
    }
}

/// Every admin route, with a body it would accept.
fn admin_routes() -> Vec<(&'static str, String, Value)> {
    vec![
        (
            "POST",
            "/users/target/admin-reset-password".into(),
            Value::Null,
        ),
        ("POST", "/users/target/admin-disable".into(), Value::Null),
        ("POST", "/users/target/admin-enable".into(), Value::Null),
        (
            "POST",
            "/users/target/resend-confirmation-code".into(),
            Value::Null,
        ),
        (
            "POST",
            "/users/target/resend-welcome-message".into(),
            Value::Null,
        ),
        ("PUT", "/users/target/lock".into(), json!({"reason": "x"})),
        ("PUT", "/users/target/unlock".into(), Value::Null),
        ("GET", "/users/target/lock".into(), Value::Null),
        ("GET", "/users/target/events".into(), Value::Null),
        ("POST", "/users".into(), json!({"userID": "someone-new"})),
        ("GET", "/users".into(), Value::Null),
        ("PATCH", "/users/target".into(), json!({"givenName": "T"})),
        ("DELETE", "/users/target".into(), Value::Null),
    ]
}

async fn any_function(app: &AwsApp, req: lambda_http::Request, path: &str) -> Answer {
    let resp = if path.ends_with("/lock") || path.ends_with("/unlock") {
        app.handle::<lock::Group>(req).await
    } else if path.contains("/admin-") || path.contains("/resend-") {
        app.handle::<admin::Group>(req).await
    } else {
        app.handle::<users::Group>(req).await
    };
    Answer::from(resp)
}

#[tokio::test]
async fn every_admin_route_refuses_a_user_token_and_another_tenants_admin() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let other = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "target", &password).await;
    let user_token = stack.sign_in(&t, &app, "target", &password).await;
    let (_, foreign_admin) = stack.admin_token(&other, &app).await;
    for (method, path, body) in admin_routes() {
        let a = any_function(
            &app,
            api_request(&t, method, &path, &body, Some(&user_token)),
            &path,
        )
        .await;
        assert_eq!(
            (a.status, a.slug()),
            (403, "forbidden"),
            "{method} {path} with a user's token"
        );
        let a = any_function(
            &app,
            api_request(&t, method, &path, &body, Some(&foreign_admin)),
            &path,
        )
        .await;
        assert_eq!(
            (a.status, a.slug()),
            (401, "unauthenticated"),
            "{method} {path} with another tenant's admin"
        );
        let a = any_function(&app, api_request(&t, method, &path, &body, None), &path).await;
        assert_eq!(
            (a.status, a.slug()),
            (401, "unauthenticated"),
            "{method} {path} without a token"
        );
    }
    // nothing happened to the target, and no one was created
    let user = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username("target")
        .send()
        .await
        .unwrap();
    assert!(user.enabled());
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
    assert_eq!(sign_in(&app, &t, "target", &password).await.status, 200);
    let created = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username("someone-new")
        .send()
        .await;
    assert!(created.is_err());
}
