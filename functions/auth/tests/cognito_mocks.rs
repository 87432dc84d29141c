#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The auth routes on the real Cognito adapter with `aws-smithy-mocks` returning exactly what
//! Cognito documents: the behaviours the local emulator does not reproduce (reset-required
//! sign-ins, throttling, secret hashes everywhere, code errors, 5xx answers).

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        admin_get_user::AdminGetUserOutput,
        describe_user_pool::DescribeUserPoolOutput,
        describe_user_pool_client::DescribeUserPoolClientOutput,
        initiate_auth::{InitiateAuthError, InitiateAuthOutput},
        respond_to_auth_challenge::{RespondToAuthChallengeError, RespondToAuthChallengeOutput},
    },
    types::{
        AliasAttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType,
        UserPoolClientType, UserPoolType,
        error::{
            CodeMismatchException, ExpiredCodeException, InternalErrorException,
            NotAuthorizedException, PasswordResetRequiredException, TooManyRequestsException,
            UserNotFoundException,
        },
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use lambda_http::Request;
use serde_json::{Value, json};
use shared::domain::lock::Codes;
use shared::{
    App,
    domain::tenant::CachedTenants,
    testing::{Answer, slug},
    testing::{InMemoryTenants, WithCognito, cognito_app, tenant},
};

type MockApp = App<WithCognito>;

/// `Base64(HMAC_SHA256("s3cr3t-value", "demo-user" + "client123"))`, computed independently.
const EXPECTED_HASH: &str = "N98CFg5JdWPI/OdAusC0sUfGuzXOdM4Nl4n7HalRTFU=";

/// The demo tenant, with the app client the mocks describe.
fn mock_tenant() -> shared::domain::tenant::Tenant {
    let mut t = tenant();
    t.app_client_id = "client123".into();
    t
}

fn mock_app(client: Client) -> MockApp {
    let mut app = cognito_app(client);
    let t = mock_tenant();
    app.tenants = CachedTenants::new(InMemoryTenants::with(t), app.config.tenant_cache_ttl);
    app
}

/// A client answering with the rules, over a pool without alias or username attributes (its
/// userIDs are usernames, so a sign-in looks nobody up).
fn client(rules: &[&Rule]) -> Client {
    let pool = plain_pool();
    let mut rules = rules.to_vec();
    rules.push(&pool);
    mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, rules)
}

fn plain_pool() -> Rule {
    mock!(Client::describe_user_pool).then_output(|| {
        DescribeUserPoolOutput::builder()
            .user_pool(UserPoolType::builder().build())
            .build()
    })
}

fn describe_with_secret() -> Rule {
    mock!(Client::describe_user_pool_client).then_output(|| {
        DescribeUserPoolClientOutput::builder()
            .user_pool_client(
                UserPoolClientType::builder()
                    .client_id("client123")
                    .client_secret("s3cr3t-value")
                    .build(),
            )
            .build()
    })
}

fn tokens() -> InitiateAuthOutput {
    InitiateAuthOutput::builder()
        .authentication_result(
            AuthenticationResultType::builder()
                .access_token("access")
                .id_token("id")
                .refresh_token("refresh")
                .expires_in(3600)
                .token_type("Bearer")
                .build(),
        )
        .build()
}

fn request(path: &str, body: Value) -> Request {
    shared::testing::api_request("POST", path, &body, &shared::testing::demo_headers(None))
}

fn sign_in() -> Request {
    request(
        "/user-authentication",
        json!({"userID": "Demo-User", "password": "Demo-Passw0rd!"}),
    )
}

async fn call(app: &MockApp, req: Request) -> (u16, Value, lambda_http::http::HeaderMap) {
    let a = Answer::from(app.handle::<auth::Group>(req).await);
    (a.status, a.body, a.headers)
}

#[tokio::test]
async fn sign_in_sends_the_secret_hash_and_reads_the_secret_once() {
    let describe = describe_with_secret();
    let auth = mock!(Client::initiate_auth)
        .match_requests(|r| {
            let p = r.auth_parameters().unwrap();
            r.auth_flow() == Some(&AuthFlowType::UserPasswordAuth)
                && r.client_id() == Some("client123")
                && p.get("USERNAME").map(String::as_str) == Some("demo-user")
                && p.get("PASSWORD").map(String::as_str) == Some("Demo-Passw0rd!")
                && p.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
        })
        .then_output(tokens);
    let app = mock_app(client(&[&describe, &auth]));
    for _ in 0..2 {
        let (status, body, _) = call(&app, sign_in()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["authenticationResult"]["accessToken"],
            "access"
        );
    }
    assert_eq!(auth.num_calls(), 2);
    assert_eq!(describe.num_calls(), 1, "the client secret is cached");
}

