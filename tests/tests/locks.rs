#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: admin locks, the lockout policy, the Pre Authentication trigger and the audit
//! trail, on the emulator's Cognito and DynamoDB.

use account_api_tests::stack::{
    Answer, Stack, TenantFixture, api_request, call, random_password, sign_in, trigger_event,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::{
    App, AwsApp,
    adapters::dynamodb::{DynamoAudit, DynamoLocks},
};

#[tokio::test]
async fn an_admin_lock_refuses_sign_in_and_refresh_until_unlocked() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (admin, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "carol", &password).await;

    let before = sign_in(&app, &t, "carol", &password).await;
    assert_eq!(before.status, 200);
    let refresh_token = before.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();

    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/carol/lock",
        json!({"reason": "fraud review"}),
        &token,
    )
    .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let state = locked.data();
    assert_eq!(state["locked"], true);
    assert_eq!(state["source"], "admin");
    assert_eq!(state["reason"], "fraud review");
    assert_eq!(state["lockedUntil"], Value::Null);
    let admin_sub = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username(&admin)
        .send()
        .await
        .unwrap()
        .user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value().map(str::to_string))
        .unwrap();
    assert_eq!(state["lockedBy"], admin_sub.as_str());

    // locking again is idempotent: the same lock comes back unchanged
    let again = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/carol/lock",
        json!({"reason": "fraud review"}),
        &token,
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.data()["reason"], "fraud review");
    assert_eq!(again.data()["lockedAt"], state["lockedAt"]);
    // another reason updates the lock (an_admin_lock_replaces_a_lockout_… covers the rest)
    let updated = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/carol/lock",
        json!({"reason": "something else"}),
        &token,
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.data()["reason"], "something else");

    let refused = sign_in(&app, &t, "carol", &password).await;
    assert_eq!((refused.status, refused.slug()), (403, "account-locked"));
    let refresh = |token: String| {
        api_request(
            &t,
            "POST",
            "/user-refresh-tokens",
            &json!({"userID": "carol", "refreshToken": token}),
            None,
        )
    };
    // the lock revoked the refresh token (AdminUserGlobalSignOut): Cognito refuses it
    let r = Answer::from(
        app.handle::<auth::Group>(refresh(refresh_token.clone()))
            .await,
    );
    assert_eq!((r.status, r.slug()), (401, "invalid-credentials"));
    // a refresh token that is still live (a lock whose sign-out has not happened yet) is
    // refused by the lock of the account it belongs to, and no tokens come back
    let carl = random_password();
    stack.create_user(&t, "carl", &carl).await;
    let live =
        sign_in(&app, &t, "carl", &carl).await.data()["authenticationResult"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
    stack.put_lock(&t, "carl", "admin", None).await;
    let r = Answer::from(
        app.handle::<auth::Group>(api_request(
            &t,
            "POST",
            "/user-refresh-tokens",
            &json!({"userID": "carl", "refreshToken": live}),
            None,
        ))
        .await,
    );
    assert_eq!((r.status, r.slug()), (403, "account-locked"), "{}", r.body);
    assert!(r.data().is_null());

    let got = call::<lock::Group>(&app, &t, "GET", "/users/carol/lock", Value::Null, &token).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.data(), updated.data());

    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/carol/unlock", Value::Null, &token).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(unlocked.data()["locked"], false);
    assert_eq!(unlocked.data()["failedAttempts"], 0);
    // unlocking twice is fine
    assert_eq!(
        call::<lock::Group>(&app, &t, "PUT", "/users/carol/unlock", Value::Null, &token)
            .await
            .status,
        200
    );

    assert_eq!(sign_in(&app, &t, "carol", &password).await.status, 200);
    // the refresh token issued before the lock was revoked by it, and stays revoked
    let r = Answer::from(app.handle::<auth::Group>(refresh(refresh_token)).await);
    assert_eq!(
        (r.status, r.slug()),
        (401, "invalid-credentials"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn lock_routes_are_for_admins_of_the_tenant_only() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "dave", &password).await;
    let user_token = stack.sign_in(&t, &app, "dave", &password).await;
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/dave/lock",
        Value::Null,
        &user_token,
    )
    .await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"));
    let a = Answer::from(
        app.handle::<lock::Group>(api_request(
            &t,
            "PUT",
            "/users/dave/lock",
            &Value::Null,
            None,
        ))
        .await,
    );
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));

    // an admin of another tenant's pool, with this tenant's headers
    let other = stack.fresh_tenant().await;
    let (_, foreign_token) = stack.admin_token(&other, &app).await;
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/dave/lock",
        Value::Null,
        &foreign_token,
    )
    .await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));
    assert_eq!(
        sign_in(&app, &t, "dave", &password).await.status,
        200,
        "dave was not locked"
    );

    let (_, token) = stack.admin_token(&t, &app).await;
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/nobody-here/lock",
        Value::Null,
        &token,
    )
    .await;
    assert_eq!((a.status, a.slug()), (404, "user-not-found"));
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/dave/lock",
        json!({"lockedUntil": "2001-01-01T00:00:00Z"}),
        &token,
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"));
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/dave/lock",
        json!({"until": "tomorrow"}),
        &token,
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"));
}

