#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Security keys as a second factor the API verifies itself: the ceremonies of
//! `shared::domain::u2f` against a software security key (passkey-rs, configured as a key that
//! cannot verify its user and counts its signatures), and the routes end to end on the stack.

use account_api_tests::{
    authenticator::{Browser, clone_of, create, get, origin, register_key, security_key},
    stack::{Stack, call, random_password},
};
use base64::Engine as _;
use serde_json::{Value, json};
use shared::domain::{
    u2f::{self, KeyRing, U2fError},
    user_id::UserId,
};

const RP: &str = "localhost";

fn user() -> UserId {
    UserId::parse("kim").unwrap()
}

/// A ring holding one key registered by `key`.
async fn registered(key: &mut Browser) -> KeyRing {
    let mut ring = KeyRing::default();
    let options = u2f::start_registration(RP, &user(), &mut ring).unwrap();
    let credential = create(key, &options, &origin()).await;
    u2f::finish_registration(RP, &mut ring, &credential, "blue key", 1_000).unwrap();
    ring
}

#[tokio::test]
async fn a_security_key_registers_as_a_second_factor_and_its_challenge_is_spent() {
    let mut ring = KeyRing::default();
    let options = u2f::start_registration(RP, &user(), &mut ring).unwrap();
    // a roaming key, no resident key, user verification discouraged: a key in a drawer
    let selection = &options["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "discouraged", "{options}");
    assert_eq!(selection["residentKey"], "discouraged", "{options}");
    assert_eq!(
        selection["authenticatorAttachment"], "cross-platform",
        "{options}"
    );
    assert_eq!(options["rp"]["id"], RP);
    assert!(ring.pending.is_some() && ring.handle.is_some());

    let mut key = security_key();
    let credential = create(&mut key, &options, &origin()).await;
    let id = u2f::finish_registration(RP, &mut ring, &credential, "blue key", 1_000).unwrap();
    assert_eq!(ring.keys.len(), 1);
    assert_eq!(
        (ring.keys[0].u2f_id.as_str(), ring.keys[0].name.as_str()),
        (id.as_str(), "blue key")
    );
    assert_eq!(
        ring.keys[0].credential_id,
        credential["id"].as_str().unwrap()
    );
    assert!(ring.pending.is_none(), "the challenge is spent");
    assert_eq!(
        u2f::finish_registration(RP, &mut ring, &credential, "again", 1_001),
        Err(U2fError::NoCeremony),
        "an answer to a spent challenge"
    );

    // the same key again: excluded by the options, refused if answered anyway
    let options = u2f::start_registration(RP, &user(), &mut ring).unwrap();
    assert_eq!(
        options["excludeCredentials"][0]["id"], credential["id"],
        "{options}"
    );
    let mut fresh = ring.clone();
    let other = create(&mut security_key(), &options, &origin()).await;
    u2f::finish_registration(RP, &mut fresh, &other, "spare", 1_002).unwrap();
    assert_eq!(fresh.keys.len(), 2, "a second key is welcome");
}

#[tokio::test]
async fn a_registration_from_another_site_or_for_another_challenge_is_refused() {
    let mut key = security_key();
    let mut ring = KeyRing::default();
    let options = u2f::start_registration(RP, &user(), &mut ring).unwrap();
    let mut stale = KeyRing::default();
    let stale_options = u2f::start_registration(RP, &user(), &mut stale).unwrap();

    // another challenge than the one kept
    let credential = create(&mut key, &stale_options, &origin()).await;
    let mut kept = ring.clone();
    assert!(matches!(
        u2f::finish_registration(RP, &mut kept, &credential, "k", 1),
        Err(U2fError::NotVerified(_))
    ));
    // a page of another site (the key signs for the relying party it is asked for)
    let evil = url::Url::parse("https://evil.example").unwrap();
    let mut elsewhere = options.clone();
    elsewhere["rp"]["id"] = json!("evil.example");
    let credential = create(&mut key, &elsewhere, &evil).await;
    let mut kept = ring.clone();
    assert!(matches!(
        u2f::finish_registration(RP, &mut kept, &credential, "k", 1),
        Err(U2fError::NotVerified(_))
    ));
    assert!(
        kept.keys.is_empty() && kept.pending.is_none(),
        "spent, nothing added"
    );
}

#[tokio::test]
async fn a_key_signs_in_its_counter_moves_and_a_clone_or_a_tampered_answer_is_refused() {
    let mut key = security_key();
    let mut ring = registered(&mut key).await;

    let (options, state) = u2f::start_sign_in(RP, &ring).unwrap();
    assert_eq!(options["userVerification"], "discouraged", "{options}");
    assert_eq!(
        options["allowCredentials"][0]["id"],
        ring.keys[0].credential_id.as_str()
    );
    let before = ring.keys[0].dynamic_state.clone();
    let answer = get(&mut key, &options, &origin()).await;
    let id = u2f::finish_sign_in(RP, &mut ring, &state, &answer, 2_000).unwrap();
    assert_eq!(id, ring.keys[0].u2f_id);
    assert_eq!(ring.keys[0].last_used_at, Some(2_000));
    assert_ne!(ring.keys[0].dynamic_state, before, "the counter moved");

    // a copy of the key taken now signs with the counter the key has: after the key signs
    // again, the copy's next signature is behind, and it is caught
    let mut copy = clone_of(&key);
    let (options, state) = u2f::start_sign_in(RP, &ring).unwrap();
    let answer = get(&mut key, &options, &origin()).await;
    u2f::finish_sign_in(RP, &mut ring, &state, &answer, 3_000).unwrap();
    let (options, state) = u2f::start_sign_in(RP, &ring).unwrap();
    let cloned = get(&mut copy, &options, &origin()).await;
    let kept = ring.clone();
    assert_eq!(
        u2f::finish_sign_in(RP, &mut ring, &state, &cloned, 4_000),
        Err(U2fError::ClonedKey(ring.keys[0].u2f_id.clone()))
    );
    assert_eq!(ring, kept, "a clone's answer moves nothing");

    // a signature that does not verify
    let (options, state) = u2f::start_sign_in(RP, &ring).unwrap();
    let mut answer = get(&mut key, &options, &origin()).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut signature = b64
        .decode(answer["response"]["signature"].as_str().unwrap())
        .unwrap();
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    answer["response"]["signature"] = json!(b64.encode(signature));
    assert!(matches!(
        u2f::finish_sign_in(RP, &mut ring, &state, &answer, 5_000),
        Err(U2fError::NotVerified(_))
    ));

    // an answer to another sign-in's challenge
    let (options, _) = u2f::start_sign_in(RP, &ring).unwrap();
    let (_, other_state) = u2f::start_sign_in(RP, &ring).unwrap();
    let answer = get(&mut key, &options, &origin()).await;
    assert!(matches!(
        u2f::finish_sign_in(RP, &mut ring, &other_state, &answer, 6_000),
        Err(U2fError::NotVerified(_))
    ));

    // a key that is not the user's
    let mut stranger = security_key();
    let theirs = registered(&mut stranger).await;
    let (options, state) = u2f::start_sign_in(RP, &theirs).unwrap();
    let answer = get(&mut stranger, &options, &origin()).await;
    assert!(matches!(
        u2f::finish_sign_in(RP, &mut ring, &state, &answer, 7_000),
        Err(U2fError::NotVerified(_))
    ));
}

/// The routes on the stack: the user registers a key (recent sign-in), lists it, the
/// authentication methods list U2F, an admin lists and deletes it, a deleted key is gone and a
/// second delete says so; another user can neither start nor list.
#[tokio::test]
async fn a_security_key_is_registered_listed_and_deleted_through_the_api() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "uma", &password).await;
    stack.create_user(&t, "vic", &password).await;
    let own = stack.sign_in(&t, &app, "uma", &password).await;
    let other = stack.sign_in(&t, &app, "vic", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;

    for (method, path) in [("POST", "/users/uma/u2f"), ("GET", "/users/uma/u2f")] {
        let refused = call::<users::Group>(&app, &t, method, path, Value::Null, &other).await;
        assert_eq!(
            (refused.status, refused.slug()),
            (403, "forbidden"),
            "{}",
            refused.body
        );
    }
    let started = call::<users::Group>(&app, &t, "POST", "/users/uma/u2f", Value::Null, &own).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let options = &started.data()["credentialCreationOptions"];
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "discouraged"
    );
    let mut key = security_key();
    let credential = create(&mut key, options, &origin()).await;

    let mut tampered = credential.clone();
    tampered["response"]["clientDataJSON"] = json!("e30");
    let body = json!({"credential": tampered, "name": "blue key"});
    let refused = call::<users::Group>(&app, &t, "POST", "/users/uma/u2f/verify", body, &own).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (400, "invalid-request"),
        "{}",
        refused.body
    );
    // that answer spent the challenge: the right one now finds none under way
    let body = json!({"credential": credential, "name": "blue key"});
    let late = call::<users::Group>(&app, &t, "POST", "/users/uma/u2f/verify", body, &own).await;
    assert_eq!(
        (late.status, late.slug()),
        (409, "conflict"),
        "{}",
        late.body
    );

    let started = call::<users::Group>(&app, &t, "POST", "/users/uma/u2f", Value::Null, &own).await;
    let credential = create(
        &mut key,
        &started.data()["credentialCreationOptions"],
        &origin(),
    )
    .await;
    let body = json!({"credential": credential, "name": "blue key"});
    let done = call::<users::Group>(&app, &t, "POST", "/users/uma/u2f/verify", body, &own).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let u2f_id = done.data()["u2fID"].as_str().unwrap().to_string();

    let listed = call::<users::Group>(&app, &t, "GET", "/users/uma/u2f", Value::Null, &own).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.data()["u2f"][0]["u2fID"], u2f_id.as_str());
    assert_eq!(listed.data()["u2f"][0]["name"], "blue key");
    assert!(listed.data()["u2f"][0]["createdAt"].is_string());
    assert!(listed.data()["u2f"][0]["lastUsedAt"].is_null());
    let methods = account_api_tests::factors::methods(&app, &t, "uma", &own).await;
    assert!(
        methods["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("U2F")),
        "{methods}"
    );

    // kept in the account-state table, under the user, as the store's contract says
    let tenant = shared::domain::tenant::TenantKey {
        client_id: t.client_id.clone(),
        client_code: t.client_code.clone(),
        database: t.database.clone(),
    };
    let tenant = app.tenants.resolve(&tenant).await.unwrap();
    let user = UserId::parse("uma").unwrap();
    let (ring, _) =
        shared::domain::lock::SecurityKeys::key_ring(&app.locks, &tenant.user_pool_id, &user)
            .await
            .unwrap();
    assert_eq!(ring.keys.len(), 1);

    let by_admin =
        call::<users::Group>(&app, &t, "GET", "/users/uma/u2f", Value::Null, &admin).await;
    assert_eq!(
        by_admin.data()["u2f"][0]["u2fID"],
        u2f_id.as_str(),
        "{}",
        by_admin.body
    );
    let path = format!("/users/uma/u2f/{u2f_id}");
    let deleted = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &admin).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.data()["deleted"], true);
    let again = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &own).await;
    assert_eq!(again.data()["deleted"], false, "{}", again.body);
    let (ring, _) =
        shared::domain::lock::SecurityKeys::key_ring(&app.locks, &tenant.user_pool_id, &user)
            .await
            .unwrap();
    assert!(ring.keys.is_empty());
    let methods = account_api_tests::factors::methods(&app, &t, "uma", &own).await;
    assert!(
        !methods["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("U2F")),
        "{methods}"
    );
}

