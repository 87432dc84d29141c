//! The Cognito clients, one per region, and what is read from a pool once and cached.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_sdk_cognitoidentityprovider::Client;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::errors::classify;
use crate::{
    cache::TtlCache,
    domain::directory::{DirectoryError, MfaMode, PasswordPolicy, RelyingParty},
    domain::tenant::Tenant,
    domain::user_id::UserId,
};

/// `SECRET_HASH = Base64(HMAC_SHA256(client secret, username + client id))`.
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps the code panic-free.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What the functions read from a pool's configuration (`DescribeUserPool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFacts {
    pub policy: PasswordPolicy,
    /// The other names users sign in with (`AliasAttributes`, `UsernameAttributes`).
    pub sign_in_names: SignInNames,
    /// Whether the pool asks for second factors (`MfaConfiguration`).
    pub mfa: MfaMode,
    /// Whether the pool signs in with passkeys (`WEB_AUTHN` among its sign-in policy's first
    /// factors).
    pub passkeys: bool,
}

/// Which other names than the username a pool takes for a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInNames {
    pub email: bool,
    pub phone_number: bool,
    /// Any name at all may be someone's `preferred_username`.
    pub preferred_username: bool,
}

impl SignInNames {
    /// Whether `name` may be one of these other names: an email only holds an `@`, a phone
    /// number starts with `+`. Decided by the pool and the name's shape alone, never by
    /// whether a user has it.
    pub fn may_be(&self, name: &str) -> bool {
        self.preferred_username
            || (self.email && name.contains('@'))
            || (self.phone_number && name.starts_with('+'))
    }
}

pub struct CognitoDirectory {
    client: Client,
    /// Clients for pools in other regions than the function's, made on first use.
    regional: Mutex<HashMap<String, Client>>,
    /// App client secrets (`None`: the client has none), by app client id.
    secrets: TtlCache<String, Option<Arc<str>>>,
    /// What a pool's configuration says (password policy, sign-in names), by pool id.
    pub(super) pools: TtlCache<String, PoolFacts>,
    /// For the pool domain's token endpoint (not an SDK operation), built on first use.
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    http_timeout: Duration,
    /// Each pool's passkey relying party (`GetUserPoolMfaConfig`), by pool id.
    pub(super) relying_parties: TtlCache<String, Option<RelyingParty>>,
}

impl CognitoDirectory {
    /// How long a client secret or a password policy is trusted before it is read again.
    const TTL: Duration = Duration::from_secs(15 * 60);
    /// Pools and app clients an instance serves: a handful of tenants, never caller-chosen.
    const MAX_ENTRIES: usize = 256;

    pub fn new(client: Client) -> Self {
        Self {
            client,
            regional: Mutex::new(HashMap::new()),
            secrets: TtlCache::new(Self::TTL, Self::MAX_ENTRIES),
            pools: TtlCache::new(Self::TTL, Self::MAX_ENTRIES),
            relying_parties: TtlCache::new(Self::TTL, Self::MAX_ENTRIES),
            http: std::sync::OnceLock::new(),
            http_timeout: Duration::from_secs(5),
        }
    }

    /// How long a call to the pool domain's token endpoint may take.
    pub fn with_http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    pub(super) fn http(&self) -> Result<&reqwest::Client, DirectoryError> {
        self.http
            .get_or_init(|| crate::https::web_client(self.http_timeout))
            .as_ref()
            .map_err(|e| DirectoryError::Internal(format!("cannot build the HTTPS client: {e}")))
    }

    /// The client for the tenant's pool: a pool id names its region (`eu-west-1_AbC`), and a
    /// tenant's pool may live in another region than the function.
    pub fn client_for(&self, tenant: &Tenant) -> Client {
        let Some(region) = Tenant::pool_region(&tenant.user_pool_id) else {
            return self.client.clone();
        };
        if self.client.config().region().map(|r| r.as_ref()) == Some(region) {
            return self.client.clone();
        }
        let Ok(mut regional) = self.regional.lock() else {
            return self.client.clone();
        };
        regional
            .entry(region.to_string())
            .or_insert_with(|| {
                Client::from_conf(
                    self.client
                        .config()
                        .to_builder()
                        .region(aws_sdk_cognitoidentityprovider::config::Region::new(
                            region.to_string(),
                        ))
                        .build(),
                )
            })
            .clone()
    }

    /// The app client's secret (`DescribeUserPoolClient`, cached). A client without one is a
    /// broken tenant, refused before any sign-in: anyone with its id (every access token names
    /// it) could sign in and refresh at Cognito around the API, without its lockout budget or
    /// security-key step. `tenants add` refuses such a client; this holds for a record written
    /// without that check.
    pub(super) async fn client_secret(&self, tenant: &Tenant) -> Result<Arc<str>, DirectoryError> {
        if let Some(secret) = self.secrets.get(tenant.app_client_id.as_str()) {
            return secret.ok_or_else(no_secret);
        }
        let out = self
            .client_for(tenant)
            .describe_user_pool_client()
            .user_pool_id(&tenant.user_pool_id)
            .client_id(&tenant.app_client_id)
            .send()
            .await
            .map_err(classify)
            .map_err(|e| match e {
                // a missing pool or client is a broken tenant record, not the caller's fault
                DirectoryError::ResourceNotFound => DirectoryError::Internal(
                    "the tenant's pool or app client does not exist".into(),
                ),
                other => other,
            })?;
        let secret = out
            .user_pool_client()
            .and_then(|c| c.client_secret())
            .map(Arc::from);
        self.secrets
            .insert(tenant.app_client_id.clone(), secret.clone());
        secret.ok_or_else(no_secret)
    }