/// An app client without a secret would let anyone with its id (every access token names it)
/// sign in at Cognito around the API: such a tenant is broken, and its sign-ins are refused
/// before any password reaches Cognito.
#[tokio::test]
async fn a_client_without_a_secret_is_refused_before_any_password_reaches_cognito() {
    let describe = mock!(Client::describe_user_pool_client).then_output(|| {
        DescribeUserPoolClientOutput::builder()
            .user_pool_client(UserPoolClientType::builder().client_id("client123").build())
            .build()
    });
    let auth = mock!(Client::initiate_auth).then_output(tokens);
    let app = mock_app(client(&[&describe, &auth]));
    let (status, body, _) = call(&app, sign_in()).await;
    assert_eq!((status, slug(&body)), (500, "internal"), "{body}");
    assert!(!body.to_string().contains("secret"), "{body}");
    assert_eq!(auth.num_calls(), 0);
}

/// `MFA_SETUP`'s session would let its holder enrol an authenticator of theirs at Cognito
/// directly (AssociateSoftwareToken and VerifySoftwareToken take it, with no client secret):
/// the challenge is named, its session is not handed out.
#[tokio::test]
async fn an_mfa_setup_challenge_is_answered_without_cognitos_session() {
    let describe = describe_with_secret();
    let auth = mock!(Client::initiate_auth).then_output(|| {
        InitiateAuthOutput::builder()
            .challenge_name(ChallengeNameType::MfaSetup)
            .session("cognito-mfa-setup-session")
            .build()
    });
    let app = mock_app(client(&[&describe, &auth]));
    let (status, body, _) = call(&app, sign_in()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["challengeName"], "MFA_SETUP");
    assert_eq!(body["data"]["session"], Value::Null);
    assert_eq!(body["data"]["authenticationResult"], Value::Null);
    assert!(!body.to_string().contains("cognito-mfa-setup-session"));
    assert_eq!(auth.num_calls(), 1);
}

#[tokio::test]
async fn refresh_sends_the_username_and_secret_hash() {
    let describe = describe_with_secret();
    let auth = mock!(Client::initiate_auth)
        .match_requests(|r| {
            let p = r.auth_parameters().unwrap();
            r.auth_flow() == Some(&AuthFlowType::RefreshTokenAuth)
                && p.get("REFRESH_TOKEN").map(String::as_str) == Some("the-refresh-token")
                && p.get("USERNAME").map(String::as_str) == Some("demo-user")
                && p.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
        })
        .then_output(refreshed);
    let app = mock_app(client(&[&describe, &auth]));
    let req = request(
        "/user-refresh-tokens",
        json!({"userID": "demo-user", "refreshToken": "the-refresh-token"}),
    );
    assert_eq!(call(&app, req).await.0, 200);
    assert_eq!(auth.num_calls(), 1);
}

/// What Cognito answers a refresh: a new access token (signed, naming its user) and no
/// refresh token.
fn refreshed() -> InitiateAuthOutput {
    refreshed_for("demo-user")
}

fn refreshed_for(user: &str) -> InitiateAuthOutput {
    InitiateAuthOutput::builder()
        .authentication_result(
            AuthenticationResultType::builder()
                .access_token(shared::testing::access_token_for(
                    &mock_tenant(),
                    user,
                    &[],
                    3600,
                ))
                .expires_in(3600)
                .token_type("Bearer")
                .build(),
        )
        .build()
}

