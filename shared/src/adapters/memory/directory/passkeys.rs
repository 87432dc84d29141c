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
            id: "localhost".into(),
            user_verification: "required".into(),
        }))
    }

    async fn offers_passkeys(&self, _: &Tenant) -> Result<bool, DirectoryError> {
        Ok(false)
    }

    /// Passkeys are proven on the emulator (real WebAuthn verification); in memory they are
    /// only as far as the handler tests need: a fixed challenge, any credential with an id.
    async fn start_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<serde_json::Value, DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Ok(serde_json::json!({"challenge": "in-memory", "rp": {"id": "localhost"}}))
    }

    async fn complete_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        credential["id"]
            .as_str()
            .map(|_| ())
            .ok_or(DirectoryError::InvalidParameter)
    }

    async fn list_passkeys(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<Vec<Passkey>, DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Ok(vec![])
    }

    async fn delete_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
        _: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Err(DirectoryError::ResourceNotFound)
    }
}
