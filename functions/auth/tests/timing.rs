#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A locked account's refusal takes as long as a password check: with `hideAccountState`
//! both answers read `invalid-credentials`, and the time must not tell them apart either.
//! Medians of alternating samples, over a directory that takes a set time per call.

use shared::domain::lock::Locks;
use std::time::{Duration, Instant};

use serde_json::json;
use shared::{
    domain::tenant::{LockoutPolicy, Tenant},
    domain::user_id::UserId,
    testing::{self, Answer, InMemoryDirectory, MemApp, MemUser},
};

const PASSWORD: &str = "Demo-Passw0rd!";
/// What each directory call takes: far above the in-memory stores' time, far below a timeout.
const LATENCY: Duration = Duration::from_millis(25);

fn hidden_app() -> MemApp {
    app_with(true)
}

fn app_with(hide_account_state: bool) -> MemApp {
    let tenant = Tenant {
        hide_account_state,
        lockout: LockoutPolicy {
            max_password_attempts: 3,
            max_otp_attempts: 5,
            lockout_duration: Duration::from_secs(900),
        },
        ..testing::tenant()
    };
    let directory = InMemoryDirectory {
        latency: LATENCY,
        ..Default::default()
    };
    directory.add("victim", MemUser::confirmed(PASSWORD));
    testing::app_for(tenant, directory)
}

/// A sign-in, how it ended and how long it took.
async fn timed(app: &MemApp, user: &str, password: &str) -> (u16, String, Duration) {
    let req = testing::api_request(
        "POST",
        "/user-authentication",
        &json!({"userID": user, "password": password}),
        &testing::demo_headers(None),
    );
    let started = Instant::now();
    let a = Answer::from(app.handle::<auth::Group>(req).await);
    (a.status, a.slug().to_string(), started.elapsed())
}

/// The `q`-quantile of the samples (0.5: the median).
fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::test]
async fn a_locked_accounts_refusal_takes_as_long_as_a_password_check() {
    let app = hidden_app();
    for _ in 0..3 {
        let (status, slug, _) = timed(&app, "victim", "Wrong-Passw0rd-z").await;
        assert_eq!((status, slug.as_str()), (401, "invalid-credentials"));
    }
    let victim = UserId::parse("victim").unwrap();
    let state = app
        .locks
        .state(&testing::tenant().user_pool_id, &victim)
        .await;
    assert!(
        state.unwrap().lock.is_some(),
        "three wrong passwords lock the account"
    );

    let (mut locked, mut checked) = (vec![], vec![]);
    for i in 0..15 {
        let (status, slug, took) = timed(&app, "victim", PASSWORD).await;
        assert_eq!(
            (status, slug.as_str()),
            (401, "invalid-credentials"),
            "locked"
        );
        locked.push(took);
        // an unknown user each time: a password check Cognito answers, budget not exhausted
        let (status, slug, took) = timed(&app, &format!("nobody-{i}"), PASSWORD).await;
        assert_eq!(
            (status, slug.as_str()),
            (401, "invalid-credentials"),
            "unknown"
        );
        checked.push(took);
    }
    // the median, and the fast end an attacker taking the quickest of a few answers would use
    for q in [0.5, 0.2] {
        let (l, c) = (quantile(&locked, q), quantile(&checked, q));
        assert!(
            l >= c.mul_f64(0.8),
            "quantile {q}: a locked account answers in {l:?}, a password check in {c:?}"
        );
        assert!(
            l <= c.mul_f64(1.5) + Duration::from_millis(10),
            "quantile {q}: padded far past a check: {l:?} against {c:?}"
        );
    }
}

#[tokio::test]
async fn without_hide_account_state_a_lock_is_refused_at_once() {
    // the answer says `account-locked` anyway: holding it would only cost Lambda time
    let app = app_with(false);
    for i in 0..3 {
        timed(&app, &format!("nobody-{i}"), PASSWORD).await;
    }
    for _ in 0..3 {
        timed(&app, "victim", "Wrong-Passw0rd-z").await;
    }
    let mut locked = vec![];
    for _ in 0..5 {
        let (status, slug, took) = timed(&app, "victim", PASSWORD).await;
        assert_eq!((status, slug.as_str()), (403, "account-locked"));
        locked.push(took);
    }
    let median = quantile(&locked, 0.5);
    assert!(median < LATENCY / 2, "held for {median:?}");
}

/// A fresh instance has seen no refused check to copy a time from: a locked account's refusal
/// is held to the stage's floor (`REFUSAL_FLOOR_MS`; the fixtures' 60 ms) from the very first
/// request, not answered at once.
#[tokio::test]
async fn a_fresh_instance_holds_a_locked_refusal_to_the_floor_from_the_first_request() {
    let app = hidden_app();
    let floor = app.config.refusal_floor;
    assert!(floor > Duration::ZERO);
    // locked by an admin: no refused check went through this instance before
    app.locks.lock_now(
        "victim",
        shared::domain::lock::Lock {
            source: shared::domain::lock::LockSource::Admin,
            reason: None,
            locked_at: "2026-12-05T00:00:00Z".into(),
            locked_by: "admin-sub".into(),
            locked_until: None,
            budget: None,
        },
    );
    let (status, slug, took) = timed(&app, "victim", PASSWORD).await;
    assert_eq!((status, slug.as_str()), (401, "invalid-credentials"));
    assert!(
        took >= floor && took <= floor.mul_f64(1.25) + Duration::from_millis(40),
        "the first locked refusal took {took:?}, the floor is {floor:?}"
    );
}
