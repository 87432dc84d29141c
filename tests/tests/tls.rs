#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The SDK clients' HTTPS transport (`shared::https`) against a TLS endpoint in front of the
//! emulator, whose certificate a CA made at run time signed (`infra/local/tls_proxy.py`,
//! started by the test command): with that CA trusted, DynamoDB answers through it; without,
//! the handshake is refused and the store reads as unavailable, so certificates are verified,
//! not waved through.

use shared::domain::lock::Locks;
use std::path::PathBuf;

use shared::{adapters::dynamodb::DynamoLocks, domain::store::StoreError, domain::user_id::UserId};

/// `(https endpoint, CA file)`, as the test command exports them.
fn endpoint() -> (String, PathBuf) {
    let url = std::env::var("TLS_ENDPOINT_URL").unwrap_or_default();
    let ca = std::env::var("TLS_CA_PEM").unwrap_or_default();
    assert!(
        url.starts_with("https://") && !ca.is_empty(),
        "TLS_ENDPOINT_URL and TLS_CA_PEM are not set: run with infra/local/test.sh, which \
         starts the TLS endpoint in front of the emulator"
    );
    (url, PathBuf::from(ca))
}

async fn locks(
    url: &str,
    transport: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> DynamoLocks {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(transport)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let table = std::env::var("ACCOUNT_STATE_TABLE").expect("ACCOUNT_STATE_TABLE is set");
    DynamoLocks::new(aws_sdk_dynamodb::Client::new(&sdk), table)
}

#[tokio::test]
async fn the_transport_speaks_tls_to_an_endpoint_whose_ca_it_trusts() {
    let stack = account_api_tests::stack::Stack::connect().await;
    stack.ensure_tables().await;
    let (url, ca) = endpoint();
    let store = locks(&url, shared::https::client_trusting(Some(&ca)).unwrap()).await;
    let user = UserId::parse("tls-user").unwrap();
    let state = store.state("us-east-1_tls", &user).await.unwrap();
    assert_eq!((state.lock, state.failed_attempts), (None, 0));
}

#[tokio::test]
async fn the_transport_refuses_a_certificate_it_has_no_root_for() {
    let (url, _) = endpoint();
    let store = locks(&url, shared::https::client_trusting(None).unwrap()).await;
    let user = UserId::parse("tls-user").unwrap();
    match store.state("us-east-1_tls", &user).await {
        Err(StoreError::Unavailable(cause)) => {
            let chain = shared::domain::store::Chain(cause.as_ref()).to_string();
            assert!(chain.to_lowercase().contains("certificate"), "{chain}");
        }
        other => panic!("an untrusted certificate must fail the call, got {other:?}"),
    }
}
