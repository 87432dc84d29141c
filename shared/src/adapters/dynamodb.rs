//! The tenant registry and the lock store on DynamoDB.
//!
//! Tenants table, key `tenantKey` = `clientId#clientCode#database`:
//! `userPoolId`, `appClientId` (required); `adminGroup`, `apiKeyIds` (string set),
//! `maxPasswordAttempts`, `lockoutDurationSeconds`, `hideAccountState`, `jwksUrl`, `issuer`
//! (optional, with the contract's defaults).
//!
//! Account-state table, key `pk` = `userPoolId#userID`: `lockSource`, `lockReason`,
//! `lockedAt`, `lockedBy`, `lockedUntil` (epoch seconds).

use std::{collections::HashMap, time::Duration, time::SystemTime};

use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    types::AttributeValue,
};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::{
    lock::{Lock, LockSource, LockStore, account_key},
    problem::ApiError,
    request::{TenantHeaders, UserId},
    tenant::{LockoutPolicy, Tenant, TenantRegistry},
};

/// Maps a DynamoDB failure to the problem the caller gets: every one of them fails closed.
pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    err: SdkError<E, HttpResponse>,
) -> ApiError {
    match &err {
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "ThrottlingException"
                | "InternalServerError",
            ) => ApiError::DependencyUnavailable(format!(
                "DynamoDB: {}",
                service.err().code().unwrap_or_default()
            )),
            code if service.raw().status().is_server_error() => {
                ApiError::DependencyUnavailable(format!("DynamoDB answered {code:?}"))
            }
            code => ApiError::Internal(format!("DynamoDB error {code:?}")),
        },
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            ApiError::DependencyUnavailable(format!("DynamoDB: {}", DisplayErrorContext(&err)))
        }
        _ => ApiError::Internal(format!("DynamoDB: {}", DisplayErrorContext(&err))),
    }
}

type Item = HashMap<String, AttributeValue>;

fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .filter(|s| !s.is_empty())
        .cloned()
}

fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// The registry key for a set of tenant headers, or `None` when a header holds characters no
/// registered tenant can have (which also keeps `#` from forging another tenant's key).
pub fn tenant_key(h: &TenantHeaders) -> Option<String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    (ok(&h.client_id) && ok(&h.client_code) && ok(&h.database))
        .then(|| format!("{}#{}#{}", h.client_id, h.client_code, h.database))
}

/// Reads a tenant record; a record without its required fields is an operator error (500).
pub fn tenant_from_item(key: &str, item: &Item) -> Result<Tenant, ApiError> {
    let broken =
        |field: &str| ApiError::Internal(format!("tenant record {key} has no valid {field}"));
    let user_pool_id = string(item, "userPoolId").ok_or_else(|| broken("userPoolId"))?;
    let app_client_id = string(item, "appClientId").ok_or_else(|| broken("appClientId"))?;
    let issuer = match string(item, "issuer") {
        Some(i) => i,
        None => Tenant::default_issuer(&user_pool_id).ok_or_else(|| broken("userPoolId region"))?,
    };
    let jwks_url =
        string(item, "jwksUrl").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
    let defaults = LockoutPolicy::default();
    let api_key_ids = item
        .get("apiKeyIds")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    Ok(Tenant {
        key: key.replace('#', "/"),
        user_pool_id,
        app_client_id,
        admin_group: string(item, "adminGroup").unwrap_or_else(|| "admins".into()),
        api_key_ids,
        lockout: LockoutPolicy {
            max_password_attempts: number(item, "maxPasswordAttempts")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(defaults.max_password_attempts),
            lockout_duration: number(item, "lockoutDurationSeconds")
                .map(Duration::from_secs)
                .unwrap_or(defaults.lockout_duration),
        },
        hide_account_state: item
            .get("hideAccountState")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        jwks_url,
        issuer,
    })
}

pub struct DynamoTenants {
    client: Client,
    table: String,
}

impl DynamoTenants {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl TenantRegistry for DynamoTenants {
    async fn find(&self, headers: &TenantHeaders) -> Result<Option<Tenant>, ApiError> {
        let Some(key) = tenant_key(headers) else {
            return Ok(None);
        };
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("tenantKey", AttributeValue::S(key.clone()))
            .send()
            .await
            .map_err(classify)?;
        out.item()
            .map(|item| tenant_from_item(&key, item))
            .transpose()
    }
}

/// Reads a lock from an account-state item; `None` when the item holds no lock.
pub fn lock_from_item(item: &Item) -> Option<Lock> {
    Some(Lock {
        source: LockSource::parse(&string(item, "lockSource")?)?,
        reason: string(item, "lockReason"),
        locked_at: string(item, "lockedAt").unwrap_or_default(),
        locked_by: string(item, "lockedBy").unwrap_or_default(),
        locked_until: number(item, "lockedUntil"),
    })
}

pub struct DynamoLocks {
    client: Client,
    table: String,
}

impl DynamoLocks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl LockStore for DynamoLocks {
    async fn active_lock(&self, tenant: &Tenant, user: &UserId) -> Result<Option<Lock>, ApiError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                "pk",
                AttributeValue::S(account_key(&tenant.user_pool_id, user)),
            )
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out
            .item()
            .and_then(lock_from_item)
            .filter(|lock| lock.holds_at(SystemTime::now())))
    }
}
