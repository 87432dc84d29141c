#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: the API's rules hold for a caller who goes around the API, straight to Cognito
//! (here the emulator, which refuses a token without `aws.cognito.signin.user.admin` for every
//! self-service operation, as Cognito's API reference says, and runs the pools' pre token
//! generation trigger, `functions/custom-auth`, as Cognito runs a V2_0 one).
//!
//! - No token the API hands out (a sign-in's, a refresh's) carries the self-service scope, so
//!   none can register a passkey, switch a factor off, re-point the email, change the password
//!   or delete the account at Cognito; the API's own operations still work (through its own
//!   session as the user), and what the API reports afterwards is what it verified.
//! - A sign-out the API makes ends the bearer tokens of the sessions before it at once.
//! - The previous password of a password change spends the lockout budget like a sign-in.
//! - A locked user's own sign-in is refused by the Pre Authentication trigger even while an
//!   admin-access code of the API's lives.

use account_api_tests::factors::{methods, totp_code};
use account_api_tests::stack::{Stack, call, public, random_password, sign_in, trail};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use serde_json::{Value, json};
use shared::domain::lock::Codes;

const SELF_SERVICE_SCOPE: &str = "aws.cognito.signin.user.admin";

fn triggers_served() {
    assert!(
        std::env::var_os("LAMBDA_ENDPOINT_URL").is_some(),
        "the test command serves the pools' triggers (LAMBDA_ENDPOINT_URL); run it through infra/local/test.sh"
    );
}

/// An access token's claims, unverified (the emulator signed it).
fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims")
}

