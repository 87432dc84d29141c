//! Sign-in with an external identity provider through the tenant's Cognito pool domain
//! (`/idp-intents`), and the links between a provider's identities and the pool's users.
//!
//! An intent runs in three requests. The start keeps a [`PendingIntent`] under the SHA-256 of a
//! random `state` and answers the pool domain's authorize URL (PKCE S256, the provider named).
//! The callback takes the pending intent back by its `state` (once), exchanges the code at the
//! pool's token endpoint with the PKCE verifier, and keeps the tokens under the intent id,
//! sealed with a random intent token that only the redirect to the tenant's app carries: the
//! table never holds a usable token, and the API keeps only the token's hash. The retrieve
//! opens them with that token (once).

use std::time::SystemTime;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::domain::{directory::Tokens, store::StoreError, tenant::Tenant};
use crate::http::url::form;

/// How long a started intent waits for the provider's answer (a person signing in at the
/// provider), and how long a finished one waits to be retrieved.
pub const PENDING_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);
pub const OUTCOME_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How long a retrieved identity that is no user's yet may be linked by the intent's holder.
pub const LINK_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);

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

/// A random secret: 256 bits of the operating system's CSPRNG, base64url (43 characters).
pub fn secret() -> Result<String, StoreError> {
    crate::domain::lock::OneTimeCode::new_code()
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// Whether `id` can be an intent id this API made (43 base64url characters).
pub fn is_intent_id(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A started intent, kept until the callback (under the hash of its `state`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingIntent {
    pub intent_id: String,
    /// The tenant's key (`clientId/clientCode/database`): the callback carries no headers.
    pub tenant: String,
    pub idp_name: String,
    pub success_url: String,
    pub failure_url: String,
    /// The PKCE verifier, which never leaves the API.
    pub verifier: String,
    /// The hash of the intent secret the start answered, which the app keeps in the session
    /// of the browser that started the intent, and which retrieving it takes: an intent
    /// finished in another browser (a link sent to a victim) opens for nobody there.
    pub secret_hash: String,
}

impl std::fmt::Debug for PendingIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingIntent")
            .field("intent_id", &self.intent_id)
            .field("tenant", &self.tenant)
            .field("idp_name", &self.idp_name)
            .finish_non_exhaustive()
    }
}

/// A finished intent: the provider's name and the pool's tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub idp_name: String,
    /// The tenant's key: another tenant's headers do not open it.
    pub tenant: String,
    /// The intent secret's hash ([`PendingIntent::secret_hash`]).
    pub secret_hash: String,
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i32,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("idp_name", &self.idp_name)
            .finish_non_exhaustive()
    }
}

impl Outcome {
    pub fn tokens(&self) -> Tokens {
        Tokens {
            access_token: self.access_token.clone(),
            id_token: Some(self.id_token.clone()),
            refresh_token: self.refresh_token.clone(),
            expires_in: self.expires_in,
            token_type: "Bearer".into(),
        }
    }
}

/// A retrieved identity that is no user's yet: what the holder of the link token the
/// retrieve answered may link, in that tenant only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Linkable {
    pub tenant: String,
    pub idp_name: String,
    #[serde(rename = "idpUserID")]
    pub idp_user_id: String,
}

/// The tenant's key as the three headers (`clientId/clientCode/database`).
pub fn headers_of(tenant_key: &str) -> Option<crate::http::request::TenantHeaders> {
    let mut parts = tenant_key.split('/');
    let (client_id, client_code, database) = (parts.next()?, parts.next()?, parts.next()?);
    parts
        .next()
        .is_none()
        .then(|| crate::http::request::TenantHeaders {
            client_id: client_id.into(),
            client_code: client_code.into(),
            database: database.into(),
        })
}

/// The AES-256-GCM key an intent token opens: SHA-256 of a label and the token (a 256-bit
/// random secret needs no slower derivation).
fn key_of(token: &str) -> Result<aws_lc_rs::aead::LessSafeKey, StoreError> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"account-api/idp-intent/v1\0");
    h.update(token.as_bytes());
    let unbound = aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &h.finalize())
        .map_err(|_| StoreError::internal("cannot make an intent's key"))?;
    Ok(aws_lc_rs::aead::LessSafeKey::new(unbound))
}

/// `plain`, sealed with `token` and bound to `intent_id` (the additional data): base64url of
/// a random nonce and the ciphertext with its tag.
pub fn seal(token: &str, intent_id: &str, plain: &[u8]) -> Result<String, StoreError> {
    use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| StoreError::internal(format!("no randomness for a nonce: {e}")))?;
    let mut data = plain.to_vec();
    key_of(token)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(intent_id.as_bytes()),
            &mut data,
        )
        .map_err(|_| StoreError::internal("cannot seal an intent"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
}

/// What [`seal`] sealed, if `token` and `intent_id` are the ones it was sealed with.
pub fn open(token: &str, intent_id: &str, sealed: &str) -> Option<Vec<u8>> {
    use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sealed)
        .ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = key_of(token)
        .ok()?
        .open_in_place(nonce, Aad::from(intent_id.as_bytes()), &mut data)
        .ok()?;
    Some(plain.to_vec())
}

