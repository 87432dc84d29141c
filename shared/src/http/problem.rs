//! Every failure a route can answer with, and its RFC 7807 rendering.
//!
//! One enum, one status and slug per variant (the contract's table in `infra/docs/api.md`,
//! "Problems"). Internal causes travel in the variant only so that they can be logged;
//! [`ApiError::problem`] never puts them in a response.

use std::time::Duration;

use crate::domain::{
    directory::DirectoryError,
    store::{Chain, StoreError},
};

use http::StatusCode;
use serde::Serialize;

/// The contract's problem object (`error` in the envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub instance: String,
}

/// A failure, classified once, rendered the same way by every function.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid-request`: the body or a path parameter is malformed. The detail is ours,
    /// never an echo of a value the caller sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// 400 `missing-header`: a `vbasoftware-*` header is absent or empty.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// 400 `invalid-password`: the proposed password breaks the pool's policy; the detail names the rule.
    #[error("invalid password: {0}")]
    InvalidPassword(String),
    /// 400 `code-mismatch`.
    #[error("code mismatch")]
    CodeMismatch,
    /// 400 `code-expired`.
    #[error("code expired")]
    CodeExpired,
    /// 400 `invalid-intent`: an identity provider's intent (or its `state`) that is unknown,
    /// spent, or not opened by the token given: one answer for all.
    #[error("invalid intent")]
    InvalidIntent,
    /// 400 `intent-expired`: the intent's holder came back too late.
    #[error("intent expired")]
    IntentExpired,
    /// 400 `redirect-not-allowed`: a redirect URL the tenant did not register.
    #[error("redirect not allowed")]
    RedirectNotAllowed,
    /// 400 `idp-failed`: the identity provider refused or did not finish the sign-in.
    #[error("identity provider failed: {0}")]
    IdpFailed(String),
    /// 401 `invalid-tenant`: the tenant headers match no registered tenant.
    #[error("unknown tenant")]
    InvalidTenant,
    /// 401 `unauthenticated`: bearer token missing or not valid for this tenant.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// 401 `invalid-credentials`: one answer for wrong password, unknown user, bad refresh
    /// token and bad session, so that none of them tells which it was.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403 `forbidden`.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 403 `account-locked`.
    #[error("account locked")]
    AccountLocked,
    /// 403 `account-disabled`.
    #[error("account disabled")]
    AccountDisabled,
    /// 403 `password-reset-required`.
    #[error("password reset required")]
    PasswordResetRequired,
    /// 403 `account-unconfirmed`.
    #[error("account unconfirmed")]
    AccountUnconfirmed,
    /// 404 `user-not-found` (admin routes only).
    #[error("user not found")]
    UserNotFound,
    /// 409 `conflict`.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 413 `payload-too-large`.
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// 422 `idempotency-key-reused`: the `Idempotency-Key` was the caller's for another request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 415 `unsupported-media-type`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429 `too-many-requests`, with the `Retry-After` the caller should honour.
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
    /// 503 `dependency-unavailable`: Cognito or DynamoDB unreachable or timing out. Fail closed.
    #[error("dependency unavailable: {0}")]
    DependencyUnavailable(String),
    /// 500 `internal`: the cause is logged, the client gets a generic detail.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// A request whose dependencies did not answer before its deadline
    /// (`crate::deadline`): unavailable, as a dependency that times out is.
    pub fn out_of_time() -> Self {
        Self::DependencyUnavailable(
            "the request's deadline passed before its dependencies answered".into(),
        )
    }

    /// The contract's row for this failure (`infra/docs/api.md`, "Problems"): status, slug, title.
    /// The detail is apart, as the only part that reads the variant's data.
    #[rustfmt::skip]
    fn row(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Self::InvalidRequest(_) => (S::BAD_REQUEST, "invalid-request", "The request is not valid"),
            Self::MissingHeader(_) => (S::BAD_REQUEST, "missing-header", "A required header is missing"),
            Self::InvalidPassword(_) => (S::BAD_REQUEST, "invalid-password", "The password does not meet the policy"),
            Self::CodeMismatch => (S::BAD_REQUEST, "code-mismatch", "The code is not correct"),
            Self::CodeExpired => (S::BAD_REQUEST, "code-expired", "The code has expired"),
            Self::InvalidIntent => (S::BAD_REQUEST, "invalid-intent", "The intent is not valid"),
            Self::IntentExpired => (S::BAD_REQUEST, "intent-expired", "The intent has expired"),
            Self::RedirectNotAllowed => (S::BAD_REQUEST, "redirect-not-allowed", "The redirect URL is not allowed"),
            Self::IdpFailed(_) => (S::BAD_REQUEST, "idp-failed", "The identity provider did not sign the user in"),
            Self::InvalidTenant => (S::UNAUTHORIZED, "invalid-tenant", "Unknown tenant"),
            Self::Unauthenticated(_) => (S::UNAUTHORIZED, "unauthenticated", "Authentication required"),
            Self::InvalidCredentials => (S::UNAUTHORIZED, "invalid-credentials", "Invalid credentials"),
            Self::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Forbidden"),
            Self::AccountLocked => (S::FORBIDDEN, "account-locked", "The account is locked"),
            Self::AccountDisabled => (S::FORBIDDEN, "account-disabled", "The account is disabled"),
            Self::PasswordResetRequired => (S::FORBIDDEN, "password-reset-required", "A password reset is required"),
            Self::AccountUnconfirmed => (S::FORBIDDEN, "account-unconfirmed", "The account is not confirmed"),
            Self::UserNotFound => (S::NOT_FOUND, "user-not-found", "User not found"),
            Self::Conflict(_) => (S::CONFLICT, "conflict", "Conflict"),
            Self::PayloadTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large"),
            Self::IdempotencyKeyReused => (S::UNPROCESSABLE_ENTITY, "idempotency-key-reused", "The idempotency key was used for another request"),
            Self::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type"),
            Self::TooManyRequests { .. } => (S::TOO_MANY_REQUESTS, "too-many-requests", "Too many requests"),
            Self::DependencyUnavailable(_) => (S::SERVICE_UNAVAILABLE, "dependency-unavailable", "A dependency is unavailable"),
            Self::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.row().0
    }

    /// The contract's slug, also used as the audit outcome and the log's `outcome` field.
    pub fn slug(&self) -> &'static str {
        self.row().1
    }

    fn title(&self) -> &'static str {
        self.row().2
    }

    /// What the caller is told. Variants that carry an internal cause get a fixed text.
    fn detail(&self) -> String {
        match self {
            Self::InvalidRequest(d) | Self::InvalidPassword(d) => d.clone(),
            Self::MissingHeader(h) => format!("the header `{h}` is required"),
            Self::CodeMismatch => "the code does not match".into(),
            Self::CodeExpired => "the code has expired; request a new one".into(),
            Self::InvalidIntent => {
                "the intent is unknown or spent, or the token given is not its own".into()
            }
            Self::IntentExpired => "the intent has expired; start a new one".into(),
            Self::RedirectNotAllowed => "the redirect URL is not registered for this tenant".into(),
            Self::IdpFailed(_) => "the identity provider did not complete the sign-in".into(),
            Self::InvalidTenant => "the tenant headers match no registered tenant".into(),
            Self::Unauthenticated(why) => format!("a valid bearer access token is required: {why}"),
            Self::InvalidCredentials => "the credentials are not valid".into(),
            Self::Forbidden(why) => (*why).into(),
            Self::AccountLocked => "the account is locked".into(),
            Self::AccountDisabled => "the account is disabled".into(),
            Self::PasswordResetRequired => {
                "the password was reset; use the forgot-password flow".into()
            }
            Self::AccountUnconfirmed => "the account has not been confirmed".into(),
            Self::UserNotFound => "no such user".into(),
            Self::Conflict(why) => (*why).into(),
            Self::PayloadTooLarge { limit } => format!("the body is larger than {limit} bytes"),
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was used for another request (another method, path or \
                 body): use a new key for a new request"
                    .into()
            }
            Self::UnsupportedMediaType => "the body must be application/json".into(),
            Self::TooManyRequests { retry_after } => {
                format!("retry after {} seconds", retry_after.as_secs().max(1))
            }
            Self::DependencyUnavailable(_) => {
                "a backing service is unavailable; retry later".into()
            }
            Self::Internal(_) => "an unexpected error occurred".into(),
        }
    }

    /// Cognito refused a passkey's registration: the browser's answer does not fit the pool's
    /// relying party or the challenge it made (a route's own token or a registration code's).
    pub fn credential_not_verified() -> Self {
        Self::InvalidRequest(
            "the credential did not verify against this pool's relying party and challenge".into(),
        )
    }

    /// Seconds for the `Retry-After` header, where the status calls for one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after } => Some(retry_after.as_secs().max(1)),
            Self::DependencyUnavailable(_) => Some(1),
            _ => None,
        }
    }

    /// Whether the cause is ours (logged at error level) rather than the caller's.
    pub fn is_server_side(&self) -> bool {
        self.status().is_server_error()
    }

    pub fn problem(&self, path: &str, activity_id: &str) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.slug()),
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.detail(),
            instance: format!("{path}#{activity_id}"),
        }
    }

    /// The answer of `confirm-forgot-password` for a tenant with `hideAccountState`: what an
    /// unknown user gets (a wrong code), also for a disabled, unconfirmed, locked or
    /// reset-required account, and for an expired code (only a real user has one).
    pub fn hide_account_state_of_recovery(self) -> Self {
        match self {
            Self::AccountLocked
            | Self::AccountDisabled
            | Self::AccountUnconfirmed
            | Self::PasswordResetRequired
            | Self::CodeExpired => Self::CodeMismatch,
            other => other,
        }
    }

    /// The answer on sign-in routes of a tenant with `hideAccountState`: account states fold
    /// into `invalid-credentials`, so that a caller cannot tell which accounts exist.
    pub fn hide_account_state(self) -> Self {
        match self {
            Self::AccountLocked
            | Self::AccountDisabled
            | Self::AccountUnconfirmed
            | Self::PasswordResetRequired => Self::InvalidCredentials,
            other => other,
        }
    }
}

