#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: passkeys on the emulator, which verifies registrations and assertions with the
//! `webauthn` library (a wrong signature, challenge, origin or relying party is refused, as on
//! Cognito). A software authenticator (passkey-rs) plays the browser: it registers a passkey
//! through the API, signs in with it, and a tampered or replayed assertion is refused and
//! spends the lockout budget.

use account_api_tests::authenticator::{Browser, browser, origin};
use account_api_tests::stack::{Stack, TenantFixture, call, public, random_password};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use passkey::{client::DefaultClientData, types::webauthn};
use serde_json::{Value, json};
use shared::{AwsApp, testing::Answer};

/// Registers a passkey for `user` through the API; returns its credential id.
async fn register(
    app: &AwsApp,
    t: &TenantFixture,
    user: &str,
    token: &str,
    browser: &mut Browser,
) -> String {
    let path = format!("/users/{user}/passkeys");
    let started = call::<users::Group>(app, t, "POST", &path, Value::Null, token).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let options: webauthn::PublicKeyCredentialCreationOptions =
        serde_json::from_value(started.data()["credentialCreationOptions"].clone()).unwrap();
    let request = webauthn::CredentialCreationOptions {
        public_key: options,
    };
    let created = browser
        .register(&origin(), request, DefaultClientData)
        .await
        .unwrap();
    let credential = serde_json::to_value(&created).unwrap();
    let verify = format!("/users/{user}/passkeys/verify");
    let done = call::<users::Group>(
        app,
        t,
        "POST",
        &verify,
        json!({"credential": credential}),
        token,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    done.data()["credentialID"].as_str().unwrap().to_string()
}

/// Starts a passkey sign-in and has the browser answer it; returns the challenge and the
/// assertion.
async fn assertion(
    app: &AwsApp,
    t: &TenantFixture,
    user: &str,
    browser: &mut Browser,
) -> (Value, Value) {
    let start = public::<auth::Group>(
        app,
        t,
        "/user-authentication",
        json!({"userID": user, "method": "PASSKEY"}),
    )
    .await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert_eq!(start.data()["challengeName"], "WEB_AUTHN");
    let options: webauthn::PublicKeyCredentialRequestOptions =
        serde_json::from_value(start.data()["credentialRequestOptions"].clone()).unwrap();
    let request = webauthn::CredentialRequestOptions {
        public_key: options,
    };
    let answered = browser
        .authenticate(&origin(), request, DefaultClientData)
        .await
        .unwrap();
    (
        start.data().clone(),
        serde_json::to_value(&answered).unwrap(),
    )
}

async fn answer(
    app: &AwsApp,
    t: &TenantFixture,
    user: &str,
    challenge: &Value,
    credential: &Value,
) -> Answer {
    let body = json!({"userID": user, "session": challenge["session"], "challengeName": "WEB_AUTHN",
                      "credential": credential});
    public::<auth::Group>(app, t, "/respond-to-auth-challenge", body).await
}

#[tokio::test]
async fn a_passkey_registered_through_the_api_signs_in_and_a_tampered_assertion_does_not() {
    let stack = Stack::connect().await;
    // every local pool names `localhost` as its relying party (tests/src/stack.rs)
    let t = stack.fresh_tenant().await;
    stack
        .set_tenant_attribute(&t, "maxPasswordAttempts", AttributeValue::N("2".into()))
        .await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "pia", &password).await;
    let own = stack.sign_in(&t, &app, "pia", &password).await;
    let mut browser = browser();

    // no passkey yet: the start answers a decoy challenge, the same shape an unknown user gets
    // and a user with a passkey gets, naming no credential
    for who in ["pia", "nobody-at-all"] {
        let start = public::<auth::Group>(
            &app,
            &t,
            "/user-authentication",
            json!({"userID": who, "method": "PASSKEY"}),
        )
        .await;
        assert_eq!(start.status, 200, "{}", start.body);
        assert_eq!(start.data()["challengeName"], "WEB_AUTHN");
        assert!(start.data()["credentialRequestOptions"]["challenge"].is_string());
        assert!(
            start.data()["credentialRequestOptions"]
                .get("allowCredentials")
                .is_none()
        );
    }

    let id = register(&app, &t, "pia", &own, &mut browser).await;
    let listed =
        call::<users::Group>(&app, &t, "GET", "/users/pia/passkeys", Value::Null, &own).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.data()["passkeys"][0]["credentialID"], id.as_str());
    assert_eq!(listed.data()["passkeys"][0]["relyingPartyID"], "localhost");
    // an admin sees ids, names and dates only (through a session of the user's own the API
    // makes and ends: Cognito has no admin operation for it)
    let (_, admin) = stack.admin_token(&t, &app).await;
    let by_admin =
        call::<users::Group>(&app, &t, "GET", "/users/pia/passkeys", Value::Null, &admin).await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.body);
    assert_eq!(by_admin.data()["passkeys"][0]["credentialID"], id.as_str());
    assert!(by_admin.data()["passkeys"][0]["relyingPartyID"].is_null());
    assert_eq!(by_admin.data()["passkeys"][0]["transports"], json!([]));

    // the passkey signs in, without the password
    let (challenge, credential) = assertion(&app, &t, "pia", &mut browser).await;
    let done = answer(&app, &t, "pia", &challenge, &credential).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.data()["authenticationResult"]["accessToken"].is_string());
    // the same assertion again: its challenge is spent
    let replayed = answer(&app, &t, "pia", &challenge, &credential).await;
    assert_eq!(
        (replayed.status, replayed.slug()),
        (401, "invalid-credentials"),
        "{}",
        replayed.body
    );

    // a signature that does not verify is refused too; with the replay above, that is the
    // two wrong assertions the budget allows, and the account locks
    let (challenge, mut credential) = assertion(&app, &t, "pia", &mut browser).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signature = credential["response"]["signature"].as_str().unwrap();
    let mut signature = b64.decode(signature).unwrap();
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    credential["response"]["signature"] = Value::String(b64.encode(signature));
    let refused = answer(&app, &t, "pia", &challenge, &credential).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (401, "invalid-credentials"),
        "{}",
        refused.body
    );
    let start = public::<auth::Group>(
        &app,
        &t,
        "/user-authentication",
        json!({"userID": "pia", "method": "PASSKEY"}),
    )
    .await;
    assert_eq!(
        (start.status, start.slug()),
        (403, "account-locked"),
        "{}",
        start.body
    );
    let lock = call::<lock::Group>(&app, &t, "GET", "/users/pia/lock", Value::Null, &admin).await;
    assert_eq!(
        (
            lock.data()["source"].as_str(),
            lock.data()["failedAttempts"].as_u64()
        ),
        (Some("lockout-policy"), Some(2)),
        "{}",
        lock.body
    );
    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/pia/unlock", Value::Null, &admin).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);

    // deleted, it signs in no more
    let path = format!("/users/pia/passkeys/{id}");
    let deleted = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &own).await;
    assert_eq!(
        deleted.data(),
        &json!({"credentialID": id, "deleted": true}),
        "{}",
        deleted.body
    );
    let again = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &own).await;
    assert_eq!(again.data()["deleted"], false, "{}", again.body);
    let listed =
        call::<users::Group>(&app, &t, "GET", "/users/pia/passkeys", Value::Null, &own).await;
    assert_eq!(listed.data()["passkeys"], json!([]));
    // deleted, it signs in no more: the start is a decoy, and the authenticator's assertion
    // (it still holds the key) answers nothing
    let (challenge, credential) = assertion(&app, &t, "pia", &mut browser).await;
    assert!(
        challenge["credentialRequestOptions"]
            .get("allowCredentials")
            .is_none()
    );
    let gone = answer(&app, &t, "pia", &challenge, &credential).await;
    assert_eq!(
        (gone.status, gone.slug()),
        (401, "invalid-credentials"),
        "{}",
        gone.body
    );
}

