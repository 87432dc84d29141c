#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The users routes from the sample events in `events/users/`, over in-memory ports: every
//! request without a valid admin token is refused before anything is read or written.

use lambda_http::Body;
use serde_json::Value;
use shared::domain::lock::Codes;
use shared::testing::{InMemoryDirectory, MemUser, app};

#[tokio::test]
async fn requests_without_a_valid_admin_token_are_refused() {
    let cases = [("events-without-token", 401, "unauthenticated")];
    let app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed("x"),
    ));
    for (name, status, slug) in cases {
        let path = format!(
            "{}/../../events/users/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let req = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let resp = app.handle::<users::Group>(req).await;
        let Body::Text(text) = resp.body() else {
            panic!("text body")
        };
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(resp.status().as_u16(), status, "{name}: {body}");
        assert_eq!(body["error"]["type"], format!("/problems/{slug}"), "{name}");
    }
    assert_eq!(app.directory.calls(), 0);
    assert_eq!(app.locks.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(app.audit.actions().is_empty());
}

/// A registration code is mailed from the tenant's sender; when the mail cannot go out, the
/// new code is not kept and the one it would have replaced still holds; a second mail within a
/// minute is refused.
#[tokio::test]
async fn a_code_whose_mail_cannot_go_out_leaves_the_earlier_one_in_place() {
    use shared::domain::lock::{CodePurpose, OneTimeCode};
    use shared::testing::{access_token, api_request, app_for, demo_headers, tenant};
    let mut t = tenant();
    t.email_from = Some("Example <no-reply@example.com>".into());
    let pool = t.user_pool_id.clone();
    let mut sam = MemUser::confirmed("x");
    sam.attributes
        .insert("email".into(), "sam@example.org".into());
    sam.attributes
        .insert("email_verified".into(), "true".into());
    let directory = InMemoryDirectory::with_user("sam", sam);
    // the admin's own account, which the bearer check reads
    directory.add("admin", MemUser::confirmed("admin-password"));
    let app = app_for(t, directory);
    let admin = access_token("admin", &["admins"], 3600);
    let request = || {
        api_request(
            "POST",
            "/users/sam/passkeys/registration-link",
            &serde_json::json!({}),
            &demo_headers(Some(&admin)),
        )
    };
    let answer = |resp: lambda_http::Response<Body>| {
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Body::Text(text) = resp.body() else {
            panic!("text body")
        };
        (
            resp.status().as_u16(),
            serde_json::from_str::<Value>(text).unwrap(),
            retry,
        )
    };
    let user = shared::domain::user_id::UserId::parse("sam").unwrap();
    let purpose = CodePurpose::PasskeyRegistration;
    let kept = || app.locks.one_time_code(purpose, &pool, &user);

    // a code mailed two minutes ago
    let now = std::time::SystemTime::now();
    let earlier = OneTimeCode {
        code_hash: OneTimeCode::hash_of("earlier"),
        sub: "sub-sam".into(),
        app_client_id: "test-client".into(),
        expires_at: shared::time::epoch_seconds(now) + 3000,
        created_at: shared::time::rfc3339(now - std::time::Duration::from_secs(120)),
        created_by: "sub-admin".into(),
    };
    app.locks
        .put_code(purpose, &pool, &user, &earlier, true)
        .await
        .unwrap();

    // SES is down: 503, and the earlier code holds
    app.mail
        .unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body, _) = answer(app.handle::<users::Group>(request()).await);
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (503, Some("/problems/dependency-unavailable")),
        "{body}"
    );
    assert_eq!(
        kept().await.unwrap(),
        Some(earlier),
        "the earlier code holds"
    );
    assert!(app.mail.sent().is_empty());

    // SES is back: mailed, and the mailed code is the one kept
    app.mail
        .unavailable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, body, _) = answer(app.handle::<users::Group>(request()).await);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["sentTo"], "sam@example.org");
    let sent = app.mail.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, "Example <no-reply@example.com>");
    assert_eq!(sent[0].to, "sam@example.org");
    let code = sent[0]
        .text
        .lines()
        .find(|l| l.len() == 43)
        .expect("the code in the mail");
    let mailed = kept().await.unwrap().expect("the mailed code");
    assert_eq!(mailed.code_hash, OneTimeCode::hash_of(code));

    // another within the minute: refused, nothing sent, the mailed code holds
    let (status, body, retry) = answer(app.handle::<users::Group>(request()).await);
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (429, Some("/problems/too-many-requests")),
        "{body}"
    );
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(app.mail.sent().len(), 1);
    assert_eq!(kept().await.unwrap(), Some(mailed));
}

