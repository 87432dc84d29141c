//! Tenants: the three `vbasoftware-*` headers resolve to one Cognito user pool, app client
//! and policy set (lockout, passwords, identity-provider federation), read from the tenant
//! registry and cached per instance, and the web origins its pages may call the API from.
//! (Over 500 lines with its tests, which are the last 220: the code is about 340.)

use std::{future::Future, sync::Arc, time::Duration};

use crate::{cache::TtlCache, domain::store::StoreError, url::form};

/// Which tenant a call is for: the three values a caller sends in the `vbasoftware-*`
/// headers (client id, client code, database).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantKey {
    pub client_id: String,
    pub client_code: String,
    pub database: String,
}

impl TenantKey {
    /// The key written as `clientId/clientCode/database` (how an identity-provider intent
    /// keeps its tenant).
    pub fn parse(written: &str) -> Option<Self> {
        let mut parts = written.split('/');
        let (client_id, client_code, database) = (parts.next()?, parts.next()?, parts.next()?);
        parts.next().is_none().then(|| Self {
            client_id: client_id.into(),
            client_code: client_code.into(),
            database: database.into(),
        })
    }
}

/// Why a tenant key names no tenant.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// No tenant has this key (or the registry says it is not active).
    #[error("no such tenant")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lockout policy of a tenant (`infra/docs/api.md`, "Locks, names and the lockout policy").
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
    pub federation: Option<Federation>,
    /// The web origins (`https://app.example.com`) whose pages may call the API for this
    /// tenant from a browser (`allowedOrigins`): exact, lower-case origins, never `*`.
    pub allowed_origins: Vec<String>,
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

    /// Whether a page of `origin` (a request's `Origin` header) may call the API for this
    /// tenant: one of its `allowedOrigins`, exactly (an origin is compared as browsers send
    /// it, scheme and host in lower case, the port only when it is not the scheme's).
    pub fn admits_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
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
        headers: &TenantKey,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;

    /// Every origin some tenant allows: what a browser's preflight, which carries no tenant
    /// headers, is answered from (the tenant's own list decides the request itself).
    fn allowed_origins(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}

