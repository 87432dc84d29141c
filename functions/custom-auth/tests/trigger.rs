#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The custom sign-in's triggers, invoked with Cognito's event format from `events/custom-auth/`.

use shared::domain::lock::Codes;
use std::time::{Duration, SystemTime};

use custom_auth::{PURPOSE, Refusal, handle};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::{
    domain::lock::{CodePurpose, OneTimeCode},
    domain::user_id::UserId,
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

fn link(code: &str, client: &str, expires_at: u64) -> OneTimeCode {
    OneTimeCode {
        code_hash: OneTimeCode::hash_of(code),
        sub: "8e4f1c2a-0000-4000-8000-00000000d3m0".into(),
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
async fn verify_admits_only_the_unexpired_code_of_its_purpose_for_this_account_and_client() {
    let locks = InMemoryLocks::default();
    let user = UserId::of_cognito("demo-user").unwrap();
    let soon = 1_800_000_000 + 600;
    let answer = |out: Value| out["response"]["answerCorrect"].as_bool().unwrap();
    let right = json!("passkey-registration:the-code");

    // no code at all
    assert!(!answer(
        run(&locks, verify_event(right.clone()), now())
            .await
            .unwrap()
    ));

    let purpose = CodePurpose::PasskeyRegistration;
    let kept = link("the-code", "test-client", soon);
    locks
        .put_code(purpose, "us-east-1_test", &user, &kept, true)
        .await
        .unwrap();
    assert!(answer(
        run(&locks, verify_event(right.clone()), now())
            .await
            .unwrap()
    ));
    for wrong in [
        json!("passkey-registration:the-cod"),
        json!("passkey-registration:the-code "),
        // the code alone, or under the other purpose (whose record is not there)
        json!("the-code"),
        json!("admin-access:the-code"),
        json!("passkey-registration:"),
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
        run(&locks, verify_event(right.clone()), later)
            .await
            .unwrap()
    ));
    // through another app client of the pool (a public one, the hosted UI's)
    let mut other = verify_event(right.clone());
    other["callerContext"]["clientId"] = json!("another-client");
    assert!(!answer(run(&locks, other, now()).await.unwrap()));
    // another account under the same name (deleted and made again outside the API)
    let mut again = verify_event(right.clone());
    again["request"]["userAttributes"]["sub"] = json!("another-sub");
    assert!(!answer(run(&locks, again, now()).await.unwrap()));
    // the verify trigger never consumes the code
    let still = locks.one_time_code(purpose, "us-east-1_test", &user).await;
    assert!(still.unwrap().is_some());
}

#[tokio::test]
async fn an_unreadable_store_or_a_strange_event_fails_closed() {
    let locks = InMemoryLocks::default();
    locks
        .unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        run(&locks, verify_event(json!("admin-access:the-code")), now()).await,
        Err(Refusal::Unavailable)
    ));
    let mut other = event("define-first-challenge");
    other["triggerSource"] = json!("PreSignUp_SignUp");
    assert!(matches!(
        run(&locks, other, now()).await,
        Err(Refusal::Malformed)
    ));
    let mut nameless = verify_event(json!("admin-access:x"));
    nameless["userName"] = json!(null);
    locks
        .unavailable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        run(&locks, nameless, now()).await,
        Err(Refusal::Malformed)
    ));
}

const SCOPE: &str = "aws.cognito.signin.user.admin";

fn suppressed(out: &Value) -> bool {
    out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["scopesToSuppress"]
        == json!([SCOPE])
}

/// Every access token leaves without the self-service scope, a sign-in's and a refresh's alike,
/// and nothing is read for them.
#[tokio::test]
async fn every_token_loses_the_self_service_scope_without_a_read() {
    let locks = InMemoryLocks::default();
    for name in ["token-generation", "token-generation-refresh"] {
        let out = run(&locks, event(name), now()).await.unwrap();
        assert!(suppressed(&out), "{name}: {out}");
        // the rest of the event comes back as it came
        assert_eq!(out["userName"], "demo-user");
    }
    assert_eq!(
        locks.calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no read"
    );
}

/// The API's own session keeps the scope only while it proves a live code of the user's, for
/// this app client and this account: a claimed code that is wrong, expired, another client's or
/// another account's keeps nothing.
#[tokio::test]
async fn only_the_apis_session_with_a_live_code_keeps_the_scope() {
    let locks = InMemoryLocks::default();
    let user = UserId::of_cognito("demo-user").unwrap();
    let pool = "us-east-1_test";
    let secs = shared::time::epoch_seconds(now());
    let claiming = |answer: &str| {
        let mut e = event("token-generation-claimed-session");
        e["request"]["clientMetadata"]["apiSession"] = json!(answer);
        e
    };
    // nothing kept yet
    let out = run(&locks, claiming("user-access:c0de"), now())
        .await
        .unwrap();
    assert!(suppressed(&out), "{out}");

    let purpose = CodePurpose::UserAccess;
    locks
        .put_code(
            purpose,
            pool,
            &user,
            &link("c0de", "test-client", secs + 60),
            true,
        )
        .await
        .unwrap();
    let out = run(&locks, claiming("user-access:c0de"), now())
        .await
        .unwrap();
    assert_eq!(
        out["response"]["claimsAndScopeOverrideDetails"],
        Value::Null,
        "{out}"
    );
    // the API's session is a sign-in: a refresh, a new password or the pool's domain claiming
    // the same live code keeps nothing
    for source in [
        "TokenGeneration_RefreshTokens",
        "TokenGeneration_NewPasswordChallenge",
        "TokenGeneration_HostedAuth",
    ] {
        let mut e = claiming("user-access:c0de");
        e["triggerSource"] = json!(source);
        let out = run(&locks, e, now()).await.unwrap();
        assert!(suppressed(&out), "{source}: {out}");
    }
    for wrong in [
        "user-access:other",
        "admin-access:c0de",
        "user-access:",
        "c0de",
    ] {
        let out = run(&locks, claiming(wrong), now()).await.unwrap();
        assert!(suppressed(&out), "{wrong}: {out}");
    }
    // expired, another client's
    for kept in [
        link("c0de", "test-client", secs),
        link("c0de", "another-client", secs + 60),
    ] {
        locks
            .put_code(purpose, pool, &user, &kept, true)
            .await
            .unwrap();
        let out = run(&locks, claiming("user-access:c0de"), now())
            .await
            .unwrap();
        assert!(suppressed(&out), "{out}");
    }
    // another account of the same name
    let mut other = link("c0de", "test-client", secs + 60);
    other.sub = "another-sub".into();
    locks
        .put_code(purpose, pool, &user, &other, true)
        .await
        .unwrap();
    let out = run(&locks, claiming("user-access:c0de"), now())
        .await
        .unwrap();
    assert!(suppressed(&out), "{out}");

    // a claim that cannot be checked fails the sign-in closed
    locks
        .unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let err = run(&locks, claiming("user-access:c0de"), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Refusal::Unavailable), "{err:?}");
}
