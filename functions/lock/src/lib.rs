//! The `lock` group: an admin locks or unlocks an account, or reads its lock state.
//!
//! A lock lives in the account-state table, beside Cognito, which has no admin lock of its
//! own. Locking also revokes the user's refresh tokens (`AdminUserGlobalSignOut`), so sessions
//! end with the lock; both PUTs are idempotent, so a caller that got a 503 simply retries.

use shared::domain::directory::{SignIn, UserAdmin};
use shared::domain::lock::Locks;
use std::time::SystemTime;

use lambda_http::{Body, Request};
use serde::Deserialize;
use shared::{
    ApiError, App, Call, ChangeEntry, Ports, Reply,
    domain::lock::{AccountState, Lock, LockSource, LockState},
    domain::tenant::Tenant,
    domain::user_id::UserId,
    domain::validate::Text,
    http::request::{json_body, path_user_id},
    http::routes::{Route, get, put},
    time::{epoch_seconds, parse_rfc3339, rfc3339},
};

shared::operations! {
    /// The operations of the group.
    pub enum Op {
        Lock,
        Unlock,
        GetLock,
    }
}

/// The `lock` function.
pub struct Group;

impl shared::Group for Group {
    type Op = Op;
    const ROUTES: &'static [Route<Op>] = &[
        put("/users/{userID}/lock", "lock", Op::Lock),
        put("/users/{userID}/unlock", "unlock", Op::Unlock),
        get("/users/{userID}/lock", "get-lock", Op::GetLock),
    ];

    async fn route<P: Ports>(app: &App<P>, call: Call<Op>) -> Result<Reply, ApiError> {
        let (req, tenant) = (&call.req, &call.tenant);
        let user = path_user_id(req)?;
        let admin = app.admin(req, tenant).await?;
        // the lock is kept under the username, whichever name (alias, sub) the path gave
        let user = app.canonical(tenant, user).await?;
        let state = match call.route.op {
            Op::Lock => {
                let body = if has_body(req) {
                    json_body(req, app.config.body_limit_bytes)?
                } else {
                    LockRequest::default()
                };
                let entry = ChangeEntry::new(&call, &user, &admin.sub);
                let work = lock(app, tenant, &user, &admin.sub, body, &entry);
                app.audited_change(&call, &entry, work).await
            }
            Op::Unlock => {
                let entry = ChangeEntry::new(&call, &user, &admin.sub);
                let work = unlock(app, tenant, &user, &entry);
                app.audited_change(&call, &entry, work).await
            }
            Op::GetLock => lock_state(app, tenant, &user).await,
        };
        Reply::ok(&state?)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LockRequest {
    reason: Option<Text<256>>,
    /// RFC 3339; absent: until an admin unlocks.
    locked_until: Option<Text<64>>,
}

fn has_body(req: &Request) -> bool {
    match req.body() {
        Body::Text(t) => !t.trim().is_empty(),
        Body::Binary(b) => !b.is_empty(),
        _ => false,
    }
}

/// 404 for a user the tenant's pool does not have: admin routes may say so.
async fn ensure_user<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<(), ApiError> {
    match app.directory.find_user(tenant, user).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::UserNotFound),
    }
}

async fn lock<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    admin_sub: &str,
    body: LockRequest,
    entry: &ChangeEntry,
) -> Result<LockState, ApiError> {
    let now = SystemTime::now();
    let locked_until = match &body.locked_until {
        None => None,
        Some(text) => Some(
            parse_rfc3339(text.as_str())
                .filter(|until| *until > epoch_seconds(now))
                .ok_or_else(|| {
                    ApiError::InvalidRequest(
                        "`lockedUntil` must be an RFC 3339 timestamp in the future".into(),
                    )
                })?,
        ),
    };
    ensure_user(app, tenant, user).await?;
    let requested = Lock {
        source: LockSource::Admin,
        reason: body.reason.map(|r| r.as_str().to_string()),
        locked_at: rfc3339(now),
        locked_by: admin_sub.to_string(),
        locked_until,
        budget: None,
    };
    let pool = &tenant.user_pool_id;
    // the lock and its audit entry are one write
    let locked = app
        .locks
        .lock(pool, user, requested, now, &entry.event)
        .await?;
    entry.note(locked.audited);
    // Also on a repeated lock: a retry after a failed sign-out completes it.
    // the lock's write ended the user's sessions for this API (`sessionsEndedAt`); Cognito
    // revokes them too, and the answer waits out the second it noted
    app.directory.global_sign_out(tenant, user).await?;
    shared::session::past_the_second_of(now).await;
    let state = AccountState {
        lock: Some(locked.lock),
        failed_attempts: locked.failed_attempts,
        failed_otp_attempts: locked.failed_otp_attempts,
        ..AccountState::default()
    };
    Ok(LockState::of(user, &state))
}

async fn unlock<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    entry: &ChangeEntry,
) -> Result<LockState, ApiError> {
    ensure_user(app, tenant, user).await?;
    let audited = app
        .locks
        .unlock(&tenant.user_pool_id, user, &entry.event)
        .await?;
    entry.note(audited);
    Ok(LockState::of(user, &Default::default()))
}

async fn lock_state<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<LockState, ApiError> {
    ensure_user(app, tenant, user).await?;
    let state = app.locks.state(&tenant.user_pool_id, user).await?;
    Ok(LockState::of(user, &state))
}
