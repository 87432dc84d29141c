#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests (proptest) of the code that reads what a client sends: userIDs, tenant
//! registry keys, JSON bodies, bearer tokens, and every route as a whole on in-memory ports.
//! Each property holds for every generated input; proptest shrinks a failure to its smallest
//! case. Needs no emulator.

use account_api_tests::{
    catalogue::ROUTES,
    stack::{api_request_with_headers, demo_headers, dispatch},
};
use lambda_http::{Body, Request};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use shared::{
    ApiError,
    adapters::dynamodb::tenant_key,
    domain::tenant::TenantKey,
    domain::user_id::UserId,
    domain::validate::Password,
    http::request::json_body,
    testing::{
        InMemoryDirectory, MemApp, MemUser, access_token, app, config, tenant, test_verifier,
    },
};

/// The userID rule of the contract, written out independently of `UserId`.
fn follows_rule(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@+-".contains(c))
        && s != "."
        && s != ".."
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Any JSON value, up to a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    any::<String>(),
                    Just("userID".to_string()),
                    Just("password".to_string())
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SignIn {
    #[serde(rename = "userID")]
    user_id: UserId,
    password: Password,
}

fn with_body(content_type: &str, body: Vec<u8>) -> Request {
    let headers = vec![("content-type".to_string(), content_type.to_string())];
    let (parts, _) =
        api_request_with_headers("POST", "/user-authentication", &Value::Null, &headers)
            .into_parts();
    Request::from_parts(parts, Body::Binary(body))
}

fn properties_app() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    directory.add("boss", MemUser::confirmed("Boss-Passw0rd!"));
    let mut app = app(directory);
    app.tokens = test_verifier(&app.config);
    app
}

fn tenant_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9._-]{0,6}",
        "[a-z#]{0,6}",
        any::<String>(),
        "[A-Z]{1,2}#[a-z]{1,2}"
    ]
}

proptest! {
    #[test]
    fn user_ids_are_accepted_exactly_by_the_rule_and_folded(raw in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9._@+-]{1,130}",
        "[A-Za-z0-9./%_ -]{0,8}",
    ]) {
        match UserId::parse(&raw) {
            Ok(id) => {
                prop_assert!(follows_rule(&raw), "accepted {raw:?}");
                prop_assert_eq!(id.as_str(), raw.to_ascii_lowercase());
            }
            Err(e) => {
                prop_assert!(!follows_rule(&raw), "refused {raw:?}");
                prop_assert_eq!(ApiError::from(e).status().as_u16(), 400);
            }
        }
    }

    /// Two different sets of tenant headers never share a registry key, whatever they hold.
    #[test]
    fn tenant_keys_never_collide(
        a in (tenant_part(), tenant_part(), tenant_part()),
        b in (tenant_part(), tenant_part(), tenant_part()),
    ) {
        let h = |(client_id, client_code, database): (String, String, String)| TenantKey {
            client_id, client_code, database,
        };
        let (a, b) = (h(a), h(b));
        if let (Some(ka), Some(kb)) = (tenant_key(&a), tenant_key(&b)) {
            prop_assert_eq!(ka == kb, a == b);
        }
        for k in [tenant_key(&a), tenant_key(&b)].into_iter().flatten() {
            prop_assert_eq!(k.matches('#').count(), 2);
        }
    }

    /// Any bytes under any media type: parsed, or refused with 400, 413 or 415.
    #[test]
    fn bodies_parse_or_are_refused_as_the_client_s_fault(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 16_000..17_000),
        ],
        content_type in prop_oneof![
            Just("application/json"), Just("application/json; charset=utf-8"),
            Just("text/plain"), Just(""), Just("application/jsonx"),
        ],
    ) {
        match json_body::<SignIn>(&with_body(content_type, body), 16 * 1024) {
            Ok(_) => {}
            Err(e) => prop_assert!(
                [400, 413, 415].contains(&e.status().as_u16()),
                "{} {e:?}", e.status()
            ),
        }
    }

    /// Garbage and altered tokens are refused with 401: no panic, no 5xx, no acceptance.
    #[test]
    fn only_intact_tokens_verify(
        garbage in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}",
        ],
        at in any::<prop::sample::Index>(),
        with in "[A-Za-z0-9_-]",
    ) {
        let rt = runtime();
        let verifier = test_verifier(&config());
        let t = tenant();
        let e = rt.block_on(verifier.verify_access(&t, &garbage)).unwrap_err();
        prop_assert_eq!(ApiError::from(e).status().as_u16(), 401);

        // one character of the claims or the signature changed
        let token = access_token("demo-user", &[], 3600);
        let body_start = token.find('.').unwrap() + 1;
        let i = body_start + at.index(token.len() - body_start);
        let mut altered = token.clone().into_bytes();
        prop_assume!(altered[i] != b'.' && altered[i] != with.as_bytes()[0]);
        altered[i] = with.as_bytes()[0];
        let altered = String::from_utf8(altered).unwrap();
        let e = rt.block_on(verifier.verify_access(&t, &altered)).unwrap_err();
        prop_assert_eq!(ApiError::from(e).status().as_u16(), 401);
        prop_assert!(rt.block_on(verifier.verify_access(&t, &token)).is_ok());
    }

    /// Any route, any JSON body, any userID in the path: never a server error.
    #[test]
    fn no_route_answers_5xx_to_anything_a_client_sends(
        route in prop::sample::select(ROUTES),
        body in prop_oneof![json_value(), json_value().prop_map(|v| Value::String(v.to_string()))],
        user in prop_oneof![Just("demo-user".to_string()), "[A-Za-z0-9._@+%~-]{0,140}"],
        admin in any::<bool>(),
    ) {
        let (function, method, template, _, bearer) = route;
        let token = access_token(if admin { "boss" } else { "demo-user" }, if admin { &["admins"] } else { &[] }, 3600);
        let headers = demo_headers(bearer.then_some(token.as_str()));
        let path = account_api_tests::catalogue::fill(template, &user);
        let req = api_request_with_headers(method, &path, &body, &headers);
        let app = properties_app();
        let status = runtime().block_on(dispatch(&app, function, req)).status().as_u16();
        prop_assert!(status < 500, "{method} {path} with {body} answered {status}");
        if template.contains("{u}") && !follows_rule(&user) {
            prop_assert!((400..500).contains(&status), "{method} {path}: a bad userID answered {status}");
        }
    }
}
