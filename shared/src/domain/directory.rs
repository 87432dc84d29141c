//! The `Directory` port: what the functions ask of the identity provider (Cognito), in the
//! domain's terms. The Cognito adapter lives in `adapters::cognito`.

use std::future::Future;

use serde::Serialize;

pub use crate::domain::password_policy::PasswordPolicy;
use crate::{domain::tenant::Tenant, domain::user_id::UserId};

/// Tokens issued by the directory.
#[derive(Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    pub id_token: Option<String>,
    /// Absent on a refresh unless the pool rotates refresh tokens.
    pub refresh_token: Option<String>,
    pub expires_in: i32,
    pub token_type: String,
}

/// The contract's `AuthResult`: tokens, or the next challenge with its session.
#[derive(Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthResult {
    pub challenge_name: Option<String>,
    pub session: Option<String>,
    pub authentication_result: Option<Tokens>,
    /// For `WEB_AUTHN`: the public-key credential request options to hand to the browser's
    /// `navigator.credentials.get()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_request_options: Option<serde_json::Value>,
}

impl std::fmt::Debug for AuthResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResult")
            .field("challenge_name", &self.challenge_name)
            .field("session", &self.session.as_ref().map(|_| "<redacted>"))
            .field(
                "authentication_result",
                &self.authentication_result.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The challenges `POST /respond-to-auth-challenge` answers, with the response key Cognito
/// expects the caller's `code` under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    SoftwareTokenMfa,
    SmsMfa,
    EmailOtp,
    /// The `code` is the chosen factor (`SOFTWARE_TOKEN_MFA`, `SMS_MFA`, `EMAIL_OTP`).
    SelectMfaType,
    /// The answer is the passkey's assertion (`AuthenticationResponseJSON`), as JSON text.
    WebAuthn,
}

impl Challenge {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "SOFTWARE_TOKEN_MFA" => Some(Self::SoftwareTokenMfa),
            "SMS_MFA" => Some(Self::SmsMfa),
            "EMAIL_OTP" => Some(Self::EmailOtp),
            "SELECT_MFA_TYPE" => Some(Self::SelectMfaType),
            "WEB_AUTHN" => Some(Self::WebAuthn),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            Self::SmsMfa => "SMS_MFA",
            Self::EmailOtp => "EMAIL_OTP",
            Self::SelectMfaType => "SELECT_MFA_TYPE",
            Self::WebAuthn => "WEB_AUTHN",
        }
    }

    pub fn answer_key(self) -> &'static str {
        match self {
            Self::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA_CODE",
            Self::SmsMfa => "SMS_MFA_CODE",
            Self::EmailOtp => "EMAIL_OTP_CODE",
            Self::SelectMfaType => "ANSWER",
            Self::WebAuthn => "CREDENTIAL",
        }
    }
}

/// A passkey (WebAuthn credential) as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Passkey {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    pub name: Option<String>,
    #[serde(rename = "relyingPartyID")]
    pub relying_party_id: Option<String>,
    pub authenticator_attachment: Option<String>,
    pub transports: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: Option<String>,
}

/// A pool's passkey relying party (`WebAuthnConfiguration`): what every passkey ceremony of
/// its users names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// The relying party id (a domain).
    pub id: String,
    /// `required` or `preferred`.
    pub user_verification: String,
}

/// A directory failure, classified once in the adapter.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Wrong password, invalid refresh token, invalid or expired session.
    #[error("not authorized")]
    NotAuthorized,
    #[error("user not found")]
    UserNotFound,
    #[error("user disabled")]
    UserDisabled,
    #[error("user not confirmed")]
    UserNotConfirmed,
    #[error("password reset required")]
    PasswordResetRequired,
    /// Cognito's own built-in lockout ("Password attempts exceeded").
    #[error("password attempts exceeded")]
    PasswordAttemptsExceeded,
    #[error("invalid password")]
    InvalidPassword(Option<String>),
    #[error("code mismatch")]
    CodeMismatch,
    #[error("code expired")]
    CodeExpired,
    /// An unknown challenge session (what the emulator answers for a forged one).
    #[error("resource not found")]
    ResourceNotFound,
    #[error("conflict")]
    Conflict(&'static str),
    /// A sign-in trigger refused the user (the Pre Authentication lock check).
    #[error("locked")]
    Locked,
    /// The request was blocked before Cognito looked at it (AWS WAF on the pool).
    #[error("forbidden")]
    Forbidden,
    /// The directory refused a parameter the caller chose.
    #[error("invalid parameter")]
    InvalidParameter,
    #[error("throttled")]
    Throttled,
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// Where a code was sent (`CodeDeliveryDetails`), with the destination masked by Cognito.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeDelivery {
    pub destination: Option<String>,
    pub delivery_medium: Option<String>,
    pub attribute_name: Option<String>,
}

