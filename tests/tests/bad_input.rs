#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A bad-input battery over every route, on in-memory ports: malformed and oversize bodies,
//! wrong media types, invalid UTF-8, ill-formed userIDs in paths and bodies, missing,
//! duplicated and unknown tenant headers, and forged, expired or foreign tokens. Every case
//! gets its 4xx and slug, none a 5xx, and nothing is written. Needs no emulator.

use account_api_tests::{
    catalogue::{ROUTES, tenant_headed},
    stack::dispatch,
};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::{
    domain::tenant::Tenant,
    testing::{InMemoryDirectory, MemApp, MemUser, access_token, app_for, tenant, test_verifier},
};

fn battery_app() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    directory.add("boss", MemUser::confirmed("Boss-Passw0rd!"));
    // the demo client's API key is registered: another client's key must not reach it
    let tenant = Tenant {
        api_key_ids: vec!["demo-key-id".into()],
        ..tenant()
    };
    let mut app = app_for(tenant, directory);
    app.tokens = test_verifier(&app.config);
    app
}

struct Case {
    headers: Vec<(String, String)>,
    user: Option<String>,
    body: Body,
    /// The API key id API Gateway authenticated (`requestContext.identity.apiKeyId`).
    api_key: Option<&'static str>,
}

fn event(method: &str, template: &str, case: &Case) -> Request {
    let user = case.user.clone().unwrap_or_else(|| "demo-user".into());
    let path = account_api_tests::catalogue::fill(template, &user);
    let mut multi = serde_json::Map::new();
    for (k, v) in &case.headers {
        multi
            .entry(k.clone())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(json!(v));
    }
    let single: serde_json::Map<String, Value> = case
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let (resource, parameters) = account_api_tests::catalogue::gateway_route(template, &user);
    let e = json!({
        "resource": resource, "path": path, "httpMethod": method,
        "headers": single, "multiValueHeaders": multi,
        "pathParameters": parameters,
        "requestContext": {"requestId": "battery", "resourcePath": resource, "httpMethod": method, "path": path,
                           "stage": "test", "identity": {"sourceIp": "127.0.0.1", "apiKeyId": case.api_key}},
        "body": null, "isBase64Encoded": false
    });
    let (parts, _) = lambda_http::request::from_str(&e.to_string())
        .unwrap()
        .into_parts();
    Request::from_parts(parts, case.body.clone())
}

fn headers(token: Option<&str>, content_type: &str) -> Vec<(String, String)> {
    let mut h = vec![
        ("vbasoftware-client-id".into(), "demo".into()),
        ("vbasoftware-client-code".into(), "DEMO".into()),
        ("vbasoftware-database".into(), "main".into()),
        ("content-type".into(), content_type.into()),
    ];
    if let Some(t) = token {
        h.push(("authorization".into(), format!("Bearer {t}")));
    }
    h
}

fn slug(resp: &Response<Body>) -> String {
    let Body::Text(t) = resp.body() else {
        panic!("text body")
    };
    let v: Value = serde_json::from_str(t).unwrap();
    v["error"]["type"]
        .as_str()
        .unwrap_or("<none>")
        .trim_start_matches("/problems/")
        .to_string()
}

/// Runs `case` against every route it applies to and checks the answer.
async fn expect(
    name: &str,
    applies: impl Fn(&str, &str, bool) -> bool,
    case: impl Fn(bool) -> Case,
    status: u16,
    want: &str,
) -> usize {
    expect_with(name, applies, |bearer, _| case(bearer), status, want).await
}

/// Like `expect`, with the route's valid body at hand to spoil.
async fn expect_with(
    name: &str,
    applies: impl Fn(&str, &str, bool) -> bool,
    case: impl Fn(bool, &Value) -> Case,
    status: u16,
    want: &str,
) -> usize {
    let mut ran = 0;
    for (function, method, template, valid, bearer) in ROUTES {
        if !applies(method, template, *bearer) {
            continue;
        }
        let app = battery_app();
        let valid: Value = serde_json::from_str(valid).unwrap();
        let resp = dispatch(
            &app,
            function,
            event(method, template, &case(*bearer, &valid)),
        )
        .await;
        assert_eq!(
            (resp.status().as_u16(), slug(&resp).as_str()),
            (status, want),
            "{name}: {method} {template}"
        );
        assert!(
            app.audit.actions().is_empty(),
            "{name}: {method} {template} wrote an audit entry"
        );
        assert_eq!(
            app.locks.attempts("demo-user"),
            0,
            "{name}: {method} {template} touched the lockout budget"
        );
        ran += 1;
    }
    ran
}

/// An admin who is also the target user, so that both admin routes and the user's own
/// routes get past authorization to the input they are tested on.
fn admin() -> String {
    access_token("demo-user", &["admins"], 600)
}

fn with_body(bearer: bool, body: Body) -> Case {
    Case {
        headers: headers(bearer.then(admin).as_deref(), "application/json"),
        user: None,
        body,
        api_key: None,
    }
}

