//! The `Directory` port's operations on Cognito.

use aws_sdk_cognitoidentityprovider::operation::admin_link_provider_for_user::AdminLinkProviderForUserError;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ChallengeNameType, EmailMfaSettingsType, MessageActionType,
    ProviderUserIdentifierType, SmsMfaSettingsType, SoftwareTokenMfaSettingsType,
    VerifySoftwareTokenResponseType,
};

use crate::{
    domain::directory::{
        AuthResult, Challenge, CodeDelivery, Contact, Directory, DirectoryError, DirectoryUser,
        Factor, MfaMode, NewUser, Passkey, PasswordPolicy, RelyingParty, Tokens, UserPage,
        canonical_by_lookup,
    },
    domain::lock::API_SESSION,
    domain::tenant::Federation,
    domain::tenant::Tenant,
    domain::user_id::UserId,
    url,
};

use super::{client::CognitoDirectory, convert::*, errors::classify};

impl Directory for CognitoDirectory {
    async fn password_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let mut req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("USERNAME", user.as_str())
            .auth_parameters("PASSWORD", password);
        if let Some(hash) = hash {
            req = req.auth_parameters("SECRET_HASH", hash);
        }
        from_initiate(req.send().await.map_err(classify)?)
    }

    async fn refresh(
        &self,
        tenant: &Tenant,
        user: &UserId,
        refresh_token: &str,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let mut req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("REFRESH_TOKEN", refresh_token);
        if let Some(hash) = hash {
            req = req
                .auth_parameters("USERNAME", user.as_str())
                .auth_parameters("SECRET_HASH", hash);
        }
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
        let mut req = self
            .client_for(tenant)
            .respond_to_auth_challenge()
            .client_id(&tenant.app_client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", user.as_str())
            .challenge_responses("NEW_PASSWORD", new_password);
        if let Some(hash) = hash {
            req = req.challenge_responses("SECRET_HASH", hash);
        }
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
        let mut req = self
            .client_for(tenant)
            .respond_to_auth_challenge()
            .client_id(&tenant.app_client_id)
            .challenge_name(ChallengeNameType::from(challenge.name()))
            .session(session)
            .challenge_responses("USERNAME", user.as_str())
            .challenge_responses(challenge.answer_key(), code);
        if let Some(hash) = hash {
            req = req.challenge_responses("SECRET_HASH", hash);
        }
        from_respond(req.send().await.map_err(classify)?)
    }

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
            .set_secret_hash(hash)
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
            .set_secret_hash(hash)
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
            .set_secret_hash(hash)
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
        let request = match secret.as_deref() {
            // client_secret_basic, which Cognito's token endpoint takes (RFC 6749 §2.3.1: both
            // halves form-encoded first)
            Some(secret) => request.basic_auth(
                url::encode(&tenant.app_client_id),
                Some(url::encode(secret)),
            ),
            None => request,
        };
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

    async fn send_contact_code(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
    ) -> Result<CodeDelivery, DirectoryError> {
        let out = self
            .client_for(tenant)
            .get_user_attribute_verification_code()
            .access_token(access_token)
            .attribute_name(contact.attribute())
            .send()
            .await
            .map_err(classify)?;
        Ok(delivery(out.code_delivery_details()))
    }

    async fn verify_contact(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
        code: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .verify_user_attribute()
            .access_token(access_token)
            .attribute_name(contact.attribute())
            .code(code)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn password_policy(&self, tenant: &Tenant) -> Result<PasswordPolicy, DirectoryError> {
        Ok(self.pool_facts(tenant).await?.policy)
    }

    async fn start_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<serde_json::Value, DirectoryError> {
        let out = self
            .client_for(tenant)
            .start_web_authn_registration()
            .access_token(access_token)
            .send()
            .await
            .map_err(classify)?;
        Ok(from_document(out.credential_creation_options()))
    }

    async fn complete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .complete_web_authn_registration()
            .access_token(access_token)
            .credential(to_document(credential))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn list_passkeys(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<Vec<Passkey>, DirectoryError> {
        let mut found = vec![];
        let mut next: Option<String> = None;
        // pages of 20; a user holds a handful, the bound only stops a runaway
        for _ in 0..10 {
            let out = self
                .client_for(tenant)
                .list_web_authn_credentials()
                .access_token(access_token)
                .set_next_token(next.take())
                .max_results(20)
                .send()
                .await
                .map_err(classify)?;
            found.extend(out.credentials().iter().map(|c| Passkey {
                credential_id: c.credential_id().to_string(),
                name: Some(c.friendly_credential_name().to_string()).filter(|n| !n.is_empty()),
                relying_party_id: Some(c.relying_party_id().to_string()),
                authenticator_attachment: c.authenticator_attachment().map(str::to_string),
                transports: c.authenticator_transports().to_vec(),
                created_at: rfc3339(Some(c.created_at())),
            }));
            match out.next_token() {
                Some(token) => next = Some(token.to_string()),
                None => break,
            }
        }
        Ok(found)
    }

    async fn delete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential_id: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .delete_web_authn_credential()
            .access_token(access_token)
            .credential_id(credential_id)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn passkey_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<AuthResult, DirectoryError> {
        let hash = self.hash_for(tenant, user).await?;
        let mut req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::UserAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("USERNAME", user.as_str())
            .auth_parameters("PREFERRED_CHALLENGE", "WEB_AUTHN");
        if let Some(hash) = hash {
            req = req.auth_parameters("SECRET_HASH", hash);
        }
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
        let mut req = self
            .client_for(tenant)
            .initiate_auth()
            .auth_flow(AuthFlowType::CustomAuth)
            .client_id(&tenant.app_client_id)
            .auth_parameters("USERNAME", user.as_str())
            // the Pre Authentication trigger reads it (as `validationData`): a lock lets the
            // API's own sign-in for an admin through, no other
            .client_metadata(API_SESSION, code);
        if let Some(hash) = &hash {
            req = req.auth_parameters("SECRET_HASH", hash);
        }
        let started = from_initiate(req.send().await.map_err(classify)?)?;
        let session = match (started.challenge_name.as_deref(), started.session) {
            (Some("CUSTOM_CHALLENGE"), Some(session)) => session,
            _ => return Err(DirectoryError::NotAuthorized),
        };
        let mut answer = self
            .client_for(tenant)
            .respond_to_auth_challenge()
            .client_id(&tenant.app_client_id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", user.as_str())
            .challenge_responses("ANSWER", code)
            // the pre token generation trigger reads it: only a sign-in that proves a live
            // one-time code keeps `aws.cognito.signin.user.admin` in its access token
            .client_metadata(API_SESSION, code);
        if let Some(hash) = hash {
            answer = answer.challenge_responses("SECRET_HASH", hash);
        }
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
            .set_client_secret(secret.map(|s| s.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn mfa_mode(&self, tenant: &Tenant) -> Result<MfaMode, DirectoryError> {
        Ok(self.pool_facts(tenant).await?.mfa)
    }

    async fn passkey_relying_party(
        &self,
        tenant: &Tenant,
    ) -> Result<Option<RelyingParty>, DirectoryError> {
        if let Some(known) = self.relying_parties.get(tenant.user_pool_id.as_str()) {
            return Ok(known);
        }
        let out = self
            .client_for(tenant)
            .get_user_pool_mfa_config()
            .user_pool_id(&tenant.user_pool_id)
            .send()
            .await
            .map_err(classify)?;
        let found = out.web_authn_configuration().and_then(|w| {
            Some(RelyingParty {
                id: w.relying_party_id()?.to_string(),
                user_verification: w
                    .user_verification()
                    .map_or("preferred", |v| v.as_str())
                    .to_string(),
            })
        });
        self.relying_parties
            .insert(tenant.user_pool_id.clone(), found.clone());
        Ok(found)
    }

    async fn offers_passkeys(&self, tenant: &Tenant) -> Result<bool, DirectoryError> {
        Ok(self.pool_facts(tenant).await?.passkeys)
    }

    async fn start_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<String, DirectoryError> {
        let out = self
            .client_for(tenant)
            .associate_software_token()
            .access_token(access_token)
            .send()
            .await
            .map_err(classify)?;
        out.secret_code()
            .map(str::to_string)
            .ok_or_else(|| DirectoryError::Internal("Cognito returned no TOTP secret".into()))
    }

    async fn confirm_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
        code: &str,
        friendly_name: Option<&str>,
    ) -> Result<(), DirectoryError> {
        let out = self
            .client_for(tenant)
            .verify_software_token()
            .access_token(access_token)
            .user_code(code)
            .set_friendly_device_name(friendly_name.map(str::to_string))
            .send()
            .await
            .map_err(classify)?;
        match out.status() {
            Some(VerifySoftwareTokenResponseType::Success) => Ok(()),
            // Cognito answers a wrong code with an exception; a status of ERROR reads the same
            _ => Err(DirectoryError::CodeMismatch),
        }
    }

    async fn set_factor(
        &self,
        tenant: &Tenant,
        user: &UserId,
        factor: Factor,
        enabled: bool,
        preferred: bool,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client_for(tenant)
            .admin_set_user_mfa_preference()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str());
        let request = match factor {
            Factor::Totp => request.software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(preferred)
                    .build(),
            ),
            Factor::Sms => request.sms_mfa_settings(
                SmsMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(preferred)
                    .build(),
            ),
            Factor::Email => request.email_mfa_settings(
                EmailMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(preferred)
                    .build(),
            ),
        };
        request.send().await.map_err(classify)?;
        Ok(())
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
}

/// A Cognito `sub`: a UUID, 8-4-4-4-12 hexadecimal digits.
fn looks_like_sub(name: &str) -> bool {
    let groups: Vec<&str> = name.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The token endpoint's answer: the tokens, or why not. A 400 with `invalid_grant` is a code
/// the pool refuses; `invalid_client` a tenant whose secret or callback URL does not match
/// the app client (a configuration fault); 5xx the endpoint failing.
async fn token_answer(response: reqwest::Response) -> Result<Tokens, DirectoryError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
        id_token: Option<String>,
        refresh_token: Option<String>,
        expires_in: Option<i32>,
        token_type: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: String,
    }
    const LIMIT: usize = 64 * 1024;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| DirectoryError::Unavailable(format!("the pool's token endpoint: {e}")))?;
    if body.len() > LIMIT {
        return Err(DirectoryError::Internal(
            "the token endpoint's answer is too large".into(),
        ));
    }
    if status.is_server_error() {
        return Err(DirectoryError::Unavailable(format!(
            "the pool's token endpoint answered {status}"
        )));
    }
    if !status.is_success() {
        let error = serde_json::from_slice::<Refusal>(&body).map(|r| r.error);
        return Err(match error.as_deref() {
            Ok("invalid_grant") => DirectoryError::NotAuthorized,
            Ok(other) => DirectoryError::Internal(format!(
                "the pool's token endpoint refused the exchange: {other}"
            )),
            Err(_) => {
                DirectoryError::Internal(format!("the pool's token endpoint answered {status}"))
            }
        });
    }
    let answer: Answer = serde_json::from_slice(&body).map_err(|_| {
        DirectoryError::Internal("the token endpoint's answer is not tokens".into())
    })?;
    Ok(Tokens {
        access_token: answer.access_token,
        id_token: answer.id_token,
        refresh_token: answer.refresh_token,
        expires_in: answer.expires_in.unwrap_or(3600),
        token_type: answer.token_type.unwrap_or_else(|| "Bearer".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::looks_like_sub;

    #[test]
    fn a_sub_is_told_from_a_username() {
        assert!(looks_like_sub("0c5a2f4e-9b1d-4e7a-8f3c-2d6b1a9e4c70"));
        for name in [
            "admin",
            "0c5a2f4e9b1d4e7a8f3c2d6b1a9e4c70",
            "0c5a2f4e-9b1d-4e7a-8f3c-2d6b1a9e4c7",
            "0c5a2f4e-9b1d-4e7a-8f3c-2d6b1a9e4c7g",
            "jane@example.com",
        ] {
            assert!(!looks_like_sub(name), "{name}");
        }
    }
}