/// The account-state table's record of `user`'s registration link, as stored.
async fn link_item(
    stack: &Stack,
    t: &TenantFixture,
    user: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    stack
        .state_item(format!("passkey-registration#{}#{user}", t.user_pool_id))
        .await
}

/// An admin hands out a one-time code; its holder registers a passkey with it, without the
/// password, through the pool's custom sign-in (the `custom-auth` triggers, served by the local
/// stack and invoked by the emulator as Cognito invokes them); the code serves once.
#[tokio::test]
async fn a_registration_code_registers_one_passkey_without_the_password() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "rita", &password).await;
    let own = stack.sign_in(&t, &app, "rita", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let link_path = "/users/rita/passkeys/registration-link";
    let issue = |token: &str, body: Value| {
        let token = token.to_string();
        let app = &app;
        let t = &t;
        async move { call::<users::Group>(app, t, "POST", link_path, body, &token).await }
    };

    // the user cannot hand themselves one
    let mine = issue(&own, json!({"returnCode": true})).await;
    assert_eq!(
        (mine.status, mine.slug()),
        (403, "forbidden"),
        "{}",
        mine.body
    );
    // by mail, the default (the stack's users have a verified address): the admin does not
    // see the code; asking again with `returnCode` replaces it (below)
    let by_mail = issue(&admin, json!({})).await;
    assert_eq!(by_mail.status, 201, "{}", by_mail.body);
    assert!(
        by_mail.data()["sentTo"]
            .as_str()
            .unwrap()
            .starts_with("rita@")
    );
    assert!(by_mail.data().get("code").is_none());
    let mailed = link_item(&stack, &t, "rita")
        .await
        .expect("the mailed code's item");
    let nobody = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/nobody-here/passkeys/registration-link",
        json!({"returnCode": true}),
        &admin,
    )
    .await;
    assert_eq!((nobody.status, nobody.slug()), (404, "user-not-found"));

    let issued = issue(&admin, json!({"returnCode": true})).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let code = issued.data()["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 43, "256 bits, base64url");
    assert!(issued.data()["expiresAt"].as_str().unwrap().ends_with('Z'));
    // kept as its hash only, in place of the mailed one
    let item = link_item(&stack, &t, "rita")
        .await
        .expect("the link's item");
    assert_ne!(item["codeHash"], mailed["codeHash"]);
    let hash = shared::domain::lock::OneTimeCode::hash_of(&code);
    assert_eq!(item["codeHash"].as_s().unwrap(), &hash);
    assert!(
        !format!("{item:?}").contains(&code),
        "the code itself is stored"
    );

    let start = |user: &'static str, code: String| {
        let app = &app;
        let t = &t;
        async move {
            public::<auth::Group>(
                app,
                t,
                "/passkey-registration",
                json!({"userID": user, "code": code}),
            )
            .await
        }
    };
    // a wrong code, another user's name, no such user: the same refusal
    let wrong = "A".repeat(43);
    for (who, c) in [
        ("rita", wrong.clone()),
        ("nobody-here", code.clone()),
        ("rita", code[..42].to_string()),
    ] {
        let refused = start(who, c).await;
        assert_eq!(
            (refused.status, refused.slug()),
            (401, "invalid-credentials"),
            "{who}: {}",
            refused.body
        );
    }
    let malformed = start("rita", "not a code!".into()).await;
    assert_eq!(
        (malformed.status, malformed.slug()),
        (400, "invalid-request")
    );

    let methods = |token: String| {
        let app = &app;
        let t = &t;
        async move {
            let path = "/users/rita/authentication-methods";
            let a = call::<users::Group>(app, t, "GET", path, Value::Null, &token).await;
            assert_eq!(a.status, 200, "{}", a.body);
            a.data()["methods"].clone()
        }
    };
    assert_eq!(methods(own.clone()).await, json!(["PASSWORD"]));

    // the holder's ceremony: options, a credential the browser made, a tampered one refused
    // (the code stays good), then the real one
    let mut browser = browser();
    let started = start("rita", code.clone()).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let options: webauthn::PublicKeyCredentialCreationOptions =
        serde_json::from_value(started.data()["credentialCreationOptions"].clone()).unwrap();
    assert_eq!(options.rp.id.as_deref(), Some("localhost"));
    let created = browser
        .register(
            &origin(),
            webauthn::CredentialCreationOptions {
                public_key: options,
            },
            DefaultClientData,
        )
        .await
        .unwrap();
    let credential = serde_json::to_value(&created).unwrap();
    let verify = |code: String, credential: Value| {
        let app = &app;
        let t = &t;
        async move {
            public::<auth::Group>(
                app,
                t,
                "/passkey-registration/verify",
                json!({"userID": "rita", "code": code, "credential": credential}),
            )
            .await
        }
    };
    let mut tampered = credential.clone();
    tampered["response"]["clientDataJSON"] =
        Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            br#"{"type":"webauthn.create","challenge":"AAAA","origin":"http://localhost:8080"}"#,
        ));
    let refused = verify(code.clone(), tampered).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (400, "invalid-request"),
        "{}",
        refused.body
    );
    assert!(
        link_item(&stack, &t, "rita").await.is_some(),
        "a refused credential gives the code back"
    );
    let wrong_code = verify(wrong.clone(), credential.clone()).await;
    assert_eq!(
        (wrong_code.status, wrong_code.slug()),
        (401, "invalid-credentials")
    );

    let done = verify(code.clone(), credential.clone()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let id = done.data()["credentialID"].as_str().unwrap().to_string();
    assert!(
        link_item(&stack, &t, "rita").await.is_none(),
        "the code is spent"
    );
    // and rita hears of it, at her verified address
    let told = stack.sent_mail().await.into_iter().any(|m| {
        let to_rita = m["to"].as_array().is_some_and(|to| {
            to.iter()
                .any(|a| a.as_str().is_some_and(|a| a.starts_with("rita@")))
        });
        to_rita && m["subject"] == "A passkey was added to your account"
    });
    assert!(told, "rita is told of the new passkey");
    let listed =
        call::<users::Group>(&app, &t, "GET", "/users/rita/passkeys", Value::Null, &own).await;
    assert_eq!(listed.data()["passkeys"][0]["credentialID"], id.as_str());
    // the user sees it among their methods, and so does an admin
    assert_eq!(methods(own.clone()).await, json!(["PASSWORD", "PASSKEY"]));
    assert_eq!(methods(admin.clone()).await, json!(["PASSWORD", "PASSKEY"]));
    // spent: neither step takes it again
    let again = start("rita", code.clone()).await;
    assert_eq!((again.status, again.slug()), (401, "invalid-credentials"));
    let again = verify(code.clone(), credential).await;
    assert_eq!((again.status, again.slug()), (401, "invalid-credentials"));

    // the passkey signs in
    let (challenge, proof) = assertion(&app, &t, "rita", &mut browser).await;
    let signed_in = answer(&app, &t, "rita", &challenge, &proof).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);

    // a locked user's code is refused, by the API and by the pool's trigger alike
    let issued = issue(&admin, json!({"returnCode": true})).await;
    let code = issued.data()["code"].as_str().unwrap().to_string();
    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/rita/lock",
        json!({"reason": "lost laptop"}),
        &admin,
    )
    .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let refused = start("rita", code.clone()).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (403, "account-locked"),
        "{}",
        refused.body
    );

    // the account is locked (a lost laptop): an admin removes its passkey all the same, through
    // a session of the user's that the pool's Pre Authentication trigger lets through the lock
    // for the API's own admin-access code only
    let path = format!("/users/rita/passkeys/{id}");
    let removed = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &admin).await;
    assert_eq!(
        removed.data(),
        &json!({"credentialID": id, "deleted": true}),
        "{}",
        removed.body
    );
    let code_item = stack
        .state_item(format!("admin-access#{}#rita", t.user_pool_id))
        .await;
    assert!(code_item.is_none(), "the admin-access code is spent");
    // the lock still refuses every other sign-in: the holder's code, and rita herself
    let still = start("rita", code.clone()).await;
    assert_eq!((still.status, still.slug()), (403, "account-locked"));
    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/rita/unlock", Value::Null, &admin).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    let (challenge, assertion) = assertion(&app, &t, "rita", &mut browser).await;
    let gone = answer(&app, &t, "rita", &challenge, &assertion).await;
    assert_eq!((gone.status, gone.slug()), (401, "invalid-credentials"));

    // the trail: the admin's hand-out, the holder's steps, their outcomes
    let trail = account_api_tests::stack::trail(&app, &t, "rita", &admin).await;
    let seen = |action: &str, outcome: &str| trail.iter().any(|(a, o)| a == action && o == outcome);
    assert!(seen("passkey-registration-link", "success"), "{trail:?}");
    assert!(seen("start-passkey-registration", "success"), "{trail:?}");
    assert!(
        seen("start-passkey-registration", "invalid-credentials"),
        "{trail:?}"
    );
    assert!(
        seen("verify-passkey-registration", "invalid-request"),
        "{trail:?}"
    );
    assert!(seen("verify-passkey-registration", "success"), "{trail:?}");
    assert!(
        seen("start-passkey-registration", "account-locked"),
        "{trail:?}"
    );
    assert!(seen("admin-access", "success"), "{trail:?}");
    assert!(seen("delete-passkey", "success"), "{trail:?}");
}

