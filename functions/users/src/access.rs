//! Who may act on the path's user, and as whom: the guards every route of the group starts
//! with (an admin or the user, the user only, a recent sign-in), and the API's own session as
//! the user for the calls Cognito takes only the user's token for (`shared::session`).

use lambda_http::Request;
use shared::{
    ApiError, App, Call, Ports, domain::lock::CodePurpose, domain::tenant::Tenant,
    domain::token::Caller, domain::user_id::UserId, http::request::path_user_id,
};

use crate::Op;

/// The path's user (its username), for a caller who is an admin of the tenant or that user;
/// anyone else is refused with `refusal`. Also says whether the caller is an admin.
pub(crate) async fn admin_or_self<P: Ports>(
    app: &App<P>,
    req: &Request,
    tenant: &Tenant,
    refusal: &'static str,
) -> Result<(Caller, UserId, bool), ApiError> {
    let (caller, user) = caller_and_path_user(app, req, tenant).await?;
    let is_admin = caller.groups.iter().any(|g| g == &tenant.admin_group);
    if !is_admin && !is_self(&caller, &user) {
        return Err(ApiError::Forbidden(refusal));
    }
    Ok((caller, user, is_admin))
}

/// The bearer's caller and the path's user (an alias or `sub` resolved to the username).
async fn caller_and_path_user<P: Ports>(
    app: &App<P>,
    req: &Request,
    tenant: &Tenant,
) -> Result<(Caller, UserId), ApiError> {
    let user = path_user_id(req)?;
    let caller = app.caller(req, tenant).await?;
    Ok((caller, app.canonical(tenant, user).await?))
}

pub(crate) fn is_self(caller: &Caller, user: &UserId) -> bool {
    caller.username.to_lowercase() == user.as_str()
}

/// The path's user, for a caller who is that user (not an admin): the Cognito operations
/// that follow act on that account, through the API's own session as the user
/// ([`as_self`]). Returns the caller too.
pub(crate) async fn own_user<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    refusal: &'static str,
) -> Result<(UserId, Caller), ApiError> {
    let (caller, user) = caller_and_path_user(app, &call.req, &call.tenant).await?;
    if !is_self(&caller, &user) {
        return Err(ApiError::Forbidden(refusal));
    }
    Ok((user, caller))
}

/// How recent the sign-in behind a user's own token must be for them to change their second
/// factors (start an authenticator, turn codes on, remove a factor, a security key, a passkey)
/// or a recovery address: a token taken from a signed-in browser must not be enough to take
/// the second factor away or add a way around it (a refresh keeps the original sign-in's time).
/// An admin acting on their own account is held to it too.
pub(crate) const RECENT_SIGN_IN: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub(crate) fn ensure_recent_sign_in(caller: &Caller) -> Result<(), ApiError> {
    if caller.signed_in_within(RECENT_SIGN_IN, std::time::SystemTime::now()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "sign in again: changing a second factor, a passkey or a recovery address needs a \
             sign-in within the last 15 minutes",
        ))
    }
}

/// For an admin, a session of the user's own (`shared::session`, `CodePurpose::AdminAccess`):
/// Cognito lists and deletes passkeys only with the user's token, and has no admin variant.
/// The sign-in passes the user's lock (the Pre Authentication trigger lets a live admin-access
/// code through, for this one sign-in), so an admin can clear a locked account's passkeys; not
/// a disabled account's (403 `account-disabled`). Audited as `admin-access`, with the admin's
/// `sub`.
pub(crate) async fn as_user<P: Ports, T, F, Fut>(
    app: &App<P>,
    call: &Call<Op>,
    user: &UserId,
    admin: &str,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let tenant = &call.tenant;
    let session = async {
        let sub = app.enabled_account(tenant, user).await?;
        app.session_as(tenant, user, &sub, CodePurpose::AdminAccess, admin)
            .await
    }
    .await;
    app.record_outcome(tenant, user, &call.meta, admin, "admin-access", &session)
        .await;
    let tokens = session?;
    let out = work(tokens.access_token.clone()).await;
    app.end_code_session(tenant, &tokens).await;
    out
}

/// The signed-in user's own session of the API's (`shared::session`,
/// `CodePurpose::UserAccess`): what the calls Cognito takes only the user's token for run
/// with, since the caller's token has no scope for them. The bearer check read the account
/// already (enabled, the token's `sub`).
pub(crate) async fn as_self<P: Ports, T, F, Fut>(
    app: &App<P>,
    call: &Call<Op>,
    caller: &Caller,
    user: &UserId,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let purpose = CodePurpose::UserAccess;
    app.with_session_as(&call.tenant, user, &caller.sub, purpose, "self", work)
        .await
}
