//! Cognito's errors, read as the domain's `DirectoryError`. Longer than most files on purpose:
//! one table from every modelled error of every operation the adapter calls, with a test per
//! row below it, reads better whole than split by operation.

use aws_sdk_cognitoidentityprovider::operation::{
    admin_disable_provider_for_user::AdminDisableProviderForUserError,
    admin_link_provider_for_user::AdminLinkProviderForUserError,
};
use aws_sdk_cognitoidentityprovider::{
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::{
        admin_create_user::AdminCreateUserError, admin_delete_user::AdminDeleteUserError,
        admin_disable_user::AdminDisableUserError, admin_enable_user::AdminEnableUserError,
        admin_get_user::AdminGetUserError, admin_reset_user_password::AdminResetUserPasswordError,
        admin_set_user_mfa_preference::AdminSetUserMFAPreferenceError,
        admin_set_user_password::AdminSetUserPasswordError,
        admin_update_user_attributes::AdminUpdateUserAttributesError,
        admin_user_global_sign_out::AdminUserGlobalSignOutError,
        associate_software_token::AssociateSoftwareTokenError,
        change_password::ChangePasswordError,
        complete_web_authn_registration::CompleteWebAuthnRegistrationError,
        confirm_forgot_password::ConfirmForgotPasswordError,
        delete_web_authn_credential::DeleteWebAuthnCredentialError,
        describe_user_pool::DescribeUserPoolError,
        describe_user_pool_client::DescribeUserPoolClientError,
        forgot_password::ForgotPasswordError, get_user::GetUserError,
        get_user_attribute_verification_code::GetUserAttributeVerificationCodeError,
        get_user_pool_mfa_config::GetUserPoolMfaConfigError, global_sign_out::GlobalSignOutError,
        initiate_auth::InitiateAuthError, list_users::ListUsersError,
        list_web_authn_credentials::ListWebAuthnCredentialsError,
        resend_confirmation_code::ResendConfirmationCodeError,
        respond_to_auth_challenge::RespondToAuthChallengeError, revoke_token::RevokeTokenError,
        start_web_authn_registration::StartWebAuthnRegistrationError,
        verify_software_token::VerifySoftwareTokenError,
        verify_user_attribute::VerifyUserAttributeError,
    },
};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::domain::directory::DirectoryError;

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
            } else if message.contains("required scopes") {
                // the API's own session without the self-service scope (the pool's pre token
                // generation trigger, or a concurrent session that replaced its code): no
                // wrong guess of the caller's, and nothing the caller can mend
                DirectoryError::Internal("the API's session lacks the self-service scope".into())
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
        // A trigger failed. The Pre Authentication lock check refuses with "account locked"
        // (Cognito: "PreAuthentication failed with error account locked."); anything else (a
        // trigger that could not read the account state, a custom-auth trigger's failure) is
        // a dependency failing closed, not a lock.
        "UserLambdaValidationException" if message.contains("failed with error account locked") => {
            DirectoryError::Locked
        }
        "UserLambdaValidationException" | "UnexpectedLambdaException" => {
            DirectoryError::Unavailable("a user pool trigger failed".into())
        }
        "ForbiddenException" => DirectoryError::Forbidden,
        "MfaMethodNotFoundException"
        | "SoftwareTokenMfaNotFoundException"
        | "SoftwareTokenMFANotFoundException" => {
            DirectoryError::Conflict("the user has no such MFA method set up")
        }
        // VerifySoftwareToken's answer to a wrong code ("Code mismatch and fail enable Software
        // Token MFA"); the modelled variant's name, or the wire code when unmodelled
        "EnableSoftwareTokenMfaException" | "EnableSoftwareTokenMFAException" => {
            DirectoryError::CodeMismatch
        }
        "InvalidUserPoolConfigurationException" => {
            DirectoryError::Conflict("the user pool does not offer this second factor")
        }
        "WebAuthnConfigurationMissingException" | "WebAuthnNotEnabledException" => {
            DirectoryError::Conflict("the user pool does not offer passkeys")
        }
        // the credential did not verify against what the pool expects
        "WebAuthnChallengeNotFoundException"
        | "WebAuthnClientMismatchException"
        | "WebAuthnCredentialNotSupportedException"
        | "WebAuthnOriginNotAllowedException"
        | "WebAuthnRelyingPartyMismatchException" => DirectoryError::InvalidParameter,
        "ConcurrentModificationException" => DirectoryError::Throttled,
        "TooManyRequestsException" => DirectoryError::Throttled,
        "LimitExceededException" | "TooManyFailedAttemptsException" => {
            DirectoryError::LimitExceeded
        }
        "InternalErrorException" => DirectoryError::Unavailable("Cognito internal error".into()),
        other if http_status >= 500 => {
            DirectoryError::Unavailable(format!("Cognito answered {http_status} ({other})"))
        }
        other => DirectoryError::Internal(format!("unexpected Cognito error {other:?}")),
    }
}