/// Without `returnCode`, the code goes to the user's verified email, from the tenant's sender,
/// as a link to the tenant's page; the admin never sees it, and the mailed code registers.
#[tokio::test]
async fn a_registration_code_is_mailed_to_the_users_verified_email() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .set_tenant_attribute(
            &t,
            "passkeyRegistrationUrl",
            AttributeValue::S("https://app.example.com/passkey?user={userID}&code={code}".into()),
        )
        .await;
    let app = stack.app().await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let address = format!("{}@example.org", account_api_tests::stack::unique("sam"));
    for (user, verified) in [("sam", "true"), ("tom", "false")] {
        stack.create_user(&t, user, &random_password()).await;
        stack
            .cognito
            .admin_update_user_attributes()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .user_attributes(
                aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                    .name("email")
                    .value(if user == "sam" {
                        address.clone()
                    } else {
                        format!("tom-{address}")
                    })
                    .build()
                    .unwrap(),
            )
            .user_attributes(
                aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                    .name("email_verified")
                    .value(verified)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    // no verified address, no mail, no code kept
    let refused = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/tom/passkeys/registration-link",
        json!({}),
        &admin,
    )
    .await;
    assert_eq!(
        (refused.status, refused.slug()),
        (409, "conflict"),
        "{}",
        refused.body
    );
    assert!(link_item(&stack, &t, "tom").await.is_none());

    let issued = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/sam/passkeys/registration-link",
        json!({}),
        &admin,
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    assert_eq!(issued.data()["sentTo"], address.as_str());
    assert!(issued.data().get("code").is_none(), "{}", issued.body);
    let mail = stack
        .sent_mail()
        .await
        .into_iter()
        .rfind(|m| m["to"] == json!([address.as_str()]))
        .expect("the mail to sam");
    assert_eq!(mail["from"], account_api_tests::stack::MAIL_FROM);
    assert_eq!(mail["subject"], "Register a passkey for your account");
    let body = mail["body"].as_str().unwrap();
    let link = body
        .lines()
        .find(|l| l.starts_with("https://app.example.com/passkey?user=sam&code="))
        .expect("the link to the tenant's page");
    let code = link.rsplit("code=").next().unwrap();
    assert_eq!(code.len(), 43, "{body}");

    // the mailed code is the one kept, and registers
    let started = public::<auth::Group>(
        &app,
        &t,
        "/passkey-registration",
        json!({"userID": "sam", "code": code}),
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert!(started.data()["credentialCreationOptions"]["challenge"].is_string());
}

/// What a start's answer shows without its secrets: every key, every value's type, every
/// string's length, every other value itself.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(s) => json!(format!("string of {}", s.len())),
        other => other.clone(),
    }
}