#[tokio::test]
async fn a_locked_or_signed_out_admin_cannot_act() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (admin, token) = stack.admin_token(&t, &app).await;
    stack.create_user(&t, "erin", &random_password()).await;
    stack.put_lock(&t, &admin, "admin", None).await;
    let a = call::<lock::Group>(&app, &t, "PUT", "/users/erin/lock", Value::Null, &token).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"));

    let (admin2, token2) = stack.admin_token(&t, &app).await;
    stack.disable_user(&t, &admin2).await;
    let a = call::<lock::Group>(&app, &t, "PUT", "/users/erin/lock", Value::Null, &token2).await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));
}

async fn set_policy(stack: &Stack, t: &TenantFixture, max: u32, seconds: u64) {
    stack
        .set_tenant_attribute(t, "maxPasswordAttempts", AttributeValue::N(max.to_string()))
        .await;
    stack
        .set_tenant_attribute(
            t,
            "lockoutDurationSeconds",
            AttributeValue::N(seconds.to_string()),
        )
        .await;
}

/// A fresh tenant whose policy locks after 5 wrong passwords for 2 seconds, the app, an
/// admin's token, and `user` with the password returned.
async fn with_lockout_policy(user: &str) -> (Stack, TenantFixture, AwsApp, String, String) {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    set_policy(&stack, &t, 5, 2).await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, user, &password).await;
    (stack, t, app, token, password)
}

