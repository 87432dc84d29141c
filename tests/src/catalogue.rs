//! Every route of the API as data, for the tests that sweep all of them (the bad-input
//! battery, the property tests).

/// `(function, method, path template, a valid body or null, needs a token)`. `{u}` is the
/// userID, `{c}` a passkey's credentialID, `{i}` an intentID, `{p}` and `{s}` an identity
/// provider's name and subject, `{u2fID}` a security key's id (the route table's own name,
/// which `tests/tests/routes.rs` takes as it is): [`fill`] puts values in.
pub const ROUTES: &[(&str, &str, &str, &str, bool)] = &[
    (
        "auth",
        "POST",
        "/user-authentication",
        r#"{"userID":"demo-user","password":"Demo-Passw0rd!"}"#,
        false,
    ),
    (
        "auth",
        "POST",
        "/user-refresh-tokens",
        r#"{"userID":"demo-user","refreshToken":"refresh-demo-user"}"#,
        false,
    ),
    (
        "auth",
        "POST",
        "/change-temporary-password",
        r#"{"userID":"demo-user","newPassword":"New-Passw0rd!","session":"sssssssssssssssssssss"}"#,
        false,
    ),
    (
        "auth",
        "POST",
        "/respond-to-auth-challenge",
        r#"{"userID":"demo-user","session":"sssssssssssssssssssss","challengeName":"SMS_MFA","code":"1"}"#,
        false,
    ),
    (
        "password",
        "POST",
        "/forgot-password",
        r#"{"userID":"demo-user"}"#,
        false,
    ),
    (
        "password",
        "POST",
        "/confirm-forgot-password",
        r#"{"userID":"demo-user","confirmationCode":"123456","newPassword":"New-Passw0rd!"}"#,
        false,
    ),
    (
        "password",
        "POST",
        "/users/{u}/change-password",
        r#"{"previousPassword":"a","proposedPassword":"New-Passw0rd!"}"#,
        true,
    ),
    ("password", "POST", "/users/{u}/sign-out", "null", true),
    (
        "admin",
        "POST",
        "/users/{u}/admin-reset-password",
        "null",
        true,
    ),
    ("admin", "POST", "/users/{u}/admin-disable", "null", true),
    ("admin", "POST", "/users/{u}/admin-enable", "null", true),
    (
        "admin",
        "POST",
        "/users/{u}/resend-confirmation-code",
        "null",
        true,
    ),
    (
        "admin",
        "POST",
        "/users/{u}/resend-welcome-message",
        "null",
        true,
    ),
    ("lock", "PUT", "/users/{u}/lock", r#"{"reason":"r"}"#, true),
    ("lock", "PUT", "/users/{u}/unlock", "null", true),
    ("lock", "GET", "/users/{u}/lock", "null", true),
    ("users", "GET", "/users/{u}/events", "null", true),
    ("users", "POST", "/users", r#"{"userID":"new-user"}"#, true),
    ("users", "GET", "/users", "null", true),
    ("users", "GET", "/users/{u}", "null", true),
    ("users", "PATCH", "/users/{u}", r#"{"givenName":"G"}"#, true),
    ("users", "DELETE", "/users/{u}", "null", true),
    (
        "users",
        "PUT",
        "/users/{u}/email",
        r#"{"email":"demo-user@example.com"}"#,
        true,
    ),
    ("users", "POST", "/users/{u}/email/resend", "null", true),
    (
        "users",
        "POST",
        "/users/{u}/email/verify",
        r#"{"verificationCode":"123456"}"#,
        true,
    ),
    (
        "users",
        "PUT",
        "/users/{u}/phone",
        r#"{"phoneNumber":"+14155550100"}"#,
        true,
    ),
    ("users", "POST", "/users/{u}/phone/resend", "null", true),
    (
        "users",
        "POST",
        "/users/{u}/phone/verify",
        r#"{"verificationCode":"123456"}"#,
        true,
    ),
    (
        "users",
        "GET",
        "/users/{u}/authentication-methods",
        "null",
        true,
    ),
    ("users", "POST", "/users/{u}/totp", "null", true),
    (
        "users",
        "POST",
        "/users/{u}/totp/verify",
        r#"{"code":"123456","friendlyName":"phone"}"#,
        true,
    ),
    ("users", "DELETE", "/users/{u}/totp", "null", true),
    ("users", "POST", "/users/{u}/otp-sms", "null", true),
    ("users", "DELETE", "/users/{u}/otp-sms", "null", true),
    ("users", "POST", "/users/{u}/otp-email", "null", true),
    ("users", "DELETE", "/users/{u}/otp-email", "null", true),
    ("users", "POST", "/users/{u}/passkeys", "null", true),
    (
        "users",
        "POST",
        "/users/{u}/passkeys/verify",
        r#"{"credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}}"#,
        true,
    ),
    ("users", "GET", "/users/{u}/passkeys", "null", true),
    ("users", "DELETE", "/users/{u}/passkeys/{c}", "null", true),
    (
        "users",
        "POST",
        "/users/{u}/passkeys/registration-link",
        r#"{"returnCode":true}"#,
        true,
    ),
    (
        "auth",
        "POST",
        "/passkey-registration",
        r#"{"userID":"demo-user","code":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
        false,
    ),
    (
        "auth",
        "POST",
        "/passkey-registration/verify",
        r#"{"userID":"demo-user","code":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}}"#,
        false,
    ),
    (
        "auth",
        "POST",
        "/idp-intents",
        r#"{"idpName":"Okta","successUrl":"https://app.example.com/done","failureUrl":"https://app.example.com/failed"}"#,
        false,
    ),
    // a browser's return from the pool: no tenant headers, no API key, no body
    ("auth", "GET", "/idp-intents/callback", "null", false),
    (
        "auth",
        "POST",
        "/idp-intents/{i}/retrieve",
        r#"{"intentToken":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","intentSecret":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
        false,
    ),
    (
        "users",
        "POST",
        "/users/{u}/idp-links",
        r#"{"idpName":"Okta","idpUserID":"okta-user-1"}"#,
        true,
    ),
    ("users", "GET", "/users/{u}/idp-links", "null", true),
    (
        "users",
        "DELETE",
        "/users/{u}/idp-links/{p}/{s}",
        "null",
        true,
    ),
    ("users", "POST", "/users/{u}/u2f", "null", true),
    (
        "users",
        "POST",
        "/users/{u}/u2f/verify",
        r#"{"credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}},"name":"blue key"}"#,
        true,
    ),
    ("users", "GET", "/users/{u}/u2f", "null", true),
    ("users", "DELETE", "/users/{u}/u2f/{u2fID}", "null", true),
];

/// The intentID, provider, subject and security key id the catalogue's paths are filled with.
pub const INTENT_ID: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
pub const IDP_NAME: &str = "Okta";
pub const IDP_USER_ID: &str = "okta-user-1";
/// Base64url of 16 bytes, as the API makes a `u2fID`.
pub const U2F_ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// A catalogue path with `user` and the fixed values above in its placeholders.
pub fn fill(template: &str, user: &str) -> String {
    template
        .replace("{u}", user)
        .replace("{c}", "AAAA")
        .replace("{i}", INTENT_ID)
        .replace("{p}", IDP_NAME)
        .replace("{s}", IDP_USER_ID)
        .replace("{u2fID}", U2F_ID)
}

/// The resource template API Gateway names for a catalogue route and the path parameters it
/// fills, the userID as sent (any bytes: the template is matched with a plain one, so a userID
/// holding a `/` still names its route, as a percent-encoded one does at the gateway).
pub fn gateway_route(template: &str, user: &str) -> (String, serde_json::Value) {
    let (resource, mut parameters) = shared::testing::route_of(&fill(template, "u"));
    if let Some(p) = parameters
        .as_object_mut()
        .filter(|p| p.contains_key("userID"))
    {
        p.insert("userID".into(), serde_json::json!(user));
    }
    (resource, parameters)
}

/// Whether a route is reached with the tenant headers (and, behind API Gateway, an API key):
/// all but the identity provider's callback, which a browser reaches from the pool.
pub fn tenant_headed(template: &str) -> bool {
    template != "/idp-intents/callback"
}