/// A passkey start answers a decoy for a user without a passkey, for no such user, and (where
/// the tenant hides account states) for a locked, disabled, reset-required or unconfirmed
/// account: each is the real challenge's double, key for key, type for type, length for
/// length, with the same timeout, relying party and user verification.
#[tokio::test]
async fn a_decoy_passkey_start_is_the_double_of_a_real_one() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .set_tenant_attribute(&t, "hideAccountState", AttributeValue::Bool(true))
        .await;
    let app = stack.app().await;
    // each its own authenticator (one holds one passkey); the real one's kept to sign in
    let mut browser = browser();
    for user in ["real", "bare", "locked", "disabled", "reset"] {
        let password = random_password();
        stack.create_user(&t, user, &password).await;
        let own = stack.sign_in(&t, &app, user, &password).await;
        match user {
            "real" => {
                register(&app, &t, user, &own, &mut browser).await;
            }
            "bare" => {}
            _ => {
                register(&app, &t, user, &own, &mut self::browser()).await;
            }
        }
    }
    stack
        .create_user_with_temporary_password(&t, "invited", &random_password())
        .await;
    stack.put_lock(&t, "locked", "admin", None).await;
    stack.disable_user(&t, "disabled").await;
    stack
        .cognito
        .admin_reset_user_password()
        .user_pool_id(&t.user_pool_id)
        .username("reset")
        .send()
        .await
        .expect("admin reset");

    let start = |user: &'static str| {
        let (app, t) = (&app, &t);
        async move {
            let a = public::<auth::Group>(
                app,
                t,
                "/user-authentication",
                json!({"userID": user, "method": "PASSKEY"}),
            )
            .await;
            assert_eq!(a.status, 200, "{user}: {}", a.body);
            a.data().clone()
        }
    };
    let real = start("real").await;
    assert_eq!(real["credentialRequestOptions"]["rpId"], "localhost");
    // the real one works: it is no decoy
    let options: webauthn::PublicKeyCredentialRequestOptions =
        serde_json::from_value(real["credentialRequestOptions"].clone()).unwrap();
    let answered = browser
        .authenticate(
            &origin(),
            webauthn::CredentialRequestOptions {
                public_key: options,
            },
            DefaultClientData,
        )
        .await
        .unwrap();
    let done = answer(
        &app,
        &t,
        "real",
        &real,
        &serde_json::to_value(&answered).unwrap(),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);

    let real = start("real").await;
    for user in [
        "bare",
        "nobody-by-this-name",
        "locked",
        "disabled",
        "reset",
        "invited",
    ] {
        let decoy = start(user).await;
        assert_eq!(
            shape(&decoy),
            shape(&real),
            "{user}: {decoy} against {real}"
        );
        for constant in ["timeout", "rpId", "userVerification"] {
            assert_eq!(
                decoy["credentialRequestOptions"][constant],
                real["credentialRequestOptions"][constant],
                "{user}: {constant}"
            );
        }
        assert_eq!(decoy["challengeName"], "WEB_AUTHN");
    }
    // two starts never share a session or a challenge
    let again = start("real").await;
    assert_ne!(again["session"], real["session"]);
    assert_ne!(
        again["credentialRequestOptions"]["challenge"],
        real["credentialRequestOptions"]["challenge"]
    );
}
