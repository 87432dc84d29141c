//! Test fixtures (feature `test-support`): the demo tenant and configuration, apps wired on
//! in-memory, mocked or emulated ports, signed test tokens, and API Gateway events. Test
//! support, not product code: a list of small independent fixtures, longer than 500 lines.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use lambda_http::Request;
use serde_json::Value;

pub use crate::adapters::memory::*;
use crate::{
    adapters::jwks::TokenVerifier,
    app::{App, Ports},
    config::Config,
    domain::tenant::{CachedTenants, LockoutPolicy, Tenant},
};

/// The demo tenant as the fixtures' headers name it (`demo` / `DEMO` / `main`).
pub fn tenant() -> Tenant {
    Tenant {
        key: "demo/DEMO/main".into(),
        user_pool_id: "us-east-1_test".into(),
        app_client_id: "test-client".into(),
        admin_group: "admins".into(),
        // the key id the sample events carry (requestContext.identity.apiKeyId)
        api_key_ids: vec!["demo-key-id".into()],
        lockout: LockoutPolicy::default(),
        hide_account_state: false,
        jwks_url: "http://127.0.0.1:1/us-east-1_test/.well-known/jwks.json".into(),
        issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test".into(),
        totp_issuer: None,
        email_from: None,
        passkey_registration_url: None,
        // sign-in with one provider, `Okta`, back to the catalogue's pages
        federation: Some(crate::domain::tenant::Federation {
            domain: "https://demo.auth.us-east-1.amazoncognito.com".into(),
            callback_url: "https://api.example.com/v1/idp-intents/callback".into(),
            providers: vec!["Okta".into()],
            redirect_urls: vec![
                "https://app.example.com/done".into(),
                "https://app.example.com/failed".into(),
            ],
        }),
        // the tenant's web app may call the API from a browser
        allowed_origins: vec!["https://app.example.com".into()],
    }
}

pub fn config() -> Config {
    Config {
        tenants_table: "tenants".into(),
        account_state_table: "account-state".into(),
        audit_table: "audit".into(),
        audit_retention: Duration::from_secs(400 * 86_400),
        body_limit_bytes: Config::DEFAULT_BODY_LIMIT,
        tenant_cache_ttl: Duration::from_secs(60),
        connect_timeout: Duration::from_millis(200),
        attempt_timeout: Duration::from_millis(200),
        operation_timeout: Duration::from_millis(400),
        deadline_margin: Duration::from_millis(1000),
        jwks_cache_ttl: Duration::from_secs(3600),
        forgot_password_floor: Duration::from_millis(50),
        refusal_floor: Duration::from_millis(60),
        code_sends_per_user: 5,
        code_sends_per_tenant: 1000,
    }
}

/// Every port in memory.
pub struct InMemory;

impl crate::app::Ports for InMemory {
    type Directory = InMemoryDirectory;
    type Locks = InMemoryLocks;
    type Tenants = InMemoryTenants;
    type Audit = InMemoryAudit;
    type Mail = InMemoryMail;
}

pub type MemApp = App<InMemory>;

/// An app on in-memory ports, serving the demo tenant.
pub fn app(directory: InMemoryDirectory) -> MemApp {
    app_for(tenant(), directory)
}

/// An app on in-memory ports, serving `tenant` under the demo headers.
pub fn app_for(tenant: Tenant, directory: InMemoryDirectory) -> MemApp {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant), config.tenant_cache_ttl),
        directory,
        locks: InMemoryLocks::default(),
        audit: InMemoryAudit::default(),
        mail: Default::default(),
        // the in-memory directory issues access tokens signed with the test key
        tokens: test_verifier(&config),
        latencies: Default::default(),
        config,
    }
}

/// The real Cognito adapter (on a mocked or emulated client); everything else in memory.
pub struct WithCognito;

impl Ports for WithCognito {
    type Directory = crate::adapters::cognito::CognitoDirectory;
    type Locks = InMemoryLocks;
    type Tenants = InMemoryTenants;
    type Audit = InMemoryAudit;
    type Mail = crate::adapters::memory::InMemoryMail;
}

