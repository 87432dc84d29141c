//! Typed configuration, read once per cold start from the function's environment.
//!
//! Every value has a default that suits a deployed stage except the table names, which the
//! template always sets. Endpoints are not configured here: the SDK reads the standard
//! `AWS_ENDPOINT_URL*` variables itself, so local runs need no branch in product code.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is not valid: {why}")]
    Invalid { name: &'static str, why: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table of registered tenants.
    pub tenants_table: String,
    /// DynamoDB table of per-user account state (lock, lockout counter).
    pub account_state_table: String,
    /// DynamoDB table of audit entries.
    pub audit_table: String,
    /// How long audit entries are kept (TTL).
    pub audit_retention: Duration,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// How long a tenant record (or its absence) is trusted before it is read again.
    pub tenant_cache_ttl: Duration,
    /// Time allowed to open a connection to Cognito or DynamoDB.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt of one backend call.
    pub attempt_timeout: Duration,
    /// Time allowed for one backend call, retries included: a hung dependency becomes a 503
    /// well inside the Lambda timeout.
    pub operation_timeout: Duration,
    /// The least time a `forgot-password` answer takes, so that its latency does not tell a
    /// known user from an unknown one. Set it above Cognito's usual `ForgotPassword` latency.
    pub forgot_password_floor: Duration,
    /// How long downloaded JWKS keys are trusted.
    pub jwks_cache_ttl: Duration,
}

impl Config {
    pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
                    name,
                    why: "expected a whole number".into(),
                }),
            }
        };
        Ok(Self {
            tenants_table: required("TENANTS_TABLE")?,
            account_state_table: required("ACCOUNT_STATE_TABLE")?,
            audit_table: required("AUDIT_TABLE")?,
            audit_retention: Duration::from_secs(number("AUDIT_RETENTION_DAYS", 400)? * 86_400),
            body_limit_bytes: usize::try_from(number(
                "BODY_LIMIT_BYTES",
                Self::DEFAULT_BODY_LIMIT as u64,
            )?)
            .map_err(|_| ConfigError::Invalid {
                name: "BODY_LIMIT_BYTES",
                why: "too large".into(),
            })?,
            tenant_cache_ttl: Duration::from_secs(number("TENANT_CACHE_TTL_SECONDS", 60)?),
            connect_timeout: Duration::from_millis(number("CONNECT_TIMEOUT_MS", 1000)?),
            attempt_timeout: Duration::from_millis(number("ATTEMPT_TIMEOUT_MS", 2000)?),
            operation_timeout: Duration::from_millis(number("OPERATION_TIMEOUT_MS", 4500)?),
            jwks_cache_ttl: Duration::from_secs(number("JWKS_CACHE_TTL_SECONDS", 3600)?),
            forgot_password_floor: Duration::from_millis(number("FORGOT_PASSWORD_FLOOR_MS", 400)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn defaults_apply_when_only_tables_are_set() {
        let c = Config::from_lookup(env(&[
            ("TENANTS_TABLE", "t"),
            ("ACCOUNT_STATE_TABLE", "s"),
            ("AUDIT_TABLE", "a"),
        ]))
        .unwrap();
        assert_eq!(c.audit_retention, Duration::from_secs(400 * 86_400));
        assert_eq!(c.body_limit_bytes, 16 * 1024);
        assert_eq!(c.tenant_cache_ttl, Duration::from_secs(60));
    }

    #[test]
    fn a_missing_table_name_is_named() {
        let err = Config::from_lookup(env(&[("TENANTS_TABLE", "t")])).unwrap_err();
        assert!(err.to_string().contains("ACCOUNT_STATE_TABLE"));
    }

    #[test]
    fn a_malformed_number_is_rejected() {
        let err = Config::from_lookup(env(&[
            ("TENANTS_TABLE", "t"),
            ("ACCOUNT_STATE_TABLE", "s"),
            ("AUDIT_TABLE", "a"),
            ("BODY_LIMIT_BYTES", "lots"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("BODY_LIMIT_BYTES"));
    }
}
