#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! An identity provider's intent on the real Cognito adapter: the exact request the pool
//! domain's token endpoint gets (client_secret_basic, the PKCE verifier, the registered
//! callback), answered by a loopback endpoint that plays Cognito's documented answers
//! (tokens; `{"error":"invalid_grant"}`; a 5xx), and the retrieve that follows.

use shared::domain::lock::Flows;
use std::{
    io::{Read, Write},
    net::TcpListener,
    sync::mpsc,
};

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        admin_get_user::AdminGetUserOutput, describe_user_pool_client::DescribeUserPoolClientOutput,
    },
    types::{AttributeType, UserPoolClientType, UserStatusType},
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use base64::Engine;
use serde_json::{Value, json};
use shared::{
    App,
    domain::federation::{PendingIntent, pkce_challenge},
    domain::lock::{FlowKind, FlowRecord, OneTimeCode},
    domain::tenant::CachedTenants,
    domain::tenant::Federation,
    testing::{self, Answer, InMemoryTenants, WithCognito, access_token, cognito_app, tenant},
};

const CALLBACK: &str = "https://api.example.com/v1/idp-intents/callback";
const DONE: &str = "https://app.example.com/done";
const FAILED: &str = "https://app.example.com/failed";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The intent secret the start answered (the app keeps it in the browser's session).
const SECRET: &str = "the-intent-secret";

/// One HTTP exchange on loopback: answers `status` and `body` once, hands over what it got.
fn token_endpoint(status: &'static str, body: String) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if rest.len() >= length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).unwrap();
        tx.send(String::from_utf8_lossy(&got).to_string()).unwrap();
    });
    (url, rx)
}

fn federated_tenant(domain: &str) -> shared::domain::tenant::Tenant {
    let mut t = tenant();
    t.federation = Some(Federation {
        domain: domain.into(),
        callback_url: CALLBACK.into(),
        providers: vec!["Okta".into()],
        redirect_urls: vec![DONE.into(), FAILED.into()],
    });
    t
}

fn secret() -> Rule {
    mock!(Client::describe_user_pool_client)
        .match_requests(|r| r.client_id() == Some("test-client"))
        .then_output(|| {
            DescribeUserPoolClientOutput::builder()
                .user_pool_client(
                    UserPoolClientType::builder()
                        .client_id("test-client")
                        .client_secret("s3cr3t")
                        .build(),
                )
                .build()
        })
}

fn app(domain: &str, rules: &[&Rule]) -> App<WithCognito> {
    let mut app = cognito_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        rules
    ));
    app.tenants = CachedTenants::new(
        InMemoryTenants::with(federated_tenant(domain)),
        app.config.tenant_cache_ttl,
    );
    app
}

/// A started intent kept as `POST /idp-intents` keeps it; answers its `state`.
async fn pending(app: &App<WithCognito>) -> String {
    let state = "state-0123456789-0123456789-0123456789-0123";
    let hash = OneTimeCode::hash_of(state);
    let pending = PendingIntent {
        intent_id: "i".repeat(43),
        tenant: "demo/DEMO/main".into(),
        idp_name: "Okta".into(),
        success_url: DONE.into(),
        failure_url: FAILED.into(),
        verifier: VERIFIER.into(),
        secret_hash: OneTimeCode::hash_of(SECRET),
    };
    let record = FlowRecord {
        body: serde_json::to_string(&pending).unwrap(),
        secret_hash: hash.clone(),
        expires_at: u64::MAX / 2,
    };
    app.locks
        .put_flow(FlowKind::IdpState, &hash, &record)
        .await
        .unwrap();
    state.into()
}

async fn callback(app: &App<WithCognito>, state: &str) -> Answer {
    let req = testing::api_request(
        "GET",
        &format!("/idp-intents/callback?code=the-pools-code&state={state}"),
        &Value::Null,
        &[],
    );
    Answer::from(app.handle::<auth::Group>(req).await)
}

fn unsigned_jwt(claims: Value) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.sig", b64(&json!({"alg": "RS256"})), b64(&claims))
}

