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

use crate::domain::{directory::Tokens, store::StoreError};

/// How long a started intent waits for the provider's answer (a person signing in at the
/// provider), and how long a finished one waits to be retrieved.
pub const PENDING_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);
pub const OUTCOME_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How long a retrieved identity that is no user's yet may be linked by the intent's holder.
pub const LINK_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
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
    fn intent_ids_are_43_base64url_characters() {
        assert!(is_intent_id(&secret().unwrap()));
        assert!(!is_intent_id("short"));
        assert!(!is_intent_id(&"a/".repeat(22)[..43]));
    }
}
