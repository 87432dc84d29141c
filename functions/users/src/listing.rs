//! Lists: `GET /users` (filters, Cognito's pages) with each user's account state, and
//! `GET /users/{userID}/events`, the audit trail (the store's pages).

use lambda_http::{Request, RequestExt};
use serde::Serialize;
use shared::domain::directory::UserAdmin;
use shared::domain::lock::Locks;
use shared::{
    ApiError, App, Ports, Reply,
    domain::audit::AuditLog,
    domain::directory::DirectoryError,
    domain::tenant::Tenant,
    domain::user::User,
    domain::user_id::UserId,
    http::request::{PageQuery, Paging, path_user_id},
};

/// Pages of `GET …/events`.
const EVENT_PAGES: Paging = Paging {
    default: 20,
    max: 100,
    parameter: "cursor",
    noun: "a cursor",
    max_len: 512,
};

/// Pages of `GET /users` (Cognito's `ListUsers` allows 60).
const USER_PAGES: Paging = Paging {
    default: 60,
    max: 60,
    parameter: "paginationToken",
    noun: "a token",
    max_len: 4096,
};

#[derive(Debug, Serialize)]
struct Events {
    events: Vec<shared::domain::audit::Event>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Users {
    users: Vec<User>,
    pagination_token: Option<String>,
}

/// A filter value goes inside Cognito's quoted filter syntax: no quotes, backslashes or
/// control characters, so that it cannot change the filter.
pub(crate) fn filter_value(name: &str, v: &str) -> Result<String, ApiError> {
    if v.is_empty() || v.len() > 256 || v.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return Err(ApiError::InvalidRequest(format!(
            "`{name}` must be 1 to 256 characters without quotes or backslashes"
        )));
    }
    Ok(v.to_string())
}

const STATUSES: &[&str] = &[
    "UNCONFIRMED",
    "CONFIRMED",
    "ARCHIVED",
    "COMPROMISED",
    "UNKNOWN",
    "RESET_REQUIRED",
    "FORCE_CHANGE_PASSWORD",
    "EXTERNAL_PROVIDER",
];

pub(crate) async fn list<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    req: &Request,
) -> Result<Reply, ApiError> {
    let query = req.query_string_parameters();
    let mut filters = vec![];
    if let Some(v) = query.first("email") {
        filters.push(format!("email = \"{}\"", filter_value("email", v)?));
    }
    if let Some(v) = query.first("emailPrefix") {
        filters.push(format!("email ^= \"{}\"", filter_value("emailPrefix", v)?));
    }
    if let Some(v) = query.first("userIDPrefix") {
        filters.push(format!(
            "username ^= \"{}\"",
            filter_value("userIDPrefix", &v.to_ascii_lowercase())?
        ));
    }
    if let Some(v) = query.first("status") {
        if !STATUSES.contains(&v) {
            return Err(ApiError::InvalidRequest(format!(
                "`status` must be one of {}",
                STATUSES.join(", ")
            )));
        }
        filters.push(format!("cognito:user_status = \"{v}\""));
    }
    if filters.len() > 1 {
        return Err(ApiError::InvalidRequest(
            "give at most one of `email`, `emailPrefix`, `userIDPrefix`, `status`".into(),
        ));
    }
    let PageQuery { limit, next } = USER_PAGES.read(req)?;
    let token = next.as_deref();
    app.admin(req, tenant).await?;
    let page = app
        .directory
        .list_users(
            tenant,
            filters.first().map(String::as_str),
            limit as i32,
            token,
        )
        .await
        .map_err(|e| match e {
            // Cognito calls a token it did not mint an invalid parameter; whatever else a
            // directory says about a caller-supplied token is the caller's, not a 500
            DirectoryError::InvalidParameter | DirectoryError::Internal(_) if token.is_some() => {
                USER_PAGES.not_ours()
            }
            other => other.for_admin(),
        })?;
    // each name folded once, and looked up by it
    let names: Vec<Option<UserId>> = page
        .users
        .iter()
        .map(|u| UserId::of_cognito(&u.username))
        .collect();
    let known: Vec<UserId> = names.iter().flatten().cloned().collect();
    let states = app.locks.states(&tenant.user_pool_id, &known).await?;
    let users = page
        .users
        .iter()
        .zip(&names)
        .map(|(u, name)| {
            let state = name.as_ref().and_then(|n| states.get(n.as_str()));
            User::of(u, &state.cloned().unwrap_or_default())
        })
        .collect();
    Reply::ok(&Users {
        users,
        pagination_token: page.pagination_token,
    })
}

pub(crate) async fn events<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    req: &Request,
) -> Result<Reply, ApiError> {
    let user = path_user_id(req)?;
    let PageQuery { limit, next } = EVENT_PAGES.read(req)?;
    let cursor = next.as_deref();
    app.admin(req, tenant).await?;
    // the trail is kept under the username, whichever name (alias, sub) the path gave
    let user = app.canonical(tenant, user).await?;
    let page = app
        .audit
        .list(&tenant.user_pool_id, &user, limit, cursor)
        .await?;
    Reply::ok(&Events {
        events: page.events,
        cursor: page.cursor,
    })
}
