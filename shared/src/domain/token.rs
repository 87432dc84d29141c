//! Bearer access-token verification: RS256 against the tenant pool's JWKS, with the issuer,
//! `token_use`, `client_id` and expiry checked. The JWKS URL and the issuer are separate
//! settings of the tenant (the emulator publishes keys at one address and names another).
//! Keys are cached per JWKS URL; an unknown `kid` triggers at most one refetch per interval,
//! so forged tokens cannot turn into a flood of downloads.

use std::{sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;

use crate::{cache::TtlCache, domain::tenant::Tenant, http::problem::ApiError};

/// The verified caller behind a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    /// The Cognito username (this API's `userID`), folded to lower case.
    pub username: String,
    pub groups: Vec<String>,
}

#[derive(Deserialize)]
struct AccessClaims {
    sub: String,
    username: String,
    client_id: String,
    token_use: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

pub struct TokenVerifier {
    /// Built on the first download, not at init, and from compiled-in roots (webpki-roots):
    /// the platform verifier reads and parses the system's certificate store, which cost the
    /// first bearer request ~2–5 ms (release build; 57 µs with compiled-in roots).
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
    /// Key sets by JWKS URL, with when they were downloaded.
    keys: TtlCache<String, Arc<JwkSet>>,
}

impl TokenVerifier {
    /// The least time between two downloads of the same JWKS.
    const MIN_REFETCH: Duration = Duration::from_secs(30);
    /// Clock skew allowed on `exp`.
    const LEEWAY_SECONDS: u64 = 5;
    /// JWKS URLs an instance serves: one per tenant pool, never caller-chosen.
    const MAX_KEY_SETS: usize = 256;

    pub fn new(ttl: Duration, timeout: Duration) -> Self {
        Self {
            http: std::sync::OnceLock::new(),
            timeout,
            keys: TtlCache::new(ttl, Self::MAX_KEY_SETS),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, ApiError> {
        self.http
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
                reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout)
                    .tls_backend_preconfigured(tls)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ApiError::Internal(format!("cannot build the JWKS client: {e}")))
    }

    /// Seeds the key cache, for tests that sign their own tokens.
    pub fn with_keys(self, jwks_url: &str, keys: JwkSet) -> Self {
        self.keys.insert(jwks_url.to_string(), Arc::new(keys));
        self
    }

