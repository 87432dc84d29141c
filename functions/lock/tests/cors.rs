#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Browsers calling the API (CORS), on the lock routes over in-memory ports: a preflight is
//! answered for a path's methods when some tenant lists the page's origin; the request itself
//! is held to its own tenant's `allowedOrigins`; no answer ever names `*` or allows
//! credentials. (Every function answers through the same `App::handle`.)

use serde_json::Value;
use shared::{
    domain::tenant::Tenant,
    testing::{self, Answer, InMemoryDirectory, MemApp, MemUser, access_token, demo_headers},
};

const APP: &str = "https://app.example.com";
/// Listed by another tenant of the same registry, not by the demo tenant.
const OTHER: &str = "https://other.example.com";

fn app() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("x"));
    directory.add("boss", MemUser::confirmed("y"));
    let app = testing::app(directory);
    app.tenants.inner().insert(
        "other",
        "OTHER",
        "main",
        Tenant {
            key: "other/OTHER/main".into(),
            allowed_origins: vec![OTHER.into()],
            ..testing::tenant()
        },
    );
    app
}

fn with(mut headers: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    headers
}

async fn call(app: &MemApp, method: &str, path: &str, headers: &[(String, String)]) -> Answer {
    let req = testing::api_request(method, path, &Value::Null, headers);
    Answer::from(app.handle::<lock::Group>(req).await)
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers.get(name).map(|v| v.to_str().unwrap())
}

fn preflight_from(origin: &str) -> Vec<(String, String)> {
    with(
        Vec::new(),
        &[
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "authorization,content-type,vbasoftware-client-id",
            ),
        ],
    )
}

