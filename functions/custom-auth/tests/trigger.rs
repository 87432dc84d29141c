#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The custom sign-in's triggers, invoked with Cognito's event format from `events/custom-auth/`.

use std::time::{Duration, SystemTime};

use custom_auth::{PURPOSE, Refusal, handle};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::{
    domain::lock::{LockStore, PasskeyLink},
    http::request::UserId,
    testing::InMemoryLocks,
};

fn event(name: &str) -> Value {
    let path = format!(
        "{}/../../events/custom-auth/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn run(locks: &InMemoryLocks, payload: Value, now: SystemTime) -> Result<Value, Refusal> {
    handle(locks, LambdaEvent::new(payload, Context::default()), now).await
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn link(code: &str, client: &str, expires_at: u64) -> PasskeyLink {
    PasskeyLink {
        code_hash: PasskeyLink::hash_of(code),
        app_client_id: client.into(),
        expires_at,
        created_at: "2027-01-15T08:00:00Z".into(),
        created_by: "admin-sub".into(),
    }
}

fn verify_event(answer: Value) -> Value {
    let mut e = event("verify-wrong-code");
    e["request"]["challengeAnswer"] = answer;
    e
}

#[tokio::test]
async fn define_asks_one_challenge_then_tokens_after_one_right_answer_and_nothing_else() {
    let locks = InMemoryLocks::default();
    let first = run(&locks, event("define-first-challenge"), now())
        .await
        .unwrap();
    assert_eq!(first["response"]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(first["response"]["issueTokens"], false);
    assert_eq!(first["response"]["failAuthentication"], false);

    let right = run(&locks, event("define-after-right-answer"), now())
        .await
        .unwrap();
    assert_eq!(right["response"]["issueTokens"], true);
    assert_eq!(right["response"]["failAuthentication"], false);

    let wrong = run(&locks, event("define-after-wrong-answer"), now())
        .await
        .unwrap();
    assert_eq!(wrong["response"]["issueTokens"], false);
    assert_eq!(wrong["response"]["failAuthentication"], true);

    // a second challenge after a right one, a password step, or an unknown user: refused
    let mut twice = event("define-after-right-answer");
    let step = twice["request"]["session"][0].clone();
    twice["request"]["session"] = json!([step.clone(), step]);
    let mut srp = event("define-first-challenge");
    srp["request"]["session"] =
        json!([{"challengeName": "PASSWORD_VERIFIER", "challengeResult": true}]);
    let mut unknown = event("define-first-challenge");
    unknown["request"]["userNotFound"] = json!(true);
    for e in [twice, srp, unknown] {
        let out = run(&locks, e, now()).await.unwrap();
        assert_eq!(out["response"]["issueTokens"], false);
        assert_eq!(out["response"]["failAuthentication"], true);
    }
}

#[tokio::test]
async fn create_names_the_purpose_and_keeps_nothing_secret() {
    let locks = InMemoryLocks::default();
    let out = run(&locks, event("create-challenge"), now()).await.unwrap();
    assert_eq!(
        out["response"]["publicChallengeParameters"],
        json!({"purpose": PURPOSE})
    );
    assert_eq!(out["response"]["privateChallengeParameters"], json!({}));
}

#[tokio::test]
async fn verify_admits_only_the_unexpired_code_of_the_link_for_this_client() {
    let locks = InMemoryLocks::default();
    let user = UserId::of_cognito("demo-user").unwrap();
    let soon = 1_800_000_000 + 600;
    let answer = |out: Value| out["response"]["answerCorrect"].as_bool().unwrap();

    // no link at all
    assert!(!answer(
        run(&locks, verify_event(json!("the-code")), now())
            .await
            .unwrap()
    ));

    locks
        .put_passkey_link(
            "us-east-1_test",
            &user,
            &link("the-code", "test-client", soon),
            true,
        )
        .await
        .unwrap();
    assert!(answer(
        run(&locks, verify_event(json!("the-code")), now())
            .await
            .unwrap()
    ));
    for wrong in [
        json!("the-cod"),
        json!("the-code "),
        json!(""),
        json!(null),
        json!(7),
    ] {
        assert!(
            !answer(
                run(&locks, verify_event(wrong.clone()), now())
                    .await
                    .unwrap()
            ),
            "{wrong}"
        );
    }
    // after its expiry
    let later = now() + Duration::from_secs(600);
    assert!(!answer(
        run(&locks, verify_event(json!("the-code")), later)
            .await
            .unwrap()
    ));
    // through another app client of the pool (a public one, the hosted UI's)
    let mut other = verify_event(json!("the-code"));
    other["callerContext"]["clientId"] = json!("another-client");
    assert!(!answer(run(&locks, other, now()).await.unwrap()));
    // the verify trigger never consumes the link
    assert!(
        locks
            .passkey_link("us-east-1_test", &user)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn an_unreadable_store_or_a_strange_event_fails_closed() {
    let locks = InMemoryLocks::default();
    locks
        .unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        run(&locks, verify_event(json!("the-code")), now()).await,
        Err(Refusal::Unavailable)
    ));
    let mut other = event("define-first-challenge");
    other["triggerSource"] = json!("PreSignUp_SignUp");
    assert!(matches!(
        run(&locks, other, now()).await,
        Err(Refusal::Malformed)
    ));
    let mut nameless = verify_event(json!("x"));
    nameless["userName"] = json!(null);
    locks
        .unavailable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        run(&locks, nameless, now()).await,
        Err(Refusal::Malformed)
    ));
}
