//! The shared SDK configuration: one per cold start, explicit behaviour version and timeouts.
//!
//! Built directly from the environment Lambda gives a function, not by aws-config's loader:
//! the loader's fallbacks (profile files, SSO, web identity through STS, the ECS and
//! instance-metadata providers and region chain) are never reached in Lambda, whose
//! environment always holds the region and the role's credentials, yet linking them made
//! every function's binary ~0.7 MB larger, with ~2,700 more pointers for the loader to
//! relocate at each cold start: ~0.3 ms of init, measured (infra/docs/performance.md). The
//! variables the AWS SDKs read for the settings a function uses are read here the same way.

use std::{collections::HashMap, fmt, sync::Arc};

use aws_config::{
    BehaviorVersion, Region, SdkConfig, environment::EnvironmentVariableCredentialsProvider,
    retry::RetryConfig, timeout::TimeoutConfig,
};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use crate::{
    app::InitError,
    config::{Config, ConfigError},
};

/// The SDK configuration from the process environment, with our timeouts, so that a hung
/// dependency turns into a 503 before the Lambda itself times out. Every client speaks HTTPS
/// through [`crate::https`], which reads no certificate store. Nothing here touches the
/// network; credentials are read when a call signs.
pub async fn sdk_config(config: &Config) -> Result<SdkConfig, InitError> {
    let http = crate::https::client()?;
    Ok(sdk_config_from(
        config,
        Arc::new(|name| std::env::var(name).ok()),
        http,
    )?)
}

/// How a variable of the environment is read (the process's, or a test's).
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The SDK configuration from `env`, as the AWS SDKs read these variables:
///
/// - `AWS_REGION` (else `AWS_DEFAULT_REGION`);
/// - credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
///   (Lambda's execution role), read at each signing, and from nowhere else;
/// - `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (`_DYNAMODB`,
///   `_COGNITO_IDENTITY_PROVIDER`, `_SESV2`; the service's own first), unless
///   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`;
/// - `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE` (`standard`, the default, or `adaptive`);
/// - `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` (`true` or `false`).
///
/// A value that is set but not valid stops the cold start, as a configuration error does.
pub fn sdk_config_from(
    config: &Config,
    env: Lookup,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> Result<SdkConfig, ConfigError> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let flag = |name: &'static str| -> Result<Option<bool>, ConfigError> {
        set(name)
            .map(|v| match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ConfigError::Invalid {
                    name,
                    why: "expected true or false".into(),
                }),
            })
            .transpose()
    };

    let mut retry = match set("AWS_RETRY_MODE").as_deref().map(str::trim) {
        None | Some("standard") => RetryConfig::standard(),
        Some("adaptive") => RetryConfig::adaptive(),
        Some(_) => {
            return Err(ConfigError::Invalid {
                name: "AWS_RETRY_MODE",
                why: "expected standard or adaptive".into(),
            });
        }
    };
    if let Some(v) = set("AWS_MAX_ATTEMPTS") {
        let attempts =
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError::Invalid {
                    name: "AWS_MAX_ATTEMPTS",
                    why: "expected a whole number of at least 1".into(),
                })?;
        retry = retry.with_max_attempts(attempts);
    }

    let mut sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::v2026_01_12())
        .http_client(http)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.connect_timeout)
                .operation_attempt_timeout(config.attempt_timeout)
                .operation_timeout(config.operation_timeout)
                .build(),
        )
        .retry_config(retry)
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ));
    if let Some(region) = set("AWS_REGION").or_else(|| set("AWS_DEFAULT_REGION")) {
        sdk = sdk.region(Region::new(region.trim().to_string()));
    }
    if let Some(fips) = flag("AWS_USE_FIPS_ENDPOINT")? {
        sdk = sdk.use_fips(fips);
    }
    if let Some(dual_stack) = flag("AWS_USE_DUALSTACK_ENDPOINT")? {
        sdk = sdk.use_dual_stack(dual_stack);
    }
    if flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")? != Some(true) {
        if let Some(url) = set("AWS_ENDPOINT_URL") {
            sdk = sdk.endpoint_url(url.trim());
        }
        sdk = sdk.service_config(ServiceEndpoints::read(&env));
    }
    Ok(sdk.build())
}