/// One identity of a provider linked to a user (Cognito's `identities` attribute and claim).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub idp_name: String,
    #[serde(rename = "idpUserID")]
    pub idp_user_id: String,
    /// The provider's type as Cognito names it (`OIDC`, `SAML`, `Google`, …).
    pub idp_type: Option<String>,
    /// RFC 3339 UTC.
    pub linked_at: Option<String>,
}

/// The identities in Cognito's `identities` value: a JSON array (the ID token's claim) or the
/// same array as a JSON string (the user attribute). Entries without a provider or a user id
/// are left out.
pub fn identities(value: &serde_json::Value) -> Vec<Identity> {
    let parsed;
    let list = match value {
        serde_json::Value::String(s) => {
            parsed = serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
            &parsed
        }
        other => other,
    };
    let text = |v: &serde_json::Value, k: &str| match v.get(k) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    Some(Identity {
                        idp_name: text(i, "providerName")?,
                        idp_user_id: text(i, "userId")?,
                        idp_type: text(i, "providerType"),
                        linked_at: text(i, "dateCreated")
                            .and_then(|ms| ms.parse::<u64>().ok())
                            .map(|ms| {
                                crate::time::rfc3339(
                                    SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms),
                                )
                            }),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The claims of a JWT, unverified: for tokens the pool's token endpoint has just answered
/// over TLS to this API's own client credentials (OpenID Connect Core §3.1.3.7 lets such a
/// client skip the signature), after the access token beside them was verified.
pub fn claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What the provider said about the person, as the pool mapped it into the ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdpInformation {
    pub idp_name: String,
    #[serde(rename = "idpUserID")]
    pub idp_user_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

impl IdpInformation {
    /// The information an ID token carries about its `idp_name` identity; `None` if the token
    /// names no identity of that provider.
    pub fn of(claims: &serde_json::Map<String, serde_json::Value>, idp_name: &str) -> Option<Self> {
        let identity = identities(claims.get("identities")?)
            .into_iter()
            .find(|i| i.idp_name == idp_name)?;
        let text = |k: &str| claims.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Some(Self {
            idp_name: identity.idp_name,
            idp_user_id: identity.idp_user_id,
            email: text("email"),
            email_verified: matches!(
                claims.get("email_verified"),
                Some(serde_json::Value::Bool(true))
            ) || text("email_verified").as_deref() == Some("true"),
            name: text("name"),
            given_name: text("given_name"),
            family_name: text("family_name"),
        })
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

/// Whether `secret` hashes to `hash` ([`crate::domain::lock::OneTimeCode::hash_of`]),
/// compared in constant time.
pub fn secret_matches(secret: &str, hash: &str) -> bool {
    let given = crate::domain::lock::OneTimeCode::hash_of(secret);
    given.len() == hash.len()
        && given
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_outcome_opens_only_with_its_token_and_intent() {
        let sealed = seal("token-a", "intent-1", b"tokens").unwrap();
        assert_eq!(
            open("token-a", "intent-1", &sealed).as_deref(),
            Some(&b"tokens"[..])
        );
        assert_eq!(open("token-b", "intent-1", &sealed), None);
        assert_eq!(open("token-a", "intent-2", &sealed), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open("token-a", "intent-1", &String::from_utf8(tampered).unwrap()),
            None
        );
        assert_eq!(open("token-a", "intent-1", "short"), None);
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
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
    fn identities_are_read_from_the_claim_and_from_the_attribute() {
        let claim = serde_json::json!([{"userId": "abc", "providerName": "Okta",
            "providerType": "OIDC", "issuer": null, "primary": "true",
            "dateCreated": "1700000000000"}, {"providerName": "x"}]);
        let from_claim = identities(&claim);
        assert_eq!(from_claim.len(), 1);
        assert_eq!(from_claim[0].idp_user_id, "abc");
        assert_eq!(
            from_claim[0].linked_at.as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        let attribute = serde_json::Value::String(claim.to_string());
        assert_eq!(identities(&attribute), from_claim);
        assert!(identities(&serde_json::json!("not json")).is_empty());
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
        assert!(secret_matches(
            "s",
            &crate::domain::lock::OneTimeCode::hash_of("s")
        ));
        assert!(!secret_matches(
            "t",
            &crate::domain::lock::OneTimeCode::hash_of("s")
        ));
    }

    #[test]
    fn intent_ids_are_43_base64url_characters() {
        assert!(is_intent_id(&secret().unwrap()));
        assert!(!is_intent_id("short"));
        assert!(!is_intent_id(&"a/".repeat(22)[..43]));
    }
}