/// An app on the given Cognito client, serving the demo tenant, whose token verifier trusts
/// the test signing key (see [`access_token`]).
pub fn cognito_app(client: aws_sdk_cognitoidentityprovider::Client) -> App<WithCognito> {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant()), config.tenant_cache_ttl),
        directory: crate::adapters::cognito::CognitoDirectory::new(client),
        locks: InMemoryLocks::default(),
        audit: InMemoryAudit::default(),
        mail: Default::default(),
        tokens: test_verifier(&config),
        latencies: Default::default(),
        config,
    }
}

/// The real DynamoDB adapters for locks and audit (on a mocked, emulated or broken client);
/// the directory and the tenant registry in memory.
pub struct WithDynamo;

impl Ports for WithDynamo {
    type Directory = InMemoryDirectory;
    type Locks = crate::adapters::dynamodb::DynamoLocks;
    type Tenants = InMemoryTenants;
    type Audit = crate::adapters::dynamodb::DynamoAudit;
    type Mail = crate::adapters::memory::InMemoryMail;
}

/// An app on the given DynamoDB client for locks and audit, serving the demo tenant from
/// memory with `directory`, whose token verifier trusts the test signing key.
pub fn dynamo_app(
    client: aws_sdk_dynamodb::Client,
    directory: InMemoryDirectory,
) -> App<WithDynamo> {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant()), config.tenant_cache_ttl),
        directory,
        locks: crate::adapters::dynamodb::DynamoLocks::new(
            client.clone(),
            &config.account_state_table,
        )
        .with_audit(crate::adapters::dynamodb::AuditTable::of(&config)),
        audit: crate::adapters::dynamodb::DynamoAudit::new(
            client,
            &config.audit_table,
            config.audit_retention,
        ),
        mail: Default::default(),
        tokens: test_verifier(&config),
        latencies: Default::default(),
        config,
    }
}

/// A verifier that trusts the test key for the demo tenant's JWKS URL.
#[allow(clippy::expect_used)]
pub fn test_verifier(config: &Config) -> TokenVerifier {
    let jwks = serde_json::from_str(include_str!("../tests/fixtures/test-jwks.json"))
        .expect("the test JWKS parses");
    TokenVerifier::new(config.jwks_cache_ttl, config.attempt_timeout)
        .with_keys(&tenant().jwks_url, jwks)
}

/// An access token of the demo tenant's pool for `username`, signed with the test key,
/// expiring `expires_in` seconds from now (negative: already expired).
#[allow(clippy::expect_used)]
pub fn access_token(username: &str, groups: &[&str], expires_in: i64) -> String {
    access_token_for(&tenant(), username, groups, expires_in)
}

/// [`access_token`] for the pool and app client of `t`.
pub fn access_token_for(t: &Tenant, username: &str, groups: &[&str], expires_in: i64) -> String {
    signed_token(t, username, groups, expires_in, 0)
}

/// An access token of a sign-in `signed_in_ago` seconds before now, refreshed since (valid
/// for an hour).
pub fn access_token_signed_in(username: &str, groups: &[&str], signed_in_ago: i64) -> String {
    signed_token(&tenant(), username, groups, 3600, signed_in_ago)
}

