#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: retries that do not double. A state change sent again with the same
//! `Idempotency-Key` and the same request is answered again, not done again (the backend calls
//! are counted); the same key with another request is `422 idempotency-key-reused`; keys are
//! each caller's; a refused request keeps nothing, so its retry is a request anew.

use account_api_tests::{
    authenticator::{create, origin, register_key, security_key},
    stack::{
        Answer, Stack, TenantFixture, api_request_with_headers, random_password, tenant_headers,
    },
};
use serde_json::{Value, json};
use shared::AwsApp;

/// `method path body` as `token`'s caller, with `key` as its Idempotency-Key.
async fn with_key<G: shared::Group>(
    app: &AwsApp,
    t: &TenantFixture,
    (method, path, body): (&str, &str, Value),
    token: &str,
    key: &str,
) -> Answer {
    let mut headers = tenant_headers(t, Some(token));
    headers.push(("idempotency-key".into(), key.into()));
    Answer::from(
        app.handle::<G>(api_request_with_headers(method, path, &body, &headers))
            .await,
    )
}

/// How many security keys `user` holds, as they list them.
async fn keys_held(app: &AwsApp, t: &TenantFixture, user: &str, token: &str) -> usize {
    let path = format!("/users/{user}/u2f");
    let listed =
        account_api_tests::stack::call::<users::Group>(app, t, "GET", &path, Value::Null, token)
            .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.data()["u2f"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_retried_admin_reset_sends_one_code_and_a_retried_lock_keeps_its_first_time() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, probe) = stack.probed_app().await;
    stack.create_user(&t, "ida", &random_password()).await;
    let (_, admin) = stack.admin_token(&t, &app).await;

    let reset = ("POST", "/users/ida/admin-reset-password", Value::Null);
    let first = with_key::<admin::Group>(&app, &t, reset.clone(), &admin, "reset-1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(probe.take().get("AdminResetUserPassword"), Some(&1));
    let again = with_key::<admin::Group>(&app, &t, reset.clone(), &admin, "reset-1").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data(), first.data(), "the first answer, again");
    let calls = probe.take();
    assert_eq!(
        calls.get("AdminResetUserPassword"),
        None,
        "no second code: {calls:?}"
    );
    // a new key is a new request
    let other = with_key::<admin::Group>(&app, &t, reset, &admin, "reset-2").await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(probe.take().get("AdminResetUserPassword"), Some(&1));

    let lock = ("PUT", "/users/ida/lock", json!({"reason": "retried"}));
    let first = with_key::<lock::Group>(&app, &t, lock.clone(), &admin, "lock-1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = with_key::<lock::Group>(&app, &t, lock, &admin, "lock-1").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data()["lockedAt"], first.data()["lockedAt"]);
    assert_eq!(again.data(), first.data());
    let locks = account_api_tests::stack::trail(&app, &t, "ida", &admin)
        .await
        .into_iter()
        .filter(|(action, _)| action == "lock")
        .count();
    assert_eq!(locks, 1, "one lock in the trail");

    // the same key with another request: refused, nothing done
    let unlock = ("PUT", "/users/ida/unlock", Value::Null);
    probe.take();
    let reused = with_key::<lock::Group>(&app, &t, unlock.clone(), &admin, "lock-1").await;
    assert_eq!(
        (reused.status, reused.slug()),
        (422, "idempotency-key-reused"),
        "{}",
        reused.body
    );
    assert_eq!(probe.take().get("UpdateItem"), None, "nothing written");
    // another admin's key of the same name is theirs, and acts
    let (_, second) = stack.admin_token(&t, &app).await;
    let theirs = with_key::<lock::Group>(&app, &t, unlock.clone(), &second, "lock-1").await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.data()["locked"], false, "{}", theirs.body);

    // a refused request keeps nothing: its retry is refused anew, not replayed
    let nobody = ("PUT", "/users/nobody-here/lock", json!({"reason": "x"}));
    for _ in 0..2 {
        let refused = with_key::<lock::Group>(&app, &t, nobody.clone(), &admin, "lock-9").await;
        assert_eq!(
            (refused.status, refused.slug()),
            (404, "user-not-found"),
            "{}",
            refused.body
        );
    }

    // a malformed key is refused before anything happens
    for key in ["has space", "clé", &"k".repeat(256)] {
        let bad = with_key::<lock::Group>(&app, &t, unlock.clone(), &admin, key).await;
        assert_eq!(
            (bad.status, bad.slug()),
            (400, "invalid-request"),
            "{key}: {}",
            bad.body
        );
    }
}

#[tokio::test]
async fn a_retried_registration_registers_one_key_and_a_refusal_is_not_kept() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "jo", &password).await;
    let own = stack.sign_in(&t, &app, "jo", &password).await;

    // the registration's answer, sent twice with one key: one key registered
    let started = with_key::<users::Group>(
        &app,
        &t,
        ("POST", "/users/jo/u2f", Value::Null),
        &own,
        "start-1",
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let mut key = security_key();
    let credential = create(
        &mut key,
        &started.data()["credentialCreationOptions"],
        &origin(),
    )
    .await;
    let verify = (
        "POST",
        "/users/jo/u2f/verify",
        json!({"credential": credential}),
    );
    let first = with_key::<users::Group>(&app, &t, verify.clone(), &own, "verify-1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = with_key::<users::Group>(&app, &t, verify.clone(), &own, "verify-1").await;
    assert_eq!(
        again.status, 200,
        "the first answer, not `no registration under way`: {}",
        again.body
    );
    assert_eq!(again.data()["u2fID"], first.data()["u2fID"]);
    assert_eq!(keys_held(&app, &t, "jo", &own).await, 1);

    // a refused request keeps nothing: its retry is refused the same way, anew
    let refused = with_key::<users::Group>(&app, &t, verify.clone(), &own, "verify-2").await;
    assert_eq!(
        (refused.status, refused.slug()),
        (409, "conflict"),
        "{}",
        refused.body
    );
    register_key(&app, &t, "jo", &own, &mut security_key()).await;
    assert_eq!(keys_held(&app, &t, "jo", &own).await, 2);

    // an answer that shows a secret once (a TOTP secret) is never kept: a retry starts anew
    let totp = ("POST", "/users/jo/totp", Value::Null);
    let first = with_key::<users::Group>(&app, &t, totp.clone(), &own, "totp-1").await;
    let again = with_key::<users::Group>(&app, &t, totp, &own, "totp-1").await;
    assert_eq!((first.status, again.status), (200, 200), "{}", again.body);
    assert_ne!(first.data()["secret"], again.data()["secret"]);

    // a replay goes only to a caller who may still act: once an admin locks the account (which
    // ends its sessions), the kept answer is not handed out
    let (_, admin) = stack.admin_token(&t, &app).await;
    let lock = ("PUT", "/users/jo/lock", json!({"reason": "stolen laptop"}));
    let locked = with_key::<lock::Group>(&app, &t, lock, &admin, "lock-jo").await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    let replay = with_key::<users::Group>(&app, &t, verify, &own, "verify-1").await;
    assert_eq!(
        (replay.status, replay.slug()),
        (401, "unauthenticated"),
        "{}",
        replay.body
    );
}
