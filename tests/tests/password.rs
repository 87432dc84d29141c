#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: password recovery and the signed-in user's own password change.

use account_api_tests::stack::{
    Answer, Stack, TenantFixture, api_request, random_password, sign_in,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::AwsApp;

async fn post(
    app: &AwsApp,
    t: &TenantFixture,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> Answer {
    Answer::from(
        app.handle::<password::Group>(api_request(t, "POST", path, &body, token))
            .await,
    )
}

/// A refresh through the API with `refresh_token` of `user`.
async fn refresh(app: &AwsApp, t: &TenantFixture, user: &str, refresh_token: &str) -> Answer {
    let body = json!({"userID": user, "refreshToken": refresh_token});
    Answer::from(
        app.handle::<auth::Group>(api_request(t, "POST", "/user-refresh-tokens", &body, None))
            .await,
    )
}

#[tokio::test]
async fn forgot_then_confirm_sets_the_new_password_and_the_code_works_once() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, codes) = stack.probed_app().await;
    let old = random_password();
    stack.create_user(&t, "lena", &old).await;
    // a session from before the reset (a stolen refresh token, say)
    let before = sign_in(&app, &t, "lena", &old).await;
    let stolen = before.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();

    let a = post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "lena"}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let details = &a.data()["codeDeliveryDetails"];
    assert!(details.get("destination").is_some() && details.get("deliveryMedium").is_some());
    let code = codes.last_code().expect("the emulator returned a code");

    let new = random_password();
    let confirm = json!({"userID": "lena", "confirmationCode": code, "newPassword": new});
    let a = post(&app, &t, "/confirm-forgot-password", confirm.clone(), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["passwordChanged"], true);
    assert_eq!(a.data()["signedOut"], true);
    // the reset ended every session: the refresh token from before no longer works
    let refreshed = refresh(&app, &t, "lena", &stolen).await;
    assert_eq!(
        (refreshed.status, refreshed.slug()),
        (401, "invalid-credentials"),
        "{}",
        refreshed.body
    );

    assert_eq!(sign_in(&app, &t, "lena", &new).await.status, 200);
    let a = sign_in(&app, &t, "lena", &old).await;
    assert_eq!((a.status, a.slug()), (401, "invalid-credentials"));

    // the same code again: the emulator reports any reused code as expired (Cognito may say
    // mismatch; both are pinned with mocks in functions/password/tests)
    let again =
        json!({"userID": "lena", "confirmationCode": code, "newPassword": random_password()});
    let a = post(&app, &t, "/confirm-forgot-password", again, None).await;
    assert_eq!((a.status, a.slug()), (400, "code-expired"), "{}", a.body);
    assert_eq!(
        sign_in(&app, &t, "lena", &new).await.status,
        200,
        "the password did not change"
    );
}

