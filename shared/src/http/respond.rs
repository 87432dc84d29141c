//! The one place responses are made: the envelope, the problem, the headers, and the request's
//! span and closing log line.

use std::future::Future;

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::{Instrument, field::Empty};

use crate::{http::problem::ApiError, http::request::RequestMeta};

/// A successful answer: its status and its `data`.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    data: Value,
    /// A redirect's target (`302 Found`, `Location`).
    location: Option<String>,
}

impl Reply {
    pub fn ok(data: &impl Serialize) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::OK, data)
    }

    pub fn created(data: &impl Serialize) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::CREATED, data)
    }

    /// A `302 Found` to `location`, for a browser coming back from an identity provider; the
    /// envelope names the target too.
    pub fn redirect(location: String) -> Result<Self, ApiError> {
        Ok(Self {
            status: StatusCode::FOUND,
            data: json!({ "location": location }),
            location: Some(location),
        })
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reply as kept under an `Idempotency-Key` (status and data; never a redirect).
    pub(crate) fn to_kept(&self) -> Option<String> {
        if self.location.is_some() {
            return None;
        }
        Some(json!({"status": self.status.as_u16(), "data": self.data}).to_string())
    }

    /// A reply kept by [`Self::to_kept`].
    pub(crate) fn from_kept(kept: &str) -> Option<Self> {
        let kept: Value = serde_json::from_str(kept).ok()?;
        let status = u16::try_from(kept["status"].as_u64()?).ok()?;
        Some(Self {
            status: StatusCode::from_u16(status).ok()?,
            data: kept["data"].clone(),
            location: None,
        })
    }

    fn with_status(status: StatusCode, data: &impl Serialize) -> Result<Self, ApiError> {
        let data = serde_json::to_value(data)
            .map_err(|e| ApiError::Internal(format!("cannot serialize the response: {e}")))?;
        Ok(Self {
            status,
            data,
            location: None,
        })
    }
}

/// Runs one request inside its span and renders whatever it returns. The runtime never sees
/// an error: every failure leaves here as a problem response.
pub async fn serve<F, Fut>(req: Request, route: F) -> Response<Body>
where
    F: FnOnce(Request, RequestMeta) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let meta = RequestMeta::of(&req);
    let started = meta.received;
    let span = tracing::info_span!(
        "request",
        activityID = %meta.activity_id,
        method = %req.method(),
        route = Empty,
        tenant = Empty,
    );
    let result = route(req, meta.clone()).instrument(span.clone()).await;
    let _entered = span.enter();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let outcome = result.as_ref().map_or_else(ApiError::slug, |_| "success");
    let route = meta.route.get().copied().unwrap_or("unrouted");
    crate::metrics::request(route, outcome, latency_ms);
    match &result {
        Ok(reply) => {
            tracing::info!(
                status = reply.status.as_u16(),
                outcome = "success",
                latency_ms,
                "request done"
            )
        }
        Err(e) if e.is_server_side() => {
            tracing::error!(status = e.status().as_u16(), outcome = e.slug(), cause = %e, latency_ms, "request failed")
        }
        Err(e) => {
            tracing::info!(
                status = e.status().as_u16(),
                outcome = e.slug(),
                latency_ms,
                "request refused"
            )
        }
    }
    render(&meta, result)
}

/// The envelope for a result.
pub fn render(meta: &RequestMeta, result: Result<Reply, ApiError>) -> Response<Body> {
    let mut location = None;
    let (status, body, retry_after) = match result {
        Ok(reply) => {
            location = reply.location;
            (
                reply.status,
                json!({ "data": reply.data, "error": null, "debug": { "activityID": meta.activity_id } }),
                None,
            )
        }
        Err(e) => (
            e.status(),
            json!({
                "data": null,
                "error": e.problem(&meta.path, &meta.activity_id),
                "debug": { "activityID": meta.activity_id },
            }),
            e.retry_after(),
        ),
    };
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // tokens and account state must never sit in a shared cache
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(id) = HeaderValue::from_str(&meta.activity_id) {
        headers.insert("x-activity-id", id);
    }
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(target) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, target);
        // the page it lands on is not told where the browser came from (a spent code)
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RequestMeta {
        RequestMeta {
            activity_id: "act-1".into(),
            path: "/user-authentication".into(),
            api_key_id: None,
            received: std::time::Instant::now(),
            route: Default::default(),
        }
    }

    fn body(r: &Response<Body>) -> Value {
        match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => panic!("text body expected"),
        }
    }

    #[test]
    fn success_carries_data_and_the_activity_id() {
        let r = render(&meta(), Reply::ok(&json!({"x": 1})));
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-activity-id"], "act-1");
        assert_eq!(r.headers()["content-type"], "application/json");
        let b = body(&r);
        assert_eq!(b["data"]["x"], 1);
        assert_eq!(b["error"], Value::Null);
        assert_eq!(b["debug"]["activityID"], "act-1");
    }

    #[test]
    fn failure_carries_the_problem_and_retry_after() {
        let r = render(
            &meta(),
            Err(ApiError::TooManyRequests {
                retry_after: std::time::Duration::from_secs(7),
            }),
        );
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "7");
        let b = body(&r);
        assert_eq!(b["data"], Value::Null);
        assert_eq!(b["error"]["type"], "/problems/too-many-requests");
        assert_eq!(b["error"]["instance"], "/user-authentication#act-1");
    }
}
