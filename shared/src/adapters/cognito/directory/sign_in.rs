//! [`SignIn`] on Cognito.

use super::*;
use crate::domain::directory::SignIn;

impl SignIn for CognitoDirectory {
    async fn password_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("USERNAME", user.as_str())
            .auth_parameters("PASSWORD", password)
            .auth_parameters("SECRET_HASH", hash);
        from_initiate(req.send().await.map_err(classify)?)
    }

    async fn refresh(
        &self,
        tenant: &Tenant,
        user: &UserId,
        refresh_token: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .auth_parameters("USERNAME", user.as_str())
            .auth_parameters("SECRET_HASH", hash);
        from_initiate(req.send().await.map_err(classify)?)
    }

    async fn complete_new_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        session: &str,
        new_password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let req = self
            .client_for(tenant)
            .respond_to_auth_challenge()
            .client_id(&tenant.app_client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", user.as_str())
            .challenge_responses("NEW_PASSWORD", new_password)
            .challenge_responses("SECRET_HASH", hash);
        from_respond(req.send().await.map_err(classify)?)
    }

    async fn answer_challenge(
        &self,
        tenant: &Tenant,
        user: &UserId,
        challenge: Challenge,
        session: &str,
        code: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let req = self
            .client_for(tenant)
            .respond_to_auth_challenge()
            .client_id(&tenant.app_client_id)
            .challenge_name(ChallengeNameType::from(challenge.name()))
            .session(session)
            .challenge_responses("USERNAME", user.as_str())
            .challenge_responses(challenge.answer_key(), code)
            .challenge_responses("SECRET_HASH", hash);
        from_respond(req.send().await.map_err(classify)?)
    }

    async fn passkey_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::UserAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("USERNAME", user.as_str())
            .auth_parameters("PREFERRED_CHALLENGE", "WEB_AUTHN")
            .auth_parameters("SECRET_HASH", hash);
        let result = from_initiate(req.send().await.map_err(classify)?)?;
        // anything but the passkey challenge (SELECT_CHALLENGE among the other first factors)
        // means no passkey to sign in with, which an unknown user gets alike
        if result.challenge_name.as_deref() == Some("WEB_AUTHN")
            && result.credential_request_options.is_some()
        {
            Ok(result)
        } else {
            Err(DirectoryError::NotAuthorized)
        }
    }

    async fn code_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        code: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::CustomAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("USERNAME", user.as_str())
            // the Pre Authentication trigger reads it (as `validationData`): a lock lets the
            // API's own sign-in for an admin through, no other
            .client_metadata(API_SESSION, code)
            .auth_parameters("SECRET_HASH", &hash);
        let started = from_initiate(req.send().await.map_err(classify)?)?;
        let session = match (started.challenge_name.as_deref(), started.session) {
            (Some("CUSTOM_CHALLENGE"), Some(session)) => session,
            _ => return Err(DirectoryError::NotAuthorized),
        };
        let answer = self
            .client_for(tenant)
            .respond_to_auth_challenge()
            .client_id(&tenant.app_client_id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", user.as_str())
            .challenge_responses("ANSWER", code)
            // the pre token generation trigger reads it: only a sign-in that proves a live
            // one-time code keeps `aws.cognito.signin.user.admin` in its access token
            .client_metadata(API_SESSION, code)
            .challenge_responses("SECRET_HASH", hash);
        let result = from_respond(answer.send().await.map_err(classify)?)?;
        match result.challenge_name.as_deref() {
            _ if result.authentication_result.is_some() => Ok(result),
            // an invited user who has not set a password yet may be asked for one after the
            // custom challenge, before any token
            Some("NEW_PASSWORD_REQUIRED") => Err(DirectoryError::Conflict(
                "the account still has its temporary password: the user signs in and sets one \
                 first",
            )),
            // the triggers ask one challenge: anything more is not this sign-in
            _ => Err(DirectoryError::NotAuthorized),
        }
    }

    async fn revoke_refresh_token(
        &self,
        tenant: &Tenant,
        refresh_token: &str,
    ) -> Result<(), DirectoryError> {
        let secret = self.client_secret(tenant).await?;
        self.client_for(tenant)
            .revoke_token()
            .token(refresh_token)
            .client_id(&tenant.app_client_id)
            .client_secret(secret.to_string())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn global_sign_out(&self, tenant: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .admin_user_global_sign_out()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
