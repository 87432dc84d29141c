//! Everything a function needs, built once per cold start: configuration, the tenant cache,
//! the ports, the token verifier. Domain code is generic over the ports, so tests run the
//! same routes on in-memory implementations.

use std::sync::Arc;

use lambda_http::Request;

use crate::{
    adapters::{
        cognito::CognitoDirectory,
        dynamodb::{DynamoLocks, DynamoTenants},
    },
    config::{Config, ConfigError},
    problem::ApiError,
    request::{RequestMeta, TenantHeaders},
    tenant::{CachedTenants, Tenant, TenantRegistry},
    token::TokenVerifier,
};

pub struct App<D, L, T> {
    pub config: Config,
    pub tenants: CachedTenants<T>,
    pub directory: D,
    pub locks: L,
    pub tokens: TokenVerifier,
}

/// The production wiring.
pub type AwsApp = App<CognitoDirectory, DynamoLocks, DynamoTenants>;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot build the HTTP client for JWKS downloads: {0}")]
    Http(#[from] reqwest::Error),
}

impl AwsApp {
    /// Builds the clients from the environment. Nothing here touches the network.
    pub async fn from_env() -> Result<Self, InitError> {
        Self::from_config(Config::from_env()?).await
    }

    pub async fn from_config(config: Config) -> Result<Self, InitError> {
        let sdk = crate::aws::sdk_config(&config).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        Ok(App {
            tenants: CachedTenants::new(
                DynamoTenants::new(dynamodb.clone(), &config.tenants_table),
                config.tenant_cache_ttl,
            ),
            directory: CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk)),
            locks: DynamoLocks::new(dynamodb, &config.account_state_table),
            tokens: TokenVerifier::new(config.jwks_cache_ttl, config.attempt_timeout)?,
            config,
        })
    }
}

impl<D, L, T: TenantRegistry> App<D, L, T> {
    /// Resolves the request's tenant, and refuses an API key registered for another client.
    pub async fn tenant(&self, req: &Request, meta: &RequestMeta) -> Result<Arc<Tenant>, ApiError> {
        let headers = TenantHeaders::of(req)?;
        let tenant = self.tenants.resolve(&headers).await?;
        tracing::Span::current().record("tenant", tenant.key.as_str());
        if !tenant.admits_api_key(meta.api_key_id.as_deref()) {
            return Err(ApiError::Forbidden(
                "this API key is not registered for this client",
            ));
        }
        Ok(tenant)
    }
}
