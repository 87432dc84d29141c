//! The shared SDK configuration: one per cold start, explicit behaviour version and timeouts.

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};

use crate::{config::Config, https::TransportError};

/// Loads the SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL*`,
/// `AWS_MAX_ATTEMPTS`) with our timeouts, so that a hung dependency turns into a 503 before
/// the Lambda itself times out. Credentials are resolved lazily, on the first call. Every
/// client speaks HTTPS through [`crate::https`], which reads no certificate store.
pub async fn sdk_config(config: &Config) -> Result<SdkConfig, TransportError> {
    let mut loader = aws_config::defaults(BehaviorVersion::v2026_01_12())
        .http_client(crate::https::client()?)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.connect_timeout)
                .operation_attempt_timeout(config.attempt_timeout)
                .operation_timeout(config.operation_timeout)
                .build(),
        );
    // Lambda hands the function's role credentials over in the environment, the default
    // chain's first source: read them there, and skip building the rest of the chain
    // (profile, web identity, container and instance-metadata providers, each with clients of
    // its own) that a function never reaches. A named profile keeps the chain.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() && std::env::var_os("AWS_PROFILE").is_none()
    {
        loader = loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    }
    Ok(loader.load().await)
}
