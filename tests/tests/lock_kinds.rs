#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What each kind of lock refuses, in memory. A lockout-policy lock stops password checks
//! (sign-in, temporary-password change, change-password's previous password, challenge
//! answers) and nothing else: anyone who knows a userID can cause one, so it must not shut a
//! user out of the sessions they have. An admin lock refuses everything.

use serde_json::{Value, json};
use shared::{
    domain::lock::{Lock, LockSource},
    testing::{
        Answer, InMemoryDirectory, MemApp, MemUser, access_token, api_request, app, demo_headers,
        test_verifier,
    },
};

fn seeded() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    directory.add("boss", MemUser::confirmed("Boss-Passw0rd!"));
    let mut app = app(directory);
    app.tokens = test_verifier(&app.config);
    app
}

fn lock(source: LockSource) -> Lock {
    Lock {
        source,
        reason: None,
        locked_at: "2026-11-29T00:00:00Z".into(),
        locked_by: "system".into(),
        locked_until: None,
        budget: None,
    }
}

/// `(refresh, own profile, change-password, sign-in, admin route as boss)` answers for an
/// account whose lock is `source` (`demo-user`, and `boss` for the admin route).
async fn answers(source: LockSource) -> [Answer; 5] {
    let app = seeded();
    app.locks.lock_now("demo-user", lock(source));
    app.locks.lock_now("boss", lock(source));
    let user_token = access_token("demo-user", &[], 300);
    let boss_token = access_token("boss", &["admins"], 300);
    let call = |method: &str, path: &str, body: Value, token: Option<&str>| {
        api_request(method, path, &body, &demo_headers(token))
    };
    let refresh = call(
        "POST",
        "/user-refresh-tokens",
        json!({"userID": "demo-user", "refreshToken": "refresh-demo-user"}),
        None,
    );
    let profile = call("GET", "/users/demo-user", Value::Null, Some(&user_token));
    let change = call(
        "POST",
        "/users/demo-user/change-password",
        json!({"previousPassword": "Demo-Passw0rd!", "proposedPassword": "New-Passw0rd-123"}),
        Some(&user_token),
    );
    let sign_in = call(
        "POST",
        "/user-authentication",
        json!({"userID": "demo-user", "password": "Demo-Passw0rd!"}),
        None,
    );
    let admin_route = call(
        "GET",
        "/users/demo-user/lock",
        Value::Null,
        Some(&boss_token),
    );
    [
        Answer::from(app.handle::<auth::Group>(refresh).await),
        Answer::from(app.handle::<users::Group>(profile).await),
        Answer::from(app.handle::<password::Group>(change).await),
        Answer::from(app.handle::<auth::Group>(sign_in).await),
        Answer::from(app.handle::<lock::Group>(admin_route).await),
    ]
}

#[tokio::test]
async fn a_lockout_refuses_password_checks_but_not_live_sessions() {
    let [refresh, profile, change, sign_in, admin_route] = answers(LockSource::LockoutPolicy).await;
    assert_eq!(refresh.status, 200, "refresh: {}", refresh.body);
    assert_eq!(profile.status, 200, "own profile: {}", profile.body);
    assert_eq!(
        admin_route.status, 200,
        "a locked-out admin's session: {}",
        admin_route.body
    );
    assert_eq!((change.status, change.slug()), (403, "account-locked"));
    assert_eq!((sign_in.status, sign_in.slug()), (403, "account-locked"));
}

#[tokio::test]
async fn an_admin_lock_refuses_everything() {
    for (name, a) in ["refresh", "profile", "change", "sign-in", "admin route"]
        .into_iter()
        .zip(answers(LockSource::Admin).await)
    {
        assert_eq!(
            (a.status, a.slug()),
            (403, "account-locked"),
            "{name}: {}",
            a.body
        );
    }
}
