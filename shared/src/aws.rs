//! The shared SDK configuration: one per cold start, explicit behaviour version and timeouts.

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};

use crate::config::Config;

/// Loads the SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL*`,
/// `AWS_MAX_ATTEMPTS`) with our timeouts, so that a hung dependency turns into a 503 before
/// the Lambda itself times out. Credentials are resolved lazily, on the first call.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::v2026_01_12())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.connect_timeout)
                .operation_attempt_timeout(config.attempt_timeout)
                .operation_timeout(config.operation_timeout)
                .build(),
        )
        .load()
        .await
}
