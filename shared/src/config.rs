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
    /// What a request keeps of Lambda's time for its answer: it ends itself (503) this long
    /// before the invocation's deadline (`crate::deadline`).
    pub deadline_margin: Duration,
    /// The least time a `forgot-password` answer takes, so that its latency does not tell a
    /// known user from an unknown one. Set it above Cognito's usual `ForgotPassword` latency.
    pub forgot_password_floor: Duration,
    /// How long downloaded JWKS keys are trusted.
    pub jwks_cache_ttl: Duration,
    /// What a refusal made without a check (a locked account, where the tenant hides account
    /// states) takes on an instance that has not yet seen refused checks to draw a time from:
    /// set it near Cognito's usual time for a refused sign-in (`shared::latency`).
    pub refusal_floor: Duration,
    /// Verification codes (email, SMS) one user may have sent in an hour, and all users of a
    /// tenant's pool together: what an SMS-pumping attack may cost at most.
    pub code_sends_per_user: u32,
    pub code_sends_per_tenant: u32,
}

impl Config {
    pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

    /// Every variable a function reads, with its default (`None`: required). The table of
    /// `infra/docs/configuration.md` is checked against this list (`tests/tests/documented.rs`).
    pub const SETTINGS: &[(&str, Option<u64>)] = &[
        ("TENANTS_TABLE", None),
        ("ACCOUNT_STATE_TABLE", None),
        ("AUDIT_TABLE", None),
        ("AUDIT_RETENTION_DAYS", Some(400)),
        ("BODY_LIMIT_BYTES", Some(Self::DEFAULT_BODY_LIMIT as u64)),
        ("TENANT_CACHE_TTL_SECONDS", Some(60)),
        ("CONNECT_TIMEOUT_MS", Some(1000)),
        ("ATTEMPT_TIMEOUT_MS", Some(2000)),
        ("OPERATION_TIMEOUT_MS", Some(4500)),
        ("DEADLINE_MARGIN_MS", Some(1000)),
        ("JWKS_CACHE_TTL_SECONDS", Some(3600)),
        ("FORGOT_PASSWORD_FLOOR_MS", Some(400)),
        ("REFUSAL_FLOOR_MS", Some(150)),
        ("CODE_SENDS_PER_USER_HOUR", Some(5)),
        ("CODE_SENDS_PER_TENANT_HOUR", Some(1000)),
    ];

    fn default_of(name: &str) -> u64 {
        Self::SETTINGS
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, default)| *default)
            .unwrap_or(0)
    }

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
        let number = |name: &'static str| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(Self::default_of(name)),
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
                    name,
                    why: "expected a whole number".into(),
                }),
            }
        };
        let count = |name: &'static str| -> Result<u32, ConfigError> {
            u32::try_from(number(name)?).map_err(|_| ConfigError::Invalid {
                name,
                why: "too large".into(),
            })
        };
        Ok(Self {
            tenants_table: required("TENANTS_TABLE")?,
            account_state_table: required("ACCOUNT_STATE_TABLE")?,
            audit_table: required("AUDIT_TABLE")?,
            audit_retention: Duration::from_secs(number("AUDIT_RETENTION_DAYS")? * 86_400),
            body_limit_bytes: usize::try_from(number("BODY_LIMIT_BYTES")?).map_err(|_| {
                ConfigError::Invalid {
                    name: "BODY_LIMIT_BYTES",
                    why: "too large".into(),
                }
            })?,
            tenant_cache_ttl: Duration::from_secs(number("TENANT_CACHE_TTL_SECONDS")?),
            connect_timeout: Duration::from_millis(number("CONNECT_TIMEOUT_MS")?),
            attempt_timeout: Duration::from_millis(number("ATTEMPT_TIMEOUT_MS")?),
            operation_timeout: Duration::from_millis(number("OPERATION_TIMEOUT_MS")?),
            deadline_margin: Duration::from_millis(number("DEADLINE_MARGIN_MS")?),
            jwks_cache_ttl: Duration::from_secs(number("JWKS_CACHE_TTL_SECONDS")?),
            forgot_password_floor: Duration::from_millis(number("FORGOT_PASSWORD_FLOOR_MS")?),
            refusal_floor: Duration::from_millis(number("REFUSAL_FLOOR_MS")?),
            code_sends_per_user: count("CODE_SENDS_PER_USER_HOUR")?,
            code_sends_per_tenant: count("CODE_SENDS_PER_TENANT_HOUR")?,
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
