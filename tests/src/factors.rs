//! Second factors as a person has them: an authenticator app's codes, and what the API says a
//! user signs in with.

use serde_json::Value;
use shared::AwsApp;

use crate::stack::{TenantFixture, call};

/// A code as an authenticator app holding `secret` (base32) shows it now (RFC 6238).
pub fn totp_code(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).expect("a base32 secret");
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .expect("a TOTP")
        .generate_current()
        .to_string()
}

/// `GET /users/{user}/authentication-methods` with `token`: `{methods, preferred}`.
pub async fn methods(app: &AwsApp, t: &TenantFixture, user: &str, token: &str) -> Value {
    let path = format!("/users/{user}/authentication-methods");
    let a = call::<users::Group>(app, t, "GET", &path, Value::Null, token).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.data().clone()
}