/// The contract's answer to a call that sent a code: `{"codeDeliveryDetails": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub code_delivery_details: CodeDelivery,
}

/// A contact a user verifies with a code sent to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    Email,
    Phone,
}

impl Contact {
    /// Cognito's attribute.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone_number",
        }
    }

    /// Cognito's attribute that says it is verified.
    pub fn verified_attribute(self) -> &'static str {
        match self {
            Self::Email => "email_verified",
            Self::Phone => "phone_number_verified",
        }
    }
}

/// A second factor the directory offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Factor {
    Totp,
    Sms,
    Email,
}

impl Factor {
    /// In the order a factor becomes preferred when the preferred one is removed: an
    /// authenticator app first (nothing to intercept), then SMS, then email.
    pub const ALL: [Factor; 3] = [Self::Totp, Self::Sms, Self::Email];

    /// Cognito's name (`UserMFASettingList`, `PreferredMfaSetting`, the challenge).
    pub fn cognito_name(self) -> &'static str {
        match self {
            Self::Totp => "SOFTWARE_TOKEN_MFA",
            Self::Sms => "SMS_MFA",
            Self::Email => "EMAIL_OTP",
        }
    }

    pub fn of_cognito(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.cognito_name() == name)
    }

    /// The contract's name (`GET /users/{userID}/authentication-methods`).
    pub fn method(self) -> &'static str {
        match self {
            Self::Totp => "TOTP",
            Self::Sms => "OTP_SMS",
            Self::Email => "OTP_EMAIL",
        }
    }
}

/// Whether a pool asks for a second factor (`MfaConfiguration`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MfaMode {
    /// No second factor, ever: factors cannot be enrolled.
    #[default]
    Off,
    /// Users with a factor are asked for it.
    Optional,
    /// Every user must have one: the last cannot be removed.
    On,
}

impl MfaMode {
    pub fn of_cognito(name: &str) -> Self {
        match name {
            "ON" => Self::On,
            "OPTIONAL" => Self::Optional,
            _ => Self::Off,
        }
    }
}

/// A user as the directory knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryUser {
    pub username: String,
    pub sub: Option<String>,
    /// Cognito's `UserStatus` (`CONFIRMED`, `FORCE_CHANGE_PASSWORD`, …).
    pub status: String,
    pub enabled: bool,
    /// Cognito attribute names (`email`, `email_verified`, `given_name`, …) to values.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// RFC 3339 UTC.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// The second factors turned on (`AdminGetUser` only: a user list does not carry them).
    pub factors: Vec<Factor>,
    /// The one Cognito asks for first, when several are on.
    pub preferred_factor: Option<Factor>,
}

impl DirectoryUser {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// Whether `attribute` (`email_verified`, `phone_number_verified`) says verified.
    pub fn verified(&self, attribute: &str) -> bool {
        self.attribute(attribute) == Some("true")
    }
}

/// A user to create.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: UserId,
    /// Cognito attribute names to values (`email`, `email_verified`, …).
    pub attributes: Vec<(String, String)>,
    pub temporary_password: Option<String>,
    /// Send Cognito's invitation message (`false`: `MessageAction=SUPPRESS`).
    pub send_invitation: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("send_invitation", &self.send_invitation)
            .finish_non_exhaustive()
    }
}

/// A page of users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<DirectoryUser>,
    pub pagination_token: Option<String>,
}