/// The `scope` claim of an access token.
fn scopes_of(token: &str) -> Vec<String> {
    claims_of(token)["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Cognito's refusal of a token without the scope: `NotAuthorizedException`.
fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    what: &str,
    result: Result<T, E>,
) {
    match result {
        Ok(out) => panic!("{what}: Cognito took the API's token: {out:?}"),
        Err(e) => assert_eq!(
            e.code(),
            Some("NotAuthorizedException"),
            "{what}: expected the scope refusal, got {e:?}"
        ),
    }
}

/// Every self-service operation of Cognito, called directly with `token`: each is refused.
async fn every_self_service_call_is_refused(stack: &Stack, token: &str) {
    let c = &stack.cognito;
    refused("GetUser", c.get_user().access_token(token).send().await);
    let email = aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
        .name("email")
        .value("mallory@example.com")
        .build()
        .unwrap();
    refused(
        "UpdateUserAttributes",
        c.update_user_attributes()
            .access_token(token)
            .user_attributes(email)
            .send()
            .await,
    );
    refused(
        "GetUserAttributeVerificationCode",
        c.get_user_attribute_verification_code()
            .access_token(token)
            .attribute_name("email")
            .send()
            .await,
    );
    refused(
        "VerifyUserAttribute",
        c.verify_user_attribute()
            .access_token(token)
            .attribute_name("email")
            .code("123456")
            .send()
            .await,
    );
    refused(
        "ChangePassword",
        c.change_password()
            .access_token(token)
            .previous_password("whatever-it-was")
            .proposed_password(random_password())
            .send()
            .await,
    );
    refused(
        "AssociateSoftwareToken",
        c.associate_software_token()
            .access_token(token)
            .send()
            .await,
    );
    refused(
        "VerifySoftwareToken",
        c.verify_software_token()
            .access_token(token)
            .user_code("123456")
            .send()
            .await,
    );
    let off = aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaSettingsType::builder()
        .enabled(false)
        .preferred_mfa(false)
        .build();
    refused(
        "SetUserMFAPreference",
        c.set_user_mfa_preference()
            .access_token(token)
            .software_token_mfa_settings(off)
            .send()
            .await,
    );
    refused(
        "StartWebAuthnRegistration",
        c.start_web_authn_registration()
            .access_token(token)
            .send()
            .await,
    );
    let credential = aws_smithy_types::Document::Object(
        [(
            "id".to_string(),
            aws_smithy_types::Document::String("AAAA".into()),
        )]
        .into(),
    );
    refused(
        "CompleteWebAuthnRegistration",
        c.complete_web_authn_registration()
            .access_token(token)
            .credential(credential)
            .send()
            .await,
    );
    refused(
        "ListWebAuthnCredentials",
        c.list_web_authn_credentials()
            .access_token(token)
            .send()
            .await,
    );
    refused(
        "DeleteWebAuthnCredential",
        c.delete_web_authn_credential()
            .access_token(token)
            .credential_id("AAAA")
            .send()
            .await,
    );
    refused(
        "GlobalSignOut",
        c.global_sign_out().access_token(token).send().await,
    );
    refused(
        "DeleteUser",
        c.delete_user().access_token(token).send().await,
    );
}

#[tokio::test]
async fn no_token_the_api_hands_out_acts_at_cognito_and_the_apis_own_operations_still_work() {
    triggers_served();
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "tess", &password).await;
    let before = stack.user_attributes(&t, "tess").await;

    // a sign-in's tokens, and a refresh's
    let signed = sign_in(&app, &t, "tess", &password).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let result = &signed.data()["authenticationResult"];
    let token = result["accessToken"].as_str().unwrap().to_string();
    assert!(
        !scopes_of(&token).iter().any(|s| s == SELF_SERVICE_SCOPE),
        "a sign-in's token: {:?}",
        scopes_of(&token)
    );
    // a refresh a second later: still the sign-in's session, as old as it (`auth_time`), so
    // a refreshed token is no recent sign-in
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let body = json!({"userID": "tess", "refreshToken": result["refreshToken"]});
    let refreshed = public::<auth::Group>(&app, &t, "/user-refresh-tokens", body).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let refreshed = refreshed.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !scopes_of(&refreshed)
            .iter()
            .any(|s| s == SELF_SERVICE_SCOPE)
    );
    assert_eq!(
        claims_of(&refreshed)["auth_time"],
        claims_of(&token)["auth_time"]
    );
    assert_ne!(claims_of(&refreshed)["iat"], claims_of(&token)["iat"]);

    every_self_service_call_is_refused(&stack, &token).await;
    every_self_service_call_is_refused(&stack, &refreshed).await;

    // nothing changed at Cognito: the account, its address, its password, no passkey
    let after = stack.user_attributes(&t, "tess").await;
    assert_eq!(before, after);
    assert_eq!(sign_in(&app, &t, "tess", &password).await.status, 200);

    // the API's own operations work on the same tokens: an authenticator through the API
    let started =
        call::<users::Group>(&app, &t, "POST", "/users/tess/totp", Value::Null, &token).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.data()["secret"].as_str().unwrap().to_string();
    let body = json!({"code": totp_code(&secret), "friendlyName": "phone"});
    let verified =
        call::<users::Group>(&app, &t, "POST", "/users/tess/totp/verify", body, &token).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let m = methods(&app, &t, "tess", &token).await;
    assert_eq!(m["methods"], json!(["PASSWORD", "TOTP"]), "{m}");

    // a token of the second sign-in (after the code) cannot switch the factor off at Cognito
    let challenge = sign_in(&app, &t, "tess", &password).await;
    assert_eq!(challenge.status, 200, "{}", challenge.body);
    assert_eq!(challenge.data()["challengeName"], "SOFTWARE_TOKEN_MFA");
    let body = json!({
        "userID": "tess",
        "session": challenge.data()["session"],
        "challengeName": "SOFTWARE_TOKEN_MFA",
        "code": totp_code(&secret),
    });
    let answered = public::<auth::Group>(&app, &t, "/respond-to-auth-challenge", body).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    let second = answered.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!scopes_of(&second).iter().any(|s| s == SELF_SERVICE_SCOPE));
    every_self_service_call_is_refused(&stack, &second).await;

    // TOTP still guards the sign-in, and the API reports what it verified
    let again = sign_in(&app, &t, "tess", &password).await;
    assert_eq!(again.data()["challengeName"], "SOFTWARE_TOKEN_MFA");
    let m = methods(&app, &t, "tess", &second).await;
    assert_eq!(m["methods"], json!(["PASSWORD", "TOTP"]), "{m}");
    let user = call::<users::Group>(&app, &t, "GET", "/users/tess", Value::Null, &second).await;
    assert_eq!(user.status, 200, "{}", user.body);
    assert_eq!(
        (&user.data()["email"], &user.data()["emailVerified"]),
        (&json!("tess@example.com"), &json!(true)),
        "{}",
        user.body
    );
    assert_eq!(user.data()["pendingEmail"], Value::Null, "{}", user.body);

    // the API's own sessions left nothing behind: no user-access code is kept
    let key = format!("user-access#{}#tess", t.user_pool_id);
    assert!(stack.state_item(key).await.is_none());
}

