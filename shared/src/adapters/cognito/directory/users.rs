//! [`UserAdmin`] on Cognito.

use super::*;
use crate::domain::directory::UserAdmin;

impl UserAdmin for CognitoDirectory {
    async fn find_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        let out = match self
            .client_for(tenant)
            .admin_get_user()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str())
            .send()
            .await
            .map_err(classify)
        {
            Ok(out) => out,
            Err(DirectoryError::UserNotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut found = directory_user(
            out.username(),
            out.user_attributes(),
            out.user_status(),
            out.enabled(),
            out.user_create_date(),
            out.user_last_modified_date(),
        );
        // a name Cognito adds later is no factor this API knows: left out, not an error
        found.factors = out
            .user_mfa_setting_list()
            .iter()
            .filter_map(|name| Factor::of_cognito(name))
            .collect();
        found.factors.sort();
        found.preferred_factor = out.preferred_mfa_setting().and_then(Factor::of_cognito);
        Ok(Some(found))
    }

    /// Looks the userID up only where it can be another name than the username: when it has
    /// the shape of a `sub`, or of one of the other names the pool takes (an email where the
    /// pool takes emails, …; see [`super::client::SignInNames::may_be`]). Elsewhere the
    /// userID (folded) is the username, and a sign-in spends no extra Cognito call on it.
    /// Which of the two happens depends on the pool and the userID's shape, never on whether
    /// the user exists, so the time taken says nothing about that.
    async fn canonical_username(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<UserId, DirectoryError> {
        if !looks_like_sub(user.as_str())
            && !self
                .pool_facts(tenant)
                .await?
                .sign_in_names
                .may_be(user.as_str())
        {
            return Ok(user.clone());
        }
        canonical_by_lookup(self, tenant, user).await
    }

    async fn create_user(
        &self,
        tenant: &Tenant,
        new: &NewUser,
    ) -> Result<DirectoryUser, DirectoryError> {
        let mut req = self
            .client_for(tenant)
            .admin_create_user()
            .user_pool_id(&tenant.user_pool_id)
            .username(new.username.as_str())
            .set_temporary_password(new.temporary_password.clone());
        for (name, value) in &new.attributes {
            req = req.user_attributes(
                AttributeType::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .map_err(|e| DirectoryError::Internal(format!("attribute {name}: {e}")))?,
            );
        }
        if !new.send_invitation {
            req = req.message_action(MessageActionType::Suppress);
        }
        let out = req.send().await.map_err(classify)?;
        let user = out
            .user()
            .ok_or_else(|| DirectoryError::Internal("AdminCreateUser returned no user".into()))?;
        Ok(directory_user(
            user.username().unwrap_or(new.username.as_str()),
            user.attributes(),
            user.user_status(),
            user.enabled(),
            user.user_create_date(),
            user.user_last_modified_date(),
        ))
    }

    async fn update_attributes(
        &self,
        tenant: &Tenant,
        user: &UserId,
        attributes: &[(String, String)],
    ) -> Result<(), DirectoryError> {
        let mut req = self
            .client_for(tenant)
            .admin_update_user_attributes()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str());
        for (name, value) in attributes {
            req = req.user_attributes(
                AttributeType::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .map_err(|e| DirectoryError::Internal(format!("attribute {name}: {e}")))?,
            );
        }
        req.send().await.map_err(classify)?;
        Ok(())
    }

    async fn set_enabled(
        &self,
        tenant: &Tenant,
        user: &UserId,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        if enabled {
            self.client_for(tenant)
                .admin_enable_user()
                .user_pool_id(&tenant.user_pool_id)
                .username(user.as_str())
                .send()
                .await
                .map_err(classify)?;
        } else {
            self.client_for(tenant)
                .admin_disable_user()
                .user_pool_id(&tenant.user_pool_id)
                .username(user.as_str())
                .send()
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    async fn resend_confirmation_code(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<CodeDelivery, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let out = self
            .client_for(tenant)
            .resend_confirmation_code()
            .client_id(&tenant.app_client_id)
            .username(user.as_str())
            .secret_hash(hash)
            .send()
            .await
            .map_err(classify)?;
        Ok(delivery(out.code_delivery_details()))
    }

    async fn resend_invitation(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .admin_create_user()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str())
            .message_action(MessageActionType::Resend)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delete_user(&self, tenant: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .admin_delete_user()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn list_users(
        &self,
        tenant: &Tenant,
        filter: Option<&str>,
        limit: i32,
        pagination_token: Option<&str>,
    ) -> Result<UserPage, DirectoryError> {
        let out = self
            .client_for(tenant)
            .list_users()
            .user_pool_id(&tenant.user_pool_id)
            .set_filter(filter.map(str::to_string))
            .limit(limit)
            .set_pagination_token(pagination_token.map(str::to_string))
            .send()
            .await
            .map_err(classify)?;
        Ok(UserPage {
            users: out
                .users()
                .iter()
                .map(|u| {
                    directory_user(
                        u.username().unwrap_or_default(),
                        u.attributes(),
                        u.user_status(),
                        u.enabled(),
                        u.user_create_date(),
                        u.user_last_modified_date(),
                    )
                })
                .collect(),
            pagination_token: out.pagination_token().map(str::to_string),
        })
    }
}
