#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The trigger, invoked with Cognito's event format from `events/pre-authentication/`.

use shared::domain::lock::Codes;
use std::sync::atomic::Ordering;

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreAuthentication;
use lambda_runtime::{Context, LambdaEvent};
use pre_authentication::{Refusal, handle};
use shared::{
    domain::lock::{Lock, LockSource},
    testing::InMemoryLocks,
};

fn event(name: &str) -> LambdaEvent<CognitoEventUserPoolsPreAuthentication> {
    let path = format!(
        "{}/../../events/pre-authentication/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    LambdaEvent::new(payload, Context::default())
}

fn lock(until: Option<u64>) -> Lock {
    Lock {
        source: LockSource::Admin,
        reason: None,
        locked_at: "2026-11-23T00:00:00Z".into(),
        locked_by: "admin-sub".into(),
        locked_until: until,
        budget: None,
    }
}

#[tokio::test]
async fn an_unlocked_user_may_sign_in_and_the_event_comes_back_unchanged() {
    let locks = InMemoryLocks::default();
    let out = handle(&locks, event("sign-in")).await.unwrap();
    assert_eq!(
        out.cognito_event_user_pools_header.user_name.as_deref(),
        Some("demo-user")
    );
}

#[tokio::test]
async fn a_locked_user_is_refused_whatever_the_case_of_the_name() {
    let locks = InMemoryLocks::default();
    locks.lock_now("demo-user", lock(None));
    for name in ["sign-in", "sign-in-mixed-case"] {
        let err = handle(&locks, event(name)).await.unwrap_err();
        assert!(matches!(err, Refusal::Locked), "{name}: {err:?}");
        let diagnostic = lambda_runtime::Diagnostic::from(err);
        assert_eq!(diagnostic.error_message, "account locked");
    }
}

#[tokio::test]
async fn an_expired_lock_does_not_refuse() {
    let locks = InMemoryLocks::default();
    locks.lock_now("demo-user", lock(Some(1)));
    assert!(handle(&locks, event("sign-in")).await.is_ok());
}

/// A name the hosted UI or an SDK may create but the API's userID rule would refuse: looked
/// up, not refused as malformed (and refused when it is locked).
#[tokio::test]
async fn a_valid_cognito_name_outside_the_api_rule_is_looked_up() {
    let named = |name: &str| {
        let mut e = event("sign-in");
        e.payload.cognito_event_user_pools_header.user_name = Some(name.to_string());
        e
    };
    let locks = InMemoryLocks::default();
    assert!(handle(&locks, named("José.Ñandú")).await.is_ok());
    locks.lock_now("josé.ñandú", lock(None));
    let err = handle(&locks, named("José.Ñandú")).await.unwrap_err();
    assert!(matches!(err, Refusal::Locked), "{err:?}");
}

#[tokio::test]
async fn an_unreadable_store_fails_closed() {
    let locks = InMemoryLocks::default();
    locks.unavailable.store(true, Ordering::SeqCst);
    let err = handle(&locks, event("sign-in")).await.unwrap_err();
    assert!(matches!(err, Refusal::Unavailable));
}

/// The API's own sign-in for an admin carries its live admin-access code in `ClientMetadata`
/// (`validationData` here). Only that sign-in passes a lock: not the user's own sign-in while
/// the code lives, nor one naming a registration code, another client's, an expired or
/// another account's code.
#[tokio::test]
async fn a_lock_lets_through_only_the_apis_own_admin_access_for_its_app_client() {
    use shared::domain::lock::{API_SESSION, CodePurpose, OneTimeCode};
    let locks = InMemoryLocks::default();
    locks.lock_now("demo-user", lock(None));
    let user = shared::domain::user_id::UserId::of_cognito("demo-user").unwrap();
    let code = |client: &str, expires_at: u64| OneTimeCode {
        code_hash: OneTimeCode::hash_of("c"),
        sub: "8e4f1c2a-0000-4000-8000-00000000d3m0".into(),
        app_client_id: client.into(),
        expires_at,
        created_at: "2026-11-29T10:00:00Z".into(),
        created_by: "admin-sub".into(),
    };
    let soon = shared::time::epoch_seconds(std::time::SystemTime::now()) + 60;
    let put = |c: OneTimeCode, purpose: CodePurpose| {
        let (locks, user) = (&locks, &user);
        async move {
            locks
                .put_code(purpose, "us-east-1_test", user, &c, true)
                .await
                .unwrap();
        }
    };
    let claiming = |answer: &str| {
        let mut e = event("sign-in");
        e.payload
            .request
            .validation_data
            .insert(API_SESSION.into(), answer.into());
        e
    };
    let refused = |r: Result<_, Refusal>| matches!(r, Err(Refusal::Locked));
    // a registration code is no way through a lock; nor an admin-access code of another
    // client, or an expired one
    put(code("test-client", soon), CodePurpose::PasskeyRegistration).await;
    assert!(refused(
        handle(&locks, claiming("passkey-registration:c")).await
    ));
    put(code("another-client", soon), CodePurpose::AdminAccess).await;
    assert!(refused(handle(&locks, claiming("admin-access:c")).await));
    put(code("test-client", 1), CodePurpose::AdminAccess).await;
    assert!(refused(handle(&locks, claiming("admin-access:c")).await));
    put(code("test-client", soon), CodePurpose::AdminAccess).await;
    assert!(handle(&locks, claiming("admin-access:c")).await.is_ok());
    // while that code lives, any other sign-in of the user is refused: none, or a wrong code
    assert!(refused(handle(&locks, event("sign-in")).await));
    assert!(refused(
        handle(&locks, claiming("admin-access:wrong")).await
    ));
    // made for another account of the same name
    let mut other = code("test-client", soon);
    other.sub = "another-sub".into();
    put(other, CodePurpose::AdminAccess).await;
    assert!(refused(handle(&locks, claiming("admin-access:c")).await));
}

/// The API's session for the signed-in user (`user-access`) passes a lockout, which leaves
/// sessions alone, and never an admin lock.
#[tokio::test]
async fn the_apis_session_for_the_user_passes_a_lockout_but_no_admin_lock() {
    use shared::domain::lock::{API_SESSION, CodePurpose, OneTimeCode};
    let locks = InMemoryLocks::default();
    let user = shared::domain::user_id::UserId::of_cognito("demo-user").unwrap();
    let soon = shared::time::epoch_seconds(std::time::SystemTime::now()) + 60;
    let code = OneTimeCode {
        code_hash: OneTimeCode::hash_of("c"),
        sub: "8e4f1c2a-0000-4000-8000-00000000d3m0".into(),
        app_client_id: "test-client".into(),
        expires_at: soon,
        created_at: "2026-11-29T10:00:00Z".into(),
        created_by: "self".into(),
    };
    locks
        .put_code(
            CodePurpose::UserAccess,
            "us-east-1_test",
            &user,
            &code,
            true,
        )
        .await
        .unwrap();
    let claiming = || {
        let mut e = event("sign-in");
        e.payload
            .request
            .validation_data
            .insert(API_SESSION.into(), "user-access:c".into());
        e
    };
    let lockout = Lock {
        source: LockSource::LockoutPolicy,
        ..lock(Some(soon))
    };
    locks.lock_now("demo-user", lockout);
    assert!(handle(&locks, claiming()).await.is_ok());
    assert!(matches!(
        handle(&locks, event("sign-in")).await,
        Err(Refusal::Locked)
    ));
    locks.lock_now("demo-user", lock(None));
    assert!(matches!(
        handle(&locks, claiming()).await,
        Err(Refusal::Locked)
    ));
}