/// The lock checked on refresh is that of the account the token belongs to, read from the
/// new access token, not of the userID the body names (which an app client without a secret
/// does not even need): the new tokens are not returned.
#[tokio::test]
async fn refresh_checks_the_lock_of_the_token_s_own_account() {
    let describe = describe_with_secret();
    let auth = mock!(Client::initiate_auth).then_output(|| refreshed_for("locked-user"));
    let app = mock_app(client(&[&describe, &auth]));
    app.locks.lock_now(
        "locked-user",
        shared::domain::lock::Lock {
            source: shared::domain::lock::LockSource::Admin,
            reason: None,
            locked_at: "2026-11-29T00:00:00Z".into(),
            locked_by: "admin-sub".into(),
            locked_until: None,
            budget: None,
        },
    );
    let req = request(
        "/user-refresh-tokens",
        json!({"userID": "demo-user", "refreshToken": "the-refresh-token"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!((status, slug(&body)), (403, "account-locked"), "{body}");
    assert!(body["data"].is_null(), "no tokens in a refusal: {body}");
}

async fn sign_in_failing_with(
    error: fn() -> InitiateAuthError,
) -> (u16, Value, lambda_http::http::HeaderMap) {
    let describe = describe_with_secret();
    let auth = mock!(Client::initiate_auth).then_error(error);
    let app = mock_app(client(&[&describe, &auth]));
    call(&app, sign_in()).await
}

fn not_authorized(message: &'static str) -> InitiateAuthError {
    InitiateAuthError::NotAuthorizedException(
        NotAuthorizedException::builder().message(message).build(),
    )
}

#[tokio::test]
async fn a_reset_password_is_403_password_reset_required() {
    let (status, body, _) = sign_in_failing_with(|| {
        InitiateAuthError::PasswordResetRequiredException(
            PasswordResetRequiredException::builder()
                .message("Password reset required for the user")
                .build(),
        )
    })
    .await;
    assert_eq!((status, slug(&body)), (403, "password-reset-required"));
    assert!(
        !body
            .to_string()
            .contains("Password reset required for the user")
    );
}

#[tokio::test]
async fn throttling_is_429_with_retry_after() {
    let (status, body, headers) = sign_in_failing_with(|| {
        InitiateAuthError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .message("Rate exceeded")
                .build(),
        )
    })
    .await;
    assert_eq!((status, slug(&body)), (429, "too-many-requests"));
    assert_eq!(headers["retry-after"], "1");
}

#[tokio::test]
async fn cognitos_own_lockout_is_429() {
    let (status, body, headers) =
        sign_in_failing_with(|| not_authorized("Password attempts exceeded")).await;
    assert_eq!((status, slug(&body)), (429, "too-many-requests"));
    assert!(headers.contains_key("retry-after"));
}

/// Cognito's own lockout only happens to users who exist: a tenant that hides account
/// state answers it like a wrong password.
#[tokio::test]
async fn cognitos_own_lockout_reads_as_invalid_credentials_when_account_state_is_hidden() {
    let describe = describe_with_secret();
    let auth =
        mock!(Client::initiate_auth).then_error(|| not_authorized("Password attempts exceeded"));
    let mut app = mock_app(client(&[&describe, &auth]));
    let mut t = mock_tenant();
    t.hide_account_state = true;
    app.tenants = CachedTenants::new(InMemoryTenants::with(t), app.config.tenant_cache_ttl);
    let (status, body, _) = call(&app, sign_in()).await;
    assert_eq!((status, slug(&body)), (401, "invalid-credentials"));
}

#[tokio::test]
async fn a_disabled_user_is_403_account_disabled() {
    let (status, body, _) = sign_in_failing_with(|| not_authorized("User is disabled.")).await;
    assert_eq!((status, slug(&body)), (403, "account-disabled"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_read_the_same() {
    let (s1, mut b1, _) =
        sign_in_failing_with(|| not_authorized("Incorrect username or password.")).await;
    let (s2, mut b2, _) = sign_in_failing_with(|| {
        InitiateAuthError::UserNotFoundException(
            UserNotFoundException::builder()
                .message("User does not exist.")
                .build(),
        )
    })
    .await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(slug(&b1), "invalid-credentials");
    // the same but for the request's own activity id
    for b in [&mut b1, &mut b2] {
        b["debug"] = Value::Null;
        b["error"]["instance"] = Value::Null;
    }
    assert_eq!(b1, b2);
}

#[tokio::test]
async fn a_cognito_internal_error_is_503() {
    let (status, body, _) = sign_in_failing_with(|| {
        InitiateAuthError::InternalErrorException(InternalErrorException::builder().build())
    })
    .await;
    assert_eq!((status, slug(&body)), (503, "dependency-unavailable"));
}

#[tokio::test]
async fn an_html_500_is_503_not_a_crash() {
    let describe = describe_with_secret();
    let auth = mock!(Client::initiate_auth).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
            aws_smithy_types::body::SdkBody::from("<html>Internal Server Error</html>"),
        )
    });
    let app = mock_app(client(&[&describe, &auth]));
    let (status, body, _) = call(&app, sign_in()).await;
    assert_eq!((status, slug(&body)), (503, "dependency-unavailable"));
}

async fn challenge_failing_with(error: fn() -> RespondToAuthChallengeError) -> (u16, Value) {
    let describe = describe_with_secret();
    let respond = mock!(Client::respond_to_auth_challenge)
        .match_requests(|r| {
            let c = r.challenge_responses().unwrap();
            c.get("SOFTWARE_TOKEN_MFA_CODE").map(String::as_str) == Some("123456")
                && c.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
        })
        .then_error(error);
    let app = mock_app(client(&[&describe, &respond]));
    let req = request(
        "/respond-to-auth-challenge",
        json!({"userID": "demo-user", "session": "s".repeat(40),
               "challengeName": "SOFTWARE_TOKEN_MFA", "code": "123456"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!(respond.num_calls(), 1);
    (status, body)
}

#[tokio::test]
async fn mfa_code_errors_have_their_own_slugs() {
    let (status, body) = challenge_failing_with(|| {
        RespondToAuthChallengeError::CodeMismatchException(CodeMismatchException::builder().build())
    })
    .await;
    assert_eq!((status, slug(&body)), (400, "code-mismatch"));
    let (status, body) = challenge_failing_with(|| {
        RespondToAuthChallengeError::ExpiredCodeException(ExpiredCodeException::builder().build())
    })
    .await;
    assert_eq!((status, slug(&body)), (400, "code-expired"));
    let (status, body) = challenge_failing_with(|| {
        RespondToAuthChallengeError::NotAuthorizedException(
            NotAuthorizedException::builder()
                .message("Invalid session for the user, session is expired.")
                .build(),
        )
    })
    .await;
    assert_eq!((status, slug(&body)), (401, "invalid-credentials"));
}

#[tokio::test]
async fn a_closed_port_answers_503_within_a_few_seconds() {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(shared::https::client().unwrap())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_cognitoidentityprovider::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(1))
                .operation_timeout(std::time::Duration::from_secs(3))
                .build(),
        )
        .load()
        .await;
    let app = mock_app(Client::new(&sdk));
    let started = std::time::Instant::now();
    let (status, body, headers) = call(&app, sign_in()).await;
    assert_eq!((status, slug(&body)), (503, "dependency-unavailable"));
    assert!(headers.contains_key("retry-after"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!body.to_string().contains("127.0.0.1"));
}

#[tokio::test]
async fn an_email_alias_signs_in_as_the_username_it_names() {
    // a pool with an email alias: the userID is looked up once (`AdminGetUser`), and the
    // sign-in, its SECRET_HASH and its lockout key use the username Cognito answers with
    let pool = mock!(Client::describe_user_pool).then_output(|| {
        DescribeUserPoolOutput::builder()
            .user_pool(
                UserPoolType::builder()
                    .alias_attributes(AliasAttributeType::Email)
                    .build(),
            )
            .build()
    });
    let lookup = mock!(Client::admin_get_user)
        .match_requests(|r| {
            r.user_pool_id() == Some(tenant().user_pool_id.as_str())
                && r.username() == Some("demo@example.com")
        })
        .then_output(|| {
            AdminGetUserOutput::builder()
                .username("Demo-User")
                .enabled(true)
                .build()
                .unwrap()
        });
    let auth = mock!(Client::initiate_auth)
        .match_requests(|r| {
            let p = r.auth_parameters().unwrap();
            p.get("USERNAME").map(String::as_str) == Some("demo-user")
                && p.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
        })
        .then_output(tokens);
    let describe = describe_with_secret();
    let app = mock_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        [&pool, &lookup, &describe, &auth]
    ));
    let req = request(
        "/user-authentication",
        json!({"userID": "Demo@Example.com", "password": "Demo-Passw0rd!"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((lookup.num_calls(), auth.num_calls()), (1, 1));
    // the pool's configuration is read once per instance, not per sign-in
    let (status, _, _) = call(&app, sign_in_as("Demo@Example.com")).await;
    assert_eq!(status, 200);
    assert_eq!((pool.num_calls(), lookup.num_calls()), (1, 2));
}

fn sign_in_as(user: &str) -> Request {
    request(
        "/user-authentication",
        json!({"userID": user, "password": "Demo-Passw0rd!"}),
    )
}

#[tokio::test]
async fn each_challenge_is_answered_under_its_own_key_with_the_username_and_hash() {
    // (challenge, the key Cognito reads the code under, what the caller sent, what follows)
    let cases = [
        ("SMS_MFA", "SMS_MFA_CODE", "246810", None),
        ("EMAIL_OTP", "EMAIL_OTP_CODE", "135791", None),
        ("SELECT_MFA_TYPE", "ANSWER", "EMAIL_OTP", Some("EMAIL_OTP")),
    ];
    for (challenge, key, code, next) in cases {
        let describe = describe_with_secret();
        let respond = mock!(Client::respond_to_auth_challenge)
            .match_requests(move |r| {
                let c = r.challenge_responses().unwrap();
                r.challenge_name().map(|n| n.as_str()) == Some(challenge)
                    && r.session() == Some("s".repeat(40).as_str())
                    && c.get(key).map(String::as_str) == Some(code)
                    && c.get("USERNAME").map(String::as_str) == Some("demo-user")
                    && c.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
                    && c.len() == 3
            })
            .then_output(move || match next {
                // choosing a factor leads to that factor's challenge, on a new session
                Some(factor) => RespondToAuthChallengeOutput::builder()
                    .challenge_name(ChallengeNameType::from(factor))
                    .session("next-session")
                    .build(),
                None => RespondToAuthChallengeOutput::builder()
                    .authentication_result(
                        AuthenticationResultType::builder()
                            .access_token("access")
                            .expires_in(3600)
                            .token_type("Bearer")
                            .build(),
                    )
                    .build(),
            });
        let app = mock_app(client(&[&describe, &respond]));
        let req = request(
            "/respond-to-auth-challenge",
            json!({"userID": "demo-user", "session": "s".repeat(40),
                   "challengeName": challenge, "code": code}),
        );
        let (status, body, _) = call(&app, req).await;
        assert_eq!(status, 200, "{challenge}: {body}");
        assert_eq!(respond.num_calls(), 1, "{challenge}");
        match next {
            Some(factor) => {
                assert_eq!(body["data"]["challengeName"], factor);
                assert_eq!(body["data"]["session"], "next-session");
            }
            None => assert_eq!(
                body["data"]["authenticationResult"]["accessToken"],
                "access"
            ),
        }
    }
}

#[tokio::test]
async fn a_passkey_sign_in_asks_user_auth_for_web_authn_and_answers_with_the_credential() {
    let describe = describe_with_secret();
    let start = mock!(Client::initiate_auth)
        .match_requests(|r| {
            let p = r.auth_parameters().unwrap();
            r.auth_flow() == Some(&AuthFlowType::UserAuth)
                && p.get("USERNAME").map(String::as_str) == Some("demo-user")
                && p.get("PREFERRED_CHALLENGE").map(String::as_str) == Some("WEB_AUTHN")
                && p.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
                && !p.contains_key("PASSWORD")
        })
        .then_output(|| {
            InitiateAuthOutput::builder()
                .challenge_name(ChallengeNameType::WebAuthn)
                .session("passkey-session")
                .challenge_parameters(
                    "CREDENTIAL_REQUEST_OPTIONS",
                    r#"{"challenge":"c-2","rpId":"example.com","allowCredentials":[{"id":"AbC-_1","type":"public-key"}]}"#,
                )
                .build()
        });
    let respond = mock!(Client::respond_to_auth_challenge)
        .match_requests(|r| {
            let c = r.challenge_responses().unwrap();
            let credential: Option<Value> = c
                .get("CREDENTIAL")
                .and_then(|text| serde_json::from_str(text).ok());
            r.challenge_name() == Some(&ChallengeNameType::WebAuthn)
                && r.session() == Some("passkey-session")
                && credential.is_some_and(|v| v["id"] == "AbC-_1")
                && c.get("USERNAME").map(String::as_str) == Some("demo-user")
                && c.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
        })
        .then_output(|| {
            RespondToAuthChallengeOutput::builder()
                .authentication_result(
                    AuthenticationResultType::builder()
                        .access_token("access")
                        .expires_in(3600)
                        .token_type("Bearer")
                        .build(),
                )
                .build()
        });
    // the pool's relying party, which the options name (GetUserPoolMfaConfig)
    let relying_party = mock!(Client::get_user_pool_mfa_config)
        .match_requests(|r| r.user_pool_id() == Some("us-east-1_test"))
        .then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::get_user_pool_mfa_config::GetUserPoolMfaConfigOutput::builder()
                .web_authn_configuration(
                    aws_sdk_cognitoidentityprovider::types::WebAuthnConfigurationType::builder()
                        .relying_party_id("example.com")
                        .user_verification(
                            aws_sdk_cognitoidentityprovider::types::UserVerificationType::Required,
                        )
                        .build(),
                )
                .build()
        });
    let app = mock_app(client(&[&describe, &start, &respond, &relying_party]));
    let req = request(
        "/user-authentication",
        json!({"userID": "demo-user", "method": "PASSKEY"}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["challengeName"], "WEB_AUTHN");
    // Cognito's challenge, the pool's relying party, the API's timeout, nothing else: who
    // holds which passkey is not told to whoever asks
    assert_eq!(
        body["data"]["credentialRequestOptions"],
        json!({"challenge": "c-2", "timeout": 180_000, "rpId": "example.com",
               "userVerification": "required"})
    );
    // the session handed out is the API's, Cognito's stays behind it
    let session = body["data"]["session"].as_str().unwrap().to_string();
    assert_eq!(session.len(), 43, "{session}");
    assert_ne!(session, "passkey-session");
    let req = request(
        "/respond-to-auth-challenge",
        json!({"userID": "demo-user", "session": session, "challengeName": "WEB_AUTHN",
               "credential": {"id": "AbC-_1", "rawId": "AbC-_1", "type": "public-key",
                              "response": {"clientDataJSON": "e30", "authenticatorData": "AA",
                                           "signature": "AA"}}}),
    );
    let (status, body, _) = call(&app, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["authenticationResult"]["accessToken"],
        "access"
    );
    assert_eq!((start.num_calls(), respond.num_calls()), (1, 1));

    // a password with a passkey sign-in, or a code for WEB_AUTHN, never reaches Cognito
    for body in [
        json!({"userID": "demo-user", "method": "PASSKEY", "password": "x"}),
        json!({"userID": "demo-user"}),
    ] {
        let (status, body, _) = call(&app, request("/user-authentication", body)).await;
        assert_eq!((status, slug(&body)), (400, "invalid-request"), "{body}");
    }
    let code =
        json!({"userID": "demo-user", "session": "s", "challengeName": "WEB_AUTHN", "code": "1"});
    let (status, body, _) = call(&app, request("/respond-to-auth-challenge", code)).await;
    assert_eq!((status, slug(&body)), (400, "invalid-request"), "{body}");
    assert_eq!((start.num_calls(), respond.num_calls()), (1, 1));
}

/// A passkey registration code's two steps: each a custom sign-in (`CUSTOM_AUTH`, then the
/// `CUSTOM_CHALLENGE` answered with the code, under the username and secret hash), then the
/// WebAuthn registration with that sign-in's own access token, which goes nowhere else and is
/// revoked once used.
#[tokio::test]
async fn a_registration_code_signs_in_by_custom_auth_and_registers_with_that_token() {
    use aws_sdk_cognitoidentityprovider::operation::{
        complete_web_authn_registration::CompleteWebAuthnRegistrationOutput,
        start_web_authn_registration::StartWebAuthnRegistrationOutput,
    };
    use shared::domain::lock::{CodePurpose, OneTimeCode};
    const CODE: &str = "Q29kZS10aGF0LWlzLTQzLWNoYXJhY3RlcnMtbG9uZy1v";

    let describe = describe_with_secret();
    let start = mock!(Client::initiate_auth)
        .match_requests(|r| {
            let p = r.auth_parameters().unwrap();
            r.auth_flow() == Some(&AuthFlowType::CustomAuth)
                && r.client_id() == Some("client123")
                && p.get("USERNAME").map(String::as_str) == Some("demo-user")
                && p.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
                && p.len() == 2
        })
        .then_output(|| {
            InitiateAuthOutput::builder()
                .challenge_name(ChallengeNameType::CustomChallenge)
                .session("custom-session")
                .challenge_parameters("purpose", "passkey-registration-code")
                .challenge_parameters("USERNAME", "demo-user")
                .build()
        });
    let answer = mock!(Client::respond_to_auth_challenge)
        .match_requests(|r| {
            let c = r.challenge_responses().unwrap();
            r.challenge_name() == Some(&ChallengeNameType::CustomChallenge)
                && r.session() == Some("custom-session")
                && c.get("ANSWER").map(String::as_str)
                    == Some(&format!("passkey-registration:{CODE}")[..])
                && c.get("USERNAME").map(String::as_str) == Some("demo-user")
                && c.get("SECRET_HASH").map(String::as_str) == Some(EXPECTED_HASH)
        })
        .then_output(|| {
            RespondToAuthChallengeOutput::builder()
                .authentication_result(
                    AuthenticationResultType::builder()
                        .access_token("code-access")
                        .refresh_token("code-refresh")
                        .expires_in(3600)
                        .token_type("Bearer")
                        .build(),
                )
                .build()
        });
    let options = mock!(Client::start_web_authn_registration)
        .match_requests(|r| r.access_token() == Some("code-access"))
        .then_output(|| {
            StartWebAuthnRegistrationOutput::builder()
                .credential_creation_options(aws_smithy_types::Document::Object(
                    [(
                        "challenge".to_string(),
                        aws_smithy_types::Document::String("c-9".into()),
                    )]
                    .into(),
                ))
                .build()
                .unwrap()
        });
    let complete = mock!(Client::complete_web_authn_registration)
        .match_requests(|r| {
            r.access_token() == Some("code-access")
                && r.credential().is_some_and(|c| {
                    matches!(c, aws_smithy_types::Document::Object(m)
                        if matches!(m.get("id"), Some(aws_smithy_types::Document::String(id)) if id == "AbC-_1"))
                })
        })
        .then_output(|| CompleteWebAuthnRegistrationOutput::builder().build());
    // each step's session is revoked once used, with the app client's secret
    let revoke = mock!(Client::revoke_token)
        .match_requests(|r| {
            r.token() == Some("code-refresh")
                && r.client_id() == Some("client123")
                && r.client_secret() == Some("s3cr3t-value")
        })
        .then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::revoke_token::RevokeTokenOutput::builder()
                .build()
        });
    let app = mock_app(client(&[
        &describe, &start, &answer, &options, &complete, &revoke,
    ]));
    let link = OneTimeCode {
        code_hash: OneTimeCode::hash_of(CODE),
        sub: "sub-demo-user".into(),
        app_client_id: "client123".into(),
        expires_at: shared::time::epoch_seconds(std::time::SystemTime::now()) + 600,
        created_at: "2026-11-29T10:00:00Z".into(),
        created_by: "admin-sub".into(),
    };
    let user = shared::domain::user_id::UserId::parse("demo-user").unwrap();
    let pool = mock_tenant().user_pool_id;
    let purpose = CodePurpose::PasskeyRegistration;
    let kept = app.locks.put_code(purpose, &pool, &user, &link, true).await;
    kept.unwrap();

    let (status, body, _) = call(
        &app,
        request(
            "/passkey-registration",
            json!({"userID": "demo-user", "code": CODE}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["credentialCreationOptions"]["challenge"],
        "c-9"
    );
    assert!(
        !body.to_string().contains("code-access"),
        "the sign-in's tokens stay in the function"
    );
    assert_eq!(
        (start.num_calls(), answer.num_calls(), options.num_calls()),
        (1, 1, 1)
    );

    let credential = json!({"id": "AbC-_1", "rawId": "AbC-_1", "type": "public-key",
                            "response": {"clientDataJSON": "e30", "attestationObject": "AA"}});
    let (status, body, _) = call(
        &app,
        request(
            "/passkey-registration/verify",
            json!({"userID": "demo-user", "code": CODE, "credential": credential}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"credentialID": "AbC-_1"}));
    assert_eq!((start.num_calls(), complete.num_calls()), (2, 1));
    assert_eq!(revoke.num_calls(), 2, "both steps' sessions revoked");
    // spent
    let left = app.locks.one_time_code(purpose, &pool, &user).await;
    assert_eq!(left.unwrap(), None);
    assert!(!body.to_string().contains("code-access"));
}
