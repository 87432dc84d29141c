//! Tenants: the three `vbasoftware-*` headers resolve to one Cognito user pool, app client
//! and policy set, read from the tenant registry and cached per instance.

use std::{future::Future, sync::Arc, time::Duration};

use crate::{
    cache::TtlCache, domain::store::StoreError, http::problem::ApiError,
    http::request::TenantHeaders,
};

/// The lockout policy of a tenant (`api.md`, "Lock semantics").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failed password checks before the account locks; 0 turns the policy off.
    pub max_password_attempts: u32,
    /// Consecutive wrong second-factor codes (sign-in challenges) before the account locks;
    /// 0 turns this budget off.
    pub max_otp_attempts: u32,
    /// How long an automatic lock holds; zero means until an admin unlocks.
    pub lockout_duration: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_password_attempts: 5,
            max_otp_attempts: 5,
            lockout_duration: Duration::from_secs(15 * 60),
        }
    }
}

/// One registered tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// `clientId/clientCode/database`, for logs and metrics.
    pub key: String,
    pub user_pool_id: String,
    pub app_client_id: String,
    pub admin_group: String,
    /// API Gateway API key ids allowed to reach this tenant. A request that carries a key id
    /// (behind API Gateway) must name one of these; a record that lists none admits none.
    pub api_key_ids: Vec<String>,
    pub lockout: LockoutPolicy,
    pub hide_account_state: bool,
    /// Where the pool's signing keys are published.
    pub jwks_url: String,
    /// The `iss` claim the pool's tokens carry.
    pub issuer: String,
    /// The name authenticator apps show for this tenant's TOTP entries (`totpIssuer`);
    /// `None`: the tenant's client id.
    pub totp_issuer: Option<String>,
    /// The sender of the mail the API sends itself (`emailFrom`: an address the tenant's SES
    /// identity covers, `Name <address>` allowed); `None`: the API sends none.
    pub email_from: Option<String>,
    /// Where the tenant's app registers a passkey with a code (`passkeyRegistrationUrl`): a
    /// template whose `{userID}` and `{code}` the mailed code fills in; `None`: the mail
    /// carries the code alone.
    pub passkey_registration_url: Option<String>,
    /// Sign-in with the pool's identity providers (`/idp-intents`); `None`: not offered.
    pub federation: Option<crate::domain::federation::Federation>,
}

impl Tenant {
    /// The issuer an authenticator app lists the user's TOTP entry under.
    pub fn authenticator_issuer(&self) -> &str {
        self.totp_issuer
            .as_deref()
            .unwrap_or_else(|| self.key.split('/').next().unwrap_or(&self.key))
    }

    /// The region a pool id names (`us-east-1_AbCd` → `us-east-1`).
    pub fn pool_region(pool_id: &str) -> Option<&str> {
        pool_id
            .split_once('_')
            .map(|(r, _)| r)
            .filter(|r| !r.is_empty())
    }

