//! The `users` group. Today: `GET /users/{userID}/events`, the user's audit trail, newest
//! first, for the tenant's admins.

use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use shared::{
    ApiError, App, Ports, Reply,
    audit::{AuditLog, Event},
    request::{RequestMeta, Route, path_user_id},
};

/// The routes this function serves.
pub const ROUTES: &[Route] = &[Route {
    method: "GET",
    path: "/users/{userID}/events",
    name: "events",
}];

/// Page sizes for `limit`.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

#[derive(Debug, Serialize)]
struct Events {
    events: Vec<Event>,
    cursor: Option<String>,
}

/// The Lambda entry point of the group.
pub async fn handle<P: Ports>(app: &App<P>, req: Request) -> Response<Body> {
    shared::serve(req, |req, meta| route(app, req, meta)).await
}

async fn route<P: Ports>(app: &App<P>, req: Request, meta: RequestMeta) -> Result<Reply, ApiError> {
    let name = shared::request::route_name(&req, ROUTES)?;
    tracing::Span::current().record("route", name);
    let tenant = app.tenant(&req, &meta).await?;
    let user = path_user_id(&req)?;
    let query = req.query_string_parameters();
    let limit = match query.first("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::InvalidRequest(format!(
                    "`limit` must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let cursor = query.first("cursor").filter(|c| !c.is_empty());
    if cursor.is_some_and(|c| c.len() > 512) {
        return Err(ApiError::InvalidRequest(
            "`cursor` is not a cursor this API returned".into(),
        ));
    }
    app.admin(&req, &tenant).await?;
    let page = app
        .audit
        .list(&tenant.user_pool_id, &user, limit, cursor)
        .await?;
    Reply::ok(&Events {
        events: page.events,
        cursor: page.cursor,
    })
}