/// The email and phone are the recovery channel and a code factor: the user changes their own
/// only with a sign-in under 15 minutes old (an admin's own address too); an admin changing
/// another user's needs none.
#[tokio::test]
async fn changing_ones_own_address_needs_a_recent_sign_in() {
    use shared::testing::{access_token, access_token_signed_in, api_request, app, demo_headers};
    let directory = InMemoryDirectory::with_user("sam", MemUser::confirmed("x"));
    directory.add("admin", MemUser::confirmed("y"));
    let app = app(directory);
    let put = |path: &str, token: &str| {
        api_request(
            "PUT",
            path,
            &serde_json::json!({"email": "new@example.org"}),
            &demo_headers(Some(token)),
        )
    };
    let answer = |resp: lambda_http::Response<Body>| {
        let Body::Text(text) = resp.body() else {
            panic!("text body")
        };
        (
            resp.status().as_u16(),
            serde_json::from_str::<Value>(text).unwrap()["error"]["type"].clone(),
        )
    };
    let stale = access_token_signed_in("sam", &[], 3600);
    let (status, slug) = answer(
        app.handle::<users::Group>(put("/users/sam/email", &stale))
            .await,
    );
    assert_eq!((status, slug.as_str()), (403, Some("/problems/forbidden")));
    let stale_admin = access_token_signed_in("admin", &["admins"], 3600);
    let (status, slug) = answer(
        app.handle::<users::Group>(put("/users/admin/email", &stale_admin))
            .await,
    );
    assert_eq!((status, slug.as_str()), (403, Some("/problems/forbidden")));
    assert!(
        app.audit
            .actions()
            .iter()
            .all(|(_, outcome)| outcome == "forbidden"),
        "{:?}",
        app.audit.actions()
    );
    // an admin on another user's address, and the user with a fresh sign-in
    let (status, _) = answer(
        app.handle::<users::Group>(put("/users/sam/email", &stale_admin))
            .await,
    );
    assert_eq!(status, 200);
    let fresh = access_token("sam", &[], 600);
    let (status, _) = answer(
        app.handle::<users::Group>(put("/users/sam/email", &fresh))
            .await,
    );
    assert_eq!(status, 200);
}

/// Verification codes sent are budgeted per user and per tenant in the hour: the sixth of a
/// user's is 429 with `Retry-After` and nothing is sent; past the tenant's budget every user
/// is refused alike.
#[tokio::test]
async fn code_sends_are_budgeted_per_user_and_per_tenant() {
    use shared::testing::{access_token, api_request, app, demo_headers};
    let directory = InMemoryDirectory::with_user("sam", MemUser::confirmed("x"));
    directory.add("tom", MemUser::confirmed("x"));
    let mut app = app(directory);
    let resend = |user: &str, token: &str| {
        api_request(
            "POST",
            &format!("/users/{user}/email/resend"),
            &Value::Null,
            &demo_headers(Some(token)),
        )
    };
    let sam = access_token("sam", &[], 600);
    let calls_before = app.directory.calls();
    for _ in 0..app.config.code_sends_per_user {
        let resp = app.handle::<users::Group>(resend("sam", &sam)).await;
        assert_ne!(resp.status().as_u16(), 429);
    }
    let sent = app.directory.calls();
    let resp = app.handle::<users::Group>(resend("sam", &sam)).await;
    assert_eq!(resp.status().as_u16(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    // refused before the API's session or Cognito's send: only the bearer check's read
    assert_eq!(app.directory.calls() - sent, 1, "{calls_before}");

    // the tenant's budget: every user refused once it is spent
    app.config.code_sends_per_tenant = app.config.code_sends_per_user;
    let tom = access_token("tom", &[], 600);
    let resp = app.handle::<users::Group>(resend("tom", &tom)).await;
    assert_eq!(resp.status().as_u16(), 429, "the tenant's sends are spent");
}

/// A security key is a second factor: removing one's own needs a recent sign-in, an admin's
/// own too (a token taken from a signed-in browser must not take the factor away); an admin
/// removing another user's key needs none.
#[tokio::test]
async fn removing_ones_own_security_key_needs_a_recent_sign_in_even_for_an_admin() {
    use shared::domain::{lock::SecurityKeys, user_id::UserId};
    use shared::testing::{
        Answer, access_token_signed_in, api_request, demo_headers, key_ring, tenant,
    };
    let directory = InMemoryDirectory::with_user("sam", MemUser::confirmed("x"));
    directory.add("boss", MemUser::confirmed("y"));
    let app = app(directory);
    let pool = tenant().user_pool_id;
    for user in ["sam", "boss"] {
        let ring = key_ring(&format!("key-of-{user}"));
        let id = UserId::parse(user).unwrap();
        assert!(app.locks.put_key_ring(&pool, &id, &ring, 0).await.unwrap());
    }
    let delete = |path: &str, token: &str| {
        api_request("DELETE", path, &Value::Null, &demo_headers(Some(token)))
    };
    let stale_admin = access_token_signed_in("boss", &["admins"], 3600);
    let own = Answer::from(
        app.handle::<users::Group>(delete("/users/boss/u2f/key-of-boss", &stale_admin))
            .await,
    );
    assert_eq!((own.status, own.slug()), (403, "forbidden"), "{}", own.body);
    let theirs = Answer::from(
        app.handle::<users::Group>(delete("/users/sam/u2f/key-of-sam", &stale_admin))
            .await,
    );
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.data()["deleted"], true, "{}", theirs.body);
    let stale_user = access_token_signed_in("sam", &[], 3600);
    let again = Answer::from(
        app.handle::<users::Group>(delete("/users/sam/u2f/key-of-sam", &stale_user))
            .await,
    );
    assert_eq!(
        (again.status, again.slug()),
        (403, "forbidden"),
        "{}",
        again.body
    );
    let boss = UserId::parse("boss").unwrap();
    assert_eq!(
        app.locks.key_ring(&pool, &boss).await.unwrap().0.keys.len(),
        1
    );
}
