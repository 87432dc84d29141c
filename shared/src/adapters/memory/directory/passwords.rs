//! [`Passwords`] in memory.

use super::*;
use crate::domain::directory::Passwords;

impl Passwords for InMemoryDirectory {
    async fn password_policy(&self, _: &Tenant) -> Result<PasswordPolicy, DirectoryError> {
        Ok(self.policy.clone())
    }

    async fn forgot_password(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<CodeDelivery, DirectoryError> {
        self.enter().await?;
        self.user(user)?;
        Ok(CodeDelivery {
            destination: Some("d***@e***".into()),
            delivery_medium: Some("EMAIL".into()),
            attribute_name: Some("email".into()),
        })
    }

    async fn confirm_forgot_password(
        &self,
        _: &Tenant,
        user: &UserId,
        code: &str,
        new_password: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map_err(|_| DirectoryError::CodeMismatch)?;
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        self.store_password(user.as_str(), new_password);
        Ok(())
    }

    async fn change_password(
        &self,
        _: &Tenant,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        let user = token_user(access_token)?;
        let user = user.as_str();
        let current = self
            .users
            .lock()
            .ok()
            .and_then(|u| u.get(user).map(|u| u.password.clone()));
        if current.as_deref() != Some(previous) {
            return Err(DirectoryError::NotAuthorized);
        }
        self.store_password(user, proposed);
        Ok(())
    }

    async fn admin_reset_password(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| u.status = "RESET_REQUIRED")
    }

    async fn set_password(
        &self,
        _: &Tenant,
        user: &UserId,
        password: &str,
        permanent: bool,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        // as `AdminSetUserPassword`: the pool's policy holds for either kind, and a temporary
        // password must be changed at the next sign-in
        if self.policy.violation(password).is_some() {
            return Err(DirectoryError::InvalidPassword(None));
        }
        self.update(user, |u| {
            u.password = password.into();
            u.status = if permanent {
                "CONFIRMED"
            } else {
                "FORCE_CHANGE_PASSWORD"
            };
        })
    }
}