/// Whether `origin` is written as a browser sends an `Origin` header and a registry may list
/// it: `https://host[:port]`, or `http://` to a loopback host for the local stack; lower case,
/// no path, no user info, no wildcard.
pub fn origin_allowed(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    // a browser leaves out the scheme's own port, so a listed `:443` would never match
    let default_port = if scheme == "https" { "443" } else { "80" };
    let host = match authority.rsplit_once(':') {
        Some((h, port))
            if !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && !port.starts_with('0')
                && port != default_port =>
        {
            h
        }
        Some(_) if !authority.ends_with(']') => return false,
        _ => authority,
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-']);
    let loopback = matches!(host, "127.0.0.1" | "localhost");
    // [::1] is the one bracketed host a registry needs (a loopback page)
    let ipv6_loopback = host == "[::1]";
    match scheme {
        "https" => host_ok || ipv6_loopback,
        "http" => loopback || ipv6_loopback,
        _ => false,
    }
}

/// A per-instance cache in front of a registry: a warm Lambda resolves a tenant without a
/// network call. Absent tenants are cached too, so junk headers cannot hammer the table.
pub struct CachedTenants<R> {
    inner: R,
    entries: TtlCache<TenantKey, Option<Arc<Tenant>>>,
    origins: TtlCache<(), Arc<[String]>>,
}

impl<R: TenantRegistry> CachedTenants<R> {
    /// Entries beyond this are dropped wholesale: a bound on memory under junk headers.
    const MAX_ENTRIES: usize = 1024;

    pub fn new(inner: R, ttl: Duration) -> Self {
        Self {
            inner,
            entries: TtlCache::new(ttl, Self::MAX_ENTRIES),
            origins: TtlCache::new(ttl, 1),
        }
    }

    /// The registry behind the cache (a test adds tenants to an in-memory one).
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Whether some tenant allows `origin` (a preflight's question), from the registry's
    /// list, read once per cache lifetime whatever origins are asked about.
    pub async fn origin_listed(&self, origin: &str) -> Result<bool, TenantError> {
        let origins = match self.origins.get(&()) {
            Some(hit) => hit,
            None => {
                let read: Arc<[String]> = self.inner.allowed_origins().await?.into();
                self.origins.insert((), read.clone());
                read
            }
        };
        Ok(origins.iter().any(|o| o == origin))
    }

    pub async fn resolve(&self, key: &TenantKey) -> Result<Arc<Tenant>, TenantError> {
        if let Some(hit) = self.entries.get(key) {
            return hit.ok_or(TenantError::Unknown);
        }
        let found = self.inner.find(key).await?.map(Arc::new);
        self.entries.insert(key.clone(), found.clone());
        found.ok_or(TenantError::Unknown)
    }
}

/// The scopes an intent asks the pool for: the ID token with the person's email and name.
/// Never `aws.cognito.signin.user.admin`: no token the API hands out may call Cognito's
/// self-service operations (the pool's pre token generation trigger takes it out of any that
/// has it), and the API's bearer check does not need it. The app client must allow all three.
pub const SCOPES: &str = "openid email profile";

/// A tenant's federation settings (registry fields `authDomain`, `idpCallbackUrl`,
/// `identityProviders`, `idpRedirectUrls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// The pool domain's base URL (`https://<prefix>.auth.<region>.amazoncognito.com`, a
    /// custom domain, or the local emulator's).
    pub domain: String,
    /// This API's `GET /idp-intents/callback` as the app client lists it among its callback
    /// URLs.
    pub callback_url: String,
    /// The provider names (as the pool knows them) an intent may name.
    pub providers: Vec<String>,
    /// Where the tenant's app may be sent back to: exact URLs.
    pub redirect_urls: Vec<String>,
}

impl Federation {
    pub fn offers(&self, idp_name: &str) -> bool {
        self.providers.iter().any(|p| p == idp_name)
    }

    /// Whether `url` is one of the registered redirect URLs, exactly: no prefix, no pattern,
    /// so no open redirect through a look-alike path or query.
    pub fn admits_redirect(&self, url: &str) -> bool {
        self.redirect_urls.iter().any(|u| u == url)
    }

    /// The pool domain's authorize URL for one intent.
    pub fn authorize_url(
        &self,
        app_client_id: &str,
        idp_name: &str,
        state: &str,
        challenge: &str,
    ) -> String {
        let query = form(&[
            ("response_type", "code"),
            ("client_id", app_client_id),
            ("redirect_uri", &self.callback_url),
            ("identity_provider", idp_name),
            ("scope", SCOPES),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]);
        format!(
            "{}/oauth2/authorize?{query}",
            self.domain.trim_end_matches('/')
        )
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.domain.trim_end_matches('/'))
    }

    /// `url` with `pairs` added to its query.
    pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
        let (base, fragment) = url
            .split_once('#')
            .map_or((url, None), |(b, f)| (b, Some(f)));
        let joiner = if base.contains('?') { '&' } else { '?' };
        let mut out = format!("{base}{joiner}{}", form(pairs));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
        out
    }
}