    /// Verifies an access token of `tenant`'s pool and app client.
    pub async fn verify_access(&self, tenant: &Tenant, token: &str) -> Result<Caller, ApiError> {
        const INVALID: ApiError = ApiError::Unauthenticated("the token is not valid");
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        if header.alg != Algorithm::RS256 {
            return Err(INVALID);
        }
        let kid = header.kid.ok_or(INVALID)?;
        let jwk = match self.cached_key(&tenant.jwks_url, &kid, false) {
            Some(jwk) => jwk,
            None => {
                self.fetch(&tenant.jwks_url).await?;
                self.cached_key(&tenant.jwks_url, &kid, true)
                    .ok_or(INVALID)?
            }
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| INVALID)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&tenant.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_aud = false;
        validation.leeway = Self::LEEWAY_SECONDS;
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &key, &validation).map_err(|e| match e
                .kind()
            {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::Unauthenticated("the token has expired")
                }
                _ => INVALID,
            })?;
        let claims = data.claims;
        if claims.token_use != "access" {
            return Err(ApiError::Unauthenticated("an access token is required"));
        }
        if claims.client_id != tenant.app_client_id {
            return Err(INVALID);
        }
        Ok(Caller {
            sub: claims.sub,
            username: claims.username.to_ascii_lowercase(),
            groups: claims.groups,
        })
    }

    /// The key `kid` from the cache; a stale set counts as absent unless `allow_stale`.
    fn cached_key(
        &self,
        url: &str,
        kid: &str,
        allow_stale: bool,
    ) -> Option<jsonwebtoken::jwk::Jwk> {
        let keys = if allow_stale {
            self.keys.get_with_age(url).map(|(keys, _)| keys)
        } else {
            self.keys.get(url)
        }?;
        keys.find(kid).cloned()
    }

    async fn fetch(&self, url: &str) -> Result<(), ApiError> {
        let fetched_recently = self
            .keys
            .get_with_age(url)
            .is_some_and(|(_, age)| age < Self::MIN_REFETCH);
        if fetched_recently {
            return Ok(());
        }
        let unavailable =
            |e: reqwest::Error| ApiError::DependencyUnavailable(format!("JWKS download: {e}"));
        let keys: JwkSet = self
            .http()?
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        self.keys.insert(url.to_string(), Arc::new(keys));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const JWKS_URL: &str = "http://127.0.0.1:1/pool/.well-known/jwks.json";

    fn verifier() -> TokenVerifier {
        let jwks: JwkSet =
            serde_json::from_str(include_str!("../../tests/fixtures/test-jwks.json")).unwrap();
        TokenVerifier::new(Duration::from_secs(3600), Duration::from_millis(200))
            .with_keys(JWKS_URL, jwks)
    }

    fn tenant() -> Tenant {
        Tenant {
            jwks_url: JWKS_URL.into(),
            ..crate::testing::tenant()
        }
    }

    fn sign(claims: serde_json::Value, alg_kid: Option<&str>) -> String {
        let key =
            EncodingKey::from_rsa_der(include_bytes!("../../tests/fixtures/test-signing-key.der"));
        let mut header = Header::new(Algorithm::RS256);
        header.kid = alg_kid.map(str::to_string);
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn claims(t: &Tenant) -> serde_json::Value {
        json!({
            "sub": "0000-sub",
            "username": "Alice",
            "client_id": t.app_client_id,
            "token_use": "access",
            "iss": t.issuer,
            "exp": jsonwebtoken::get_current_timestamp() + 600,
            "cognito:groups": ["admins"],
        })
    }

    #[tokio::test]
    async fn a_valid_access_token_yields_the_caller() {
        let t = tenant();
        let caller = verifier()
            .verify_access(&t, &sign(claims(&t), Some("test-key")))
            .await
            .unwrap();
        assert_eq!(caller.username, "alice");
        assert_eq!(caller.groups, vec!["admins".to_string()]);
    }

    async fn rejected(t: &Tenant, token: &str) -> String {
        let e = verifier().verify_access(t, token).await.unwrap_err();
        assert_eq!(e.slug(), "unauthenticated", "{e:?}");
        e.problem("/", "a").detail
    }

    #[tokio::test]
    async fn expired_tokens_are_rejected() {
        let t = tenant();
        let mut c = claims(&t);
        c["exp"] = json!(jsonwebtoken::get_current_timestamp() - 60);
        assert!(
            rejected(&t, &sign(c, Some("test-key")))
                .await
                .contains("expired")
        );
    }

    #[tokio::test]
    async fn another_pools_or_clients_tokens_are_rejected() {
        let t = tenant();
        let mut c = claims(&t);
        c["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other");
        rejected(&t, &sign(c, Some("test-key"))).await;
        let mut c = claims(&t);
        c["client_id"] = json!("another-client");
        rejected(&t, &sign(c, Some("test-key"))).await;
    }

    #[tokio::test]
    async fn id_tokens_are_not_access_tokens() {
        let t = tenant();
        let mut c = claims(&t);
        c["token_use"] = json!("id");
        rejected(&t, &sign(c, Some("test-key"))).await;
    }

    #[tokio::test]
    async fn unsigned_and_tampered_tokens_are_rejected() {
        let t = tenant();
        let good = sign(claims(&t), Some("test-key"));
        // alg=none with the same claims
        let parts: Vec<&str> = good.split('.').collect();
        let none_header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"none","typ":"JWT","kid":"test-key"}"#,
        );
        rejected(&t, &format!("{none_header}.{}.", parts[1])).await;
        // a flipped signature
        let mut sig = parts[2].to_string();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        sig.replace_range(0..1, flipped);
        rejected(&t, &format!("{}.{}.{sig}", parts[0], parts[1])).await;
        rejected(&t, "not-a-jwt").await;
    }

    #[tokio::test]
    async fn an_unknown_kid_with_an_unreachable_jwks_is_a_dependency_failure() {
        let t = tenant();
        let e = verifier()
            .verify_access(&t, &sign(claims(&t), Some("rotated-key")))
            .await
            .unwrap_err();
        // the seeded set is fresh, so no refetch is attempted: the kid is simply unknown
        assert_eq!(e.slug(), "unauthenticated");
        let empty = TokenVerifier::new(Duration::from_secs(1), Duration::from_millis(200));
        let e = empty
            .verify_access(&t, &sign(claims(&t), Some("test-key")))
            .await
            .unwrap_err();
        assert_eq!(e.slug(), "dependency-unavailable");
    }
}