#[allow(clippy::expect_used)]
fn signed_token(
    t: &Tenant,
    username: &str,
    groups: &[&str],
    expires_in: i64,
    signed_in_ago: i64,
) -> String {
    let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(0);
    let claims = serde_json::json!({
        "sub": format!("sub-{username}"), "username": username, "client_id": t.app_client_id,
        "token_use": "access", "iss": t.issuer, "cognito:groups": groups,
        "exp": now + expires_in, "auth_time": now - signed_in_ago,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_der(include_bytes!(
        "../tests/fixtures/test-signing-key.der"
    ));
    jsonwebtoken::encode(&header, &claims, &key).expect("a signed test token")
}

/// A key ring holding one security key `u2f_id`, as kept (its public key left out: enough for
/// the routes and the sign-in's challenge; the ceremonies are proven in `tests/tests/u2f.rs`).
pub fn key_ring(u2f_id: &str) -> crate::domain::u2f::KeyRing {
    crate::domain::u2f::KeyRing {
        handle: Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
        keys: vec![crate::domain::u2f::SecurityKey {
            u2f_id: u2f_id.into(),
            // base64url of 19 bytes: a credential id is 16 bytes or more
            credential_id: "Y3JlZGVudGlhbC1vZi1hLWtleQ".into(),
            static_state: String::new(),
            dynamic_state: String::new(),
            transports: "AA".into(),
            name: "blue key".into(),
            created_at: 1_700_000_000,
            last_used_at: None,
        }],
        pending: None,
    }
}

/// The resource template API Gateway would match for `path`: `/users/{userID}/…` for a path
/// under a user, the path itself otherwise.
pub fn resource_of(path: &str) -> String {
    route_of(path).0
}

/// The resource template API Gateway matches `path` to, and the path parameters it fills.
pub fn route_of(path: &str) -> (String, Value) {
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "users", user, "passkeys", id] if !["verify", "registration-link"].contains(id) => (
            "/users/{userID}/passkeys/{credentialID}".to_string(),
            serde_json::json!({ "userID": user, "credentialID": id }),
        ),
        ["", "users", user, "u2f", id] if *id != "verify" => (
            "/users/{userID}/u2f/{u2fID}".to_string(),
            serde_json::json!({ "userID": user, "u2fID": id }),
        ),
        ["", "users", user, "idp-links", idp, subject] => (
            "/users/{userID}/idp-links/{idpName}/{idpUserID}".to_string(),
            serde_json::json!({ "userID": user, "idpName": idp, "idpUserID": subject }),
        ),
        ["", "users", user, rest @ ..] => (
            ["/users/{userID}"]
                .into_iter()
                .chain(rest.iter().copied())
                .collect::<Vec<_>>()
                .join("/"),
            serde_json::json!({ "userID": user }),
        ),
        ["", "idp-intents", id, "retrieve"] => (
            "/idp-intents/{intentID}/retrieve".to_string(),
            serde_json::json!({ "intentID": id }),
        ),
        _ => (path.to_string(), Value::Null),
    }
}

/// The API Gateway (REST, v1) event Lambda receives for `method` and `path` (with its query
/// string), the headers and a JSON body (`null`: none), with the resource template and path
/// parameter API Gateway fills in.
pub fn api_event(method: &str, path: &str, body: &Value, headers: &[(String, String)]) -> Value {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let request_id = format!(
        "req-{}-{}",
        std::process::id(),
        REQUESTS.fetch_add(1, Ordering::SeqCst)
    );
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let (resource, path_parameters) = route_of(path);
    let query: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let multi_query: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.clone(), Value::Array(vec![v.clone()])))
        .collect();
    let (query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (Value::Object(query), Value::Object(multi_query))
    };
    let body = if body.is_null() {
        Value::Null
    } else {
        Value::String(body.to_string())
    };
    let single: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let multi: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::Array(vec![Value::String(v.clone())])))
        .collect();
    serde_json::json!({
        "resource": resource, "path": path, "httpMethod": method,
        "headers": single, "multiValueHeaders": multi,
        "queryStringParameters": query, "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r", "stage": "local",
            "requestId": request_id, "resourcePath": resource, "httpMethod": method,
            "path": path, "protocol": "HTTP/1.1", "apiId": "local",
            "identity": { "sourceIp": "127.0.0.1" }
        },
        "body": body, "isBase64Encoded": false
    })
}

