#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! change-password's bearer checks over in-memory ports, with tokens signed by the test key
//! whose public half the verifier is seeded with.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::testing::{InMemoryDirectory, MemApp, MemUser, app, tenant};

fn token(exp_offset: i64, issuer: &str) -> String {
    let t = tenant();
    let claims = json!({
        "sub": "sub-demo-user", "username": "demo-user", "client_id": t.app_client_id,
        "token_use": "access", "iss": issuer,
        "exp": jsonwebtoken::get_current_timestamp() as i64 + exp_offset,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key".into());
    let key = EncodingKey::from_rsa_der(include_bytes!(
        "../../../shared/tests/fixtures/test-signing-key.der"
    ));
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn seeded_app() -> MemApp {
    let mut app = app(InMemoryDirectory::with_user(
        "demo-user",
        MemUser::confirmed("Old-Passw0rd!"),
    ));
    let jwks = serde_json::from_str(include_str!(
        "../../../shared/tests/fixtures/test-jwks.json"
    ))
    .unwrap();
    app.tokens = shared::token::TokenVerifier::new(
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(100),
    )
    .unwrap()
    .with_keys(&tenant().jwks_url, jwks);
    app
}

fn change(bearer: &str) -> Request {
    let text = std::fs::read_to_string(format!(
        "{}/../../events/password/change-password.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let req = lambda_http::request::from_str(&text).unwrap();
    let (mut parts, body) = req.into_parts();
    parts
        .headers
        .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
    Request::from_parts(parts, body)
}

async fn call(app: &MemApp, req: Request) -> (u16, Value) {
    let resp = password::handle(app, req).await;
    let Body::Text(text) = resp.body() else {
        panic!("text body")
    };
    (resp.status().as_u16(), serde_json::from_str(text).unwrap())
}

#[tokio::test]
async fn an_expired_or_foreign_token_is_unauthenticated_and_changes_nothing() {
    let app = seeded_app();
    for (bad, why) in [
        (token(-120, &tenant().issuer), "expired"),
        (
            token(
                600,
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other",
            ),
            "another pool",
        ),
        ("not-a-token".to_string(), "garbage"),
    ] {
        let (status, body) = call(&app, change(&bad)).await;
        assert_eq!(status, 401, "{why}: {body}");
        assert_eq!(body["error"]["type"], "/problems/unauthenticated", "{why}");
    }
    assert_eq!(app.directory.calls(), 0, "nothing reached the directory");
}