/// A password sign-in of a user with a key: the `U2F` challenge, no tokens.
async fn password_step(
    app: &shared::AwsApp,
    t: &account_api_tests::stack::TenantFixture,
    user: &str,
    password: &str,
) -> Value {
    let a = account_api_tests::stack::sign_in(app, t, user, password).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["challengeName"], "U2F", "{}", a.body);
    assert!(
        a.data()["authenticationResult"].is_null(),
        "no tokens yet: {}",
        a.body
    );
    a.data().clone()
}

async fn key_step(
    app: &shared::AwsApp,
    t: &account_api_tests::stack::TenantFixture,
    user: &str,
    challenge: &Value,
    credential: &Value,
) -> shared::testing::Answer {
    let body = json!({"userID": user, "challengeName": "U2F", "session": challenge["session"],
                      "credential": credential});
    account_api_tests::stack::public::<auth::Group>(app, t, "/respond-to-auth-challenge", body)
        .await
}

/// A `U2F` session is its tenant's: sent to another tenant for a user of the same name there,
/// it is a session the API does not hold for that user (401 `invalid-credentials`), and spends
/// nothing of that user's second-factor budget (else anyone with a key at one tenant could lock
/// a namesake at another, five made-up answers at a time).
#[tokio::test]
async fn a_key_session_made_at_one_tenant_spends_nothing_at_another() {
    let stack = Stack::connect().await;
    let (t, other) = (stack.fresh_tenant().await, stack.fresh_tenant().await);
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "vic", &password).await;
    stack.create_user(&other, "vic", &random_password()).await;
    let own = stack.sign_in(&t, &app, "vic", &password).await;
    let mut key = security_key();
    register_key(&app, &t, "vic", &own, &mut key).await;
    let challenge = password_step(&app, &t, "vic", &password).await;
    let answer = get(&mut key, &challenge["credentialRequestOptions"], &origin()).await;
    let elsewhere = key_step(&app, &other, "vic", &challenge, &answer).await;
    assert_eq!(
        (elsewhere.status, elsewhere.slug()),
        (401, "invalid-credentials"),
        "{}",
        elsewhere.body
    );
    let (_, admin) = stack.admin_token(&other, &app).await;
    let lock =
        call::<lock::Group>(&app, &other, "GET", "/users/vic/lock", Value::Null, &admin).await;
    assert_eq!(lock.status, 200, "{}", lock.body);
    assert_eq!(lock.data()["failedOtpAttempts"], 0, "{}", lock.body);
    assert_eq!(lock.data()["locked"], false, "{}", lock.body);
}