#[tokio::test]
async fn five_wrong_passwords_lock_until_the_lockout_ends() {
    let (_stack, t, app, token, password) = with_lockout_policy("frank").await;
    for i in 1..=5 {
        let a = sign_in(&app, &t, "frank", "Wrong-Passw0rd-x").await;
        assert_eq!(
            (a.status, a.slug()),
            (401, "invalid-credentials"),
            "attempt {i}"
        );
    }
    let a = sign_in(&app, &t, "frank", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"));
    let state =
        call::<lock::Group>(&app, &t, "GET", "/users/frank/lock", Value::Null, &token).await;
    assert_eq!(state.data()["source"], "lockout-policy");
    assert_eq!(state.data()["lockedBy"], "system");
    assert_eq!(state.data()["failedAttempts"], 5);
    assert!(state.data()["lockedUntil"].as_str().is_some());

    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let state =
        call::<lock::Group>(&app, &t, "GET", "/users/frank/lock", Value::Null, &token).await;
    assert_eq!(state.data()["locked"], false);
    assert_eq!(state.data()["failedAttempts"], 0);
    let a = sign_in(&app, &t, "frank", &password).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let state =
        call::<lock::Group>(&app, &t, "GET", "/users/frank/lock", Value::Null, &token).await;
    assert_eq!(state.data()["failedAttempts"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_wrong_passwords_check_at_most_five() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    set_policy(&stack, &t, 5, 900).await;
    let password = random_password();
    stack.create_user(&t, "grace", &password).await;
    let (app, probe) = stack.probed_app().await;
    let app = std::sync::Arc::new(app);
    let attempts = (0..40).map(|_| {
        let app = app.clone();
        let req = api_request(
            &t,
            "POST",
            "/user-authentication",
            &json!({"userID": "grace", "password": "Wrong-Passw0rd-y"}),
            None,
        );
        tokio::spawn(async move { Answer::from(app.as_ref().handle::<auth::Group>(req).await) })
    });
    let answers: Vec<Answer> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let checks = probe.calls("InitiateAuth");
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.config.account_state_table)
        .key("pk", AttributeValue::S(format!("{}#grace", t.user_pool_id)))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(
        checks <= 5,
        "{checks} wrong passwords reached Cognito; statuses {:?}; item {:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>(),
        item.item()
    );
    assert!(checks >= 1, "{probe:?}");
    for a in &answers {
        assert!(
            matches!(
                (a.status, a.slug()),
                (401, "invalid-credentials") | (403, "account-locked") | (429, "too-many-requests")
            ),
            "{} {}",
            a.status,
            a.body
        );
    }
    // each check that reached Cognito was refused: a wrong password (401), or, once the lock
    // landed while it was in flight, by the pool's Pre Authentication trigger (403)
    let wrong = answers.iter().filter(|a| a.status == 401).count();
    let locked = answers.iter().filter(|a| a.status == 403).count();
    assert!(
        wrong <= checks && checks - wrong <= locked,
        "{checks} checks, {wrong} wrong passwords, {locked} locked"
    );
    let a = Answer::from(
        app.as_ref()
            .handle::<auth::Group>(api_request(
                &t,
                "POST",
                "/user-authentication",
                &json!({"userID": "grace", "password": password}),
                None,
            ))
            .await,
    );
    assert_eq!((a.status, a.slug()), (403, "account-locked"), "{}", a.body);
}

#[tokio::test]
async fn an_unreachable_dynamodb_fails_sign_in_closed_and_checks_no_password() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&t, "heidi", &password).await;
    let (counting, probe) = stack.probed_app().await;
    let mut config = stack.config.clone();
    config.connect_timeout = std::time::Duration::from_millis(300);
    let sdk = shared::aws::sdk_config(&config).expect("the SDK configuration");
    let closed = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );

    // the tenant resolves from the emulator; the account state and audit tables are unreachable
    let app = App {
        locks: DynamoLocks::new(closed.clone(), &config.account_state_table),
        audit: DynamoAudit::new(closed, &config.audit_table, config.audit_retention),
        ..counting
    };
    let a = Answer::from(
        app.handle::<auth::Group>(api_request(
            &t,
            "POST",
            "/user-authentication",
            &json!({"userID": "heidi", "password": password}),
            None,
        ))
        .await,
    );
    assert_eq!(
        (a.status, a.slug()),
        (503, "dependency-unavailable"),
        "{}",
        a.body
    );
    assert_eq!(probe.calls("InitiateAuth"), 0);
    // nothing was written: the account has no state item
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.config.account_state_table)
        .key("pk", AttributeValue::S(format!("{}#heidi", t.user_pool_id)))
        .send()
        .await
        .unwrap();
    assert!(item.item().is_none());
}

#[tokio::test]
async fn the_trigger_refuses_a_locked_user_and_fails_closed() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack.ensure_tables().await;
    let event = |user: &str| trigger_event(&t, user);
    let locks = DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table);
    assert!(
        pre_authentication::handle(&locks, event("ivan"))
            .await
            .is_ok()
    );
    stack.put_lock(&t, "ivan", "admin", None).await;
    assert!(matches!(
        pre_authentication::handle(&locks, event("Ivan")).await,
        Err(pre_authentication::Refusal::Locked)
    ));

    let sdk = shared::aws::sdk_config(&stack.config).expect("the SDK configuration");
    let closed = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let unreachable = DynamoLocks::new(closed, &stack.config.account_state_table);
    assert!(matches!(
        pre_authentication::handle(&unreachable, event("judy")).await,
        Err(pre_authentication::Refusal::Unavailable)
    ));
}

