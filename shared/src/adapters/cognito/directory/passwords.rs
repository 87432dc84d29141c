//! [`Passwords`] on Cognito.

use super::*;
use crate::domain::directory::Passwords;

impl Passwords for CognitoDirectory {
    async fn password_policy(&self, tenant: &Tenant) -> Result<PasswordPolicy, DirectoryError> {
        Ok(self.pool_facts(tenant).await?.policy)
    }

    async fn forgot_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<CodeDelivery, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let out = self
            .client_for(tenant)
            .forgot_password()
            .client_id(&tenant.app_client_id)
            .username(user.as_str())
            .secret_hash(hash)
            .send()
            .await
            .map_err(classify)?;
        Ok(delivery(out.code_delivery_details()))
    }

    async fn confirm_forgot_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        code: &str,
        new_password: &str,
    ) -> Result<(), DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        self.client_for(tenant)
            .confirm_forgot_password()
            .client_id(&tenant.app_client_id)
            .username(user.as_str())
            .confirmation_code(code)
            .password(new_password)
            .secret_hash(hash)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn change_password(
        &self,
        tenant: &Tenant,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .change_password()
            .access_token(access_token)
            .previous_password(previous)
            .proposed_password(proposed)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn admin_reset_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .admin_reset_user_password()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn set_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
        permanent: bool,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .admin_set_user_password()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str())
            .password(password)
            .permanent(permanent)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