/// The sign-in with a key, end to end: the password alone gives no tokens but the `U2F`
/// challenge; the key's answer releases them (tokens the API accepts); the same answer again,
/// a tampered one, and a cloned key's are refused (401 invalid-credentials), each spending the
/// second-factor budget, and the budget's last unit locks the account; a lock that arrives
/// between the password and the key holds; a removed key no longer asks.
#[tokio::test]
async fn a_user_with_a_key_signs_in_with_password_then_key_and_the_password_alone_gets_nothing() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .set_tenant_attribute(
            &t,
            "maxOtpAttempts",
            aws_sdk_dynamodb::types::AttributeValue::N("2".into()),
        )
        .await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "wes", &password).await;
    let own = stack.sign_in(&t, &app, "wes", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let mut key = security_key();
    let u2f_id = register_key(&app, &t, "wes", &own, &mut key).await;

    // the password alone: a challenge naming the key, no tokens
    let challenge = password_step(&app, &t, "wes", &password).await;
    let options = &challenge["credentialRequestOptions"];
    assert_eq!(options["userVerification"], "discouraged", "{options}");
    assert!(
        options["allowCredentials"][0]["id"].is_string(),
        "{options}"
    );
    let answer = get(&mut key, options, &origin()).await;
    let done = key_step(&app, &t, "wes", &challenge, &answer).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let access = done.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let me = call::<users::Group>(&app, &t, "GET", "/users/wes", Value::Null, &access).await;
    assert_eq!(
        me.status, 200,
        "the released tokens are the user's: {}",
        me.body
    );
    // a refresh continues that signed-in session: tokens, no second key step
    let refresh_token = done.data()["authenticationResult"]["refreshToken"].clone();
    let refreshed = account_api_tests::stack::public::<auth::Group>(
        &app,
        &t,
        "/user-refresh-tokens",
        json!({"userID": "wes", "refreshToken": refresh_token}),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(
        refreshed.data()["authenticationResult"]["accessToken"].is_string(),
        "{}",
        refreshed.body
    );
    let listed = call::<users::Group>(&app, &t, "GET", "/users/wes/u2f", Value::Null, &own).await;
    assert!(
        listed.data()["u2f"][0]["lastUsedAt"].is_string(),
        "{}",
        listed.body
    );

    // the same answer again: its session is spent, refused without spending the budget (a
    // session the API does not hold proves nothing, and anyone could send a made-up one); a
    // made-up session alike, however often
    let replayed = key_step(&app, &t, "wes", &challenge, &answer).await;
    assert_eq!(
        (replayed.status, replayed.slug()),
        (401, "invalid-credentials"),
        "{}",
        replayed.body
    );
    for _ in 0..3 {
        let made_up = json!({"session": "a".repeat(43)});
        let refused = key_step(&app, &t, "wes", &made_up, &answer).await;
        assert_eq!(refused.status, 401, "{}", refused.body);
    }
    let lock = call::<lock::Group>(&app, &t, "GET", "/users/wes/lock", Value::Null, &admin).await;
    assert_eq!(lock.data()["failedOtpAttempts"], 0, "{}", lock.body);

    // a tampered signature spends a unit (1 of 2), and spends its session: the right answer
    // to it is refused and spends nothing; a second tampered answer (2 of 2) locks
    let tampered_answer = async |key: &mut Browser| {
        let challenge = password_step(&app, &t, "wes", &password).await;
        let mut tampered = get(key, &challenge["credentialRequestOptions"], &origin()).await;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut signature = b64
            .decode(tampered["response"]["signature"].as_str().unwrap())
            .unwrap();
        let last = signature.len() - 1;
        signature[last] ^= 0x01;
        tampered["response"]["signature"] = json!(b64.encode(signature));
        let refused = key_step(&app, &t, "wes", &challenge, &tampered).await;
        assert_eq!(
            (refused.status, refused.slug()),
            (401, "invalid-credentials"),
            "{}",
            refused.body
        );
        challenge
    };
    let challenge = tampered_answer(&mut key).await;
    let right = get(&mut key, &challenge["credentialRequestOptions"], &origin()).await;
    let late = key_step(&app, &t, "wes", &challenge, &right).await;
    assert_eq!(late.status, 401, "{}", late.body);
    let lock = call::<lock::Group>(&app, &t, "GET", "/users/wes/lock", Value::Null, &admin).await;
    assert_eq!(lock.data()["failedOtpAttempts"], 1, "{}", lock.body);
    tampered_answer(&mut key).await;
    let lock = call::<lock::Group>(&app, &t, "GET", "/users/wes/lock", Value::Null, &admin).await;
    assert_eq!(lock.data()["source"], "lockout-policy", "{}", lock.body);
    let locked = account_api_tests::stack::sign_in(&app, &t, "wes", &password).await;
    assert_eq!(
        (locked.status, locked.slug()),
        (403, "account-locked"),
        "{}",
        locked.body
    );
    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/wes/unlock", Value::Null, &admin).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);

    // a cloned key: the copy signs behind the key's counter, is refused, and the trail says so
    let mut copy = clone_of(&key);
    let challenge = password_step(&app, &t, "wes", &password).await;
    let answer = get(&mut key, &challenge["credentialRequestOptions"], &origin()).await;
    assert_eq!(
        key_step(&app, &t, "wes", &challenge, &answer).await.status,
        200
    );
    let challenge = password_step(&app, &t, "wes", &password).await;
    let cloned = get(&mut copy, &challenge["credentialRequestOptions"], &origin()).await;
    let refused = key_step(&app, &t, "wes", &challenge, &cloned).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (401, "invalid-credentials"),
        "{}",
        refused.body
    );
    let events = call::<users::Group>(
        &app,
        &t,
        "GET",
        "/users/wes/events?limit=5",
        Value::Null,
        &admin,
    )
    .await;
    let actions: Vec<_> = events.data()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("u2f-cloned-key".into(), "invalid-credentials".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("u2f-sign-in".into(), "invalid-credentials".into())),
        "{actions:?}"
    );

    // a lock between the password and the key holds
    let challenge = password_step(&app, &t, "wes", &password).await;
    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/wes/lock",
        json!({"reason": "stolen laptop"}),
        &admin,
    )
    .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let answer = get(&mut key, &challenge["credentialRequestOptions"], &origin()).await;
    let refused = key_step(&app, &t, "wes", &challenge, &answer).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (403, "account-locked"),
        "{}",
        refused.body
    );
    assert!(refused.data().is_null(), "{}", refused.body);
    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/wes/unlock", Value::Null, &admin).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);

    // the key removed: the password alone signs in again
    let path = format!("/users/wes/u2f/{u2f_id}");
    let deleted = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &admin).await;
    assert_eq!(deleted.data()["deleted"], true, "{}", deleted.body);
    let signed_in = account_api_tests::stack::sign_in(&app, &t, "wes", &password).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert!(
        signed_in.data()["authenticationResult"]["accessToken"].is_string(),
        "{}",
        signed_in.body
    );
}

