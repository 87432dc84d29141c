//! [`IdentityLinks`] on Cognito.

use super::*;
use crate::domain::directory::IdentityLinks;

impl IdentityLinks for CognitoDirectory {
    async fn exchange_code(
        &self,
        tenant: &Tenant,
        federation: &Federation,
        code: &str,
        verifier: &str,
    ) -> Result<Tokens, DirectoryError> {
        let secret = self.client_secret(tenant).await?;
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", tenant.app_client_id.as_str()),
            ("code", code),
            ("redirect_uri", federation.callback_url.as_str()),
            ("code_verifier", verifier),
        ];
        let request = self.http()?.post(federation.token_url());
        // client_secret_basic, which Cognito's token endpoint takes (RFC 6749 §2.3.1: both
        // halves form-encoded first)
        let request = request.basic_auth(
            url::encode(&tenant.app_client_id),
            Some(url::encode(&secret)),
        );
        let response = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(url::form(&form))
            .send()
            .await
            .map_err(|e| DirectoryError::Unavailable(format!("the pool's token endpoint: {e}")))?;
        token_answer(response).await
    }

    async fn link_identity(
        &self,
        tenant: &Tenant,
        user: &UserId,
        idp_name: &str,
        idp_user_id: &str,
    ) -> Result<(), DirectoryError> {
        let destination = ProviderUserIdentifierType::builder()
            .provider_name("Cognito")
            .provider_attribute_value(user.as_str())
            .build();
        let source = ProviderUserIdentifierType::builder()
            .provider_name(idp_name)
            .provider_attribute_name("Cognito_Subject")
            .provider_attribute_value(idp_user_id)
            .build();
        let result = self
            .client_for(tenant)
            .admin_link_provider_for_user()
            .user_pool_id(&tenant.user_pool_id)
            .destination_user(destination)
            .source_user(source)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.as_service_error() {
                Some(AdminLinkProviderForUserError::InvalidParameterException(x))
                    if x.message().is_some_and(|m| m.contains("Merging")) =>
                {
                    DirectoryError::Conflict(
                        "the identity has signed in before as a user of its own",
                    )
                }
                Some(AdminLinkProviderForUserError::AliasExistsException(_)) => {
                    DirectoryError::Conflict("the identity is linked to another user")
                }
                Some(AdminLinkProviderForUserError::LimitExceededException(_)) => {
                    DirectoryError::Conflict(
                        "the user has as many linked identities as Cognito allows",
                    )
                }
                _ => classify(e),
            }),
        }
    }

    async fn unlink_identity(
        &self,
        tenant: &Tenant,
        idp_name: &str,
        idp_user_id: &str,
    ) -> Result<(), DirectoryError> {
        let identity = ProviderUserIdentifierType::builder()
            .provider_name(idp_name)
            .provider_attribute_name("Cognito_Subject")
            .provider_attribute_value(idp_user_id)
            .build();
        self.client_for(tenant)
            .admin_disable_provider_for_user()
            .user_pool_id(&tenant.user_pool_id)
            .user(identity)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
