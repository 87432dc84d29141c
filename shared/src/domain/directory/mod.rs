//! The `Directory` port: what the functions ask of the identity provider (Cognito), in the
//! domain's terms. The Cognito adapter lives in `adapters::cognito`.

mod ports;
pub use ports::*;

use serde::{Deserialize, Serialize};

pub use crate::domain::password_policy::PasswordPolicy;
use crate::{domain::tenant::Tenant, domain::user_id::UserId};

/// Tokens issued by the directory (kept sealed while a sign-in waits for a security key).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
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
    /// Cognito's limit on one account's requests (`LimitExceededException`: too many codes
    /// asked for, "Attempt limit exceeded"; `TooManyFailedAttemptsException`: too many wrong
    /// ones): about that user, where `Throttled` is about the caller's rate. A route that
    /// answers an unknown user alike answers this alike too.
    #[error("limit exceeded")]
    LimitExceeded,
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