/// Whether the route's valid body holds a string anywhere.
fn has_string(method: &str, template: &str) -> bool {
    fn any_string(v: &Value) -> bool {
        match v {
            Value::String(_) => true,
            Value::Object(o) => o.values().any(any_string),
            Value::Array(a) => a.iter().any(any_string),
            _ => false,
        }
    }
    ROUTES
        .iter()
        .filter(|(_, m, t, _, _)| *m == method && *t == template)
        .any(|(_, _, _, b, _)| any_string(&serde_json::from_str(b).unwrap_or(Value::Null)))
}

fn has_body(method: &str, template: &str, _: bool) -> bool {
    ROUTES
        .iter()
        .any(|(_, m, t, b, _)| *m == method && *t == template && *b != "null")
}

#[tokio::test]
async fn malformed_bodies_are_400_and_never_5xx() {
    let mut ran = 0;
    for (name, body) in [
        ("truncated JSON", Body::Text("{\"userID\": ".into())),
        ("a JSON array", Body::Text("[1,2]".into())),
        ("a JSON string", Body::Text("\"x\"".into())),
        ("invalid UTF-8", Body::Binary(vec![b'{', 0xff, 0xfe, b'}'])),
    ] {
        ran += expect(
            name,
            has_body,
            |bearer| with_body(bearer, body.clone()),
            400,
            "invalid-request",
        )
        .await;
    }
    // the route's own valid body, spoilt one way at a time
    let spoil = |f: fn(&str, &Value) -> Value| {
        move |bearer: bool, valid: &Value| {
            // one field spoilt at a time would need a case per field; the first string field
            // (or every field, for wrong types) shows the rule while keeping under the size limit
            // (a body whose fields are objects, a passkey's credential, has its first string
            // spoilt inside them)
            fn spoil_in(
                f: fn(&str, &Value) -> Value,
                object: &serde_json::Map<String, Value>,
                spoilt: &mut bool,
            ) -> serde_json::Map<String, Value> {
                let has_string = object.values().any(Value::is_string);
                object
                    .iter()
                    .map(|(k, v)| {
                        let new = match v {
                            _ if *spoilt => v.clone(),
                            Value::Object(inner) if !has_string => {
                                Value::Object(spoil_in(f, inner, spoilt))
                            }
                            _ => f(k, v),
                        };
                        *spoilt |= v.is_string();
                        (k.clone(), new)
                    })
                    .collect()
            }
            let mut spoilt = false;
            let obj = spoil_in(f, valid.as_object().unwrap(), &mut spoilt);
            with_body(bearer, Body::Text(Value::Object(obj).to_string()))
        }
    };
    type Spoiler = fn(&str, &Value) -> Value;
    let cases: [(&str, Spoiler); 4] = [
        ("wrong types", |_, _| json!(7)),
        ("10 KB strings", |_, v| {
            if v.is_string() {
                json!("x".repeat(10_000))
            } else {
                v.clone()
            }
        }),
        ("control characters", |_, v| {
            if v.is_string() {
                json!("a\u{0}b\u{1b}[31m")
            } else {
                v.clone()
            }
        }),
        ("empty strings", |_, v| {
            if v.is_string() { json!("") } else { v.clone() }
        }),
    ];
    for (name, f) in cases {
        // the string cases spoil a string: a body of flags alone (`{"returnCode": true}`) has
        // none to spoil, and the wrong types above cover it
        let applies = |method: &str, template: &str, bearer: bool| {
            has_body(method, template, bearer)
                && (name == "wrong types" || has_string(method, template))
        };
        ran += expect_with(name, applies, spoil(f), 400, "invalid-request").await;
    }
    let extra = |bearer: bool, valid: &Value| {
        let mut v = valid.clone();
        v["isAdmin"] = json!(true);
        with_body(bearer, Body::Text(v.to_string()))
    };
    ran += expect_with("an unknown field", has_body, extra, 400, "invalid-request").await;
    let body_routes = ROUTES
        .iter()
        .filter(|(_, method, template, _, _)| has_body(method, template, false))
        .count();
    assert!(
        body_routes >= 14,
        "the catalogue lost body routes: {body_routes}"
    );
    // the three string cases skip bodies without a string
    let flags_only = ROUTES
        .iter()
        .filter(|(_, method, template, _, _)| {
            has_body(method, template, false) && !has_string(method, template)
        })
        .count();
    assert_eq!(
        ran,
        body_routes * 9 - flags_only * 3,
        "every body route, nine ways (six without a string)"
    );
}

#[tokio::test]
async fn oversize_bodies_are_413_and_other_media_types_415() {
    let big = Body::Text(format!(
        r#"{{"userID":"demo-user","x":"{}"}}"#,
        "a".repeat(17 * 1024)
    ));
    expect(
        "17 KiB",
        has_body,
        |bearer| with_body(bearer, big.clone()),
        413,
        "payload-too-large",
    )
    .await;
    let text = |bearer: bool| Case {
        headers: headers(bearer.then(admin).as_deref(), "text/plain"),
        user: None,
        body: Body::Text("userID=demo-user".into()),
        api_key: None,
    };
    expect("text/plain", has_body, text, 415, "unsupported-media-type").await;
}