#[tokio::test]
async fn a_weak_new_password_is_refused_with_its_rule_before_the_code_is_spent() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, codes) = stack.probed_app().await;
    stack.create_user(&t, "mona", &random_password()).await;
    post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "mona"}),
        None,
    )
    .await;
    let code = codes.last_code().unwrap();
    let a = post(
        &app,
        &t,
        "/confirm-forgot-password",
        json!({"userID": "mona", "confirmationCode": code, "newPassword": "short1A"}),
        None,
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-password"));
    assert!(
        a.body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("at least 10")
    );
    let new = random_password();
    let a = post(
        &app,
        &t,
        "/confirm-forgot-password",
        json!({"userID": "mona", "confirmationCode": code, "newPassword": new}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "the code is still good: {}", a.body);
}

#[tokio::test]
async fn forgot_password_answers_an_unknown_user_like_a_known_one() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    stack.create_user(&t, "nina", &random_password()).await;
    let known = post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "nina"}),
        None,
    )
    .await;
    let unknown = post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "nobody-at-all"}),
        None,
    )
    .await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let keys = |a: &Answer| {
        let mut k: Vec<String> = a.data()["codeDeliveryDetails"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(
        known.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        unknown.body.as_object().unwrap().keys().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn recovery_lifts_a_lockout_but_never_an_admin_lock() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .set_tenant_attribute(&t, "maxPasswordAttempts", AttributeValue::N("2".into()))
        .await;
    let (app, codes) = stack.probed_app().await;
    stack.create_user(&t, "olga", &random_password()).await;
    for _ in 0..2 {
        sign_in(&app, &t, "olga", "Wrong-Passw0rd-1").await;
    }
    let new = random_password();
    assert_eq!(
        sign_in(&app, &t, "olga", &new).await.slug(),
        "account-locked"
    );
    post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "olga"}),
        None,
    )
    .await;
    let a = post(
        &app,
        &t,
        "/confirm-forgot-password",
        json!({"userID": "olga", "confirmationCode": codes.last_code().unwrap(), "newPassword": new}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        sign_in(&app, &t, "olga", &new).await.status,
        200,
        "the lockout was lifted"
    );

    stack.put_lock(&t, "olga", "admin", None).await;
    post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "olga"}),
        None,
    )
    .await;
    let newer = random_password();
    let a = post(
        &app,
        &t,
        "/confirm-forgot-password",
        json!({"userID": "olga", "confirmationCode": codes.last_code().unwrap(), "newPassword": newer}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = sign_in(&app, &t, "olga", &newer).await;
    assert_eq!(
        (a.status, a.slug()),
        (403, "account-locked"),
        "an admin lock stays"
    );
}

#[tokio::test]
async fn a_signed_in_user_changes_their_own_password() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let old = random_password();
    stack.create_user(&t, "pia", &old).await;
    let token = stack.sign_in(&t, &app, "pia", &old).await;
    let new = random_password();

    let a = post(
        &app,
        &t,
        "/users/pia/change-password",
        json!({"previousPassword": "Not-The-Passw0rd", "proposedPassword": new}),
        Some(&token),
    )
    .await;
    assert_eq!(
        (a.status, a.slug()),
        (401, "invalid-credentials"),
        "{}",
        a.body
    );
    let a = post(
        &app,
        &t,
        "/users/pia/change-password",
        json!({"previousPassword": old, "proposedPassword": "nouppercase123"}),
        Some(&token),
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-password"));
    let a = post(
        &app,
        &t,
        "/users/pia/change-password",
        json!({"previousPassword": old, "proposedPassword": new}),
        None,
    )
    .await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));

    let a = post(
        &app,
        &t,
        "/users/pia/change-password",
        json!({"previousPassword": old, "proposedPassword": new}),
        Some(&token),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["passwordChanged"], true);
    assert_eq!(sign_in(&app, &t, "pia", &new).await.status, 200);
    assert_eq!(sign_in(&app, &t, "pia", &old).await.status, 401);
}

#[tokio::test]
async fn another_users_token_is_forbidden_and_sign_out_revokes_the_token() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (p1, p2) = (random_password(), random_password());
    stack.create_user(&t, "quinn", &p1).await;
    stack.create_user(&t, "rita", &p2).await;
    let rita = stack.sign_in(&t, &app, "rita", &p2).await;
    let a = post(
        &app,
        &t,
        "/users/quinn/change-password",
        json!({"previousPassword": p1, "proposedPassword": random_password()}),
        Some(&rita),
    )
    .await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"));
    assert_eq!(
        sign_in(&app, &t, "quinn", &p1).await.status,
        200,
        "quinn's password is unchanged"
    );

    let new = random_password();
    let a = post(
        &app,
        &t,
        "/users/rita/change-password",
        json!({"previousPassword": p2, "proposedPassword": new, "signOutOtherSessions": true}),
        Some(&rita),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["signedOut"], true);
    // the token used for the change is revoked with every other session
    let a = post(
        &app,
        &t,
        "/users/rita/change-password",
        json!({"previousPassword": new, "proposedPassword": random_password()}),
        Some(&rita),
    )
    .await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"), "{}", a.body);
}

/// A user an admin reset is refused with the old password (`password-reset-required`, as
/// Cognito deactivates it), takes the forgot-password flow, and signs in with the new one.
#[tokio::test]
async fn a_reset_user_recovers_with_the_forgot_password_flow_and_signs_in_again() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, codes) = stack.probed_app().await;
    let old = random_password();
    stack.create_user(&t, "rita", &old).await;
    stack
        .cognito
        .admin_reset_user_password()
        .user_pool_id(&t.user_pool_id)
        .username("rita")
        .send()
        .await
        .unwrap();
    let refused = sign_in(&app, &t, "rita", &old).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (403, "password-reset-required")
    );

    let a = post(
        &app,
        &t,
        "/forgot-password",
        json!({"userID": "rita"}),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let code = codes.last_code().expect("the emulator returned a code");
    let new = random_password();
    let confirm = json!({"userID": "rita", "confirmationCode": code, "newPassword": new});
    let a = post(&app, &t, "/confirm-forgot-password", confirm, None).await;
    assert_eq!(a.status, 200, "{}", a.body);

    assert_eq!(sign_in(&app, &t, "rita", &new).await.status, 200);
    let old_again = sign_in(&app, &t, "rita", &old).await;
    assert_eq!(
        (old_again.status, old_again.slug()),
        (401, "invalid-credentials")
    );
}

