#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The auth routes, driven by the API Gateway sample events in `events/auth/` over in-memory
//! ports: status, problem slug, and what reached the directory.

use shared::domain::lock::Locks;
use std::sync::atomic::Ordering;

use lambda_http::Request;
use serde_json::{Value, json};
use shared::{
    domain::directory::DirectoryError,
    domain::lock::{Lock, LockSource},
    domain::user_id::UserId,
    testing::{self, Answer, slug},
    testing::{InMemoryDirectory, MemApp, MemUser, app},
};

const PASSWORD: &str = "Demo-Passw0rd!";

fn event(name: &str) -> Request {
    testing::sample_event("auth", name)
}

fn with_body(req: Request, body: Value) -> Request {
    testing::with_body(req, &body)
}

fn demo_app() -> MemApp {
    app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed(PASSWORD),
    ))
}

async fn call(app: &MemApp, req: Request) -> (u16, Value, Answer) {
    let a = Answer::from(app.handle::<auth::Group>(req).await);
    (a.status, a.body.clone(), a)
}

#[tokio::test]
async fn sign_in_returns_tokens_in_the_envelope_with_the_activity_id() {
    let app = demo_app();
    let (status, body, resp) = call(&app, event("user-authentication")).await;
    assert_eq!(status, 200, "{body}");
    let tokens = &body["data"]["authenticationResult"];
    assert_eq!(tokens["accessToken"], "access-demo-user");
    assert_eq!(tokens["tokenType"], "Bearer");
    assert_eq!(body["data"]["challengeName"], Value::Null);
    assert_eq!(body["error"], Value::Null);
    assert_eq!(
        body["debug"]["activityID"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
    assert_eq!(
        resp.headers["x-activity-id"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
    assert_eq!(resp.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn user_ids_are_case_insensitive() {
    let app = demo_app();
    let req = with_body(
        event("user-authentication"),
        json!({"userID": "Demo-User", "password": PASSWORD}),
    );
    assert_eq!(call(&app, req).await.0, 200);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = demo_app();
    let (s1, b1, _) = call(&app, event("user-authentication-wrong-password")).await;
    let req = with_body(
        event("user-authentication"),
        json!({"userID": "nobody", "password": PASSWORD}),
    );
    let (s2, b2, _) = call(&app, req).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(slug(&b1), "invalid-credentials");
    assert_eq!(b1, b2);
}

#[tokio::test]
async fn a_missing_header_is_named() {
    let (status, body, _) = call(&demo_app(), event("user-authentication-missing-header")).await;
    assert_eq!(status, 400);
    assert_eq!(slug(&body), "missing-header");
    assert!(
        body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("vbasoftware-database")
    );
}

#[tokio::test]
async fn an_unknown_tenant_is_refused_before_anything_else() {
    let app = demo_app();
    // behind API Gateway (the sample carries a key id): the same 403 as a wrong key, so that
    // header triples cannot be tried to learn which tenants exist
    let (status, body, _) = call(&app, event("user-authentication-unknown-tenant")).await;
    assert_eq!((status, slug(&body)), (403, "forbidden"));
    // without a gateway key (the local stack): the tenant headers decide
    let mut raw: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/auth/user-authentication-unknown-tenant.json"
        ))
        .unwrap(),
    )
    .unwrap();
    raw["requestContext"]["identity"]["apiKeyId"] = Value::Null;
    let keyless = lambda_http::request::from_str(&raw.to_string()).unwrap();
    let (status, body, _) = call(&app, keyless).await;
    assert_eq!((status, slug(&body)), (401, "invalid-tenant"));
    assert_eq!(app.directory.calls(), 0);
}

#[tokio::test]
async fn malformed_bodies_are_invalid_requests_that_never_reach_the_directory() {
    let app = demo_app();
    for name in [
        "user-authentication-malformed-json",
        "user-authentication-invalid-user-id",
    ] {
        let (status, body, _) = call(&app, event(name)).await;
        assert_eq!((status, slug(&body)), (400, "invalid-request"), "{name}");
    }
    for bad in [
        json!({"userID": "demo-user", "password": 5}),
        json!({"userID": "demo-user"}),
        json!({"userID": "demo-user", "password": PASSWORD, "extra": 1}),
        json!({"userID": "a".repeat(129), "password": PASSWORD}),
        json!({"userID": "demo-user", "password": ""}),
        json!(["demo-user", PASSWORD]),
    ] {
        let (status, body, _) =
            call(&app, with_body(event("user-authentication"), bad.clone())).await;
        assert_eq!((status, slug(&body)), (400, "invalid-request"), "{bad}");
    }
    assert_eq!(app.directory.calls(), 0);
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let big = json!({"userID": "demo-user", "password": "x".repeat(17 * 1024)});
    let (status, body, _) = call(&demo_app(), with_body(event("user-authentication"), big)).await;
    assert_eq!((status, slug(&body)), (413, "payload-too-large"));
}

fn admin_lock() -> Lock {
    Lock {
        source: LockSource::Admin,
        reason: Some("suspicious activity".into()),
        locked_at: "2026-11-23T00:00:00Z".into(),
        locked_by: "admin-sub".into(),
        locked_until: None,
        budget: None,
    }
}

#[tokio::test]
async fn a_locked_user_is_refused_before_the_password_is_checked() {
    let app = demo_app();
    app.locks.lock_now("demo-user", admin_lock());
    // (a refresh is checked by the account its token belongs to, after Cognito names it:
    // `a_refresh_of_a_locked_account_returns_no_tokens`)
    for name in [
        "user-authentication",
        "change-temporary-password-invalid-session",
        "respond-to-auth-challenge-invalid-session",
    ] {
        let (status, body, _) = call(&app, event(name)).await;
        assert_eq!((status, slug(&body)), (403, "account-locked"), "{name}");
    }
    assert_eq!(app.directory.calls(), 0);
}

#[tokio::test]
async fn a_weak_new_password_reads_the_same_for_a_locked_account() {
    // the policy is checked before the lock: otherwise a made-up session and a weak password
    // would get `invalid-password` from an open account and the lock's answer from a locked one
    let req = || {
        with_body(
            event("change-temporary-password-invalid-session"),
            json!({"userID": "demo-user", "newPassword": "short", "session": "made-up"}),
        )
    };
    let open = demo_app();
    let (status, body, _) = call(&open, req()).await;
    assert_eq!((status, slug(&body)), (400, "invalid-password"), "{body}");
    let locked = demo_app();
    locked.locks.lock_now("demo-user", admin_lock());
    let (status, body, _) = call(&locked, req()).await;
    assert_eq!((status, slug(&body)), (400, "invalid-password"), "{body}");
}

#[tokio::test]
async fn a_refresh_of_a_locked_account_returns_no_tokens() {
    let app = demo_app();
    app.locks.lock_now("demo-user", admin_lock());
    let req = with_body(
        event("user-refresh-tokens-invalid-token"),
        json!({"userID": "demo-user", "refreshToken": "refresh-demo-user"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"));
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn an_expired_lock_is_no_lock() {
    let app = demo_app();
    app.locks.lock_now(
        "demo-user",
        Lock {
            locked_until: Some(1),
            budget: None,
            ..admin_lock()
        },
    );
    assert_eq!(call(&app, event("user-authentication")).await.0, 200);
}

#[tokio::test]
async fn an_unreadable_lock_store_fails_closed() {
    let app = demo_app();
    app.locks.unavailable.store(true, Ordering::SeqCst);
    let (status, body, resp) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (503, "dependency-unavailable"));
    assert!(resp.headers.contains_key("retry-after"));
    assert_eq!(app.directory.calls(), 0);
}

#[tokio::test]
async fn a_disabled_user_is_told_so_unless_the_tenant_hides_account_state() {
    let app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser {
            enabled: false,
            ..MemUser::confirmed(PASSWORD)
        },
    ));
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (403, "account-disabled"));

    let hidden = shared::domain::tenant::Tenant {
        hide_account_state: true,
        ..shared::testing::tenant()
    };
    let app = shared::testing::app_for(
        hidden,
        InMemoryDirectory::with_user(
            "demo-user",
            MemUser {
                enabled: false,
                ..MemUser::confirmed(PASSWORD)
            },
        ),
    );
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (401, "invalid-credentials"));
}

#[tokio::test]
async fn directory_states_map_to_their_problems() {
    let cases: [(shared::testing::Fault, u16, &str); 5] = [
        (
            || DirectoryError::PasswordResetRequired,
            403,
            "password-reset-required",
        ),
        (
            || DirectoryError::UserNotConfirmed,
            403,
            "account-unconfirmed",
        ),
        (|| DirectoryError::Throttled, 429, "too-many-requests"),
        (
            || DirectoryError::Unavailable("down".into()),
            503,
            "dependency-unavailable",
        ),
        (|| DirectoryError::Internal("boom".into()), 500, "internal"),
    ];
    for (fault, want_status, want_slug) in cases {
        let app = demo_app();
        app.directory.fail_with(fault);
        let (status, body, resp) = call(&app, event("user-authentication")).await;
        assert_eq!((status, slug(&body)), (want_status, want_slug));
        if want_status == 429 {
            assert_eq!(resp.headers["retry-after"], "1");
        }
        assert!(!body.to_string().contains("boom") && !body.to_string().contains("down"));
    }
}

#[tokio::test]
async fn a_temporary_password_leads_to_a_challenge_then_tokens() {
    let app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser {
            status: "FORCE_CHANGE_PASSWORD",
            ..MemUser::confirmed(PASSWORD)
        },
    ));
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["challengeName"], "NEW_PASSWORD_REQUIRED");
    assert_eq!(body["data"]["authenticationResult"], Value::Null);
    let session = body["data"]["session"].as_str().unwrap().to_string();

    let weak = with_body(
        event("change-temporary-password-invalid-session"),
        json!({"userID": "demo-user", "newPassword": "short", "session": session}),
    );
    let calls_before = app.directory.calls();
    let (status, body, _) = call(&app, weak).await;
    assert_eq!((status, slug(&body)), (400, "invalid-password"));
    assert!(
        body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
    assert_eq!(
        app.directory.calls(),
        calls_before,
        "a weak password is not sent on"
    );

    let good = with_body(
        event("change-temporary-password-invalid-session"),
        json!({"userID": "demo-user", "newPassword": "Brand-New-Passw0rd", "session": session}),
    );
    let (status, body, _) = call(&app, good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["authenticationResult"]["accessToken"],
        "access-demo-user"
    );
}

