//! Browsers calling the API (CORS): a page may read an answer only when its origin is one its
//! tenant lists (`allowedOrigins`), named exactly, never `*`, and never with credentials (the
//! API's callers send tokens in headers, not cookies). A preflight carries no tenant headers,
//! so it is answered from every tenant's origins together; the request that follows is held
//! to its own tenant's list (`crate::app::App::handle`).

use lambda_http::{
    Body, Request, Response,
    http::{HeaderValue, header},
};

/// What a page may send: the tenant headers, a bearer token, an API key, a JSON body and an
/// idempotency key.
pub const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key, \
    vbasoftware-client-id, vbasoftware-client-code, vbasoftware-database, x-api-key";

/// What a page may read besides the body: the activity id to quote, when to retry, and a
/// created user's location.
pub const EXPOSE_HEADERS: &str = "x-activity-id, retry-after, location";

/// How long a browser may keep a preflight's answer (two hours, Chromium's longest): fewer
/// preflights, which need no API key.
pub const MAX_AGE_SECONDS: u32 = 7200;

/// The request's `Origin`, when one was sent. `null` (an opaque origin) is kept as written; an
/// `Origin` that is not one text value (sent twice, or not text) is kept as the empty origin.
/// No tenant can list either, so both are refused rather than read as no `Origin` at all.
pub fn origin(req: &Request) -> Option<String> {
    let mut sent = req.headers().get_all(header::ORIGIN).iter();
    let first = sent.next()?;
    if sent.next().is_some() {
        return Some(String::new());
    }
    Some(first.to_str().map(str::to_owned).unwrap_or_default())
}

/// Marks `response` as depending on the origin (a cache between must not hand it to another
/// page) and, when `admitted`, lets the page at `origin` read it.
pub fn answer(response: &mut Response<Body>, origin: &str, admitted: bool) {
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = admitted
        .then(|| HeaderValue::from_str(origin).ok())
        .flatten()
    else {
        return;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// A preflight's own headers: the methods the path takes, the headers a page may send.
pub fn preflight(response: &mut Response<Body>, methods: &[&str]) {
    let headers = response.headers_mut();
    if let Ok(methods) = HeaderValue::from_str(&methods.join(", ")) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from(MAX_AGE_SECONDS),
    );
}
