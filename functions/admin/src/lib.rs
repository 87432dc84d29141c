//! The `admin` group: a tenant's administrators act on their own users' accounts.
//! Unknown users are 404 here (admins may know who exists); a user in the wrong state for an
//! operation is 409. Disable and enable are idempotent; disabling also revokes the user's
//! refresh tokens, so sessions end with it.

use serde::Serialize;
use shared::domain::directory::{Passwords, UserAdmin};
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{Delivery, DirectoryError},
    domain::tenant::Tenant,
    domain::user_id::UserId,
    http::request::path_user_id,
    http::routes::{Route, post},
};

shared::operations! {
    /// The operations of the group.
    pub enum Op {
        ResetPassword,
        Disable,
        Enable,
        ResendConfirmationCode,
        ResendWelcomeMessage,
    }
}

/// The `admin` function.
pub struct Group;

impl shared::Group for Group {
    type Op = Op;
    const ROUTES: &'static [Route<Op>] = &[
        post(
            "/users/{userID}/admin-reset-password",
            "admin-reset-password",
            Op::ResetPassword,
        ),
        post(
            "/users/{userID}/admin-disable",
            "admin-disable",
            Op::Disable,
        ),
        post("/users/{userID}/admin-enable", "admin-enable", Op::Enable),
        post(
            "/users/{userID}/resend-confirmation-code",
            "resend-confirmation-code",
            Op::ResendConfirmationCode,
        ),
        post(
            "/users/{userID}/resend-welcome-message",
            "resend-welcome-message",
            Op::ResendWelcomeMessage,
        ),
    ];

    async fn route<P: Ports>(app: &App<P>, call: Call<Op>) -> Result<Reply, ApiError> {
        let tenant = &call.tenant;
        let user = path_user_id(&call.req)?;
        let admin = app.admin(&call.req, tenant).await?;
        let user = app.canonical(tenant, user).await?;
        let work = async {
            match call.route.op {
                Op::ResetPassword => reset(app, tenant, &user).await,
                Op::Disable => disable(app, tenant, &user).await,
                Op::Enable => enable(app, tenant, &user).await,
                Op::ResendConfirmationCode => resend_code(app, tenant, &user).await,
                Op::ResendWelcomeMessage => resend_invitation(app, tenant, &user).await,
            }
        };
        app.audited(&call, &user, &admin.sub, work).await
    }
}

#[derive(Debug, Serialize)]
struct Status {
    #[serde(rename = "userID")]
    user_id: String,
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct Enabled {
    #[serde(rename = "userID")]
    user_id: String,
    enabled: bool,
}

async fn reset<P: Ports>(app: &App<P>, tenant: &Tenant, user: &UserId) -> Result<Reply, ApiError> {
    app.directory
        .admin_reset_password(tenant, user)
        .await
        .map_err(|e| match e {
            // Cognito's answer when the user has no verified email or phone to send a code to
            DirectoryError::InvalidParameter => ApiError::Conflict(
                "the user has no verified email or phone number to send a reset code to",
            ),
            other => other.for_admin(),
        })?;
    // an admin resets a password when the account may be in other hands: the sessions it has
    // end with it, as a disable's do (also on a repeated reset: a retry after a failed sign-out
    // completes it)
    app.sign_out_everywhere(tenant, user).await?;
    Reply::ok(&Status {
        user_id: user.as_str().to_string(),
        status: "RESET_REQUIRED",
    })
}

async fn disable<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Reply, ApiError> {
    app.directory
        .set_enabled(tenant, user, false)
        .await
        .map_err(DirectoryError::for_admin)?;
    // also on a repeated disable: a retry after a failed sign-out completes it
    app.sign_out_everywhere(tenant, user).await?;
    Reply::ok(&Enabled {
        user_id: user.as_str().to_string(),
        enabled: false,
    })
}

async fn enable<P: Ports>(app: &App<P>, tenant: &Tenant, user: &UserId) -> Result<Reply, ApiError> {
    app.directory
        .set_enabled(tenant, user, true)
        .await
        .map_err(DirectoryError::for_admin)?;
    Reply::ok(&Enabled {
        user_id: user.as_str().to_string(),
        enabled: true,
    })
}

async fn resend_code<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Reply, ApiError> {
    if app.user(tenant, user).await?.status != "UNCONFIRMED" {
        return Err(ApiError::Conflict(
            "only a user who signed up and has not confirmed (UNCONFIRMED) gets a confirmation code",
        ));
    }
    let details = app
        .directory
        .resend_confirmation_code(tenant, user)
        .await
        .map_err(DirectoryError::for_admin)?;
    Reply::ok(&Delivery {
        code_delivery_details: details,
    })
}

async fn resend_invitation<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Reply, ApiError> {
    if app.user(tenant, user).await?.status != "FORCE_CHANGE_PASSWORD" {
        return Err(ApiError::Conflict(
            "only a user who has not yet set a password (FORCE_CHANGE_PASSWORD) gets the invitation again",
        ));
    }
    app.directory
        .resend_invitation(tenant, user)
        .await
        .map_err(DirectoryError::for_admin)?;
    Reply::ok(&Status {
        user_id: user.as_str().to_string(),
        status: "FORCE_CHANGE_PASSWORD",
    })
}