/// [`api_event`] as the request the function reads.
#[allow(clippy::expect_used)]
pub fn api_request(
    method: &str,
    path: &str,
    body: &Value,
    headers: &[(String, String)],
) -> Request {
    let event = api_event(method, path, body, headers);
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

/// The demo tenant's headers, a JSON content type, and the bearer token if one is given.
pub fn demo_headers(bearer: Option<&str>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = [
        ("vbasoftware-client-id", "demo"),
        ("vbasoftware-client-code", "DEMO"),
        ("vbasoftware-database", "main"),
        ("content-type", "application/json"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
    .collect();
    if let Some(token) = bearer {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    headers
}

/// A function's answer as a test reads it: status, the envelope as JSON, the headers.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: http::HeaderMap,
    pub activity_id: String,
    pub retry_after: Option<String>,
}

impl Answer {
    #[allow(clippy::expect_used, clippy::panic)]
    pub fn from(resp: lambda_http::Response<lambda_http::Body>) -> Self {
        let body = match resp.body() {
            lambda_http::Body::Text(t) => serde_json::from_str(t).expect("a JSON body"),
            other => panic!("unexpected body {other:?}"),
        };
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Self {
            status: resp.status().as_u16(),
            activity_id: header("x-activity-id").unwrap_or_default(),
            retry_after: header("retry-after"),
            headers: resp.headers().clone(),
            body,
        }
    }

    /// The problem slug, or `<none>` on success.
    pub fn slug(&self) -> &str {
        slug(&self.body)
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

/// The problem slug of an envelope, or `<none>` on success.
pub fn slug(body: &Value) -> &str {
    body["error"]["type"]
        .as_str()
        .and_then(|t| t.strip_prefix("/problems/"))
        .unwrap_or("<none>")
}

/// The sample event `events/<group>/<name>.json`, as the function reads it.
#[allow(clippy::panic)]
pub fn sample_event(group: &str, name: &str) -> Request {
    let path = format!(
        "{}/../events/{group}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `req` with `authorization: Bearer <token>`.
#[allow(clippy::expect_used)]
pub fn with_bearer(req: Request, token: &str) -> Request {
    let (mut parts, body) = req.into_parts();
    parts.headers.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    Request::from_parts(parts, body)
}

/// `req` with `body` as its JSON body.
pub fn with_body(req: Request, body: &Value) -> Request {
    let (parts, _) = req.into_parts();
    Request::from_parts(parts, lambda_http::Body::Text(body.to_string()))
}

/// SDK mock rules the functions' mock tests share: what the API asks Cognito around every
/// bearer route and every self-service operation, pinned request by request.
#[allow(clippy::expect_used)] // fixtures: a builder that fails is a broken test
pub mod cognito_mocks {
    use aws_sdk_cognitoidentityprovider::{
        Client,
        operation::{
            admin_get_user::AdminGetUserOutput,
            describe_user_pool_client::DescribeUserPoolClientOutput,
            initiate_auth::InitiateAuthOutput,
            respond_to_auth_challenge::RespondToAuthChallengeOutput,
            revoke_token::RevokeTokenOutput,
        },
        types::{
            AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType,
            UserPoolClientType, UserStatusType,
        },
    };
    use aws_smithy_mocks::{Rule, mock};

    use crate::domain::lock::API_SESSION;

    /// The test tenant's app client secret, as `DescribeUserPoolClient` answers it.
    pub const CLIENT_SECRET: &str = "s3cr3t";
    /// The access and refresh token of the API's own session as the user.
    pub const SESSION_TOKEN: &str = "user-session";
    pub const SESSION_REFRESH: &str = "user-refresh";

    /// The bearer check's `AdminGetUser` of the caller, for any username: enabled, confirmed,
    /// with the `sub` the fixtures' tokens name (`sub-<username>`; put it after the rules of
    /// users a test describes itself).
    pub fn caller_is_live() -> Rule {
        mock!(Client::admin_get_user).then_compute_output(|r| {
            let name = r.username().unwrap_or_default().to_string();
            AdminGetUserOutput::builder()
                .username(name.clone())
                .enabled(true)
                .user_status(UserStatusType::Confirmed)
                .user_attributes(
                    AttributeType::builder()
                        .name("sub")
                        .value(format!("sub-{name}"))
                        .build()
                        .expect("an attribute"),
                )
                .build()
                .expect("a user")
        })
    }

    /// The API's own session as `user` (`shared::session`) on the test tenant's app client:
    /// `InitiateAuth` `CUSTOM_AUTH` under the username and secret hash with the answer in
    /// `ClientMetadata`, the one `CUSTOM_CHALLENGE` answered `<purpose>:<code>` (a 43-character
    /// code) with the same answer in `ClientMetadata`, and the session's refresh token revoked
    /// with the client's secret.
    pub struct SessionMocks {
        pub describe: Rule,
        pub initiate: Rule,
        pub respond: Rule,
        pub revoke: Rule,
    }

    impl SessionMocks {
        pub fn rules(&self) -> [&Rule; 4] {
            [&self.describe, &self.initiate, &self.respond, &self.revoke]
        }
    }

    pub fn session_as(user: &'static str, purpose: &'static str) -> SessionMocks {
        let client = crate::testing::tenant().app_client_id;
        let hash = crate::adapters::cognito::secret_hash(CLIENT_SECRET, user, &client);
        let (h1, h2, c1, c2, c3) = (
            hash.clone(),
            hash,
            client.clone(),
            client.clone(),
            client.clone(),
        );
        let answer_ok = move |answer: Option<&String>| {
            answer
                .and_then(|a| a.strip_prefix(purpose))
                .and_then(|a| a.strip_prefix(':'))
                .is_some_and(|code| code.len() == 43)
        };
        let describe = mock!(Client::describe_user_pool_client).then_output(move || {
            DescribeUserPoolClientOutput::builder()
                .user_pool_client(
                    UserPoolClientType::builder()
                        .client_id(c1.clone())
                        .client_secret(CLIENT_SECRET)
                        .build(),
                )
                .build()
        });
        let initiate = mock!(Client::initiate_auth)
            .match_requests(move |r| {
                let p = r.auth_parameters().cloned().unwrap_or_default();
                let metadata = r.client_metadata().cloned().unwrap_or_default();
                r.auth_flow() == Some(&AuthFlowType::CustomAuth)
                    && r.client_id() == Some(c2.as_str())
                    && p.get("USERNAME").map(String::as_str) == Some(user)
                    && p.get("SECRET_HASH") == Some(&h1)
                    && answer_ok(metadata.get(API_SESSION))
            })
            .then_output(|| {
                InitiateAuthOutput::builder()
                    .challenge_name(ChallengeNameType::CustomChallenge)
                    .session("custom-session")
                    .build()
            });
        let respond = mock!(Client::respond_to_auth_challenge)
            .match_requests(move |r| {
                let c = r.challenge_responses().cloned().unwrap_or_default();
                let metadata = r.client_metadata().cloned().unwrap_or_default();
                r.challenge_name() == Some(&ChallengeNameType::CustomChallenge)
                    && r.session() == Some("custom-session")
                    && answer_ok(c.get("ANSWER"))
                    && c.get("ANSWER") == metadata.get(API_SESSION)
                    && c.get("USERNAME").map(String::as_str) == Some(user)
                    && c.get("SECRET_HASH") == Some(&h2)
            })
            .then_output(|| {
                RespondToAuthChallengeOutput::builder()
                    .authentication_result(
                        AuthenticationResultType::builder()
                            .access_token(SESSION_TOKEN)
                            .refresh_token(SESSION_REFRESH)
                            .expires_in(3600)
                            .token_type("Bearer")
                            .build(),
                    )
                    .build()
            });
        let revoke = mock!(Client::revoke_token)
            .match_requests(move |r| {
                r.token() == Some(SESSION_REFRESH)
                    && r.client_id() == Some(c3.as_str())
                    && r.client_secret() == Some(CLIENT_SECRET)
            })
            .then_output(|| RevokeTokenOutput::builder().build());
        SessionMocks {
            describe,
            initiate,
            respond,
            revoke,
        }
    }
}

/// The functions' log output captured in memory, for a test that reads what was logged: pass
/// [`CapturedLog::subscriber`] to `tracing::subscriber::set_default` (or `set_global_default`
/// in a test binary of its own), then read [`CapturedLog::text`].
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut held) = self.0.lock() {
            held.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// The functions' own subscriber (`crate::telemetry`), writing here.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let writer = self.clone();
        crate::telemetry::subscriber(move || writer.clone())
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        self.0
            .lock()
            .map(|held| String::from_utf8_lossy(&held).into_owned())
            .unwrap_or_default()
    }
}
