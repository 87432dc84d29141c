//! Every failure a route can answer with, and its RFC 7807 rendering.
//!
//! One enum, one status and slug per variant (the contract's table in `api.md`). Internal
//! causes travel in the variant only so that they can be logged; [`ApiError::problem`] never
//! puts them in a response.

use std::time::Duration;

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
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_)
            | Self::MissingHeader(_)
            | Self::InvalidPassword(_)
            | Self::CodeMismatch
            | Self::CodeExpired => StatusCode::BAD_REQUEST,
            Self::InvalidTenant | Self::Unauthenticated(_) | Self::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_)
            | Self::AccountLocked
            | Self::AccountDisabled
            | Self::PasswordResetRequired
            | Self::AccountUnconfirmed => StatusCode::FORBIDDEN,
            Self::UserNotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DependencyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The contract's slug, also used as the audit outcome and the log's `outcome` field.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid-request",
            Self::MissingHeader(_) => "missing-header",
            Self::InvalidPassword(_) => "invalid-password",
            Self::CodeMismatch => "code-mismatch",
            Self::CodeExpired => "code-expired",
            Self::InvalidTenant => "invalid-tenant",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::InvalidCredentials => "invalid-credentials",
            Self::Forbidden(_) => "forbidden",
            Self::AccountLocked => "account-locked",
            Self::AccountDisabled => "account-disabled",
            Self::PasswordResetRequired => "password-reset-required",
            Self::AccountUnconfirmed => "account-unconfirmed",
            Self::UserNotFound => "user-not-found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::DependencyUnavailable(_) => "dependency-unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "The request is not valid",
            Self::MissingHeader(_) => "A required header is missing",
            Self::InvalidPassword(_) => "The password does not meet the policy",
            Self::CodeMismatch => "The code is not correct",
            Self::CodeExpired => "The code has expired",
            Self::InvalidTenant => "Unknown tenant",
            Self::Unauthenticated(_) => "Authentication required",
            Self::InvalidCredentials => "Invalid credentials",
            Self::Forbidden(_) => "Forbidden",
            Self::AccountLocked => "The account is locked",
            Self::AccountDisabled => "The account is disabled",
            Self::PasswordResetRequired => "A password reset is required",
            Self::AccountUnconfirmed => "The account is not confirmed",
            Self::UserNotFound => "User not found",
            Self::Conflict(_) => "Conflict",
            Self::PayloadTooLarge { .. } => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::DependencyUnavailable(_) => "A dependency is unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    /// What the caller is told. Variants that carry an internal cause get a fixed text.
    fn detail(&self) -> String {
        match self {
            Self::InvalidRequest(d) | Self::InvalidPassword(d) => d.clone(),
            Self::MissingHeader(h) => format!("the header `{h}` is required"),
            Self::CodeMismatch => "the code does not match".into(),
            Self::CodeExpired => "the code has expired; request a new one".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