/// Around the API: Cognito hands tokens for a password only to the holder of the app client's
/// secret, which only the API has, so a sign-in straight at the pool reaches no tokens without
/// the key (Cognito never learns of the key, and needs not): without a secret hash, or with one
/// made from another secret, it is refused; the API's own sign-in still asks for the key.
#[tokio::test]
async fn a_password_sign_in_straight_at_cognito_without_the_apis_secret_gets_no_tokens() {
    use aws_sdk_cognitoidentityprovider::{error::ProvideErrorMetadata, types::AuthFlowType};
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "xia", &password).await;
    let own = stack.sign_in(&t, &app, "xia", &password).await;
    register_key(&app, &t, "xia", &own, &mut security_key()).await;

    let guessed = shared::adapters::cognito::secret_hash("not-the-secret", "xia", &t.app_client_id);
    for hash in [None, Some(guessed)] {
        let refused = stack
            .cognito
            .initiate_auth()
            .client_id(&t.app_client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .set_auth_parameters(Some(
                [
                    ("USERNAME".to_string(), "xia".to_string()),
                    ("PASSWORD".to_string(), password.clone()),
                ]
                .into_iter()
                .chain(hash.clone().map(|h| ("SECRET_HASH".to_string(), h)))
                .collect(),
            ))
            .send()
            .await
            .expect_err("no tokens without the API's secret");
        assert_eq!(
            refused.code(),
            Some("NotAuthorizedException"),
            "{hash:?}: {refused:?}"
        );
    }
    password_step(&app, &t, "xia", &password).await;
}
