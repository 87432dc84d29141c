//! What stands around every credential check of the group: the lock check before it, the
//! answer as the tenant shows it (`hideAccountState`), and the time a refusal teaches or is
//! held to (`shared::latency`), so a locked account's refusal cannot be told from a wrong
//! password by its timing.

use shared::{
    ApiError, App, Call, Ports,
    domain::directory::DirectoryError,
    domain::lock::{Lock, Locks},
    domain::tenant::Tenant,
    domain::user_id::UserId,
};

use crate::Op;

/// The answer as the tenant shows it: with `hideAccountState`, account states read as
/// invalid credentials.
pub(crate) fn visible<T>(tenant: &Tenant, result: Result<T, ApiError>) -> Result<T, ApiError> {
    if tenant.hide_account_state {
        result.map_err(ApiError::hide_account_state)
    } else {
        result
    }
}

/// A password check's failure as the caller sees it. Cognito's own lockout ("Password attempts
/// exceeded") only ever happens to an existing user: with `hideAccountState` it reads as the
/// wrong password an unknown user gets, not as a 429 that would tell them apart.
pub(crate) fn sign_in_error(tenant: &Tenant, e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::PasswordAttemptsExceeded if tenant.hide_account_state => {
            ApiError::InvalidCredentials
        }
        other => other.into(),
    }
}

/// What a route is about to do, for the lock check before it.
#[derive(Clone, Copy)]
pub(crate) enum Guarded {
    /// A password or a code goes to Cognito: any lock refuses it.
    Credential,
    /// An existing session is used (refresh): only a lock that refuses sessions (an admin
    /// lock) stops it; a lockout stops password guessing, not live sessions.
    Session,
}

/// Refuses a locked account. Fails closed: if the lock cannot be read, nothing goes on.
pub(crate) async fn ensure_unlocked<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    guarded: Guarded,
) -> Result<(), ApiError> {
    let lock = app.locks.state(&tenant.user_pool_id, user).await?.lock;
    let refused = match guarded {
        Guarded::Credential => lock.is_some(),
        Guarded::Session => lock.as_ref().is_some_and(Lock::refuses_sessions),
    };
    if refused {
        Err(ApiError::AccountLocked)
    } else {
        Ok(())
    }
}

/// How a credential check ended, for the time it teaches or is held to (`shared::latency`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checked {
    /// Cognito refused the credential (a wrong password, an unknown user, a bad code or
    /// session): the request's time is a sample of what a refusal takes.
    Refused,
    /// A lock refused it before any check.
    Locked,
    /// Anything else (a success, a dependency failure, a busy budget): neither.
    Neither,
}

/// After the answer is made (audit included): learn from a refused check, or, where the
/// tenant hides account states, hold a lock's refusal to a refused check's time. Without
/// `hideAccountState` the answer says `account-locked` anyway, and holding it would only cost.
pub(crate) async fn hold<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    call: &Call<Op>,
    checked: Checked,
) {
    hold_as(app, tenant, call, call.route.name, checked).await;
}

/// [`hold`] under `route`: a passkey's steps keep samples of their own, since a refused passkey
/// start or assertion takes another time than a refused password or code.
pub(crate) async fn hold_as<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    call: &Call<Op>,
    route: &str,
    checked: Checked,
) {
    let (pool, received) = (&tenant.user_pool_id, call.meta.received);
    match checked {
        Checked::Refused => app.latencies.record(pool, route, received.elapsed()),
        Checked::Locked if tenant.hide_account_state => {
            let floor = app.config.refusal_floor;
            app.latencies.pad(pool, route, received, floor).await;
        }
        Checked::Locked | Checked::Neither => {}
    }
}

/// Whether Cognito refused the credential itself, rather than failing to check it.
pub(crate) fn refused(e: &DirectoryError) -> bool {
    matches!(
        e,
        DirectoryError::NotAuthorized
            | DirectoryError::UserNotFound
            | DirectoryError::CodeMismatch
            | DirectoryError::CodeExpired
            | DirectoryError::ResourceNotFound
    )
}

pub(crate) fn checked_of<T>(outcome: &Result<T, DirectoryError>) -> Checked {
    match outcome {
        Err(e) if refused(e) => Checked::Refused,
        _ => Checked::Neither,
    }
}

/// A failed lock check: a refusal for a lock, or a store that could not be read.
pub(crate) fn lock_refusal<T>(e: ApiError) -> (Result<T, ApiError>, Checked) {
    let checked = match e {
        ApiError::AccountLocked => Checked::Locked,
        _ => Checked::Neither,
    };
    (Err(e), checked)
}