    /// The pool's configuration (`DescribeUserPool`, cached).
    pub(super) async fn pool_facts(&self, tenant: &Tenant) -> Result<PoolFacts, DirectoryError> {
        if let Some(facts) = self.pools.get(tenant.user_pool_id.as_str()) {
            return Ok(facts);
        }
        let out = self
            .client_for(tenant)
            .describe_user_pool()
            .user_pool_id(&tenant.user_pool_id)
            .send()
            .await
            .map_err(classify)?;
        let pool = out.user_pool();
        let policy = pool
            .and_then(|p| p.policies())
            .and_then(|p| p.password_policy())
            .map(|p| PasswordPolicy {
                minimum_length: p
                    .minimum_length()
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(8),
                require_uppercase: p.require_uppercase(),
                require_lowercase: p.require_lowercase(),
                require_numbers: p.require_numbers(),
                require_symbols: p.require_symbols(),
            })
            .unwrap_or_default();
        let mut sign_in_names = SignInNames::default();
        if let Some(p) = pool {
            for alias in p.alias_attributes() {
                match alias.as_str() {
                    "email" => sign_in_names.email = true,
                    "phone_number" => sign_in_names.phone_number = true,
                    // preferred_username, and any attribute a later Cognito adds: look up
                    _ => sign_in_names.preferred_username = true,
                }
            }
            for name in p.username_attributes() {
                match name.as_str() {
                    "email" => sign_in_names.email = true,
                    "phone_number" => sign_in_names.phone_number = true,
                    _ => sign_in_names.preferred_username = true,
                }
            }
        }
        let mfa = pool
            .and_then(|p| p.mfa_configuration())
            .map(|m| MfaMode::of_cognito(m.as_str()))
            .unwrap_or_default();
        let passkeys = pool
            .and_then(|p| p.policies())
            .and_then(|p| p.sign_in_policy())
            .is_some_and(|p| {
                p.allowed_first_auth_factors()
                    .contains(&aws_sdk_cognitoidentityprovider::types::AuthFactorType::WebAuthn)
            });
        let facts = PoolFacts {
            policy,
            sign_in_names,
            mfa,
            passkeys,
        };
        self.pools
            .insert(tenant.user_pool_id.clone(), facts.clone());
        Ok(facts)
    }

    pub(super) async fn hash_for(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<String, DirectoryError> {
        let secret = self.client_secret(tenant).await?;
        Ok(secret_hash(&secret, user.as_str(), &tenant.app_client_id))
    }
}

fn no_secret() -> DirectoryError {
    DirectoryError::Internal("the tenant's app client has no client secret".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_in_another_region_gets_a_client_of_its_region_made_once() {
        let config = aws_sdk_cognitoidentityprovider::Config::builder()
            .behavior_version(aws_sdk_cognitoidentityprovider::config::BehaviorVersion::latest())
            .region(aws_sdk_cognitoidentityprovider::config::Region::new(
                "us-east-1",
            ))
            .build();
        let directory = CognitoDirectory::new(Client::from_conf(config));
        let region = |pool: &str| {
            let tenant = Tenant {
                user_pool_id: pool.into(),
                ..crate::testing::tenant()
            };
            directory
                .client_for(&tenant)
                .config()
                .region()
                .map(|r| r.as_ref().to_string())
        };
        assert_eq!(region("us-east-1_abc").as_deref(), Some("us-east-1"));
        assert_eq!(region("eu-west-1_abc").as_deref(), Some("eu-west-1"));
        assert_eq!(region("eu-west-1_def").as_deref(), Some("eu-west-1"));
        assert_eq!(directory.regional.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_name_is_looked_up_only_where_its_shape_allows_another_name() {
        let email = SignInNames {
            email: true,
            ..Default::default()
        };
        assert!(email.may_be("jane@example.com"));
        assert!(!email.may_be("jane"));
        assert!(!email.may_be("+15551234567"));
        let phone = SignInNames {
            phone_number: true,
            ..Default::default()
        };
        assert!(phone.may_be("+15551234567"));
        assert!(!phone.may_be("jane@example.com"));
        let preferred = SignInNames {
            preferred_username: true,
            ..Default::default()
        };
        assert!(preferred.may_be("jane"));
        assert!(!SignInNames::default().may_be("jane@example.com"));
    }

    #[test]
    fn the_secret_hash_matches_an_independent_computation() {
        // printf 'demo-userclient123' | openssl dgst -sha256 -hmac 's3cr3t-value' -binary | base64
        assert_eq!(
            secret_hash("s3cr3t-value", "demo-user", "client123"),
            "N98CFg5JdWPI/OdAusC0sUfGuzXOdM4Nl4n7HalRTFU="
        );
    }
}