/// A sign-in straight to Cognito, as the hosted UI or an SDK would make one: the pool's Pre
/// Authentication trigger (the `pre-authentication` function, served by the local stack and
/// invoked by the emulator as Cognito invokes it) refuses a locked user.
#[tokio::test]
async fn a_sign_in_that_bypasses_the_api_is_refused_by_the_pools_trigger() {
    assert!(
        std::env::var_os("LAMBDA_ENDPOINT_URL").is_some(),
        "the test command serves the pools' triggers (LAMBDA_ENDPOINT_URL); run it through infra/local/test.sh"
    );
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&t, "mallory", &password).await;
    let secret = stack.client_secret(&t).await;
    let direct = |user: &'static str| {
        let hash = shared::adapters::cognito::secret_hash(&secret, user, &t.app_client_id);
        stack
            .cognito
            .initiate_auth()
            .client_id(&t.app_client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", &password)
            .auth_parameters("SECRET_HASH", hash)
            .send()
    };
    let admin_direct = || {
        let hash = shared::adapters::cognito::secret_hash(&secret, "mallory", &t.app_client_id);
        stack
            .cognito
            .admin_initiate_auth()
            .user_pool_id(&t.user_pool_id)
            .client_id(&t.app_client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "mallory")
            .auth_parameters("PASSWORD", &password)
            .auth_parameters("SECRET_HASH", hash)
            .send()
    };
    let refused = |e: aws_sdk_cognitoidentityprovider::Error| {
        let aws_sdk_cognitoidentityprovider::Error::UserLambdaValidationException(v) = e else {
            panic!("expected the trigger's refusal, got {e:?}");
        };
        assert_eq!(
            v.message(),
            Some("PreAuthentication failed with error account locked.")
        );
    };
    let tokens = direct("mallory").await.expect("unlocked: a direct sign-in");
    assert!(tokens.authentication_result().is_some());

    stack.put_lock(&t, "mallory", "admin", None).await;
    refused(direct("mallory").await.expect_err("locked: refused").into());
    refused(
        admin_direct()
            .await
            .expect_err("locked: AdminInitiateAuth refused")
            .into(),
    );

    // a lock whose time has passed holds no more, as in the API
    stack
        .put_lock(&t, "mallory", "lockout-policy", Some(1))
        .await;
    assert!(direct("mallory").await.is_ok(), "an expired lock");
    // and an unlock through the API lets the user in again
    stack.put_lock(&t, "mallory", "admin", None).await;
    let app = stack.app().await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/mallory/unlock",
        Value::Null,
        &admin,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(direct("mallory").await.is_ok(), "unlocked again");
    assert!(
        admin_direct().await.is_ok(),
        "unlocked again: AdminInitiateAuth"
    );
}

#[tokio::test]
async fn the_audit_trail_lists_the_flow_newest_first_with_activity_ids() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    set_policy(&stack, &t, 2, 900).await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "kim", &password).await;

    let mut expected = vec![];
    let a = sign_in(&app, &t, "kim", &password).await;
    expected.push((
        "user-authentication",
        "success",
        a.activity_id.clone(),
        "self",
    ));
    let a = sign_in(&app, &t, "kim", "Wrong-Passw0rd-z").await;
    expected.push((
        "user-authentication",
        "invalid-credentials",
        a.activity_id.clone(),
        "self",
    ));
    let a = sign_in(&app, &t, "kim", "Wrong-Passw0rd-z").await;
    // the lock is written (and audited) while the request runs; the request's own entry closes it
    expected.push(("auto-lock", "success", a.activity_id.clone(), "system"));
    expected.push((
        "user-authentication",
        "invalid-credentials",
        a.activity_id.clone(),
        "self",
    ));
    let a = sign_in(&app, &t, "kim", &password).await;
    expected.push((
        "user-authentication",
        "account-locked",
        a.activity_id.clone(),
        "self",
    ));
    let a = call::<lock::Group>(&app, &t, "PUT", "/users/kim/unlock", Value::Null, &token).await;
    expected.push(("unlock", "success", a.activity_id.clone(), "admin"));
    let a = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/kim/lock",
        json!({"reason": "x"}),
        &token,
    )
    .await;
    expected.push(("lock", "success", a.activity_id.clone(), "admin"));

    // page through three at a time
    let mut events = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/users/kim/events?limit=3&cursor={c}"),
            None => "/users/kim/events?limit=3".to_string(),
        };
        let page = Answer::from(
            app.handle::<users::Group>(api_request(&t, "GET", &path, &Value::Null, Some(&token)))
                .await,
        );
        assert_eq!(page.status, 200, "{}", page.body);
        events.extend(page.data()["events"].as_array().unwrap().clone());
        match page.data()["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    expected.reverse();
    assert_eq!(events.len(), expected.len(), "{events:#?}");
    for (event, (action, outcome, activity, actor)) in events.iter().zip(&expected) {
        assert_eq!(event["userID"], "kim");
        assert_eq!(event["action"], *action);
        assert_eq!(event["outcome"], *outcome);
        assert_eq!(event["activityID"], activity.as_str());
        if *actor == "admin" {
            assert!(
                event["actor"]
                    .as_str()
                    .is_some_and(|s| s.len() > 8 && s != "self" && s != "system")
            );
        } else {
            assert_eq!(event["actor"], *actor);
        }
        assert!(event["at"].as_str().is_some_and(|s| s.ends_with('Z')));
    }
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&password) && !text.contains("Wrong-Passw0rd-z"));

    let bad = Answer::from(
        app.handle::<users::Group>(api_request(
            &t,
            "GET",
            "/users/kim/events?limit=0",
            &Value::Null,
            Some(&token),
        ))
        .await,
    );
    assert_eq!((bad.status, bad.slug()), (400, "invalid-request"));
    let bad = Answer::from(
        app.handle::<users::Group>(api_request(
            &t,
            "GET",
            "/users/kim/events?cursor=bm90LWEtY3Vyc29y",
            &Value::Null,
            Some(&token),
        ))
        .await,
    );
    assert_eq!((bad.status, bad.slug()), (400, "invalid-request"));
}