/// Whether `tenant` may send a browser to `url` at all (registry check): https, or http to a
/// loopback host for the local stack; visible ASCII only (a `Location` header's), no user
/// info before the host.
pub fn url_allowed(url: &str) -> bool {
    let authority = url.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or_default()
    });
    Tenant::jwks_url_allowed(url)
        && url.bytes().all(|b| b.is_ascii_graphic())
        && !authority.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize, Option<Tenant>);
    impl TenantRegistry for Counting {
        async fn find(&self, _: &TenantKey) -> Result<Option<Tenant>, StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(self.1.clone())
        }
        async fn allowed_origins(&self) -> Result<Vec<String>, StoreError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(self
                .1
                .iter()
                .flat_map(|t| t.allowed_origins.clone())
                .collect())
        }
    }

    fn headers() -> TenantKey {
        TenantKey {
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
            assert!(matches!(
                cache.resolve(&headers()).await,
                Err(TenantError::Unknown)
            ));
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

    #[tokio::test]
    async fn a_preflight_reads_the_registrys_origins_once_per_cache_lifetime() {
        let cache = CachedTenants::new(
            Counting(
                AtomicUsize::new(0),
                Some(Tenant {
                    allowed_origins: vec!["https://app.example.com".into()],
                    ..crate::testing::tenant()
                }),
            ),
            Duration::from_secs(60),
        );
        assert!(
            cache
                .origin_listed("https://app.example.com")
                .await
                .unwrap()
        );
        assert!(
            !cache
                .origin_listed("https://evil.example.com")
                .await
                .unwrap()
        );
        assert!(
            !cache
                .origin_listed("https://app.example.com/")
                .await
                .unwrap()
        );
        assert_eq!(cache.inner.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_origin_is_listed_as_a_browser_sends_it() {
        for ok in [
            "https://app.example.com",
            "https://app.example.com:8443",
            "https://10.0.0.1",
            "http://localhost:5173",
            "http://127.0.0.1:9001",
            "http://[::1]:3000",
        ] {
            assert!(origin_allowed(ok), "{ok}");
        }
        for bad in [
            "*",
            "null",
            "https://*.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.example.com",
            "https://app.example.com:443",
            "https://app.example.com:",
            "https://user@app.example.com",
            "http://app.example.com",
            "http://localhost.evil.com",
            "ftp://localhost",
            "app.example.com",
            "https://",
        ] {
            assert!(!origin_allowed(bad), "{bad}");
        }
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

    #[test]
    fn redirects_are_exact_urls_of_the_allow_list() {
        let f = Federation {
            domain: "https://d.auth.us-east-1.amazoncognito.com/".into(),
            callback_url: "https://api.example.com/v1/idp-intents/callback".into(),
            providers: vec!["Okta".into()],
            redirect_urls: vec!["https://app.example.com/done".into()],
        };
        assert!(f.admits_redirect("https://app.example.com/done"));
        for bad in [
            "https://app.example.com/done/",
            "https://app.example.com/done?next=https://evil",
            "https://app.example.com.evil/done",
            "https://app.example.com/DONE",
        ] {
            assert!(!f.admits_redirect(bad), "{bad}");
        }
        assert!(f.offers("Okta") && !f.offers("okta"));
        let url = f.authorize_url("client", "Okta", "st ate", "ch");
        assert!(url.starts_with("https://d.auth.us-east-1.amazoncognito.com/oauth2/authorize?"));
        assert!(
            url.contains(
                "redirect_uri=https%3A%2F%2Fapi.example.com%2Fv1%2Fidp-intents%2Fcallback"
            )
        );
        assert!(
            url.contains("identity_provider=Okta&scope=openid%20email%20profile&state=st%20ate")
        );
        assert!(url.ends_with("code_challenge=ch&code_challenge_method=S256"));
        assert_eq!(
            Federation::with_query("https://a/x?y=1#f", &[("intentID", "i d")]),
            "https://a/x?y=1&intentID=i%20d#f"
        );
    }

    #[test]
    fn a_browser_is_sent_only_to_visible_ascii_https_urls_without_user_info() {
        assert!(url_allowed("https://app.example.com/done?x=1"));
        assert!(url_allowed("http://localhost:8080/idp/done"));
        for bad in [
            "http://app.example.com/done",
            "https://app.example.com/dône",
            "https://app.example.com/a b",
            "https://trusted@evil.example.com/",
            "javascript:alert(1)",
        ] {
            assert!(!url_allowed(bad), "{bad}");
        }
    }
}
