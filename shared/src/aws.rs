//! The shared SDK configuration: one per cold start, explicit behaviour version and timeouts.
//!
//! Built directly from the environment Lambda gives a function, not by aws-config's loader:
//! the loader's fallbacks (profile files, SSO, web identity through STS, the ECS and
//! instance-metadata providers and region chain) are never reached in Lambda, whose
//! environment always holds the region and the role's credentials, yet linking them made
//! every function's binary ~0.7 MB larger, with ~2,700 more pointers for the loader to
//! relocate at each cold start: ~0.3 ms of init, measured (infra/docs/performance.md). The
//! variables the AWS SDKs read for the settings a function uses are read here the same way.

use std::{collections::HashMap, fmt};

use aws_config::{
    BehaviorVersion, Region, SdkConfig, environment::EnvironmentVariableCredentialsProvider,
    timeout::TimeoutConfig,
};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::{RetryConfig, RetryMode, RetrySpec};
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use crate::config::{Config, ConfigError};

/// Why a cold start stopped before its first event: its configuration, or its HTTPS transport.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Transport(#[from] crate::https::TransportError),
}

/// The SDK configuration from the process environment, with our timeouts, so that a hung
/// dependency turns into a 503 before the Lambda itself times out. Every client speaks HTTPS
/// through [`crate::https`], which reads no certificate store. Nothing here touches the
/// network.
pub fn sdk_config(config: &Config) -> Result<SdkConfig, InitError> {
    let http = crate::https::client()?;
    Ok(sdk_config_from(
        config,
        |name| std::env::var(name).ok(),
        http,
    )?)
}

/// The SDK configuration from `env`, as the AWS SDKs read these variables:
///
/// - `AWS_REGION` (else `AWS_DEFAULT_REGION`): required;
/// - credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (both required) and
///   `AWS_SESSION_TOKEN`, as Lambda hands over the execution role's, and from nowhere else
///   (cached by the clients' identity cache as any credentials are);
/// - `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` (`_DYNAMODB`,
///   `_COGNITO_IDENTITY_PROVIDER`, `_SESV2`; the service's own first), unless
///   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`;
/// - `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE` (`standard`, the default, or `adaptive`, in any
///   case) and `AWS_NEW_RETRIES_2026` (`true`: the SDK's retry behaviour 2.1; or `false`);
/// - `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` (`true` or `false`).
///
/// A required value that is missing, or a value that is set but not valid (an endpoint that
/// is no URL included), stops the cold start, as a configuration error does: a function
/// that could not sign or reach its services should not take events.
pub fn sdk_config_from(
    config: &Config,
    env: impl Fn(&str) -> Option<String>,
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

    let region = set("AWS_REGION")
        .or_else(|| set("AWS_DEFAULT_REGION"))
        .ok_or(ConfigError::Missing("AWS_REGION"))?;
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        set(name).ok_or(ConfigError::Missing(name))?;
    }
    let endpoint = |name: &'static str| -> Result<Option<String>, ConfigError> {
        let Some(v) = set(name) else {
            return Ok(None);
        };
        let v = v.trim().to_string();
        match url::Url::parse(&v) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(Some(v)),
            _ => Err(ConfigError::Invalid {
                name,
                why: "expected an http or https URL".into(),
            }),
        }
    };

    let mut retry = RetryConfig::standard();
    if let Some(v) = set("AWS_RETRY_MODE") {
        // as aws-config reads it: standard or adaptive, in any case
        let mode = v
            .trim()
            .parse::<RetryMode>()
            .map_err(|_| ConfigError::Invalid {
                name: "AWS_RETRY_MODE",
                why: "expected standard or adaptive".into(),
            })?;
        retry = retry.with_retry_mode(mode);
    }
    if flag("AWS_NEW_RETRIES_2026")? == Some(true) {
        retry = retry.with_retry_spec(RetrySpec::v2_1());
    }
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
        ))
        .region(Region::new(region.trim().to_string()));
    if let Some(fips) = flag("AWS_USE_FIPS_ENDPOINT")? {
        sdk = sdk.use_fips(fips);
    }
    if let Some(dual_stack) = flag("AWS_USE_DUALSTACK_ENDPOINT")? {
        sdk = sdk.use_dual_stack(dual_stack);
    }
    if flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")? != Some(true) {
        if let Some(url) = endpoint("AWS_ENDPOINT_URL")? {
            sdk = sdk.endpoint_url(url);
        }
        let mut services = HashMap::new();
        for (id, variable) in ServiceEndpoints::SERVICES {
            if let Some(url) = endpoint(variable)? {
                services.insert(id, url);
            }
        }
        sdk = sdk.service_config(ServiceEndpoints(services));
    }
    Ok(sdk.build())
}

/// The service-specific endpoints of the environment (`AWS_ENDPOINT_URL_<SERVICE>`), which
/// a client asks for by its service id when it is made; the global `AWS_ENDPOINT_URL` after.
#[derive(Clone)]
struct ServiceEndpoints(HashMap<&'static str, String>);

impl ServiceEndpoints {
    /// The services the functions use: the id their SDKs ask with, and its variable
    /// (`AWS_ENDPOINT_URL_` and the id upper-cased, spaces as underscores, as the SDKs name it).
    const SERVICES: [(&'static str, &'static str); 3] = [
        ("DynamoDB", "AWS_ENDPOINT_URL_DYNAMODB"),
        (
            "Cognito Identity Provider",
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
        ),
        ("SESv2", "AWS_ENDPOINT_URL_SESV2"),
    ];
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
        // what Lambda always sets, unless the test's own pairs say otherwise ("" unsets)
        const LAMBDA: [(&str, &str); 3] = [
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ];
        let env = |name: &str| {
            pairs
                .iter()
                .chain(LAMBDA.iter())
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        };
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
            ("AWS_RETRY_MODE", "Adaptive"),
            ("AWS_NEW_RETRIES_2026", "TRUE"),
        ])
        .unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-2"));
        let retry = sdk.retry_config().unwrap();
        assert_eq!(retry.mode(), RetryMode::Adaptive);
        assert_eq!(retry.max_attempts(), RetryConfig::standard().max_attempts());
        assert_eq!(retry.retry_spec(), Some(&RetrySpec::v2_1()));
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
            (
                &[("AWS_NEW_RETRIES_2026", "yes")][..],
                "AWS_NEW_RETRIES_2026",
            ),
            (
                &[("AWS_ENDPOINT_URL", "localhost:4566")][..],
                "AWS_ENDPOINT_URL",
            ),
            (
                &[("AWS_ENDPOINT_URL_DYNAMODB", "ftp://127.0.0.1")][..],
                "AWS_ENDPOINT_URL_DYNAMODB",
            ),
        ] {
            match from(pairs) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{pairs:?}: {:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn a_function_without_its_region_or_credentials_does_not_start() {
        for (pairs, missing) in [
            (&[("AWS_DEFAULT_REGION", "")][..], "AWS_REGION"),
            (&[("AWS_ACCESS_KEY_ID", "")][..], "AWS_ACCESS_KEY_ID"),
            (
                &[("AWS_SECRET_ACCESS_KEY", " ")][..],
                "AWS_SECRET_ACCESS_KEY",
            ),
        ] {
            match from(pairs) {
                Err(ConfigError::Missing(n)) => assert_eq!(n, missing),
                other => panic!("{pairs:?}: {:?}", other.map(|_| ())),
            }
        }
    }
}
