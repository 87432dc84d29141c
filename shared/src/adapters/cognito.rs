//! The `Directory` port on Amazon Cognito user pools.
//!
//! Errors are classified here and nowhere else (see [`classify_code`]): by the modelled error
//! code the SDK parsed, and for `NotAuthorizedException`, whose states Cognito tells apart only
//! in its message, by that message. No AWS message is ever passed on to a caller.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_sdk_cognitoidentityprovider::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::{
        admin_create_user::AdminCreateUserError,
        admin_delete_user::AdminDeleteUserError,
        admin_disable_user::AdminDisableUserError,
        admin_enable_user::AdminEnableUserError,
        admin_get_user::AdminGetUserError,
        admin_reset_user_password::AdminResetUserPasswordError,
        admin_set_user_password::AdminSetUserPasswordError,
        admin_update_user_attributes::AdminUpdateUserAttributesError,
        admin_user_global_sign_out::AdminUserGlobalSignOutError,
        change_password::ChangePasswordError,
        confirm_forgot_password::ConfirmForgotPasswordError,
        describe_user_pool::DescribeUserPoolError,
        describe_user_pool_client::DescribeUserPoolClientError,
        forgot_password::ForgotPasswordError,
        get_user::GetUserError,
        global_sign_out::GlobalSignOutError,
        initiate_auth::{InitiateAuthError, InitiateAuthOutput},
        list_users::ListUsersError,
        resend_confirmation_code::ResendConfirmationCodeError,
        respond_to_auth_challenge::{RespondToAuthChallengeError, RespondToAuthChallengeOutput},
    },
    types::{
        AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType,
        CodeDeliveryDetailsType, MessageActionType,
    },
};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::{
    domain::directory::{
        AuthResult, Challenge, CodeDelivery, Directory, DirectoryError, DirectoryUser, NewUser,
        PasswordPolicy, Tokens, UserPage,
    },
    domain::tenant::Tenant,
    http::request::UserId,
};

/// `SECRET_HASH = Base64(HMAC_SHA256(client secret, username + client id))`.
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps the code panic-free.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Maps a Cognito error code (and, for `NotAuthorizedException`, its message) to the domain.
pub fn classify_code(
    code: Option<&str>,
    message: Option<&str>,
    http_status: u16,
) -> DirectoryError {
    let message = message.unwrap_or_default();
    match code.unwrap_or_default() {
        "NotAuthorizedException" => {
            if message.contains("User is disabled") {
                DirectoryError::UserDisabled
            } else if message.contains("Password attempts exceeded") {
                DirectoryError::PasswordAttemptsExceeded
            } else {
                DirectoryError::NotAuthorized
            }
        }
        "UserNotFoundException" => DirectoryError::UserNotFound,
        "UserNotConfirmedException" => DirectoryError::UserNotConfirmed,
        "PasswordResetRequiredException" => DirectoryError::PasswordResetRequired,
        "InvalidPasswordException" | "PasswordHistoryPolicyViolationException" => {
            DirectoryError::InvalidPassword(None)
        }
        "CodeMismatchException" => DirectoryError::CodeMismatch,
        "ExpiredCodeException" => DirectoryError::CodeExpired,
        "ResourceNotFoundException" => DirectoryError::ResourceNotFound,
        "UsernameExistsException" => DirectoryError::Conflict("the user already exists"),
        "AliasExistsException" => {
            DirectoryError::Conflict("the email or phone number belongs to another user")
        }
        "UnsupportedUserStateException" => {
            DirectoryError::Conflict("the user is not in a state that allows this operation")
        }
        "InvalidParameterException" => DirectoryError::InvalidParameter,
        // The only trigger this product installs that denies a sign-in is the Pre
        // Authentication lock check, so a trigger's refusal means the account is locked.
        "UserLambdaValidationException" => DirectoryError::Locked,
        "ForbiddenException" => DirectoryError::Forbidden,
        "MfaMethodNotFoundException" | "SoftwareTokenMfaNotFoundException" => {
            DirectoryError::Conflict("the user has no such MFA method set up")
        }
        "TooManyRequestsException"
        | "LimitExceededException"
        | "TooManyFailedAttemptsException" => DirectoryError::Throttled,
        "InternalErrorException" => DirectoryError::Unavailable("Cognito internal error".into()),
        other if http_status >= 500 => {
            DirectoryError::Unavailable(format!("Cognito answered {http_status} ({other})"))
        }
        other => DirectoryError::Internal(format!("unexpected Cognito error {other:?}")),
    }
}