/// An admin lock wins over a lockout-policy lock: it replaces it (so neither the lockout's end
/// nor a password recovery opens the account), and a second admin lock updates the first.
#[tokio::test]
async fn an_admin_lock_replaces_a_lockout_and_a_second_one_updates_it() {
    let (stack, t, app, token, password) = with_lockout_policy("gina").await;
    for _ in 1..=5 {
        sign_in(&app, &t, "gina", "Wrong-Passw0rd-x").await;
    }
    let state = call::<lock::Group>(&app, &t, "GET", "/users/gina/lock", Value::Null, &token).await;
    assert_eq!(state.data()["source"], "lockout-policy");

    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/gina/lock",
        json!({"reason": "compromised"}),
        &token,
    )
    .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    assert_eq!(locked.data()["source"], "admin");
    assert_eq!(locked.data()["reason"], "compromised");
    assert_eq!(locked.data()["lockedUntil"], Value::Null);

    // what recovery does to a lockout leaves the admin lock in place
    let locks = shared::adapters::dynamodb::DynamoLocks::new(
        stack.dynamodb.clone(),
        &stack.config.account_state_table,
    );
    let gina = shared::domain::user_id::UserId::parse("gina").unwrap();
    shared::domain::lock::Locks::clear_lockout(&locks, &t.user_pool_id, &gina)
        .await
        .unwrap();
    // and so does the lockout's end
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let a = sign_in(&app, &t, "gina", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"));

    let until = "2099-01-01T00:00:00Z";
    let again = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/gina/lock",
        json!({"reason": "still compromised", "lockedUntil": until}),
        &token,
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data()["reason"], "still compromised");
    assert_eq!(again.data()["lockedUntil"], until);
    let state = call::<lock::Group>(&app, &t, "GET", "/users/gina/lock", Value::Null, &token).await;
    assert_eq!(state.data()["source"], "admin");
    assert_eq!(state.data()["reason"], "still compromised");
    assert_eq!(state.data()["lockedUntil"], until);
}

/// A client that builds the path with `encodeURIComponent` sends `jane%40example.com`: the
/// lock lands on `jane@example.com`, whose sign-in it then refuses.
#[tokio::test]
async fn a_percent_encoded_user_id_locks_that_user() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "jane@example.com", &password).await;
    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/jane%40example.com/lock",
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    assert_eq!(locked.data()["userID"], "jane@example.com");
    let a = sign_in(&app, &t, "jane@example.com", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"));
    let twice = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/jane%2540example.com/lock",
        Value::Null,
        &token,
    )
    .await;
    assert_eq!((twice.status, twice.slug()), (400, "invalid-request"));
}

/// The reproduction: anyone who knows an admin's userID can lock it out with wrong
/// passwords. That lockout stops the guessing; the admin's live session keeps working.
#[tokio::test]
async fn wrong_passwords_for_an_admin_do_not_end_the_admins_session() {
    let (stack, t, app, _, password) = with_lockout_policy("victim").await;
    let (admin, token) = stack.admin_token(&t, &app).await;
    for _ in 1..=5 {
        sign_in(&app, &t, &admin, "Wrong-Passw0rd-x").await;
    }
    let a = sign_in(&app, &t, &admin, "Wrong-Passw0rd-x").await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"));
    let state =
        call::<lock::Group>(&app, &t, "GET", "/users/victim/lock", Value::Null, &token).await;
    assert_eq!(state.status, 200, "{}", state.body);
    let locked =
        call::<lock::Group>(&app, &t, "PUT", "/users/victim/lock", Value::Null, &token).await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let a = sign_in(&app, &t, "victim", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"));
}

/// The trail of `user`, newest first, as `(action, outcome, activityID)`.
async fn trail(stack: &Stack, t: &TenantFixture, user: &str) -> Vec<(String, String, String)> {
    use shared::domain::audit::AuditLog;
    DynamoAudit::new(
        stack.dynamodb.clone(),
        &stack.config.audit_table,
        stack.config.audit_retention,
    )
    .list(
        &t.user_pool_id,
        &shared::domain::user_id::UserId::parse(user).unwrap(),
        50,
        None,
    )
    .await
    .unwrap()
    .events
    .into_iter()
    .map(|e| (e.action, e.outcome, e.activity_id))
    .collect()
}

async fn lock_held(
    stack: &Stack,
    t: &TenantFixture,
    user: &str,
) -> Option<shared::domain::lock::Lock> {
    use shared::domain::lock::Locks;
    DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table)
        .state(
            &t.user_pool_id,
            &shared::domain::user_id::UserId::parse(user).unwrap(),
        )
        .await
        .unwrap()
        .lock
}