#[tokio::test]
async fn a_preflight_from_a_listed_origin_names_the_paths_methods_and_headers() {
    let app = app();
    for origin in [APP, OTHER] {
        let a = call(
            &app,
            "OPTIONS",
            "/users/demo-user/lock",
            &preflight_from(origin),
        )
        .await;
        assert_eq!(a.status, 200, "{origin}: {}", a.body);
        assert_eq!(header(&a, "access-control-allow-origin"), Some(origin));
        assert_eq!(
            header(&a, "access-control-allow-methods"),
            Some("PUT, GET"),
            "the lock path's two methods"
        );
        let allowed = header(&a, "access-control-allow-headers").unwrap();
        for h in [
            "authorization",
            "content-type",
            "idempotency-key",
            "vbasoftware-client-id",
            "vbasoftware-client-code",
            "vbasoftware-database",
            "x-api-key",
        ] {
            assert!(allowed.contains(h), "{h} not in {allowed}");
        }
        assert_eq!(header(&a, "access-control-max-age"), Some("7200"));
        assert_eq!(header(&a, "vary"), Some("Origin"));
        assert_eq!(header(&a, "access-control-allow-credentials"), None);
    }
    // a preflight reads no account
    assert_eq!(app.directory.calls(), 0);
    assert_eq!(app.locks.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_preflight_from_an_origin_no_tenant_lists_gets_no_allow_origin() {
    let app = app();
    for origin in [
        "https://evil.example.com",
        "https://app.example.com.evil.com",
        "http://app.example.com",
        "null",
        "*",
    ] {
        let a = call(
            &app,
            "OPTIONS",
            "/users/demo-user/lock",
            &preflight_from(origin),
        )
        .await;
        assert_eq!(a.status, 403, "{origin}");
        assert_eq!(a.slug(), "forbidden");
        assert_eq!(header(&a, "access-control-allow-origin"), None, "{origin}");
        assert_eq!(header(&a, "access-control-allow-methods"), None);
    }
    let a = call(&app, "OPTIONS", "/users/demo-user/lock", &[]).await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"));
    // a path of another function is not this function's to allow
    let a = call(
        &app,
        "OPTIONS",
        "/user-authentication",
        &preflight_from(APP),
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"));
    assert_eq!(header(&a, "access-control-allow-methods"), None);
}

#[tokio::test]
async fn a_page_of_its_tenants_origin_reads_the_answer_and_its_headers() {
    let app = app();
    let token = access_token("boss", &["admins"], 600);
    let a = call(
        &app,
        "GET",
        "/users/demo-user/lock",
        &with(demo_headers(Some(&token)), &[("origin", APP)]),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(header(&a, "access-control-allow-origin"), Some(APP));
    let exposed = header(&a, "access-control-expose-headers").unwrap();
    assert!(exposed.contains("x-activity-id") && exposed.contains("retry-after"));
    assert_eq!(header(&a, "vary"), Some("Origin"));
    assert_eq!(header(&a, "access-control-allow-credentials"), None);
    // a refusal is readable too: the page can show why
    let a = call(
        &app,
        "GET",
        "/users/demo-user/lock",
        &with(demo_headers(None), &[("origin", APP)]),
    )
    .await;
    assert_eq!((a.status, a.slug()), (401, "unauthenticated"));
    assert_eq!(header(&a, "access-control-allow-origin"), Some(APP));
    // without an Origin (a server calling), nothing of CORS
    let a = call(
        &app,
        "GET",
        "/users/demo-user/lock",
        &demo_headers(Some(&token)),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(header(&a, "access-control-allow-origin"), None);
    assert_eq!(header(&a, "vary"), None);
}

/// An origin another tenant lists passes the preflight (which names no tenant), but the
/// request itself is refused before anything is read or written, and its answer is not
/// readable by the page.
#[tokio::test]
async fn a_page_of_another_tenants_origin_is_refused_before_anything_runs() {
    let app = app();
    let token = access_token("boss", &["admins"], 600);
    for origin in [OTHER, "https://evil.example.com"] {
        let a = call(
            &app,
            "PUT",
            "/users/demo-user/lock",
            &with(demo_headers(Some(&token)), &[("origin", origin)]),
        )
        .await;
        assert_eq!((a.status, a.slug()), (403, "forbidden"), "{origin}");
        assert_eq!(header(&a, "access-control-allow-origin"), None);
    }
    assert_eq!(app.directory.calls(), 0);
    assert_eq!(app.locks.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(app.audit.actions().is_empty());
}

/// An `Origin` sent twice, or one that is not text, is no origin a tenant lists: refused,
/// not read as a request without an `Origin`.
#[tokio::test]
async fn an_origin_that_is_not_one_text_value_is_refused() {
    let app = app();
    let token = access_token("boss", &["admins"], 600);
    let mut req = testing::api_request(
        "GET",
        "/users/demo-user/lock",
        &Value::Null,
        &demo_headers(Some(&token)),
    );
    req.headers_mut().append("origin", APP.parse().unwrap());
    req.headers_mut()
        .append("origin", "https://evil.example.com".parse().unwrap());
    let a = Answer::from(app.handle::<lock::Group>(req).await);
    assert_eq!((a.status, a.slug()), (403, "forbidden"), "{}", a.body);
    assert_eq!(header(&a, "access-control-allow-origin"), None);
    let mut req = testing::api_request(
        "GET",
        "/users/demo-user/lock",
        &Value::Null,
        &demo_headers(Some(&token)),
    );
    req.headers_mut().insert(
        "origin",
        lambda_http::http::HeaderValue::from_bytes(b"https://app.example.com\xff").unwrap(),
    );
    let a = Answer::from(app.handle::<lock::Group>(req).await);
    assert_eq!((a.status, a.slug()), (403, "forbidden"), "{}", a.body);
    assert_eq!(app.locks.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// Before a tenant is known (a missing header, an unknown tenant) an answer is readable by
/// a page any tenant lists, and by no other.
#[tokio::test]
async fn an_answer_without_a_tenant_is_readable_by_listed_origins_only() {
    let app = app();
    for (origin, readable) in [
        (APP, true),
        (OTHER, true),
        ("https://evil.example.com", false),
    ] {
        let a = call(
            &app,
            "GET",
            "/users/demo-user/lock",
            &[
                ("origin".to_string(), origin.to_string()),
                ("vbasoftware-client-id".to_string(), "demo".to_string()),
            ],
        )
        .await;
        assert_eq!((a.status, a.slug()), (400, "missing-header"), "{origin}");
        assert_eq!(
            header(&a, "access-control-allow-origin"),
            readable.then_some(origin),
            "{origin}"
        );
    }
}