    pub fn default_issuer(pool_id: &str) -> Option<String> {
        Self::pool_region(pool_id)
            .map(|region| format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"))
    }

    /// Whether a registry record may name `url` as its JWKS: `https`, or plain `http` to a
    /// loopback host (the local emulator, which serves no TLS). Keys fetched over anything
    /// else could be swapped on the way, and with them every token's signature.
    pub fn jwks_url_allowed(url: &str) -> bool {
        if url.starts_with("https://") {
            return true;
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return false;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = match host.rsplit_once(':') {
            Some((h, port)) if !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        matches!(host, "127.0.0.1" | "localhost" | "[::1]")
    }

    /// Whether the API key API Gateway authenticated may reach this tenant. Fails closed: a
    /// key the record does not list is refused, also when it lists none. Without a key id (the
    /// local stack, a direct invocation) there is no key to check.
    pub fn admits_api_key(&self, api_key_id: Option<&str>) -> bool {
        match api_key_id {
            Some(id) => self.api_key_ids.iter().any(|k| k == id),
            None => true,
        }
    }
}

/// The tenant registry port.
pub trait TenantRegistry: Send + Sync {
    /// The tenant registered for these headers, `None` if there is none.
    fn find(
        &self,
        headers: &TenantHeaders,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;
}

/// A per-instance cache in front of a registry: a warm Lambda resolves a tenant without a
/// network call. Absent tenants are cached too, so junk headers cannot hammer the table.
pub struct CachedTenants<R> {
    inner: R,
    entries: TtlCache<TenantHeaders, Option<Arc<Tenant>>>,
}

impl<R: TenantRegistry> CachedTenants<R> {
    /// Entries beyond this are dropped wholesale: a bound on memory under junk headers.
    const MAX_ENTRIES: usize = 1024;

    pub fn new(inner: R, ttl: Duration) -> Self {
        Self {
            inner,
            entries: TtlCache::new(ttl, Self::MAX_ENTRIES),
        }
    }

    pub async fn resolve(&self, headers: &TenantHeaders) -> Result<Arc<Tenant>, ApiError> {
        if let Some(hit) = self.entries.get(headers) {
            return hit.ok_or(ApiError::InvalidTenant);
        }
        let found = self.inner.find(headers).await?.map(Arc::new);
        self.entries.insert(headers.clone(), found.clone());
        found.ok_or(ApiError::InvalidTenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize, Option<Tenant>);
    impl TenantRegistry for Counting {
        async fn find(&self, _: &TenantHeaders) -> Result<Option<Tenant>, StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(self.1.clone())
        }
    }

    fn headers() -> TenantHeaders {
        TenantHeaders {
            client_id: "demo".into(),
            client_code: "DEMO".into(),
            database: "main".into(),
        }
    }

    #[tokio::test]
    async fn a_warm_instance_reads_the_registry_once() {
        let cache = CachedTenants::new(
            Counting(AtomicUsize::new(0), Some(crate::testing::tenant())),
            Duration::from_secs(60),
        );
        for _ in 0..3 {
            cache.resolve(&headers()).await.unwrap();
        }
        assert_eq!(cache.inner.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unknown_tenants_are_cached_as_absent() {
        let cache =
            CachedTenants::new(Counting(AtomicUsize::new(0), None), Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(
                cache.resolve(&headers()).await.unwrap_err().slug(),
                "invalid-tenant"
            );
        }
        assert_eq!(cache.inner.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expired_entries_are_read_again() {
        let cache = CachedTenants::new(
            Counting(AtomicUsize::new(0), Some(crate::testing::tenant())),
            Duration::ZERO,
        );
        cache.resolve(&headers()).await.unwrap();
        cache.resolve(&headers()).await.unwrap();
        assert_eq!(cache.inner.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn pool_ids_name_their_region_and_issuer() {
        assert_eq!(Tenant::pool_region("eu-west-1_abc"), Some("eu-west-1"));
        assert_eq!(
            Tenant::default_issuer("us-east-1_X").as_deref(),
            Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X")
        );
        assert_eq!(Tenant::pool_region("nounderscore"), None);
    }

    #[test]
    fn a_jwks_url_is_https_or_loopback() {
        for ok in [
            "https://cognito-idp.us-east-1.amazonaws.com/p/.well-known/jwks.json",
            "http://127.0.0.1:5000/p/.well-known/jwks.json",
            "http://localhost/p",
            "http://[::1]:5000/p",
        ] {
            assert!(Tenant::jwks_url_allowed(ok), "{ok}");
        }
        for bad in [
            "http://keys.example.com/jwks.json",
            "http://127.0.0.1.example.com/jwks.json",
            "http://localhost.evil:80/x",
            "ftp://127.0.0.1/x",
            "127.0.0.1/x",
            "",
        ] {
            assert!(!Tenant::jwks_url_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn api_keys_fail_closed() {
        let mut t = crate::testing::tenant();
        assert!(
            !t.admits_api_key(Some("any")),
            "a record without key ids admits no key"
        );
        t.api_key_ids = vec!["k1".into()];
        assert!(t.admits_api_key(Some("k1")));
        assert!(!t.admits_api_key(Some("k2")));
        assert!(t.admits_api_key(None));
    }
}