#[tokio::test]
async fn ill_formed_user_ids_in_paths_are_400() {
    let in_path = |_: &str, template: &str, _: bool| template.contains("{u}");
    for bad in ["a/b", "..", "%2F", "a b", &"a".repeat(129), "é", "a\u{0}b"] {
        let case = |bearer: bool| Case {
            user: Some(bad.to_string()),
            ..with_body(bearer, Body::Empty)
        };
        expect(bad, in_path, case, 400, "invalid-request").await;
    }
}

#[tokio::test]
async fn tenant_headers_are_checked_on_every_route() {
    let all = |_: &str, template: &str, _: bool| tenant_headed(template);
    let missing = |bearer: bool| {
        let mut c = with_body(bearer, Body::Empty);
        c.headers.retain(|(k, _)| k != "vbasoftware-database");
        c
    };
    expect("missing header", all, missing, 400, "missing-header").await;
    let empty = |bearer: bool| {
        let mut c = with_body(bearer, Body::Empty);
        c.headers[0].1 = " ".into();
        c
    };
    expect("empty header", all, empty, 400, "missing-header").await;
    let twice = |bearer: bool| {
        let mut c = with_body(bearer, Body::Empty);
        c.headers
            .push(("vbasoftware-client-id".into(), "other".into()));
        c
    };
    // API Gateway (REST) hands a function the last value of a repeated header; lambda_http too
    expect("duplicated header", all, twice, 401, "invalid-tenant").await;
    let unknown = |bearer: bool| {
        let mut c = with_body(bearer, Body::Empty);
        c.headers[0].1 = "nobody".into();
        c
    };
    expect("unknown tenant", all, unknown, 401, "invalid-tenant").await;
    let forged_key = |bearer: bool| {
        let mut c = with_body(bearer, Body::Empty);
        c.headers[1].1 = "DEMO#main".into();
        c
    };
    expect("a # in a header", all, forged_key, 401, "invalid-tenant").await;
}

#[tokio::test]
async fn another_client_s_api_key_is_403_on_every_route() {
    let all = |_: &str, template: &str, _: bool| tenant_headed(template);
    let foreign = |bearer: bool, valid: &Value| Case {
        api_key: Some("other-client-key-id"),
        ..with_body(bearer, Body::Text(valid.to_string()))
    };
    let ran = expect_with("foreign API key", all, foreign, 403, "forbidden").await;
    assert_eq!(
        ran,
        ROUTES.len() - 1,
        "every route but the identity provider's callback"
    );
    // the client's own key gets through to the route (whatever the route then answers)
    for (function, method, template, valid, bearer) in ROUTES {
        let valid: Value = serde_json::from_str(valid).unwrap();
        let own = Case {
            api_key: Some("demo-key-id"),
            ..with_body(*bearer, Body::Text(valid.to_string()))
        };
        let resp = dispatch(&battery_app(), function, event(method, template, &own)).await;
        assert_ne!(
            slug(&resp),
            "forbidden",
            "{method} {template} with its own key"
        );
    }
}

#[tokio::test]
async fn forged_expired_and_missing_tokens_are_401_on_every_bearer_route() {
    let bearer_routes = |_: &str, _: &str, bearer: bool| bearer;
    let expired = access_token("boss", &["admins"], -300);
    let unsigned = {
        let good = admin();
        let payload = good.split('.').nth(1).unwrap().to_string();
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoidGVzdC1rZXkifQ.{payload}.")
    };
    for (name, token) in [
        ("expired", Some(expired)),
        ("alg none", Some(unsigned)),
        ("garbage", Some("x.y.z".to_string())),
        ("none", None),
    ] {
        let case = |_: bool| Case {
            headers: headers(token.as_deref(), "application/json"),
            user: None,
            body: Body::Empty,
            api_key: None,
        };
        expect(name, bearer_routes, case, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn the_identity_providers_callback_needs_a_state_it_kept() {
    // a browser's return carries no tenant headers: its `state` names the tenant, or nothing does
    for query in [
        "",
        "?state=",
        "?code=abc",
        "?state=made-up&code=abc",
        "?state=made-up&error=access_denied",
    ] {
        let case = Case {
            headers: vec![],
            user: None,
            body: Body::Empty,
            api_key: None,
        };
        let mut req = event("GET", "/idp-intents/callback", &case);
        let parsed: Vec<(String, String)> = query
            .trim_start_matches('?')
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let map: std::collections::HashMap<String, String> = parsed.into_iter().collect();
        req = lambda_http::RequestExt::with_query_string_parameters(req, map);
        let app = battery_app();
        let resp = dispatch(&app, "auth", req).await;
        assert_eq!(
            (resp.status().as_u16(), slug(&resp).as_str()),
            (400, "invalid-intent"),
            "callback{query}"
        );
        assert!(
            resp.headers().get("location").is_none(),
            "callback{query} redirected"
        );
    }
}
