//! The `password` group: recovery (`forgot-password`, `confirm-forgot-password`), the
//! signed-in user's own change (`change-password`) and sign-out (`sign-out`, every session).
//!
//! Recovery never tells whether a user exists: an unknown user gets the same status and the
//! same shape of answer as a known one, and every `forgot-password` answer takes at least the
//! configured floor, so that its latency does not tell either.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::domain::directory::Passwords;
use shared::domain::lock::Locks;
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{CodeDelivery, Delivery, DirectoryError},
    domain::lock::{Budget, CodePurpose},
    domain::store::Chain,
    domain::tenant::Tenant,
    domain::user_id::UserId,
    domain::validate::{Code, Password},
    http::request::{json_body, path_user_id},
    http::routes::{Route, post},
};

shared::operations! {
    /// The operations of the group.
    pub enum Op {
        ForgotPassword,
        ConfirmForgotPassword,
        ChangePassword,
        SignOut,
    }
}

/// The `password` function.
pub struct Group;

impl shared::Group for Group {
    type Op = Op;
    const ROUTES: &'static [Route<Op>] = &[
        post("/forgot-password", "forgot-password", Op::ForgotPassword),
        post(
            "/confirm-forgot-password",
            "confirm-forgot-password",
            Op::ConfirmForgotPassword,
        ),
        post(
            "/users/{userID}/change-password",
            "change-password",
            Op::ChangePassword,
        ),
        post("/users/{userID}/sign-out", "sign-out", Op::SignOut),
    ];

    /// Recovery is public, and a password change carries two passwords, whose hash an
    /// `Idempotency-Key`'s fingerprint would keep a day: no route here keeps an answer (a
    /// retried change is refused by its own previous password anyway).
    fn replayable(_: Op) -> bool {
        false
    }

    async fn route<P: Ports>(app: &App<P>, call: Call<Op>) -> Result<Reply, ApiError> {
        let (req, tenant) = (&call.req, &call.tenant);
        let limit = app.config.body_limit_bytes;
        match call.route.op {
            Op::ForgotPassword => {
                let body: Forgot = json_body(req, limit)?;
                let user = app.canonical(tenant, body.user_id.clone()).await?;
                let work = async {
                    let result = forgot(app, tenant, &user, &body.user_id).await;
                    // only for what is left: a timer for a moment already past still waits
                    // for the runtime's next millisecond tick
                    if let Some(left) = app
                        .config
                        .forgot_password_floor
                        .checked_sub(call.meta.received.elapsed())
                        .filter(|left| !left.is_zero())
                    {
                        tokio::time::sleep(left).await;
                    }
                    result
                };
                Reply::ok(&app.audited(&call, &user, "self", work).await?)
            }
            Op::ConfirmForgotPassword => {
                let mut body: Confirm = json_body(req, limit)?;
                body.user_id = app.canonical(tenant, body.user_id).await?;
                let user = body.user_id.clone();
                let work = confirm(app, tenant, body);
                Reply::ok(&app.audited(&call, &user, "self", work).await?)
            }
            Op::ChangePassword => {
                let user = path_user_id(req)?;
                // who is asking comes before what they ask: a stranger learns nothing from a 400
                let (caller, state) = app.caller_and_state(req, tenant).await?;
                let user = app.canonical(tenant, user).await?;
                if caller.username.to_lowercase() != user.as_str() {
                    return Err(ApiError::Forbidden(
                        "a user can only change their own password",
                    ));
                }
                // the previous password is checked: a lockout refuses that, as on sign-in,
                // before Cognito is asked (the budget's reservation refuses it too)
                if state.lock.is_some() {
                    return Err(ApiError::AccountLocked);
                }
                let body: Change = json_body(req, limit)?;
                let work = change(app, &call, &user, &caller.sub, body);
                Reply::ok(&app.audited(&call, &user, "self", work).await?)
            }
            Op::SignOut => {
                let user = path_user_id(req)?;
                let caller = app.caller(req, tenant).await?;
                let user = app.canonical(tenant, user).await?;
                if caller.username.to_lowercase() != user.as_str() {
                    return Err(ApiError::Forbidden("a user can only sign themselves out"));
                }
                // every session, this one too: Cognito revokes the refresh tokens, and the
                // API refuses the access tokens issued before it at once
                let work = async {
                    app.sign_out_everywhere(tenant, &user).await?;
                    Ok(SignedOut { signed_out: true })
                };
                Reply::ok(&app.audited(&call, &user, "self", work).await?)
            }
        }
    }
}