impl DirectoryError {
    /// The admin routes' mapping: an admin may learn that a user does not exist (404).
    pub fn for_admin(self) -> ApiError {
        match self {
            DirectoryError::UserNotFound => ApiError::UserNotFound,
            other => other.into(),
        }
    }
}

impl From<DirectoryError> for ApiError {
    /// The self-service mapping: nothing here reveals whether a user exists.
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotAuthorized
            | DirectoryError::UserNotFound
            | DirectoryError::ResourceNotFound => ApiError::InvalidCredentials,
            DirectoryError::UserDisabled => ApiError::AccountDisabled,
            DirectoryError::Locked => ApiError::AccountLocked,
            DirectoryError::Forbidden => ApiError::Forbidden("the request was blocked"),
            DirectoryError::UserNotConfirmed => ApiError::AccountUnconfirmed,
            DirectoryError::PasswordResetRequired => ApiError::PasswordResetRequired,
            DirectoryError::PasswordAttemptsExceeded => ApiError::TooManyRequests {
                retry_after: Duration::from_secs(30),
            },
            DirectoryError::InvalidPassword(rule) => ApiError::InvalidPassword(
                rule.unwrap_or_else(|| "the password does not meet the pool's policy".into()),
            ),
            DirectoryError::CodeMismatch => ApiError::CodeMismatch,
            DirectoryError::CodeExpired => ApiError::CodeExpired,
            DirectoryError::Conflict(why) => ApiError::Conflict(why),
            DirectoryError::InvalidParameter => ApiError::InvalidRequest(
                "the identity provider rejected a parameter of the request".into(),
            ),
            DirectoryError::Throttled | DirectoryError::LimitExceeded => {
                ApiError::TooManyRequests {
                    retry_after: Duration::from_secs(1),
                }
            }
            DirectoryError::Unavailable(cause) => ApiError::DependencyUnavailable(cause),
            DirectoryError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::domain::user_id::InvalidUserId> for ApiError {
    fn from(e: crate::domain::user_id::InvalidUserId) -> Self {
        ApiError::InvalidRequest(e.to_string())
    }
}

impl From<crate::domain::tenant::TenantError> for ApiError {
    fn from(e: crate::domain::tenant::TenantError) -> Self {
        match e {
            crate::domain::tenant::TenantError::Unknown => ApiError::InvalidTenant,
            crate::domain::tenant::TenantError::Store(e) => e.into(),
        }
    }
}

impl From<crate::adapters::jwks::TokenError> for ApiError {
    fn from(e: crate::adapters::jwks::TokenError) -> Self {
        use crate::adapters::jwks::TokenError;
        match e {
            TokenError::Rejected(why) => ApiError::Unauthenticated(why),
            TokenError::Unavailable(cause) => ApiError::DependencyUnavailable(cause),
            TokenError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::seal::SealError> for ApiError {
    fn from(e: crate::seal::SealError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// The one place a store's failure becomes the caller's problem.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::DependencyUnavailable(Chain(&e).to_string()),
            StoreError::Throttled { retry_after } => Self::TooManyRequests { retry_after },
            StoreError::InvalidCursor => {
                Self::InvalidRequest("`cursor` is not a cursor this API returned".into())
            }
            StoreError::Internal(_) => Self::Internal(Chain(&e).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_service_never_reveals_an_unknown_user() {
        let a: ApiError = DirectoryError::UserNotFound.into();
        let b: ApiError = DirectoryError::NotAuthorized.into();
        assert_eq!(a.slug(), b.slug());
        assert_eq!(a.problem("/x", "1"), b.problem("/x", "1"));
    }

    #[test]
    fn internal_causes_never_reach_the_problem() {
        let err = ApiError::Internal("secret cause: table xyz".into());
        let p = err.problem("/user-authentication", "abc");
        assert_eq!(p.status, 500);
        assert_eq!(p.kind, "/problems/internal");
        assert!(!p.detail.contains("xyz"));
        assert_eq!(p.instance, "/user-authentication#abc");
        let err = ApiError::DependencyUnavailable("dispatch failure to 127.0.0.1".into());
        assert!(!err.problem("/", "a").detail.contains("127.0.0.1"));
    }

    #[test]
    fn hidden_account_state_folds_into_invalid_credentials() {
        for e in [
            ApiError::AccountLocked,
            ApiError::AccountDisabled,
            ApiError::AccountUnconfirmed,
            ApiError::PasswordResetRequired,
        ] {
            assert_eq!(e.hide_account_state().slug(), "invalid-credentials");
        }
        assert_eq!(
            ApiError::TooManyRequests {
                retry_after: Duration::from_secs(3)
            }
            .hide_account_state()
            .slug(),
            "too-many-requests"
        );
    }

    #[test]
    fn throttling_carries_retry_after() {
        let e = ApiError::TooManyRequests {
            retry_after: Duration::from_secs(5),
        };
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after(), Some(5));
    }
}