/// An operation error's modelled exception, read from its variant: the wire code is only the
/// fallback (for `Unhandled`), since a modelled error need not carry one.
pub(super) trait Modelled: ProvideErrorMetadata {
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

modelled!(GetUserAttributeVerificationCodeError {
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
    UserLambdaValidationException,
});
modelled!(VerifyUserAttributeError {
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
    CodeMismatchException,
    ExpiredCodeException,
    AliasExistsException,
});
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
modelled!(AdminLinkProviderForUserError {
    AliasExistsException,
    InternalErrorException,
    InvalidParameterException,
    LimitExceededException,
    NotAuthorizedException,
    ResourceNotFoundException,
    TooManyRequestsException,
    UserNotFoundException,
});
modelled!(AdminDisableProviderForUserError {
    AliasExistsException,
    InternalErrorException,
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
    TooManyRequestsException,
    UserNotFoundException,
});
modelled!(DescribeUserPoolError {
    NotAuthorizedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});
modelled!(GetUserPoolMfaConfigError {
    NotAuthorizedException,
    ResourceNotFoundException,
    InvalidParameterException,
    TooManyRequestsException,
    InternalErrorException,
});

modelled!(AssociateSoftwareTokenError {
    NotAuthorizedException,
    ResourceNotFoundException,
    InvalidParameterException,
    ConcurrentModificationException,
    SoftwareTokenMfaNotFoundException,
    InternalErrorException,
    ForbiddenException,
});
modelled!(VerifySoftwareTokenError {
    NotAuthorizedException,
    UserNotFoundException,
    UserNotConfirmedException,
    ResourceNotFoundException,
    InvalidParameterException,
    InvalidUserPoolConfigurationException,
    EnableSoftwareTokenMfaException,
    CodeMismatchException,
    SoftwareTokenMfaNotFoundException,
    PasswordResetRequiredException,
    TooManyRequestsException,
    InternalErrorException,
    ForbiddenException,
});
modelled!(RevokeTokenError {
    ForbiddenException,
    InternalErrorException,
    InvalidParameterException,
    OperationNotEnabledException,
    TooManyRequestsException,
    UnauthorizedException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
});
modelled!(StartWebAuthnRegistrationError {
    NotAuthorizedException,
    InvalidParameterException,
    LimitExceededException,
    TooManyRequestsException,
    InternalErrorException,
    ForbiddenException,
    WebAuthnConfigurationMissingException,
    WebAuthnNotEnabledException,
});
modelled!(CompleteWebAuthnRegistrationError {
    NotAuthorizedException,
    InvalidParameterException,
    LimitExceededException,
    TooManyRequestsException,
    InternalErrorException,
    ForbiddenException,
    WebAuthnChallengeNotFoundException,
    WebAuthnClientMismatchException,
    WebAuthnCredentialNotSupportedException,
    WebAuthnNotEnabledException,
    WebAuthnOriginNotAllowedException,
    WebAuthnRelyingPartyMismatchException,
});
modelled!(ListWebAuthnCredentialsError {
    NotAuthorizedException,
    InvalidParameterException,
    InternalErrorException,
    ForbiddenException,
});
modelled!(DeleteWebAuthnCredentialError {
    NotAuthorizedException,
    InvalidParameterException,
    ResourceNotFoundException,
    InternalErrorException,
    ForbiddenException,
});
modelled!(AdminSetUserMFAPreferenceError {
    NotAuthorizedException,
    UserNotFoundException,
    UserNotConfirmedException,
    ResourceNotFoundException,
    InvalidParameterException,
    PasswordResetRequiredException,
    InternalErrorException,
});

pub(super) fn classify<E: Modelled + std::error::Error + 'static>(
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
        // a token without the self-service scope is no wrong password (change-password's
        // budget) but the API's own fault
        assert!(matches!(
            code(
                "NotAuthorizedException",
                "Access Token does not have required scopes"
            ),
            DirectoryError::Internal(_)
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
    fn only_the_lock_checks_refusal_is_a_lock() {
        assert!(matches!(
            code(
                "UserLambdaValidationException",
                "PreAuthentication failed with error account locked."
            ),
            DirectoryError::Locked
        ));
        for m in [
            "PreAuthentication failed with error account state unavailable.",
            "VerifyAuthChallengeResponse failed with error account state unavailable.",
            "DefineAuthChallenge failed with error malformed trigger event.",
        ] {
            assert!(
                matches!(
                    code("UserLambdaValidationException", m),
                    DirectoryError::Unavailable(_)
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
}
