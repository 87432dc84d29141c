//! The `auth` group: sign-in, token refresh, temporary-password change and MFA challenge
//! responses. Each route checks the account's lock before any credential reaches Cognito.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::{
    ApiError, App, Reply,
    directory::{AuthResult, Challenge, Directory},
    lock::LockStore,
    request::{RequestMeta, Route, UserId, json_body},
    tenant::{Tenant, TenantRegistry},
    validate::{Code, Password, RefreshToken, Session, Text},
};

const fn post(path: &'static str, name: &'static str) -> Route {
    Route {
        method: "POST",
        path,
        name,
    }
}

/// The routes this function serves.
pub const ROUTES: &[Route] = &[
    post("/user-authentication", "user-authentication"),
    post("/user-refresh-tokens", "user-refresh-tokens"),
    post("/change-temporary-password", "change-temporary-password"),
    post("/respond-to-auth-challenge", "respond-to-auth-challenge"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    #[serde(rename = "userID")]
    user_id: UserId,
    password: Password,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Refresh {
    #[serde(rename = "userID")]
    user_id: UserId,
    refresh_token: RefreshToken,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewPassword {
    #[serde(rename = "userID")]
    user_id: UserId,
    new_password: Password,
    session: Session,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChallengeAnswer {
    #[serde(rename = "userID")]
    user_id: UserId,
    session: Session,
    challenge_name: Text<64>,
    code: Code,
}

/// The Lambda entry point of the group.
pub async fn handle<D, L, T>(app: &App<D, L, T>, req: Request) -> Response<Body>
where
    D: Directory,
    L: LockStore,
    T: TenantRegistry,
{
    shared::serve(req, |req, meta| route(app, req, meta)).await
}

async fn route<D, L, T>(
    app: &App<D, L, T>,
    req: Request,
    meta: RequestMeta,
) -> Result<Reply, ApiError>
where
    D: Directory,
    L: LockStore,
    T: TenantRegistry,
{
    let name = shared::request::route_name(&req, ROUTES)?;
    tracing::Span::current().record("route", name);
    let tenant = app.tenant(&req, &meta).await?;
    let limit = app.config.body_limit_bytes;
    let result = match name {
        "user-authentication" => sign_in(app, &tenant, json_body(&req, limit)?).await,
        "user-refresh-tokens" => refresh(app, &tenant, json_body(&req, limit)?).await,
        "change-temporary-password" => new_password(app, &tenant, json_body(&req, limit)?).await,
        _ => answer_challenge(app, &tenant, json_body(&req, limit)?).await,
    };
    let result = if tenant.hide_account_state {
        result.map_err(ApiError::hide_account_state)
    } else {
        result
    };
    Reply::ok(&result?)
}

/// Refuses a locked account. Fails closed: if the lock cannot be read, nothing goes on.
async fn ensure_unlocked<L: LockStore>(
    locks: &L,
    tenant: &Tenant,
    user: &UserId,
) -> Result<(), ApiError> {
    match locks.active_lock(tenant, user).await? {
        Some(_) => Err(ApiError::AccountLocked),
        None => Ok(()),
    }
}

async fn sign_in<D: Directory, L: LockStore, T>(
    app: &App<D, L, T>,
    tenant: &Tenant,
    body: SignIn,
) -> Result<AuthResult, ApiError> {
    ensure_unlocked(&app.locks, tenant, &body.user_id).await?;
    Ok(app
        .directory
        .password_auth(tenant, &body.user_id, body.password.expose())
        .await?)
}

async fn refresh<D: Directory, L: LockStore, T>(
    app: &App<D, L, T>,
    tenant: &Tenant,
    body: Refresh,
) -> Result<AuthResult, ApiError> {
    ensure_unlocked(&app.locks, tenant, &body.user_id).await?;
    Ok(app
        .directory
        .refresh(tenant, &body.user_id, body.refresh_token.expose())
        .await?)
}

async fn new_password<D: Directory, L: LockStore, T>(
    app: &App<D, L, T>,
    tenant: &Tenant,
    body: NewPassword,
) -> Result<AuthResult, ApiError> {
    ensure_unlocked(&app.locks, tenant, &body.user_id).await?;
    let policy = app.directory.password_policy(tenant).await?;
    if let Some(rule) = policy.violation(body.new_password.expose()) {
        return Err(ApiError::InvalidPassword(rule));
    }
    Ok(app
        .directory
        .complete_new_password(
            tenant,
            &body.user_id,
            body.session.expose(),
            body.new_password.expose(),
        )
        .await?)
}

async fn answer_challenge<D: Directory, L: LockStore, T>(
    app: &App<D, L, T>,
    tenant: &Tenant,
    body: ChallengeAnswer,
) -> Result<AuthResult, ApiError> {
    let challenge = match body.challenge_name.as_str() {
        "NEW_PASSWORD_REQUIRED" => {
            return Err(ApiError::InvalidRequest(
                "answer NEW_PASSWORD_REQUIRED with POST /change-temporary-password".into(),
            ));
        }
        name => Challenge::parse(name).ok_or_else(|| {
            ApiError::InvalidRequest(
                "`challengeName` must be SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP or SELECT_MFA_TYPE"
                    .into(),
            )
        })?,
    };
    ensure_unlocked(&app.locks, tenant, &body.user_id).await?;
    Ok(app
        .directory
        .answer_challenge(
            tenant,
            &body.user_id,
            challenge,
            body.session.expose(),
            body.code.expose(),
        )
        .await?)
}
