//! The shared SDK configuration: one per cold start, explicit behaviour version and timeouts.

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};

use crate::{config::Config, https::TransportError};

/// Loads the SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL*`,
/// `AWS_MAX_ATTEMPTS`) with our timeouts, so that a hung dependency turns into a 503 before
/// the Lambda itself times out. Credentials are resolved lazily, on the first call. Every
/// client speaks HTTPS through [`crate::https`], which reads no certificate store.
pub async fn sdk_config(config: &Config) -> Result<SdkConfig, TransportError> {
    Ok(aws_config::defaults(BehaviorVersion::v2026_01_12())
        .http_client(crate::https::client()?)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.connect_timeout)
                .operation_attempt_timeout(config.attempt_timeout)
                .operation_timeout(config.operation_timeout)
                .build(),
        )
        .load()
        .await)
}
