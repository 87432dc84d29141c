//! Tenants table, key `tenantKey` = `clientId#clientCode#database`:
//! `userPoolId`, `appClientId` (required); `adminGroup`, `apiKeyIds` (string set),
//! `maxPasswordAttempts`, `lockoutDurationSeconds`, `hideAccountState`, `jwksUrl`, `issuer`
//! (optional, with the contract's defaults), `allowedOrigins` (string set of web origins).
//! One more item, [`ALLOWED_ORIGINS_ITEM`], holds every tenant's origins together (`origins`,
//! a string set) for preflights, which name no tenant; the tenants command writes it again
//! with every change of a record.

use std::time::Duration;

use aws_sdk_dynamodb::{Client, types::AttributeValue};

use super::{Item, classify, number, string};
use crate::{
    domain::store::StoreError,
    domain::tenant::TenantKey,
    domain::tenant::{Federation, origin_allowed, url_allowed},
    domain::tenant::{LockoutPolicy, Tenant, TenantRegistry},
};

/// The key of the item listing every origin some tenant allows. It starts with `#`, which no
/// tenant's key can ([`tenant_key`]).
pub const ALLOWED_ORIGINS_ITEM: &str = "#allowed-origins";

/// The registry key for a set of tenant headers, or `None` when a header holds characters no
/// registered tenant can have (which also keeps `#` from forging another tenant's key).
pub fn tenant_key(h: &TenantKey) -> Option<String> {
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
pub fn tenant_from_item(key: &str, item: &Item) -> Result<Tenant, StoreError> {
    let broken =
        |field: &str| StoreError::internal(format!("tenant record {key} has no valid {field}"));
    let user_pool_id = string(item, "userPoolId").ok_or_else(|| broken("userPoolId"))?;
    let app_client_id = string(item, "appClientId").ok_or_else(|| broken("appClientId"))?;
    let issuer = match string(item, "issuer") {
        Some(i) => i,
        None => Tenant::default_issuer(&user_pool_id).ok_or_else(|| broken("userPoolId region"))?,
    };
    let jwks_url =
        string(item, "jwksUrl").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
    if !Tenant::jwks_url_allowed(&jwks_url) {
        return Err(broken(
            "jwksUrl (https, or http to loopback for the local stack)",
        ));
    }
    let federation = federation_of(item).map_err(broken)?;
    let defaults = LockoutPolicy::default();
    let set = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    };
    let api_key_ids = set("apiKeyIds");
    let allowed_origins = set("allowedOrigins");
    if !allowed_origins.iter().all(|o| origin_allowed(o)) {
        return Err(broken(
            "allowedOrigins (https://host[:port], or http to loopback for the local stack)",
        ));
    }
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
            max_otp_attempts: number(item, "maxOtpAttempts")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(defaults.max_otp_attempts),
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
        totp_issuer: string(item, "totpIssuer").filter(|s| !s.trim().is_empty()),
        email_from: string(item, "emailFrom").filter(|s| !s.trim().is_empty()),
        passkey_registration_url: string(item, "passkeyRegistrationUrl")
            .filter(|s| !s.trim().is_empty()),
        federation,
        allowed_origins,
    })
}

/// The record's federation settings: `authDomain` and `idpCallbackUrl` (both, or neither),
/// `identityProviders` and `idpRedirectUrls` (string sets). A record that names a domain with
/// a URL a browser should not be sent to is broken, not quietly without federation.
fn federation_of(item: &Item) -> Result<Option<Federation>, &'static str> {
    let set = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    };
    let (domain, callback_url) = match (string(item, "authDomain"), string(item, "idpCallbackUrl"))
    {
        (None, None) => return Ok(None),
        (Some(d), Some(c)) => (d, c),
        _ => return Err("authDomain and idpCallbackUrl (both or neither)"),
    };
    let redirect_urls = set("idpRedirectUrls");
    let urls_ok = [&domain, &callback_url]
        .into_iter()
        .chain(&redirect_urls)
        .all(|u| url_allowed(u));
    if !urls_ok {
        return Err("federation URLs (https, or http to loopback for the local stack)");
    }
    Ok(Some(Federation {
        domain: domain.trim_end_matches('/').to_string(),
        callback_url,
        providers: set("identityProviders"),
        redirect_urls,
    }))
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
    async fn find(&self, headers: &TenantKey) -> Result<Option<Tenant>, StoreError> {
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

    async fn allowed_origins(&self) -> Result<Vec<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                "tenantKey",
                AttributeValue::S(ALLOWED_ORIGINS_ITEM.to_string()),
            )
            .send()
            .await
            .map_err(classify)?;
        Ok(out
            .item()
            .and_then(|item| item.get("origins"))
            .and_then(|v| v.as_ss().ok())
            .map(|origins| {
                origins
                    .iter()
                    .filter(|o| origin_allowed(o))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}
