//! [`Passkeys`] in memory.

use super::*;
use crate::domain::directory::Passkeys;

impl Passkeys for InMemoryDirectory {
    /// The local pools' relying party, as the test command configures them (a configuration
    /// read, cached by the Cognito adapter: not counted as a call).
    async fn passkey_relying_party(
        &self,
        _: &Tenant,
    ) -> Result<Option<crate::domain::directory::RelyingParty>, DirectoryError> {
        Ok(Some(crate::domain::directory::RelyingParty {
            id: RP_ID.into(),
            user_verification: "required".into(),
        }))
    }

    async fn offers_passkeys(&self, _: &Tenant) -> Result<bool, DirectoryError> {
        Ok(false)
    }

    /// Passkeys are proven on the emulator (real WebAuthn verification, signatures
    /// included). In memory a ceremony is bound the way Cognito binds it, short of the
    /// cryptography: options of Cognito's shape with a fresh challenge, and a registration that
    /// answers that challenge once (`clientDataJSON`), held until it is deleted.
    async fn start_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<serde_json::Value, DirectoryError> {
        use base64::Engine as _;
        self.enter().await?;
        let user = token_user(access_token)?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| DirectoryError::Internal(e.to_string()))?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let challenge = b64.encode(bytes);
        let held: Vec<_> = self
            .held(&user)
            .iter()
            .map(|p| serde_json::json!({"type": "public-key", "id": p.credential_id}))
            .collect();
        self.pending_passkey
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?
            .insert(user.clone(), challenge.clone());
        Ok(serde_json::json!({
            "challenge": challenge,
            "rp": {"id": RP_ID, "name": RP_ID},
            "user": {"id": b64.encode(&user), "name": user, "displayName": user},
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
            "timeout": 60000,
            "excludeCredentials": held,
            "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true,
                                       "userVerification": "required"},
            "attestation": "none",
        }))
    }

    async fn complete_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        let user = token_user(access_token)?;
        // the challenge is spent by any answer, as Cognito's
        let pending = self
            .pending_passkey
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?
            .remove(&user)
            .ok_or(DirectoryError::InvalidParameter)?;
        let client_data = client_data(credential).ok_or(DirectoryError::InvalidParameter)?;
        if client_data["type"] != "webauthn.create" || client_data["challenge"] != pending.as_str()
        {
            return Err(DirectoryError::InvalidParameter);
        }
        let id = credential["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or(DirectoryError::InvalidParameter)?;
        let mut all = self
            .passkeys
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        let held = all.entry(user).or_default();
        if held.iter().any(|p| p.credential_id == id) {
            return Err(DirectoryError::InvalidParameter);
        }
        held.push(Passkey {
            credential_id: id.to_string(),
            name: Some("passkey".into()),
            relying_party_id: Some(RP_ID.into()),
            authenticator_attachment: credential["authenticatorAttachment"]
                .as_str()
                .map(str::to_string),
            transports: credential["response"]["transports"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            created_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .ok(),
        });
        Ok(())
    }

    async fn list_passkeys(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<Vec<Passkey>, DirectoryError> {
        self.enter().await?;
        Ok(self.held(&token_user(access_token)?))
    }

    async fn delete_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
        credential_id: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        let user = token_user(access_token)?;
        let mut all = self
            .passkeys
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        let held = all.entry(user).or_default();
        let before = held.len();
        held.retain(|p| p.credential_id != credential_id);
        if held.len() == before {
            return Err(DirectoryError::ResourceNotFound);
        }
        Ok(())
    }
}

/// The local pools' relying party.
const RP_ID: &str = "localhost";

impl InMemoryDirectory {
    fn held(&self, user: &str) -> Vec<Passkey> {
        self.passkeys
            .lock()
            .ok()
            .and_then(|all| all.get(user).cloned())
            .unwrap_or_default()
    }
}

/// A WebAuthn credential's `clientDataJSON`, decoded.
fn client_data(credential: &serde_json::Value) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let text = credential["response"]["clientDataJSON"].as_str()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