/// The service-specific endpoints of the environment (`AWS_ENDPOINT_URL_<SERVICE>`), which
/// a client asks for by its service id when it is made; the global `AWS_ENDPOINT_URL` after.
#[derive(Clone)]
struct ServiceEndpoints(HashMap<&'static str, String>);

impl ServiceEndpoints {
    /// The services the functions use, by the id their SDKs ask with.
    const SERVICES: [&'static str; 3] = ["DynamoDB", "Cognito Identity Provider", "SESv2"];

    fn read(env: &Lookup) -> Self {
        Self(
            Self::SERVICES
                .iter()
                .filter_map(|id| {
                    env(&Self::variable(id))
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (*id, v.trim().to_string()))
                })
                .collect(),
        )
    }

    /// `AWS_ENDPOINT_URL_` and the service id upper-cased, spaces as underscores.
    fn variable(service_id: &str) -> String {
        format!(
            "AWS_ENDPOINT_URL_{}",
            service_id.to_ascii_uppercase().replace(' ', "_")
        )
    }
}

impl fmt::Debug for ServiceEndpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        self.0.get(key.service_id()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::retry::RetryMode;

    fn config() -> Config {
        Config::from_lookup(|name| {
            matches!(
                name,
                "TENANTS_TABLE" | "ACCOUNT_STATE_TABLE" | "AUDIT_TABLE"
            )
            .then(|| "t".to_string())
        })
        .unwrap()
    }

    fn from(pairs: &'static [(&'static str, &'static str)]) -> Result<SdkConfig, ConfigError> {
        let env: Lookup = Arc::new(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        });
        let http = crate::https::client_trusting(None).unwrap();
        sdk_config_from(&config(), env, http)
    }

    fn endpoint_of(sdk: &SdkConfig, service: &'static str) -> Option<String> {
        // as the generated clients resolve it: the service's own, then the global one
        sdk.service_config()
            .and_then(|c| {
                c.load_config(
                    ServiceConfigKey::builder()
                        .service_id(service)
                        .env("AWS_ENDPOINT_URL")
                        .profile("endpoint_url")
                        .build()
                        .unwrap(),
                )
            })
            .or_else(|| sdk.endpoint_url().map(str::to_string))
    }

    #[test]
    fn reads_region_endpoints_and_retries_as_the_sdks_do() {
        let sdk = from(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("AWS_USE_FIPS_ENDPOINT", "TRUE"),
        ])
        .unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(
            endpoint_of(&sdk, "DynamoDB").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            endpoint_of(&sdk, "Cognito Identity Provider").as_deref(),
            Some("http://127.0.0.1:4566")
        );
        let retry = sdk.retry_config().unwrap();
        assert_eq!(retry.max_attempts(), 1);
        assert_eq!(retry.mode(), RetryMode::Standard);
        assert_eq!(sdk.use_fips(), Some(true));
        assert!(sdk.credentials_provider().is_some());
        let timeouts = sdk.timeout_config().unwrap();
        assert_eq!(
            timeouts.operation_timeout(),
            Some(config().operation_timeout)
        );

        // AWS_REGION before AWS_DEFAULT_REGION; the SDK's default attempts; adaptive retries
        let sdk = from(&[
            ("AWS_REGION", "us-east-2"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_RETRY_MODE", "adaptive"),
        ])
        .unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-2"));
        let retry = sdk.retry_config().unwrap();
        assert_eq!(retry.mode(), RetryMode::Adaptive);
        assert_eq!(retry.max_attempts(), RetryConfig::standard().max_attempts());
        assert_eq!(endpoint_of(&sdk, "DynamoDB"), None);
    }

    #[test]
    fn ignored_endpoints_are_ignored() {
        let sdk = from(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ])
        .unwrap();
        assert_eq!(endpoint_of(&sdk, "DynamoDB"), None);
        assert_eq!(endpoint_of(&sdk, "Cognito Identity Provider"), None);
    }

    #[test]
    fn a_value_that_is_not_valid_stops_the_cold_start() {
        for (pairs, name) in [
            (&[("AWS_MAX_ATTEMPTS", "0")][..], "AWS_MAX_ATTEMPTS"),
            (&[("AWS_MAX_ATTEMPTS", "three")][..], "AWS_MAX_ATTEMPTS"),
            (&[("AWS_RETRY_MODE", "legacy")][..], "AWS_RETRY_MODE"),
            (
                &[("AWS_USE_FIPS_ENDPOINT", "yes")][..],
                "AWS_USE_FIPS_ENDPOINT",
            ),
            (
                &[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "1")][..],
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
            ),
        ] {
            match from(pairs) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{pairs:?}: {:?}", other.map(|_| ())),
            }
        }
    }
}