/// An operation error's modelled exception, read from its variant: the wire code is only the
/// fallback (for `Unhandled`), since a modelled error need not carry one.
trait Modelled: ProvideErrorMetadata {
    fn exception(&self) -> Option<(&'static str, Option<&str>)>;
}

macro_rules! modelled {
    ($error:ty { $($variant:ident),+ $(,)? }) => {
        impl Modelled for $error {
            fn exception(&self) -> Option<(&'static str, Option<&str>)> {
                match self {
                    $(Self::$variant(e) => Some((stringify!($variant), e.message())),)+
                    _ => None,
                }
            }
        }
    };
}

modelled!(InitiateAuthError {
    NotAuthorizedException,
    UserNotFoundException,
    UserNotConfirmedException,
    PasswordResetRequiredException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
    UserLambdaValidationException,
    ForbiddenException,
});
modelled!(RespondToAuthChallengeError {
    NotAuthorizedException,
    UserNotFoundException,
    UserNotConfirmedException,
    PasswordResetRequiredException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
    UserLambdaValidationException,
    ForbiddenException,
    CodeMismatchException,
    ExpiredCodeException,
    InvalidPasswordException,
    PasswordHistoryPolicyViolationException,
    AliasExistsException,
    MfaMethodNotFoundException,
    SoftwareTokenMfaNotFoundException,
});
modelled!(DescribeUserPoolClientError {
    NotAuthorizedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(GetUserError {
    NotAuthorizedException,
    UserNotFoundException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
    ForbiddenException,
});
modelled!(AdminGetUserError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(AdminUserGlobalSignOutError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(ForgotPasswordError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    LimitExceededException,
    InternalErrorException,
    UserLambdaValidationException,
    ForbiddenException,
});
modelled!(ConfirmForgotPasswordError {
    NotAuthorizedException,
    UserNotFoundException,
    UserNotConfirmedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    LimitExceededException,
    TooManyFailedAttemptsException,
    InternalErrorException,
    UserLambdaValidationException,
    ForbiddenException,
    CodeMismatchException,
    ExpiredCodeException,
    InvalidPasswordException,
    PasswordHistoryPolicyViolationException,
});
modelled!(ChangePasswordError {
    NotAuthorizedException,
    UserNotFoundException,
    UserNotConfirmedException,
    PasswordResetRequiredException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    LimitExceededException,
    InternalErrorException,
    ForbiddenException,
    InvalidPasswordException,
    PasswordHistoryPolicyViolationException,
});
modelled!(GlobalSignOutError {
    NotAuthorizedException,
    UserNotConfirmedException,
    PasswordResetRequiredException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
    ForbiddenException,
});
modelled!(AdminResetUserPasswordError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    LimitExceededException,
    InternalErrorException,
    UserLambdaValidationException,
});
modelled!(AdminDisableUserError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(AdminEnableUserError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(ResendConfirmationCodeError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    LimitExceededException,
    InternalErrorException,
    UserLambdaValidationException,
    ForbiddenException,
});
modelled!(AdminCreateUserError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    InvalidPasswordException,
    TooManyRequestsException,
    InternalErrorException,
    UserLambdaValidationException,
    UsernameExistsException,
    UnsupportedUserStateException,
});
modelled!(AdminSetUserPasswordError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    InvalidPasswordException,
    TooManyRequestsException,
    InternalErrorException,
    PasswordHistoryPolicyViolationException,
});
modelled!(AdminUpdateUserAttributesError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
    UserLambdaValidationException,
    AliasExistsException,
});
modelled!(AdminDeleteUserError {
    NotAuthorizedException,
    UserNotFoundException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(ListUsersError {
    NotAuthorizedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(DescribeUserPoolError {
    NotAuthorizedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});

fn classify<E: Modelled + std::error::Error + 'static>(
    err: SdkError<E, HttpResponse>,
) -> DirectoryError {
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let (code, message) = e
                .exception()
                .map(|(code, message)| (Some(code), message))
                .unwrap_or((e.code(), e.message()));
            classify_code(code, message, service.raw().status().as_u16())
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            DirectoryError::Unavailable(format!("Cognito: {}", DisplayErrorContext(&err)))
        }
        _ => DirectoryError::Internal(format!("Cognito: {}", DisplayErrorContext(&err))),
    }
}

fn tokens(r: &AuthenticationResultType) -> Result<Tokens, DirectoryError> {
    Ok(Tokens {
        access_token: r
            .access_token()
            .ok_or_else(|| DirectoryError::Internal("Cognito returned no access token".into()))?
            .to_string(),
        id_token: r.id_token().map(str::to_string),
        refresh_token: r.refresh_token().map(str::to_string),
        expires_in: r.expires_in(),
        token_type: r.token_type().unwrap_or("Bearer").to_string(),
    })
}

fn auth_result(
    challenge: Option<&ChallengeNameType>,
    session: Option<&str>,
    result: Option<&AuthenticationResultType>,
) -> Result<AuthResult, DirectoryError> {
    Ok(AuthResult {
        challenge_name: challenge.map(|c| c.as_str().to_string()),
        session: session.map(str::to_string),
        authentication_result: result.map(tokens).transpose()?,
    })
}

fn from_initiate(out: InitiateAuthOutput) -> Result<AuthResult, DirectoryError> {
    auth_result(
        out.challenge_name(),
        out.session(),
        out.authentication_result(),
    )
}

fn from_respond(out: RespondToAuthChallengeOutput) -> Result<AuthResult, DirectoryError> {
    auth_result(
        out.challenge_name(),
        out.session(),
        out.authentication_result(),
    )
}

fn delivery(details: Option<&CodeDeliveryDetailsType>) -> CodeDelivery {
    CodeDelivery {
        destination: details.and_then(|d| d.destination()).map(str::to_string),
        delivery_medium: details
            .and_then(|d| d.delivery_medium())
            .map(|m| m.as_str().to_string()),
        attribute_name: details.and_then(|d| d.attribute_name()).map(str::to_string),
    }
}

fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// A user from the parts `AdminGetUser`, `AdminCreateUser` and `ListUsers` all return.
fn directory_user(
    username: &str,
    attributes: &[AttributeType],
    status: Option<&aws_sdk_cognitoidentityprovider::types::UserStatusType>,
    enabled: bool,
    created: Option<&aws_smithy_types::DateTime>,
    updated: Option<&aws_smithy_types::DateTime>,
) -> DirectoryUser {
    let attributes: std::collections::BTreeMap<String, String> = attributes
        .iter()
        .filter_map(|a| a.value().map(|v| (a.name().to_string(), v.to_string())))
        .collect();
    DirectoryUser {
        username: username.to_string(),
        sub: attributes.get("sub").cloned(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        enabled,
        attributes,
        created_at: rfc3339(created),
        updated_at: rfc3339(updated),
    }
}

/// Values read from Cognito once and kept for a while: app client secrets and pool policies.
struct Cached<T> {
    at: Instant,
    value: T,
}

pub struct CognitoDirectory {
    client: Client,
    /// Clients for pools in other regions than the function's, made on first use.
    regional: Mutex<HashMap<String, Client>>,
    secrets: Mutex<HashMap<String, Cached<Option<Arc<str>>>>>,
    policies: Mutex<HashMap<String, Cached<PasswordPolicy>>>,
}

impl CognitoDirectory {
    /// How long a client secret or a password policy is trusted before it is read again.
    const TTL: Duration = Duration::from_secs(15 * 60);

    pub fn new(client: Client) -> Self {
        Self {
            client,
            regional: Mutex::new(HashMap::new()),
            secrets: Mutex::new(HashMap::new()),
            policies: Mutex::new(HashMap::new()),
        }
    }

    /// The client for the tenant's pool: a pool id names its region (`eu-west-1_AbC`), and a
    /// tenant's pool may live in another region than the function.
    pub fn client_for(&self, tenant: &Tenant) -> Client {
        let Some(region) = Tenant::pool_region(&tenant.user_pool_id) else {
            return self.client.clone();
        };
        if self.client.config().region().map(|r| r.as_ref()) == Some(region) {
            return self.client.clone();
        }
        let Ok(mut regional) = self.regional.lock() else {
            return self.client.clone();
        };
        regional
            .entry(region.to_string())
            .or_insert_with(|| {
                Client::from_conf(
                    self.client
                        .config()
                        .to_builder()
                        .region(aws_sdk_cognitoidentityprovider::config::Region::new(
                            region.to_string(),
                        ))
                        .build(),
                )
            })
            .clone()
    }

    fn cached<T: Clone>(map: &Mutex<HashMap<String, Cached<T>>>, key: &str) -> Option<T> {
        let map = map.lock().ok()?;
        map.get(key)
            .filter(|c| c.at.elapsed() < Self::TTL)
            .map(|c| c.value.clone())
    }

    fn store<T>(map: &Mutex<HashMap<String, Cached<T>>>, key: &str, value: T) {
        if let Ok(mut map) = map.lock() {
            map.insert(
                key.to_string(),
                Cached {
                    at: Instant::now(),
                    value,
                },
            );
        }
    }

    /// The app client's secret, if it has one (`DescribeUserPoolClient`, cached).
    async fn client_secret(&self, tenant: &Tenant) -> Result<Option<Arc<str>>, DirectoryError> {
        if let Some(secret) = Self::cached(&self.secrets, &tenant.app_client_id) {
            return Ok(secret);
        }
        let out = self
            .client_for(tenant)
            .describe_user_pool_client()
            .user_pool_id(&tenant.user_pool_id)
            .client_id(&tenant.app_client_id)
            .send()
            .await
            .map_err(classify)
            .map_err(|e| match e {
                // a missing pool or client is a broken tenant record, not the caller's fault
                DirectoryError::ResourceNotFound => DirectoryError::Internal(
                    "the tenant's pool or app client does not exist".into(),
                ),
                other => other,
            })?;
        let secret = out
            .user_pool_client()
            .and_then(|c| c.client_secret())
            .map(Arc::from);
        Self::store(&self.secrets, &tenant.app_client_id, secret.clone());
        Ok(secret)
    }

    async fn hash_for(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<Option<String>, DirectoryError> {
        Ok(self
            .client_secret(tenant)
            .await?
            .map(|s| secret_hash(&s, user.as_str(), &tenant.app_client_id)))
    }
}

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

    async fn validate_access_token(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .get_user()
            .access_token(access_token)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
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
        Ok(Some(directory_user(
            out.username(),
            out.user_attributes(),
            out.user_status(),
            out.enabled(),
            out.user_create_date(),
            out.user_last_modified_date(),
        )))
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

    async fn sign_out_everywhere(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .global_sign_out()
            .access_token(access_token)
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

    async fn password_policy(&self, tenant: &Tenant) -> Result<PasswordPolicy, DirectoryError> {
        if let Some(policy) = Self::cached(&self.policies, &tenant.user_pool_id) {
            return Ok(policy);
        }
        let out = self
            .client_for(tenant)
            .describe_user_pool()
            .user_pool_id(&tenant.user_pool_id)
            .send()
            .await
            .map_err(classify)?;
        let policy = out
            .user_pool()
            .and_then(|p| p.policies())
            .and_then(|p| p.password_policy())
            .map(|p| PasswordPolicy {
                minimum_length: p
                    .minimum_length()
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(8),
                require_uppercase: p.require_uppercase(),
                require_lowercase: p.require_lowercase(),
                require_numbers: p.require_numbers(),
                require_symbols: p.require_symbols(),
            })
            .unwrap_or_default();
        Self::store(&self.policies, &tenant.user_pool_id, policy.clone());
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str, m: &str) -> DirectoryError {
        classify_code(Some(c), Some(m), 400)
    }

    #[test]
    fn not_authorized_is_told_apart_by_its_message() {
        assert!(matches!(
            code("NotAuthorizedException", "User is disabled."),
            DirectoryError::UserDisabled
        ));
        assert!(matches!(
            code("NotAuthorizedException", "Password attempts exceeded"),
            DirectoryError::PasswordAttemptsExceeded
        ));
        for m in [
            "Incorrect username or password.",
            "Invalid Refresh Token",
            "Refresh Token has been revoked",
            "Invalid session for the user, session is expired.",
        ] {
            assert!(
                matches!(
                    code("NotAuthorizedException", m),
                    DirectoryError::NotAuthorized
                ),
                "{m}"
            );
        }
    }

    #[test]
    fn unknown_errors_are_503_when_cognito_failed_and_500_otherwise() {
        assert!(matches!(
            classify_code(None, None, 502),
            DirectoryError::Unavailable(_)
        ));
        assert!(matches!(
            classify_code(Some("SomethingNew"), None, 400),
            DirectoryError::Internal(_)
        ));
    }

    #[test]
    fn a_pool_in_another_region_gets_a_client_of_its_region_made_once() {
        let config = aws_sdk_cognitoidentityprovider::Config::builder()
            .behavior_version(aws_sdk_cognitoidentityprovider::config::BehaviorVersion::latest())
            .region(aws_sdk_cognitoidentityprovider::config::Region::new(
                "us-east-1",
            ))
            .build();
        let directory = CognitoDirectory::new(Client::from_conf(config));
        let region = |pool: &str| {
            let tenant = Tenant {
                user_pool_id: pool.into(),
                ..crate::testing::tenant()
            };
            directory
                .client_for(&tenant)
                .config()
                .region()
                .map(|r| r.as_ref().to_string())
        };
        assert_eq!(region("us-east-1_abc").as_deref(), Some("us-east-1"));
        assert_eq!(region("eu-west-1_abc").as_deref(), Some("eu-west-1"));
        assert_eq!(region("eu-west-1_def").as_deref(), Some("eu-west-1"));
        assert_eq!(directory.regional.lock().unwrap().len(), 1);
    }

    #[test]
    fn the_secret_hash_matches_an_independent_computation() {
        // printf 'demo-userclient123' | openssl dgst -sha256 -hmac 's3cr3t-value' -binary | base64
        assert_eq!(
            secret_hash("s3cr3t-value", "demo-user", "client123"),
            "N98CFg5JdWPI/OdAusC0sUfGuzXOdM4Nl4n7HalRTFU="
        );
    }
}
