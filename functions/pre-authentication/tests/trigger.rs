#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The trigger, invoked with Cognito's event format from `events/pre-authentication/`.

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