/// An admin lock and its audit entry are one DynamoDB transaction: when the entry cannot be
/// written, neither is the lock (and the caller is told it failed); an unlock likewise. A lock
/// never stands without its entry, whatever fails when.
#[tokio::test]
async fn an_admin_lock_and_its_audit_entry_are_written_together_or_not_at_all() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    stack.create_user(&t, "olga", &random_password()).await;
    // the same app, but the lock's transaction names an audit table that does not exist
    let broken = App {
        locks: DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table)
            .with_audit(shared::adapters::dynamodb::AuditTable {
                table: "no-such-audit-table".into(),
                retention: stack.config.audit_retention,
            }),
        ..stack.app().await
    };
    let lock = |app| call::<lock::Group>(app, &t, "PUT", "/users/olga/lock", json!({}), &token);
    let unlock = |app| call::<lock::Group>(app, &t, "PUT", "/users/olga/unlock", json!({}), &token);

    let refused = lock(&broken).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (500, "internal"),
        "{}",
        refused.body
    );
    assert_eq!(
        lock_held(&stack, &t, "olga").await,
        None,
        "a lock without its entry"
    );
    // the trail says the call failed, and nothing of a lock in place
    assert_eq!(
        trail(&stack, &t, "olga").await,
        [(
            "lock".into(),
            "internal".into(),
            refused.activity_id.clone()
        )]
    );

    let locked = lock(&app).await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    assert!(lock_held(&stack, &t, "olga").await.is_some());
    let refused = unlock(&broken).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (500, "internal"),
        "{}",
        refused.body
    );
    assert!(
        lock_held(&stack, &t, "olga").await.is_some(),
        "an unlock without its entry"
    );
    let unlocked = unlock(&app).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(lock_held(&stack, &t, "olga").await, None);
    let entries = trail(&stack, &t, "olga").await;
    assert_eq!(
        entries[..3],
        [
            (
                "unlock".into(),
                "success".into(),
                unlocked.activity_id.clone()
            ),
            (
                "unlock".into(),
                "internal".into(),
                refused.activity_id.clone()
            ),
            ("lock".into(), "success".into(), locked.activity_id.clone()),
        ]
    );
}

/// The lock's entry is written with the lock; when the request fails after it (Cognito's
/// sign-out of the user, down here), the lock stands with its entry, and how the request
/// ended is an entry of its own. The caller's retry keeps the first lock and signs out.
#[tokio::test]
async fn a_lock_whose_sign_out_fails_keeps_its_entry_and_the_failure_is_audited_too() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    stack.create_user(&t, "pavel", &random_password()).await;
    let no_sign_out = stack
        .app_where_cognito_cannot("AdminUserGlobalSignOut")
        .await;
    let lock = |app| {
        call::<lock::Group>(
            app,
            &t,
            "PUT",
            "/users/pavel/lock",
            json!({"reason": "review"}),
            &token,
        )
    };

    let failed = lock(&no_sign_out).await;
    assert_eq!(
        (failed.status, failed.slug()),
        (503, "dependency-unavailable"),
        "{}",
        failed.body
    );
    let first = lock_held(&stack, &t, "pavel")
        .await
        .expect("the lock stands");
    assert_eq!(first.reason.as_deref(), Some("review"));
    let activity = failed.activity_id.clone();
    assert_eq!(
        trail(&stack, &t, "pavel").await,
        [
            (
                "lock".into(),
                "dependency-unavailable".into(),
                activity.clone()
            ),
            ("lock".into(), "success".into(), activity),
        ]
    );

    let retried = lock(&app).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(
        retried.data()["lockedAt"].as_str(),
        Some(first.locked_at.as_str()),
        "the retry keeps the first lock"
    );
    assert_eq!(
        trail(&stack, &t, "pavel").await[0],
        ("lock".into(), "success".into(), retried.activity_id.clone())
    );
}