/// [`Directory::canonical_username`] by asking the directory (`find_user`): the username
/// Cognito answers with, folded, or the userID itself if it names no user. Adapters that skip
/// the lookup for some userIDs call this for the others.
pub async fn canonical_by_lookup<D: Directory + ?Sized>(
    directory: &D,
    tenant: &Tenant,
    user: &UserId,
) -> Result<UserId, DirectoryError> {
    Ok(directory
        .find_user(tenant, user)
        .await?
        .and_then(|u| UserId::of_cognito(&u.username))
        .unwrap_or_else(|| user.clone()))
}

/// The identity provider, as the functions use it.
pub trait Directory: Send + Sync {
    /// Checks a password (`USER_PASSWORD_AUTH`).
    fn password_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Trades a refresh token for new tokens (`REFRESH_TOKEN_AUTH`).
    fn refresh(
        &self,
        tenant: &Tenant,
        user: &UserId,
        refresh_token: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Answers `NEW_PASSWORD_REQUIRED` with the user's new password.
    fn complete_new_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        session: &str,
        new_password: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Answers an MFA challenge with the caller's code.
    fn answer_challenge(
        &self,
        tenant: &Tenant,
        user: &UserId,
        challenge: Challenge,
        session: &str,
        code: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// The user, or `None` if the pool has no such user (`AdminGetUser`).
    fn find_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<DirectoryUser>, DirectoryError>> + Send;

    /// The username a userID names, folded as the pool folds it; the userID itself if it names
    /// no user. Cognito takes a username, any alias (a verified email or phone, a
    /// `preferred_username`) or the `sub` wherever it takes a `Username`, so a lock, a lockout
    /// counter or an audit entry is kept under the one name that does not change. An adapter
    /// may skip the lookup where the pool's configuration shows the userID can only be a
    /// username.
    fn canonical_username(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<UserId, DirectoryError>> + Send {
        canonical_by_lookup(self, tenant, user)
    }

    /// Revokes every refresh token of the user (`AdminUserGlobalSignOut`).
    fn global_sign_out(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Sends the user a password-reset code (`ForgotPassword`).
    fn forgot_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<CodeDelivery, DirectoryError>> + Send;

    /// Sets a new password with the code sent by `forgot_password` (`ConfirmForgotPassword`).
    fn confirm_forgot_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        code: &str,
        new_password: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Changes the password of the token's user, checking the previous one (`ChangePassword`).
    fn change_password(
        &self,
        tenant: &Tenant,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminResetUserPassword`: the user must reset through the forgot-password flow.
    fn admin_reset_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminEnableUser` / `AdminDisableUser`.
    fn set_enabled(
        &self,
        tenant: &Tenant,
        user: &UserId,
        enabled: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `ResendConfirmationCode` for a user who signed up and has not confirmed.
    fn resend_confirmation_code(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<CodeDelivery, DirectoryError>> + Send;

    /// `AdminCreateUser` with `MessageAction=RESEND`: the invitation again, with a new
    /// temporary password and a new validity window.
    fn resend_invitation(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminCreateUser`.
    fn create_user(
        &self,
        tenant: &Tenant,
        user: &NewUser,
    ) -> impl Future<Output = Result<DirectoryUser, DirectoryError>> + Send;

    /// `AdminSetUserPassword` (an import's permanent password).
    fn set_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
        permanent: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminUpdateUserAttributes`.
    fn update_attributes(
        &self,
        tenant: &Tenant,
        user: &UserId,
        attributes: &[(String, String)],
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Sends the token's user a code to verify `contact` with: the pending new address where
    /// the pool holds one, else the current one (`GetUserAttributeVerificationCode`).
    fn send_contact_code(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
    ) -> impl Future<Output = Result<CodeDelivery, DirectoryError>> + Send;

    /// Verifies `contact` of the token's user with the code sent (`VerifyUserAttribute`); a
    /// pending new address takes effect.
    fn verify_contact(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
        code: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Starts a TOTP authenticator for the token's user and returns its secret (base32,
    /// `AssociateSoftwareToken`). It takes effect only once a code from it is verified.
    fn start_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> impl Future<Output = Result<String, DirectoryError>> + Send;

    /// Verifies a code from the authenticator `start_totp` began (`VerifySoftwareToken`); a
    /// wrong code is `CodeMismatch`.
    fn confirm_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
        code: &str,
        friendly_name: Option<&str>,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Turns a second factor on or off for the user, and makes it the preferred one or not
    /// (`AdminSetUserMFAPreference`, this factor's settings only).
    fn set_factor(
        &self,
        tenant: &Tenant,
        user: &UserId,
        factor: Factor,
        enabled: bool,
        preferred: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Whether the pool asks for second factors (`DescribeUserPool`, cached by the adapter).
    fn mfa_mode(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<MfaMode, DirectoryError>> + Send;

    /// The pool's passkey relying party (`GetUserPoolMfaConfig`'s `WebAuthnConfiguration`,
    /// cached), or `None` where it has none.
    fn passkey_relying_party(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<Option<RelyingParty>, DirectoryError>> + Send;

    /// Whether the pool signs in with passkeys (`DescribeUserPool`'s sign-in policy, cached).
    fn offers_passkeys(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<bool, DirectoryError>> + Send;

    /// Starts registering a passkey for the token's user: the credential creation options
    /// for the browser (`StartWebAuthnRegistration`).
    fn start_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> impl Future<Output = Result<serde_json::Value, DirectoryError>> + Send;

    /// Completes it with the browser's `RegistrationResponseJSON`
    /// (`CompleteWebAuthnRegistration`, which verifies the attestation).
    fn complete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// The token's user's passkeys (`ListWebAuthnCredentials`, every page).
    fn list_passkeys(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> impl Future<Output = Result<Vec<Passkey>, DirectoryError>> + Send;

    /// `DeleteWebAuthnCredential` of the token's user.
    fn delete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Starts a passkey sign-in (`USER_AUTH` with `PREFERRED_CHALLENGE=WEB_AUTHN`): the
    /// `WEB_AUTHN` challenge with its request options, or `NotAuthorized` when the user has
    /// no passkey to ask for (an unknown user alike).
    fn passkey_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// A custom sign-in with a passkey registration code: `InitiateAuth` `CUSTOM_AUTH`, then its
    /// one `CUSTOM_CHALLENGE` answered with the code (the pool's custom-auth triggers check
    /// it). The user's tokens, or `NotAuthorized` for a code that is not theirs.
    fn code_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        code: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// `RevokeToken`: the refresh token and every token issued from it (a custom sign-in's,
    /// once the API has used it).
    fn revoke_refresh_token(
        &self,
        tenant: &Tenant,
        refresh_token: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Exchanges an authorization code of the tenant's pool domain for the pool's tokens
    /// (`POST <domain>/oauth2/token`, `authorization_code`, the app client's secret and the
    /// PKCE verifier). A code the pool refuses (spent, expired, another verifier's) is
    /// `NotAuthorized`.
    fn exchange_code(
        &self,
        tenant: &Tenant,
        federation: &crate::domain::tenant::Federation,
        code: &str,
        verifier: &str,
    ) -> impl Future<Output = Result<Tokens, DirectoryError>> + Send;

    /// `AdminLinkProviderForUser`: the provider's identity (its subject) signs in as `user`
    /// from now on.
    fn link_identity(
        &self,
        tenant: &Tenant,
        user: &UserId,
        idp_name: &str,
        idp_user_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminDisableProviderForUser`: the identity's link is removed.
    fn unlink_identity(
        &self,
        tenant: &Tenant,
        idp_name: &str,
        idp_user_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminDeleteUser`.
    fn delete_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `ListUsers` with at most one filter (Cognito's filter syntax, built by the caller).
    fn list_users(
        &self,
        tenant: &Tenant,
        filter: Option<&str>,
        limit: i32,
        pagination_token: Option<&str>,
    ) -> impl Future<Output = Result<UserPage, DirectoryError>> + Send;

    /// The pool's password policy (cached by the adapter).
    fn password_policy(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<PasswordPolicy, DirectoryError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_results_never_print_tokens() {
        let r = AuthResult {
            challenge_name: None,
            session: Some("sess-secret".into()),
            authentication_result: Some(Tokens {
                access_token: "tok-secret".into(),
                id_token: None,
                refresh_token: None,
                expires_in: 3600,
                token_type: "Bearer".into(),
            }),
            credential_request_options: None,
        };
        let printed = format!("{r:?}");
        assert!(!printed.contains("secret"), "{printed}");
    }
}