/// `POST /users/{userID}/sign-out`: every session of the user ends, the one that asked too.
/// Through the API: another session's access token is refused at once and its refresh token
/// no longer refreshes. Around it: the refresh token, taken straight to Cognito, is refused
/// there too. Nobody signs out anyone but themselves; signing in again works.
#[tokio::test]
async fn sign_out_ends_every_session_through_the_api_and_at_cognito() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "sven", &password).await;
    stack.create_user(&t, "tove", &password).await;
    let session = |a: &Answer, k: &str| {
        a.data()["authenticationResult"][k]
            .as_str()
            .unwrap()
            .to_string()
    };
    let here = sign_in(&app, &t, "sven", &password).await;
    let there = sign_in(&app, &t, "sven", &password).await;
    let tove = sign_in(&app, &t, "tove", &password).await;
    let profile = |token: String| {
        let app = &app;
        let t = &t;
        async move {
            Answer::from(
                app.handle::<users::Group>(api_request(
                    t,
                    "GET",
                    "/users/sven",
                    &Value::Null,
                    Some(&token),
                ))
                .await,
            )
        }
    };
    assert_eq!(profile(session(&there, "accessToken")).await.status, 200);

    let a = post(
        &app,
        &t,
        "/users/sven/sign-out",
        Value::Null,
        Some(&session(&tove, "accessToken")),
    )
    .await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"), "{}", a.body);
    assert_eq!(profile(session(&there, "accessToken")).await.status, 200);

    let a = post(
        &app,
        &t,
        "/users/sven/sign-out",
        Value::Null,
        Some(&session(&here, "accessToken")),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["signedOut"], true);
    // the other session's access token, at once
    let a = profile(session(&there, "accessToken")).await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"), "{}", a.body);
    // its refresh token, through the API and straight at Cognito
    let refreshed = refresh(&app, &t, "sven", &session(&there, "refreshToken")).await;
    assert_eq!(
        (refreshed.status, refreshed.slug()),
        (401, "invalid-credentials"),
        "{}",
        refreshed.body
    );
    let secret = stack.client_secret(&t).await;
    let direct = stack
        .cognito
        .initiate_auth()
        .client_id(&t.app_client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", session(&there, "refreshToken"))
        .auth_parameters(
            "SECRET_HASH",
            shared::adapters::cognito::secret_hash(&secret, "sven", &t.app_client_id),
        )
        .send()
        .await
        .expect_err("a signed-out refresh token refreshes nothing at Cognito");
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    assert_eq!(direct.code(), Some("NotAuthorizedException"), "{direct:?}");
    // tove's session is hers, untouched
    assert_eq!(
        post(
            &app,
            &t,
            "/users/tove/sign-out",
            Value::Null,
            Some(&session(&tove, "accessToken"))
        )
        .await
        .status,
        200
    );
    // a new sign-in is a new session
    let again = sign_in(&app, &t, "sven", &password).await;
    assert_eq!(profile(session(&again, "accessToken")).await.status, 200);
    let (_, admin) = stack.admin_token(&t, &app).await;
    let trail = account_api_tests::stack::trail(&app, &t, "sven", &admin).await;
    assert!(
        trail.contains(&("sign-out".to_string(), "success".to_string())),
        "{trail:?}"
    );
}

/// A sign-out whose Cognito part fails (its sign-out unreachable) answers 503 and notes
/// nothing: the caller's token still works, so the same token's retry completes it, and only
/// then are the refresh tokens dead and the token refused.
#[tokio::test]
async fn a_sign_out_that_cognito_failed_is_retried_with_the_same_token() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "ulla", &password).await;
    let signed_in = sign_in(&app, &t, "ulla", &password).await;
    let token = |k: &str| {
        signed_in.data()["authenticationResult"][k]
            .as_str()
            .unwrap()
            .to_string()
    };
    let no_sign_out = stack
        .app_where_cognito_cannot("AdminUserGlobalSignOut")
        .await;
    let failed = post(
        &no_sign_out,
        &t,
        "/users/ulla/sign-out",
        Value::Null,
        Some(&token("accessToken")),
    )
    .await;
    assert_eq!(
        (failed.status, failed.slug()),
        (503, "dependency-unavailable"),
        "{}",
        failed.body
    );
    let done = post(
        &app,
        &t,
        "/users/ulla/sign-out",
        Value::Null,
        Some(&token("accessToken")),
    )
    .await;
    assert_eq!(
        done.status, 200,
        "the retry with the same token: {}",
        done.body
    );
    let refreshed = refresh(&app, &t, "ulla", &token("refreshToken")).await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.body);
    let again = post(
        &app,
        &t,
        "/users/ulla/sign-out",
        Value::Null,
        Some(&token("accessToken")),
    )
    .await;
    assert_eq!((again.status, again.slug()), (401, "unauthenticated"));
}