#[tokio::test]
async fn the_code_is_exchanged_with_the_clients_secret_and_the_pkce_verifier() {
    let access = access_token("demo-user", &[], 600);
    let id = unsigned_jwt(json!({
        "sub": "sub-demo-user", "cognito:username": "demo-user", "token_use": "id",
        "email": "demo@example.com", "email_verified": true, "name": "Demo",
        "identities": [{"userId": "okta-1", "providerName": "Okta", "providerType": "OIDC",
            "issuer": null, "primary": "false", "dateCreated": "1795000000000"}],
    }));
    let answer = json!({"access_token": access, "id_token": id, "refresh_token": "refresh-1",
        "expires_in": 3600, "token_type": "Bearer"});
    let (domain, got) = token_endpoint("200 OK", answer.to_string());
    // the identity signs in as demo-user, a native user of the pool (a linked identity)
    let user = mock!(Client::admin_get_user)
        .match_requests(|r| r.username() == Some("demo-user"))
        .then_output(|| {
            AdminGetUserOutput::builder()
                .username("demo-user")
                .enabled(true)
                .user_status(UserStatusType::Confirmed)
                .user_attributes(
                    AttributeType::builder()
                        .name("sub")
                        .value("sub-demo-user")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        });
    let secret = secret();
    let app = app(&domain, &[&secret, &user]);
    let state = pending(&app).await;

    let back = callback(&app, &state).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let request = got.recv().unwrap();
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /oauth2/token HTTP/1.1"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/x-www-form-urlencoded"),
        "{head}"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("test-client:s3cr3t");
    assert!(
        head.contains(&format!(
            "authorization: basic {}",
            basic.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert_eq!(
        body,
        "grant_type=authorization_code&client_id=test-client&code=the-pools-code\
         &redirect_uri=https%3A%2F%2Fapi.example.com%2Fv1%2Fidp-intents%2Fcallback\
         &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
    // the challenge the start sent is this verifier's (RFC 7636, appendix B)
    assert_eq!(
        pkce_challenge(VERIFIER),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );

    let to = back.headers["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("{DONE}?intentID={}&intentToken=", "i".repeat(43))),
        "{to}"
    );
    assert_eq!(back.headers["referrer-policy"], "no-referrer");
    let token = to.rsplit_once("intentToken=").unwrap().1.to_string();
    // kept sealed: the table's item holds no token of the pool's
    let kept = app
        .locks
        .flow(FlowKind::IdpIntent, &"i".repeat(43))
        .await
        .unwrap()
        .unwrap();
    assert!(!kept.body.contains("eyJ") && !kept.body.contains("refresh-1"));
    assert_eq!(kept.secret_hash, OneTimeCode::hash_of(&token));

    let req = testing::api_request(
        "POST",
        &format!("/idp-intents/{}/retrieve", "i".repeat(43)),
        &json!({"intentToken": token, "intentSecret": SECRET}),
        &testing::demo_headers(None),
    );
    let got = Answer::from(app.handle::<auth::Group>(req).await);
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.data()["userID"], "demo-user");
    assert_eq!(
        got.data()["authenticationResult"]["refreshToken"],
        "refresh-1"
    );
    assert_eq!(
        got.data()["idpInformation"],
        json!({"idpName": "Okta", "idpUserID": "okta-1", "email": "demo@example.com",
            "emailVerified": true, "name": "Demo", "givenName": null, "familyName": null})
    );
    assert_eq!(user.num_calls(), 1);
}

#[tokio::test]
async fn a_code_the_pool_refuses_or_a_failing_endpoint_goes_to_the_failure_page() {
    for (status, body, slug) in [
        (
            "400 Bad Request",
            r#"{"error":"invalid_grant"}"#,
            "idp-failed",
        ),
        ("500 Internal Server Error", "{}", "dependency-unavailable"),
        (
            "400 Bad Request",
            r#"{"error":"invalid_client"}"#,
            "internal",
        ),
    ] {
        let (domain, got) = token_endpoint(status, body.into());
        let secret = secret();
        let app = app(&domain, &[&secret]);
        let state = pending(&app).await;
        let back = callback(&app, &state).await;
        assert_eq!(back.status, 302, "{status}: {}", back.body);
        let to = back.headers["location"].to_str().unwrap();
        assert_eq!(
            to,
            format!("{FAILED}?intentID={}&error={slug}", "i".repeat(43)),
            "{status} {body}"
        );
        got.recv().unwrap();
        // the state is spent and nothing is kept for the intent
        assert!(
            app.locks
                .flow(FlowKind::IdpIntent, &"i".repeat(43))
                .await
                .unwrap()
                .is_none()
        );
        let again = callback(&app, &state).await;
        assert_eq!((again.status, again.slug()), (400, "invalid-intent"));
    }
}

#[tokio::test]
async fn a_sign_in_with_another_provider_than_the_intents_is_refused() {
    // the browser changed `identity_provider` in the authorize URL: the pool's tokens name
    // another provider's identity than the intent's Okta
    let access = access_token("demo-user", &[], 600);
    let id = unsigned_jwt(json!({
        "sub": "sub-demo-user", "cognito:username": "google_1", "token_use": "id",
        "identities": [{"userId": "1", "providerName": "Google", "providerType": "Google",
            "issuer": null, "primary": "true", "dateCreated": "1795000000000"}],
    }));
    let answer = json!({"access_token": access, "id_token": id, "refresh_token": "refresh-1",
        "expires_in": 3600, "token_type": "Bearer"});
    let (domain, got) = token_endpoint("200 OK", answer.to_string());
    let secret = secret();
    let revoke = mock!(Client::revoke_token)
        .match_requests(|r| r.token() == Some("refresh-1"))
        .then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::revoke_token::RevokeTokenOutput::builder()
                .build()
        });
    // the user Cognito made of the other provider's identity, removed all the same (a link
    // of that identity would need it gone)
    let made = mock!(Client::admin_get_user)
        .match_requests(|r| r.username() == Some("demo-user"))
        .then_output(|| {
            AdminGetUserOutput::builder()
                .username("demo-user")
                .enabled(true)
                .user_status(UserStatusType::ExternalProvider)
                .build()
                .unwrap()
        });
    let remove = mock!(Client::admin_delete_user)
        .match_requests(|r| r.username() == Some("demo-user"))
        .then_output(|| {
            aws_sdk_cognitoidentityprovider::operation::admin_delete_user::AdminDeleteUserOutput::builder()
                .build()
        });
    let app = app(&domain, &[&secret, &revoke, &made, &remove]);
    let state = pending(&app).await;
    let back = callback(&app, &state).await;
    assert_eq!(back.status, 302, "{}", back.body);
    got.recv().unwrap();
    let to = back.headers["location"].to_str().unwrap().to_string();
    let token = to.rsplit_once("intentToken=").unwrap().1.to_string();
    let req = testing::api_request(
        "POST",
        &format!("/idp-intents/{}/retrieve", "i".repeat(43)),
        &json!({"intentToken": token, "intentSecret": SECRET}),
        &testing::demo_headers(None),
    );
    let refused = Answer::from(app.handle::<auth::Group>(req).await);
    assert_eq!(
        (refused.status, refused.slug()),
        (400, "idp-failed"),
        "{}",
        refused.body
    );
    assert!(revoke.num_calls() >= 1, "the pool's tokens are revoked");
    assert_eq!(remove.num_calls(), 1, "the user Cognito made is removed");
}
