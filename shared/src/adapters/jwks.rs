//! Bearer access-token verification: RS256 against the tenant pool's JWKS, with the issuer,
//! `token_use`, `client_id` and expiry checked. The JWKS URL and the issuer are separate
//! settings of the tenant (the emulator publishes keys at one address and names another).
//! Keys are cached per JWKS URL; an unknown `kid` triggers at most one refetch per interval,
//! so forged tokens cannot turn into a flood of downloads.

use std::{sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;

use crate::{
    cache::TtlCache,
    domain::{tenant::Tenant, token::Caller},
};

/// Why a bearer token was not taken.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a valid access token of the tenant's pool and client (what, for the caller).
    #[error("{0}")]
    Rejected(&'static str),
    /// The pool's keys could not be read.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Deserialize)]
struct AccessClaims {
    sub: String,
    username: String,
    client_id: String,
    token_use: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
    #[serde(default)]
    auth_time: Option<u64>,
}

pub struct TokenVerifier {
    /// Built on the first download, not at init, and from compiled-in roots (webpki-roots):
    /// the platform verifier reads and parses the system's certificate store, which cost the
    /// first bearer request ~2–5 ms (release build; 57 µs with compiled-in roots).
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
    /// Key sets by JWKS URL, with when they were downloaded.
    keys: TtlCache<String, Arc<JwkSet>>,
    /// JWKS URLs whose last download failed, for the back-off.
    failures: TtlCache<String, ()>,
}

impl TokenVerifier {
    /// The least time between two downloads of the same JWKS.
    const MIN_REFETCH: Duration = Duration::from_secs(30);
    /// Clock skew allowed on `exp`.
    const LEEWAY_SECONDS: u64 = 5;
    /// JWKS URLs an instance serves: one per tenant pool, never caller-chosen.
    const MAX_KEY_SETS: usize = 256;
    /// How long a key set is still used when its refresh fails (Cognito rotates keys rarely;
    /// a JWKS outage should not turn every bearer request into a 503).
    const LAST_GOOD: Duration = Duration::from_secs(24 * 3600);
    /// The largest JWKS body read (a pool publishes two keys, about 1 KiB).
    const MAX_JWKS_BYTES: usize = 64 * 1024;

    pub fn new(ttl: Duration, timeout: Duration) -> Self {
        Self {
            http: std::sync::OnceLock::new(),
            timeout,
            keys: TtlCache::new(ttl, Self::MAX_KEY_SETS),
            // after a failed download, the next waits as long as two successful ones would
            failures: TtlCache::new(Self::MIN_REFETCH, Self::MAX_KEY_SETS),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, TokenError> {
        self.http
            .get_or_init(|| crate::https::web_client(self.timeout))
            .as_ref()
            .map_err(|e| TokenError::Internal(format!("cannot build the JWKS client: {e}")))
    }

    /// Seeds the key cache, for tests that sign their own tokens.
    pub fn with_keys(self, jwks_url: &str, keys: JwkSet) -> Self {
        self.keys.insert(jwks_url.to_string(), Arc::new(keys));
        self
    }

    /// Verifies an access token of `tenant`'s pool and app client.
    pub async fn verify_access(&self, tenant: &Tenant, token: &str) -> Result<Caller, TokenError> {
        const INVALID: TokenError = TokenError::Rejected("the token is not valid");
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        if header.alg != Algorithm::RS256 {
            return Err(INVALID);
        }
        let kid = header.kid.ok_or(INVALID)?;
        let url = &tenant.jwks_url;
        let jwk = match self.cached_key(url, &kid, false) {
            Some(jwk) => jwk,
            None => match self.fetch(url).await {
                Ok(()) => self.cached_key(url, &kid, true).ok_or(INVALID)?,
                // the refresh failed or is backing off: the last good set, for a while
                Err(e) => match self.last_good_key(url, &kid) {
                    Some(jwk) => {
                        tracing::warn!(cause = %e, "JWKS refresh failed; using the last good keys");
                        jwk
                    }
                    None => return Err(e),
                },
            },
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
                    TokenError::Rejected("the token has expired")
                }
                _ => INVALID,
            })?;
        let claims = data.claims;
        if claims.token_use != "access" {
            return Err(TokenError::Rejected("an access token is required"));
        }
        if claims.client_id != tenant.app_client_id {
            return Err(INVALID);
        }
        Ok(Caller {
            sub: claims.sub,
            username: claims.username.to_ascii_lowercase(),
            groups: claims.groups,
            auth_time: claims.auth_time,
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

    /// The key `kid` of the last set downloaded, if that was within [`Self::LAST_GOOD`].
    fn last_good_key(&self, url: &str, kid: &str) -> Option<jsonwebtoken::jwk::Jwk> {
        let (keys, age) = self.keys.get_with_age(url)?;
        (age < Self::LAST_GOOD).then(|| keys.find(kid).cloned())?
    }

    /// Downloads the key set at `url`, at most once per [`Self::MIN_REFETCH`], and not again
    /// within it after a failure (so forged `kid`s or a JWKS outage cannot turn into a flood
    /// of downloads).
    async fn fetch(&self, url: &str) -> Result<(), TokenError> {
        let fetched_recently = self
            .keys
            .get_with_age(url)
            .is_some_and(|(_, age)| age < Self::MIN_REFETCH);
        if fetched_recently {
            return Ok(());
        }
        if self.failures.get(url).is_some() {
            return Err(TokenError::Unavailable(
                "JWKS download backing off after a failure".into(),
            ));
        }
        match self.download(url).await {
            Ok(keys) => {
                self.keys.insert(url.to_string(), Arc::new(keys));
                Ok(())
            }
            Err(cause) => {
                self.failures.insert(url.to_string(), ());
                Err(TokenError::Unavailable(format!("JWKS download: {cause}")))
            }
        }
    }

    /// One download: a 2xx answer (redirects are not followed), a body of at most
    /// [`Self::MAX_JWKS_BYTES`], a JWK set.
    async fn download(&self, url: &str) -> Result<JwkSet, String> {
        let mut response = self
            .http()
            .map_err(|e| e.to_string())?
            .get(url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > Self::MAX_JWKS_BYTES {
                return Err(format!("more than {} bytes", Self::MAX_JWKS_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| "not a JWK set".to_string())
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
        match verifier().verify_access(t, token).await {
            Err(TokenError::Rejected(why)) => why.to_string(),
            other => panic!("not a rejection: {other:?}"),
        }
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

    /// A JWKS endpoint on loopback that answers every connection with `answer` and counts
    /// the connections it got.
    fn jwks_endpoint(answer: String) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/pool/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (url, hits)
    }

    fn http_answer(status: &str, extra: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_good_keys_and_backs_off() {
        let (url, hits) = jwks_endpoint(http_answer("500 Internal Server Error", "", ""));
        let t = Tenant {
            jwks_url: url.clone(),
            ..tenant()
        };
        let jwks: JwkSet =
            serde_json::from_str(include_str!("../../tests/fixtures/test-jwks.json")).unwrap();
        // keys downloaded an hour ago, past their time to live: the next token asks for a
        // refresh, which fails, and the last good keys still verify it
        let verifier = TokenVerifier::new(Duration::from_secs(60), Duration::from_millis(500));
        verifier.keys.insert_aged(
            url.clone(),
            Arc::new(jwks.clone()),
            Duration::from_secs(3600),
        );
        for _ in 0..3 {
            let caller = verifier
                .verify_access(&t, &sign(claims(&t), Some("test-key")))
                .await
                .unwrap();
            assert_eq!(caller.username, "alice");
        }
        // one failed download, then the back-off: not one per request
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        // keys older than the bound are not used: the failure is the caller's 503
        let too_old = TokenVerifier::new(Duration::from_secs(60), Duration::from_millis(500));
        too_old.keys.insert_aged(
            url.clone(),
            Arc::new(jwks),
            TokenVerifier::LAST_GOOD + Duration::from_secs(1),
        );
        for _ in 0..3 {
            let e = too_old
                .verify_access(&t, &sign(claims(&t), Some("test-key")))
                .await
                .unwrap_err();
            assert!(matches!(e, TokenError::Unavailable(_)), "{e:?}");
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn redirects_are_not_followed_and_the_body_is_capped() {
        let keys = include_str!("../../tests/fixtures/test-jwks.json");
        let (target, target_hits) = jwks_endpoint(http_answer("200 OK", "", keys));
        let (redirecting, _) = jwks_endpoint(http_answer(
            "302 Found",
            &format!("location: {target}\r\n"),
            "",
        ));
        let padded = format!("{}{}", keys, " ".repeat(TokenVerifier::MAX_JWKS_BYTES));
        let (huge, _) = jwks_endpoint(http_answer("200 OK", "", &padded));
        let (fine, _) = jwks_endpoint(http_answer("200 OK", "", keys));
        for (url, ok) in [(redirecting, false), (huge, false), (fine, true)] {
            let t = Tenant {
                jwks_url: url.clone(),
                ..tenant()
            };
            let verifier = TokenVerifier::new(Duration::from_secs(60), Duration::from_millis(500));
            let answer = verifier
                .verify_access(&t, &sign(claims(&t), Some("test-key")))
                .await;
            assert_eq!(answer.is_ok(), ok, "{url}: {answer:?}");
        }
        assert_eq!(target_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_unknown_kid_with_an_unreachable_jwks_is_a_dependency_failure() {
        let t = tenant();
        let e = verifier()
            .verify_access(&t, &sign(claims(&t), Some("rotated-key")))
            .await
            .unwrap_err();
        // the seeded set is fresh, so no refetch is attempted: the kid is simply unknown
        assert!(matches!(e, TokenError::Rejected(_)), "{e:?}");
        let empty = TokenVerifier::new(Duration::from_secs(1), Duration::from_millis(200));
        let e = empty
            .verify_access(&t, &sign(claims(&t), Some("test-key")))
            .await
            .unwrap_err();
        assert!(matches!(e, TokenError::Unavailable(_)), "{e:?}");
    }
}
