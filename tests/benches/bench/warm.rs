//! Warm overhead: the time a handler adds on top of its ports, per route, on in-memory ports
//! (no I/O), in a current-thread runtime as in Lambda. Each sample is one request on its own
//! freshly set-up app, after one untimed warm-up request (tenant cache and token keys loaded,
//! as on a warm instance), so a route that changes state (delete, disable, lock) measures its
//! success path every time. Tokio's clock is paused (`paused_runtime`): a sign-out's wait for
//! the next second is a choice, not overhead, and would make this stage take a quarter of an
//! hour; the timing itself is real time.

use std::time::{Duration, Instant};

use account_api_tests::stack::{api_request_with_headers, demo_headers, dispatch};
use serde_json::{Value, json};
use shared::{
    domain::lock::{Lock, LockSource},
    testing::{InMemoryDirectory, MemApp, MemUser, access_token, app, test_verifier},
};

/// Who calls: nobody (the auth routes), the account itself, or an admin.
#[derive(Clone, Copy)]
enum Bearer {
    None,
    Demo,
    Admin,
}

pub struct Route {
    pub function: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    body: fn() -> Value,
    bearer: Bearer,
}

const fn route(
    function: &'static str,
    method: &'static str,
    path: &'static str,
    body: fn() -> Value,
    bearer: Bearer,
) -> Route {
    Route {
        function,
        method,
        path,
        body,
        bearer,
    }
}

/// Every route of the API on its main success path.
pub const ROUTES: &[Route] = &[
    route(
        "auth",
        "POST",
        "/user-authentication",
        || json!({"userID": "demo-user", "password": "Demo-Passw0rd!"}),
        Bearer::None,
    ),
    route(
        "auth",
        "POST",
        "/user-refresh-tokens",
        || json!({"userID": "demo-user", "refreshToken": "refresh-demo-user"}),
        Bearer::None,
    ),
    route(
        "auth",
        "POST",
        "/change-temporary-password",
        || json!({"userID": "invited", "newPassword": "New-Passw0rd!1", "session": "session-invited-NEW_PASSWORD_REQUIRED"}),
        Bearer::None,
    ),
    route(
        "auth",
        "POST",
        "/respond-to-auth-challenge",
        || json!({"userID": "mfa-user", "session": "session-mfa-user-SOFTWARE_TOKEN_MFA", "challengeName": "SOFTWARE_TOKEN_MFA", "code": InMemoryDirectory::MFA_CODE}),
        Bearer::None,
    ),
    route(
        "password",
        "POST",
        "/forgot-password",
        || json!({"userID": "demo-user"}),
        Bearer::None,
    ),
    route(
        "password",
        "POST",
        "/confirm-forgot-password",
        || json!({"userID": "demo-user", "confirmationCode": InMemoryDirectory::MFA_CODE, "newPassword": "New-Passw0rd!1"}),
        Bearer::None,
    ),
    route(
        "password",
        "POST",
        "/users/demo-user/change-password",
        || json!({"previousPassword": "Demo-Passw0rd!", "proposedPassword": "New-Passw0rd!1"}),
        Bearer::Demo,
    ),
    route(
        "admin",
        "POST",
        "/users/demo-user/admin-reset-password",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "admin",
        "POST",
        "/users/demo-user/admin-disable",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "admin",
        "POST",
        "/users/demo-user/admin-enable",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "admin",
        "POST",
        "/users/signed-up/resend-confirmation-code",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "admin",
        "POST",
        "/users/invited/resend-welcome-message",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "lock",
        "PUT",
        "/users/demo-user/lock",
        || json!({"reason": "benchmark"}),
        Bearer::Admin,
    ),
    route(
        "lock",
        "PUT",
        "/users/locked-user/unlock",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "lock",
        "GET",
        "/users/demo-user/lock",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "users",
        "GET",
        "/users/demo-user/events",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "users",
        "POST",
        "/users",
        || json!({"userID": "new-user", "email": "new-user@example.com"}),
        Bearer::Admin,
    ),
    route("users", "GET", "/users", || Value::Null, Bearer::Admin),
    route(
        "users",
        "GET",
        "/users/demo-user",
        || Value::Null,
        Bearer::Admin,
    ),
    route(
        "users",
        "PATCH",
        "/users/demo-user",
        || json!({"givenName": "Demo"}),
        Bearer::Admin,
    ),
    route(
        "users",
        "DELETE",
        "/users/demo-user",
        || Value::Null,
        Bearer::Admin,
    ),
];

fn fresh_app() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    directory.add("boss", MemUser::confirmed("Boss-Passw0rd!"));
    directory.add("locked-user", MemUser::confirmed("Lock-Passw0rd!"));
    for (user, status) in [
        ("invited", "FORCE_CHANGE_PASSWORD"),
        ("signed-up", "UNCONFIRMED"),
    ] {
        directory.add(
            user,
            MemUser {
                status,
                ..MemUser::confirmed("Temp-Passw0rd!")
            },
        );
    }
    directory.add(
        "mfa-user",
        MemUser {
            mfa: true,
            ..MemUser::confirmed("Mfa-Passw0rd!1")
        },
    );
    let mut app = app(directory);
    app.tokens = test_verifier(&app.config);
    // the floor is a deliberate wait against timing attacks, not overhead
    app.config.forgot_password_floor = Duration::ZERO;
    app.locks.lock_now(
        "locked-user",
        Lock {
            source: LockSource::Admin,
            reason: Some("benchmark".into()),
            locked_at: "2026-01-01T00:00:00Z".into(),
            locked_by: "sub-boss".into(),
            locked_until: None,
            budget: None,
        },
    );
    app
}

pub struct Sample {
    pub status: u16,
    pub times: Vec<Duration>,
}

/// `runs` timed requests of `route`, each on a fresh app after one warm-up request.
pub async fn measure(route: &Route, runs: usize) -> Sample {
    let admin = access_token("boss", &["admins"], 3600);
    let demo = access_token("demo-user", &[], 3600);
    let token = match route.bearer {
        Bearer::None => None,
        Bearer::Demo => Some(demo.as_str()),
        Bearer::Admin => Some(admin.as_str()),
    };
    let (mut times, mut status) = (Vec::with_capacity(runs), 0);
    for _ in 0..runs {
        let app = fresh_app();
        let warm = api_request_with_headers(
            "GET",
            "/users/boss/lock",
            &Value::Null,
            &demo_headers(Some(&admin)),
        );
        dispatch(&app, "lock", warm).await;
        let req = api_request_with_headers(
            route.method,
            route.path,
            &(route.body)(),
            &demo_headers(token),
        );
        let started = Instant::now();
        let resp = dispatch(&app, route.function, req).await;
        times.push(started.elapsed());
        status = resp.status().as_u16();
    }
    Sample { status, times }
}