#[tokio::test]
async fn a_sign_out_the_api_makes_ends_the_bearer_tokens_of_earlier_sessions_at_once() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, codes) = stack.probed_app().await;
    let password = random_password();
    stack.create_user(&t, "omar", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let old = stack.sign_in(&t, &app, "omar", &password).await;
    let read = |token: String| {
        let app = &app;
        let t = &t;
        async move { call::<users::Group>(app, t, "GET", "/users/omar", Value::Null, &token).await }
    };
    assert_eq!(read(old.clone()).await.status, 200);
    // a session that began a second before the lock
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let locked = call::<lock::Group>(&app, &t, "PUT", "/users/omar/lock", json!({}), &admin).await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/omar/unlock", Value::Null, &admin).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);

    // unlocked, but the session the lock ended stays ended
    let stale = read(old).await;
    assert_eq!(
        (stale.status, stale.slug()),
        (401, "unauthenticated"),
        "{}",
        stale.body
    );
    let item = stack
        .state_item(format!("{}#omar", t.user_pool_id))
        .await
        .expect("the account's item");
    assert!(item.contains_key("sessionsEndedAt"), "{item:?}");
    // a sign-in after the unlock works (the lock answered only once its second was over)
    let fresh = stack.sign_in(&t, &app, "omar", &password).await;
    assert_eq!(read(fresh).await.status, 200);

    // a password reset by the user's own channel ends the sessions before it too
    let current = stack.sign_in(&t, &app, "omar", &password).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let sent =
        public::<password::Group>(&app, &t, "/forgot-password", json!({"userID": "omar"})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let code = codes.last_code().expect("the emulator returned a code");
    let new_password = random_password();
    let body = json!({"userID": "omar", "confirmationCode": code, "newPassword": new_password});
    let reset = public::<password::Group>(&app, &t, "/confirm-forgot-password", body).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(read(current).await.status, 401);
}

#[tokio::test]
async fn every_wrong_previous_password_spends_the_budget_and_the_last_locks() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "pia", &password).await;
    let token = stack.sign_in(&t, &app, "pia", &password).await;
    let change = |previous: String| {
        let (app, t, token) = (&app, &t, token.clone());
        async move {
            let body = json!({"previousPassword": previous, "proposedPassword": random_password()});
            call::<password::Group>(app, t, "POST", "/users/pia/change-password", body, &token)
                .await
        }
    };
    let failed =
        |state: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
            state
                .get("attempts")
                .and_then(|v| v.as_n().ok())
                .map(|n| n.parse::<u32>().unwrap())
                .unwrap_or(0)
        };
    let key = format!("{}#pia", t.user_pool_id);

    // a right previous password makes the budget whole again
    for _ in 0..2 {
        let a = change("not-the-password-1".into()).await;
        assert_eq!(
            (a.status, a.slug()),
            (401, "invalid-credentials"),
            "{}",
            a.body
        );
    }
    assert_eq!(failed(&stack.state_item(key.clone()).await.unwrap()), 2);
    let new_password = random_password();
    let body = json!({"previousPassword": password, "proposedPassword": new_password});
    let changed =
        call::<password::Group>(&app, &t, "POST", "/users/pia/change-password", body, &token).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(failed(&stack.state_item(key.clone()).await.unwrap()), 0);

    // five wrong ones (the default policy) lock the account; the sixth is refused unchecked
    for n in 1..=5 {
        let a = change("not-the-password-2".into()).await;
        assert_eq!(
            (a.status, a.slug()),
            (401, "invalid-credentials"),
            "attempt {n}: {}",
            a.body
        );
    }
    let sixth = change(new_password.clone()).await;
    assert_eq!(
        (sixth.status, sixth.slug()),
        (403, "account-locked"),
        "{}",
        sixth.body
    );
    let item = stack.state_item(key).await.unwrap();
    assert_eq!(item["lockSource"].as_s().unwrap(), "lockout-policy");
    assert_eq!(failed(&item), 5);
    // and the next sign-in, with the right password, is refused
    let next = sign_in(&app, &t, "pia", &new_password).await;
    assert_eq!(
        (next.status, next.slug()),
        (403, "account-locked"),
        "{}",
        next.body
    );
    let (_, admin) = stack.admin_token(&t, &app).await;
    let events = trail(&app, &t, "pia", &admin).await;
    assert!(
        events.contains(&("auto-lock".into(), "success".into())),
        "{events:?}"
    );
    let refused = (
        "change-password".to_string(),
        "invalid-credentials".to_string(),
    );
    assert_eq!(
        events.iter().filter(|e| **e == refused).count(),
        7,
        "{events:?}"
    );
}

#[tokio::test]
async fn a_locked_users_own_sign_in_is_refused_while_an_admin_access_code_lives() {
    use shared::domain::lock::{CodePurpose, OneTimeCode};
    triggers_served();
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "lena", &password).await;
    let sub = stack.user_attributes(&t, "lena").await["sub"].clone();
    stack.put_lock(&t, "lena", "admin", None).await;
    // what the API keeps while it signs in as the user for an admin
    let now = std::time::SystemTime::now();
    let code = OneTimeCode {
        code_hash: OneTimeCode::hash_of("the-apis-own-code"),
        sub,
        app_client_id: t.app_client_id.clone(),
        expires_at: shared::time::epoch_seconds(now) + 60,
        created_at: shared::time::rfc3339(now),
        created_by: "an-admin".into(),
    };
    let user = shared::domain::user_id::UserId::of_cognito("lena").unwrap();
    app.locks
        .put_code(
            CodePurpose::AdminAccess,
            &t.user_pool_id,
            &user,
            &code,
            true,
        )
        .await
        .unwrap();

    // the user's own password sign-in, straight to Cognito, is refused by the trigger
    let secret = stack.client_secret(&t).await;
    let hash = shared::adapters::cognito::secret_hash(&secret, "lena", &t.app_client_id);
    let direct = stack
        .cognito
        .initiate_auth()
        .client_id(&t.app_client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "lena")
        .auth_parameters("PASSWORD", &password)
        .auth_parameters("SECRET_HASH", hash)
        .send()
        .await
        .expect_err("locked: refused while the code lives");
    assert_eq!(
        direct.code(),
        Some("UserLambdaValidationException"),
        "{direct:?}"
    );

    // an admin's work on the locked account still goes through (the API's own session)
    let (_, admin) = stack.admin_token(&t, &app).await;
    let listed =
        call::<users::Group>(&app, &t, "GET", "/users/lena/passkeys", Value::Null, &admin).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
}