#[tokio::test]
async fn a_bad_session_or_refresh_token_is_invalid_credentials() {
    let app = demo_app();
    for name in [
        "change-temporary-password-invalid-session",
        "user-refresh-tokens-invalid-token",
        "respond-to-auth-challenge-invalid-session",
    ] {
        let (status, body, _) = call(&app, event(name)).await;
        assert_eq!(
            (status, slug(&body)),
            (401, "invalid-credentials"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_refresh_returns_a_new_access_token() {
    let app = demo_app();
    let req = with_body(
        event("user-refresh-tokens-invalid-token"),
        json!({"userID": "demo-user", "refreshToken": "refresh-demo-user"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!(status, 200);
    let access = body["data"]["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap();
    let owner = app
        .tokens
        .verify_access(&shared::testing::tenant(), access)
        .await
        .unwrap();
    assert_eq!(owner.username, "demo-user");
    assert_eq!(
        body["data"]["authenticationResult"]["refreshToken"],
        Value::Null
    );
}

#[tokio::test]
async fn an_mfa_challenge_is_answered_with_the_code() {
    let app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser {
            mfa: true,
            ..MemUser::confirmed(PASSWORD)
        },
    ));
    let (_, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!(body["data"]["challengeName"], "SOFTWARE_TOKEN_MFA");
    let session = body["data"]["session"].as_str().unwrap().to_string();
    let answer = |code: &str| {
        with_body(
            event("respond-to-auth-challenge-invalid-session"),
            json!({"userID": "demo-user", "session": session, "challengeName": "SOFTWARE_TOKEN_MFA", "code": code}),
        )
    };
    let (status, body, _) = call(&app, answer("000000")).await;
    assert_eq!((status, slug(&body)), (400, "code-mismatch"));
    let (status, _, _) = call(&app, answer(InMemoryDirectory::MFA_CODE)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unsupported_challenges_are_invalid_requests() {
    let app = demo_app();
    let req = with_body(
        event("respond-to-auth-challenge-invalid-session"),
        json!({"userID": "demo-user", "session": "s".repeat(40), "challengeName": "CUSTOM_CHALLENGE", "code": "1"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!((status, slug(&body)), (400, "invalid-request"));
    assert_eq!(app.directory.calls(), 0);
}

#[tokio::test]
async fn another_clients_api_key_is_forbidden() {
    let mut tenant = shared::testing::tenant();
    tenant.api_key_ids = vec!["some-other-key".into()];
    let app = shared::testing::app_for(
        tenant,
        InMemoryDirectory::with_user("demo-user", MemUser::confirmed(PASSWORD)),
    );
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (403, "forbidden"));
    assert_eq!(app.directory.calls(), 0);
}

fn lockout_app(max: u32, duration: std::time::Duration) -> MemApp {
    let tenant = shared::domain::tenant::Tenant {
        lockout: shared::domain::tenant::LockoutPolicy {
            max_password_attempts: max,
            max_otp_attempts: 5,
            lockout_duration: duration,
        },
        ..shared::testing::tenant()
    };
    shared::testing::app_for(
        tenant,
        InMemoryDirectory::with_user("demo-user", MemUser::confirmed(PASSWORD)),
    )
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_and_the_sixth_attempt_is_refused() {
    let app = lockout_app(5, std::time::Duration::from_secs(900));
    for i in 1..=5 {
        let (status, body, _) = call(&app, event("user-authentication-wrong-password")).await;
        assert_eq!(
            (status, slug(&body)),
            (401, "invalid-credentials"),
            "attempt {i}"
        );
    }
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"));
    assert_eq!(
        app.directory.calls(),
        5,
        "the right password never reached the directory"
    );
    let actions = app.audit.actions();
    assert!(
        actions.contains(&("auto-lock".into(), "success".into())),
        "{actions:?}"
    );
    assert_eq!(
        actions.last(),
        Some(&("user-authentication".into(), "account-locked".into()))
    );
}

#[tokio::test]
async fn a_success_resets_the_counter() {
    let app = lockout_app(3, std::time::Duration::from_secs(900));
    for _ in 0..2 {
        call(&app, event("user-authentication-wrong-password")).await;
    }
    assert_eq!(app.locks.attempts("demo-user"), 2);
    assert_eq!(call(&app, event("user-authentication")).await.0, 200);
    assert_eq!(app.locks.attempts("demo-user"), 0);
    for _ in 0..2 {
        call(&app, event("user-authentication-wrong-password")).await;
    }
    assert_eq!(
        call(&app, event("user-authentication")).await.0,
        200,
        "2 < 3: not locked"
    );
}

#[tokio::test]
async fn an_attempt_that_checked_no_password_gives_its_unit_back() {
    let app = lockout_app(2, std::time::Duration::from_secs(900));
    app.directory
        .fail_with(|| DirectoryError::Unavailable("down".into()));
    for _ in 0..5 {
        assert_eq!(call(&app, event("user-authentication")).await.0, 503);
    }
    assert_eq!(app.locks.attempts("demo-user"), 0);
}

#[tokio::test]
async fn a_lockout_ends_after_its_duration_with_a_whole_budget() {
    let app = lockout_app(2, std::time::Duration::from_secs(1));
    for _ in 0..2 {
        call(&app, event("user-authentication-wrong-password")).await;
    }
    assert_eq!(call(&app, event("user-authentication")).await.0, 403);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(call(&app, event("user-authentication")).await.0, 200);
    assert_eq!(app.locks.attempts("demo-user"), 0);
}

#[tokio::test]
async fn concurrent_wrong_passwords_never_exceed_the_budget() {
    let tenant = shared::domain::tenant::Tenant {
        lockout: shared::domain::tenant::LockoutPolicy {
            max_password_attempts: 5,
            max_otp_attempts: 5,
            lockout_duration: std::time::Duration::from_secs(900),
        },
        ..shared::testing::tenant()
    };
    let directory = InMemoryDirectory {
        latency: std::time::Duration::from_millis(20),
        ..InMemoryDirectory::with_user("demo-user", MemUser::confirmed(PASSWORD))
    };
    let app = shared::testing::app_for(tenant, directory);
    let attempts = (0..40).map(|_| call(&app, event("user-authentication-wrong-password")));
    let answers = futures::future::join_all(attempts).await;
    assert!(
        app.directory.calls() <= 5,
        "{} checks reached the directory",
        app.directory.calls()
    );
    let refused = answers
        .iter()
        .filter(|(s, _, _)| *s == 429 || *s == 403)
        .count();
    assert_eq!(refused + app.directory.calls(), 40);
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"));
}

fn mfa_lockout_app(max_otp: u32) -> MemApp {
    let tenant = shared::domain::tenant::Tenant {
        lockout: shared::domain::tenant::LockoutPolicy {
            max_password_attempts: 5,
            max_otp_attempts: max_otp,
            lockout_duration: std::time::Duration::from_secs(900),
        },
        ..shared::testing::tenant()
    };
    let user = MemUser {
        mfa: true,
        ..MemUser::confirmed(PASSWORD)
    };
    shared::testing::app_for(tenant, InMemoryDirectory::with_user("demo-user", user))
}

/// A sign-in that reached the code challenge, and an answer to it with `code`.
async fn challenge_answer(app: &MemApp) -> impl Fn(&str) -> Request {
    let (_, body, _) = call(app, event("user-authentication")).await;
    assert_eq!(body["data"]["challengeName"], "SOFTWARE_TOKEN_MFA");
    let session = body["data"]["session"].as_str().unwrap().to_string();
    move |code: &str| {
        with_body(
            event("respond-to-auth-challenge-invalid-session"),
            json!({"userID": "demo-user", "session": session, "challengeName": "SOFTWARE_TOKEN_MFA", "code": code}),
        )
    }
}

#[tokio::test]
async fn wrong_codes_spend_their_own_budget_and_the_last_one_locks() {
    let app = mfa_lockout_app(3);
    let answer = challenge_answer(&app).await;
    for i in 1..=3 {
        let (status, body, _) = call(&app, answer("000000")).await;
        assert_eq!((status, slug(&body)), (400, "code-mismatch"), "code {i}");
        assert_eq!(app.locks.otp_attempts("demo-user"), i);
        // the right password a guesser knows does not refill the code budget
        assert_eq!(app.locks.attempts("demo-user"), 0);
    }
    let calls = app.directory.calls();
    let (status, body, _) = call(&app, answer(InMemoryDirectory::MFA_CODE)).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"));
    assert_eq!(
        app.directory.calls(),
        calls,
        "the right code was never checked"
    );
    let lock = app
        .locks
        .state("p", &UserId::parse("demo-user").unwrap())
        .await;
    let lock = lock.unwrap().lock.expect("locked");
    assert_eq!(lock.source, LockSource::LockoutPolicy);
    assert_eq!(
        lock.reason.as_deref(),
        Some("3 consecutive wrong second-factor codes")
    );
    let actions = app.audit.actions();
    let auto = actions
        .iter()
        .position(|a| a.0 == "auto-lock")
        .expect("auto-lock audited");
    assert_eq!(
        actions[auto + 1],
        ("respond-to-auth-challenge".into(), "code-mismatch".into()),
        "the auto-lock is listed before the answer that caused it: {actions:?}"
    );
    // and the password is refused too: a lockout refuses every password check
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"));
}

#[tokio::test]
async fn a_right_code_makes_the_code_budget_whole_and_zero_turns_it_off() {
    let app = mfa_lockout_app(3);
    let answer = challenge_answer(&app).await;
    for _ in 0..2 {
        call(&app, answer("000000")).await;
    }
    assert_eq!(app.locks.otp_attempts("demo-user"), 2);
    assert_eq!(call(&app, answer(InMemoryDirectory::MFA_CODE)).await.0, 200);
    assert_eq!(app.locks.otp_attempts("demo-user"), 0);

    let app = mfa_lockout_app(0);
    let answer = challenge_answer(&app).await;
    for _ in 0..8 {
        assert_eq!(call(&app, answer("000000")).await.0, 400);
    }
    assert_eq!(app.locks.otp_attempts("demo-user"), 0);
    assert_eq!(call(&app, answer(InMemoryDirectory::MFA_CODE)).await.0, 200);
}

#[tokio::test]
async fn a_code_the_directory_never_checked_gives_its_unit_back() {
    let app = mfa_lockout_app(2);
    let answer = challenge_answer(&app).await;
    app.directory
        .fail_with(|| DirectoryError::Unavailable("down".into()));
    for _ in 0..4 {
        assert_eq!(call(&app, answer("000000")).await.0, 503);
    }
    assert_eq!(app.locks.otp_attempts("demo-user"), 0);
}

#[tokio::test]
async fn a_passkey_start_never_tells_who_has_a_passkey_or_where_states_are_hidden_a_lock() {
    let passkey = |user: &str| {
        with_body(
            event("user-authentication"),
            json!({"userID": user, "method": "PASSKEY"}),
        )
    };
    // no passkey (the in-memory directory has none) and no such user: the same decoy shape
    let app = demo_app();
    for user in ["demo-user", "nobody"] {
        let (status, body, _) = call(&app, passkey(user)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["challengeName"], "WEB_AUTHN");
        assert!(body["data"]["credentialRequestOptions"]["challenge"].is_string());
        assert!(body["data"]["session"].is_string());
    }
    let actions = app.audit.actions();
    assert!(
        actions.iter().all(|(a, _)| a == "passkey-challenge"),
        "a handed-out challenge is no sign-in: {actions:?}"
    );
    // a lock: told where the tenant shows account states, a decoy where it hides them, and
    // then nothing reaches the directory
    app.locks.lock_now("demo-user", admin_lock());
    let (status, body, _) = call(&app, passkey("demo-user")).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"));
    let hidden = shared::domain::tenant::Tenant {
        hide_account_state: true,
        ..shared::testing::tenant()
    };
    let app = shared::testing::app_for(
        hidden,
        InMemoryDirectory::with_user("demo-user", MemUser::confirmed(PASSWORD)),
    );
    app.locks.lock_now("demo-user", admin_lock());
    let (status, body, _) = call(&app, passkey("demo-user")).await;
    assert_eq!(
        (status, body["data"]["challengeName"].as_str()),
        (200, Some("WEB_AUTHN"))
    );
    assert_eq!(app.directory.calls(), 0);
}

/// A user who holds a security key: the right password gets the `U2F` challenge and no tokens
/// (in memory, a ring put in place; the ceremonies themselves are proven in tests/u2f.rs).
async fn key_holder_app() -> MemApp {
    use shared::domain::lock::SecurityKeys;
    let app = demo_app();
    let ring = shared::testing::key_ring("key-1");
    let user = UserId::parse("demo-user").unwrap();
    let pool = &shared::testing::tenant().user_pool_id;
    assert!(app.locks.put_key_ring(pool, &user, &ring, 0).await.unwrap());
    app
}

#[tokio::test]
async fn a_key_holders_password_gets_the_key_challenge_and_no_tokens() {
    let app = key_holder_app().await;
    let (status, body, _) = call(&app, event("user-authentication")).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["challengeName"], "U2F", "{body}");
    assert_eq!(data["authenticationResult"], Value::Null, "{body}");
    assert_eq!(
        data["credentialRequestOptions"]["allowCredentials"][0]["id"],
        "Y3JlZGVudGlhbC1vZi1hLWtleQ"
    );
    assert_eq!(data["session"].as_str().unwrap().len(), 43, "{body}");
}

/// A `U2F` answer with a session the API does not hold (made up, or spent) spends nothing:
/// anyone who knows a userID could otherwise lock the account with made-up sessions.
#[tokio::test]
async fn a_made_up_key_session_is_refused_without_spending_the_budget() {
    let app = key_holder_app().await;
    let credential = json!({"id": "Y3JlZGVudGlhbC1vZi1hLWtleQ", "rawId": "Y3JlZGVudGlhbC1vZi1hLWtleQ", "type": "public-key",
                            "response": {"clientDataJSON": "e30", "authenticatorData": "AA",
                                         "signature": "AA"}});
    for _ in 0..8 {
        let req = with_body(
            event("respond-to-auth-challenge-invalid-session"),
            json!({"userID": "demo-user", "challengeName": "U2F", "session": "a".repeat(43),
                   "credential": credential}),
        );
        let (status, body, _) = call(&app, req).await;
        assert_eq!(
            (status, slug(&body)),
            (401, "invalid-credentials"),
            "{body}"
        );
    }
    assert_eq!(app.locks.otp_attempts("demo-user"), 0);
    let state = app
        .locks
        .state(
            &shared::testing::tenant().user_pool_id,
            &UserId::parse("demo-user").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(state.lock, None, "not locked");
}
