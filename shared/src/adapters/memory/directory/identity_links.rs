//! [`IdentityLinks`] in memory.

use super::*;
use crate::domain::directory::IdentityLinks;

impl IdentityLinks for InMemoryDirectory {
    async fn exchange_code(
        &self,
        _: &Tenant,
        _: &crate::domain::tenant::Federation,
        _: &str,
        _: &str,
    ) -> Result<Tokens, DirectoryError> {
        self.enter().await?;
        // no pool domain here: the intents are tested on the emulator (tests/tests/idp.rs)
        Err(DirectoryError::NotAuthorized)
    }

    async fn link_identity(
        &self,
        _: &Tenant,
        user: &UserId,
        _: &str,
        _: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map(|_| ())
    }

    async fn unlink_identity(&self, _: &Tenant, _: &str, _: &str) -> Result<(), DirectoryError> {
        self.enter().await
    }
}