/// `POST /users/{userID}/sign-out`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedOut {
    signed_out: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Forgot {
    #[serde(rename = "userID")]
    user_id: UserId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Confirm {
    #[serde(rename = "userID")]
    user_id: UserId,
    confirmation_code: Code,
    new_password: Password,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Change {
    previous_password: Password,
    proposed_password: Password,
    #[serde(default)]
    sign_out_other_sessions: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Changed {
    password_changed: bool,
    /// Present when the body asked for `signOutOtherSessions`: every refresh token of the user
    /// was revoked, this session's too (Cognito has no "all but this one").
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_out: Option<bool>,
}

/// `user` is the username the caller's `given` name resolved to; a stand-in delivery is made
/// from `given`, as it is for an unknown user (who resolves to nothing else), so that the two
/// look alike.
async fn forgot<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    given: &UserId,
) -> Result<Delivery, ApiError> {
    let details = match app.directory.forgot_password(tenant, user).await {
        Ok(details) => details,
        // Unknown user, or a user with no verified channel to send a code to, or one Cognito
        // has sent too many codes to already (a limit only an existing account reaches): answer
        // as if a code went out, so that the answer says nothing about the account.
        Err(
            DirectoryError::UserNotFound
            | DirectoryError::InvalidParameter
            | DirectoryError::NotAuthorized
            | DirectoryError::UserDisabled,
        ) => stand_in_delivery(tenant, given),
        Err(DirectoryError::LimitExceeded) => {
            // no code went out: said in the log (it is also Cognito's answer to an account-wide
            // email quota), not in the answer
            tracing::warn!("forgot-password: Cognito's limit for this account; no code sent");
            stand_in_delivery(tenant, given)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Delivery {
        code_delivery_details: details,
    })
}

/// A delivery that looks like Cognito's for an email, stable for a given user (a random one
/// would differ between two calls and so give itself away).
fn stand_in_delivery(tenant: &Tenant, user: &UserId) -> CodeDelivery {
    let digest = Sha256::digest(format!("{}#{}", tenant.user_pool_id, user.as_str()));
    let letter = |b: u8| char::from(b'a' + b % 26);
    let local = user
        .as_str()
        .split_once('@')
        .and_then(|(l, _)| l.chars().next())
        .unwrap_or(letter(digest[0]));
    let domain = user
        .as_str()
        .split_once('@')
        .and_then(|(_, d)| d.chars().next())
        .unwrap_or(letter(digest[1]));
    CodeDelivery {
        destination: Some(format!("{local}***@{domain}***")),
        delivery_medium: Some("EMAIL".into()),
        attribute_name: Some("email".into()),
    }
}

async fn confirm<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: Confirm,
) -> Result<Changed, ApiError> {
    app.check_password_policy(tenant, &body.new_password)
        .await?;
    app.directory
        .confirm_forgot_password(
            tenant,
            &body.user_id,
            body.confirmation_code.expose(),
            body.new_password.expose(),
        )
        .await
        .map_err(|e| match e {
            // an unknown user has, as far as the caller can tell, simply a wrong code
            DirectoryError::UserNotFound
            | DirectoryError::ResourceNotFound
            | DirectoryError::NotAuthorized => ApiError::CodeMismatch,
            // and so has a user Cognito stopped taking codes for (too many wrong ones, which
            // only an existing account reaches): a 429 would tell them apart
            DirectoryError::LimitExceeded => {
                tracing::warn!("confirm-forgot-password: Cognito's attempt limit for this account");
                ApiError::CodeMismatch
            }
            DirectoryError::Throttled => ApiError::TooManyRequests {
                retry_after: std::time::Duration::from_secs(30),
            },
            other if tenant.hide_account_state => {
                ApiError::from(other).hide_account_state_of_recovery()
            }
            other => other.into(),
        })?;
    // The code went to the user's own verified channel: recovery lifts a lockout (never an
    // admin lock), and ends every session, so that a stolen refresh token does not outlive
    // the victim's reset. Both go out together. The password is already changed, so neither
    // failure changes the answer: a lockout left is logged, sessions left are logged and
    // said (`signedOut: false`), and the user can sign out everywhere with the new password.
    let (cleared, signed_out) = tokio::join!(
        app.locks.clear_lockout(&tenant.user_pool_id, &body.user_id),
        app.sign_out_everywhere(tenant, &body.user_id),
    );
    if let Err(e) = cleared {
        tracing::error!(cause = %Chain(&e), "lockout not cleared after a password reset");
    }
    if let Err(e) = &signed_out {
        tracing::error!(cause = %e, "sessions not ended after a password reset");
    }
    Ok(Changed {
        password_changed: true,
        signed_out: Some(signed_out.is_ok()),
    })
}

/// `POST /users/{userID}/change-password`: the previous password is a guess like a sign-in's,
/// so it spends the password budget the same way (a wrong one keeps its unit, the last locks
/// the account, a right one makes the budget whole). Cognito's `ChangePassword` takes only the
/// user's own token, and no token the API hands out can call it: the API's own session as
/// the user does (`shared::session`).
async fn change<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    user: &UserId,
    sub: &str,
    body: Change,
) -> Result<Changed, ApiError> {
    let tenant = &call.tenant;
    app.check_password_policy(tenant, &body.proposed_password)
        .await?;
    let reserved = app.reserve(tenant, user, Budget::Password).await?;
    let (previous, proposed) = (
        body.previous_password.expose(),
        body.proposed_password.expose(),
    );
    let outcome = app
        .with_session_as(
            tenant,
            user,
            sub,
            CodePurpose::UserAccess,
            "self",
            |token| async move {
                Ok(app
                    .directory
                    .change_password(tenant, &token, previous, proposed)
                    .await)
            },
        )
        .await;
    // the session could not be made: the previous password was never checked
    let outcome = match outcome {
        Ok(checked) => checked,
        Err(e) => {
            app.settle(tenant, &call.meta, user, reserved.release())
                .await;
            return Err(e);
        }
    };
    let wrong = |e: &DirectoryError| matches!(e, DirectoryError::NotAuthorized);
    app.settle(tenant, &call.meta, user, reserved.settle(&outcome, wrong))
        .await;
    outcome?;
    let signed_out = if body.sign_out_other_sessions {
        app.sign_out_everywhere(tenant, user).await?;
        Some(true)
    } else {
        None
    };
    Ok(Changed {
        password_changed: true,
        signed_out,
    })
}
