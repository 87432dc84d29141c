//! Reading a request: activity id, tenant headers, path parameters, and a size- and
//! type-checked JSON body. Works the same for API Gateway v1 (the deployed REST API) and v2
//! (`cargo lambda watch`) events.

use lambda_http::{Body, Request, RequestExt, request::RequestContext};
use serde::de::DeserializeOwned;

use crate::{
    domain::{tenant::TenantKey, user_id::UserId},
    http::problem::ApiError,
};

pub const HEADER_CLIENT_ID: &str = "vbasoftware-client-id";
pub const HEADER_CLIENT_CODE: &str = "vbasoftware-client-code";
pub const HEADER_DATABASE: &str = "vbasoftware-database";

/// What every log line and every response of one request carries.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// The API Gateway request id, else the Lambda request id.
    pub activity_id: String,
    /// The request path, for the problem's `instance`.
    pub path: String,
    /// The API key id API Gateway authenticated, when the REST API reports one.
    pub api_key_id: Option<String>,
    /// When the function started on the request.
    pub received: std::time::Instant,
    /// The route's name once the request was routed (for its metric line).
    pub route: std::sync::Arc<std::sync::OnceLock<&'static str>>,
}

impl RequestMeta {
    pub fn of(req: &Request) -> Self {
        let context = req.request_context_ref();
        let gateway_id = match context {
            Some(RequestContext::ApiGatewayV1(c)) => c.request_id.clone(),
            Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone(),
            _ => None,
        };
        let api_key_id = match context {
            Some(RequestContext::ApiGatewayV1(c)) => c.identity.api_key_id.clone(),
            _ => None,
        }
        .filter(|id| !id.is_empty());
        let activity_id = gateway_id
            .filter(|id| !id.is_empty())
            .or_else(|| {
                req.lambda_context_ref()
                    .map(|c| c.request_id.clone())
                    .filter(|id| !id.is_empty())
            })
            .unwrap_or_else(|| "unknown".to_string());
        Self {
            activity_id,
            path: req.raw_http_path().to_string(),
            api_key_id,
            received: std::time::Instant::now(),
            route: Default::default(),
        }
    }
}

/// The tenant the three `vbasoftware-*` headers name, as sent.
pub fn tenant_key(req: &Request) -> Result<TenantKey, ApiError> {
    Ok(TenantKey {
        client_id: header(req, HEADER_CLIENT_ID)?,
        client_code: header(req, HEADER_CLIENT_CODE)?,
        database: header(req, HEADER_DATABASE)?,
    })
}

fn header(req: &Request, name: &'static str) -> Result<String, ApiError> {
    let mut values = req.headers().get_all(name).iter();
    let first = values.next().ok_or(ApiError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(ApiError::InvalidRequest(format!(
            "the header `{name}` must be sent once"
        )));
    }
    let value = first
        .to_str()
        .map_err(|_| ApiError::InvalidRequest(format!("the header `{name}` is not valid text")))?
        .trim();
    if value.is_empty() {
        return Err(ApiError::MissingHeader(name));
    }
    Ok(value.to_string())
}

/// The bearer token of the `Authorization` header, if one was sent.
pub fn bearer_token(req: &Request) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated("no bearer token"))?
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("malformed authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthenticated("malformed authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthenticated("malformed authorization header"));
    }
    Ok(token.trim())
}

/// The `{userID}` path parameter, percent-decoded once: clients that build paths with
/// `encodeURIComponent` send `jane%40example.com` for `jane@example.com`. A `%` left after
/// that one decoding (double encoding, or a stray `%`) is refused by the userID rule.
pub fn path_user_id(req: &Request) -> Result<UserId, ApiError> {
    Ok(UserId::parse(&path_param_decoded(req, "userID")?)?)
}

/// The path parameter `name`, as API Gateway (and the local router) fill it in, undecoded.
pub fn path_param<'r>(req: &'r Request, name: &str) -> Result<&'r str, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .ok_or_else(|| ApiError::InvalidRequest(format!("the path has no `{name}`")))
}

/// [`path_param`], percent-decoded once.
pub fn path_param_decoded(req: &Request, name: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(path_param(req, name)?)
        .decode_utf8()
        .map(|d| d.into_owned())
        .map_err(|_| ApiError::InvalidRequest(format!("`{name}` is not valid UTF-8 once decoded")))
}

/// One page of a list as the query asks for it: `limit` (a whole number from 1 to `max`,
/// `default` when absent) and the continuation the previous page answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: u32,
    pub next: Option<String>,
}

/// How a list route reads its page: the limits and the name of its continuation parameter.
pub struct Paging {
    pub default: u32,
    pub max: u32,
    /// The query parameter the continuation comes back in (`cursor`, `paginationToken`).
    pub parameter: &'static str,
    /// What the API calls it in a refusal (`a cursor`, `a token`).
    pub noun: &'static str,
    /// The longest continuation the API hands out; anything longer was not its own.
    pub max_len: usize,
}

impl Paging {
    /// The page `req` asks for; 400 for a limit out of range or a continuation too long to be
    /// one this API returned. An empty continuation is none.
    pub fn read(&self, req: &Request) -> Result<PageQuery, ApiError> {
        let query = req.query_string_parameters();
        let max = self.max;
        let limit = match query.first("limit") {
            None => self.default,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::InvalidRequest(format!(
                        "`limit` must be a whole number from 1 to {max}"
                    ))
                })?,
        };
        let next = query.first(self.parameter).filter(|c| !c.is_empty());
        if next.is_some_and(|c| c.len() > self.max_len) {
            return Err(self.not_ours());
        }
        Ok(PageQuery {
            limit,
            next: next.map(str::to_string),
        })
    }

    /// The refusal of a continuation the API did not hand out.
    pub fn not_ours(&self) -> ApiError {
        ApiError::InvalidRequest(format!(
            "`{}` is not {} this API returned",
            self.parameter, self.noun
        ))
    }
}

/// Parses a JSON body into `T`: 415 for a body that is not JSON, 413 over `limit`, 400 with
/// the offending field's path (never its value) for anything `T` does not accept.
pub fn json_body<T: DeserializeOwned>(req: &Request, limit: usize) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    if let Some(ct) = req.headers().get(http::header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        let is_json = essence.eq_ignore_ascii_case("application/json")
            || (essence.len() > 5
                && essence[..essence.len() - 5].contains('/')
                && essence.to_ascii_lowercase().ends_with("+json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidRequest(
            "a JSON object body is required".into(),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::InvalidRequest("the body is not valid UTF-8".into()))?;
    // serde would read a JSON array into a struct field by field; the contract wants objects
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::InvalidRequest(
            "the body must be a JSON object".into(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        use serde_json::error::Category;
        let detail = match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => format!(
                "malformed JSON at line {} column {}",
                inner.line(),
                inner.column()
            ),
            Category::Data => describe_data_error(&path, &inner.to_string()),
        };
        ApiError::InvalidRequest(detail)
    })
}

/// Serde's data errors quote values the caller sent (a password given as a number, say), so
/// the detail is rebuilt from the kind of error and the field path only.
fn describe_data_error(path: &str, message: &str) -> String {
    let field = if path == "." || path.is_empty() {
        "the body".to_string()
    } else {
        format!("`{path}`")
    };
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name: String = rest.chars().take_while(|c| *c != '`').take(64).collect();
        return format!("the field `{name}` is required");
    }
    if message.starts_with("unknown field `") {
        return format!("{field} is not a known field");
    }
    if message.starts_with("invalid type") && path == "." {
        return "the body must be a JSON object".into();
    }
    // our own validators (`validate`, `UserId`) phrase their rules as "must …", never with a value
    if message.starts_with("must ") {
        let rule = message.split(" at line").next().unwrap_or(message);
        return format!("{field} {rule}");
    }
    format!("{field} has the wrong type or value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body2 {
        #[serde(rename = "userID")]
        user_id: String,
        password: String,
    }

    fn req(body: &str, content_type: Option<&str>) -> Request {
        let mut b = http::Request::builder().uri("/user-authentication");
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        b.body(Body::Text(body.to_string())).unwrap()
    }

    fn err_detail(r: Result<Body2, ApiError>) -> (String, String) {
        let e = r.unwrap_err();
        (e.slug().to_string(), e.problem("/", "a").detail)
    }

    #[test]
    fn a_wrong_type_names_the_field_but_not_the_value() {
        let (slug, detail) = err_detail(json_body(
            &req(
                r#"{"userID":"bob","password":12345678}"#,
                Some("application/json"),
            ),
            1024,
        ));
        assert_eq!(slug, "invalid-request");
        assert!(detail.contains("`password`"), "{detail}");
        assert!(!detail.contains("12345678"), "{detail}");
    }

    #[test]
    fn an_unknown_field_is_rejected() {
        let (slug, _) = err_detail(json_body(
            &req(r#"{"userID":"bob","password":"x","admin":true}"#, None),
            1024,
        ));
        assert_eq!(slug, "invalid-request");
    }

    #[test]
    fn a_missing_field_is_named() {
        let (_, detail) = err_detail(json_body(&req(r#"{"userID":"bob"}"#, None), 1024));
        assert_eq!(detail, "the field `password` is required");
    }

    #[test]
    fn malformed_json_and_non_objects_are_invalid_requests() {
        for body in ["{", "[]", "\"x\"", "", "  ", "null"] {
            let (slug, _) = err_detail(json_body(&req(body, None), 1024));
            assert_eq!(slug, "invalid-request", "{body:?}");
        }
    }

    #[test]
    fn oversize_bodies_and_other_media_types_are_refused() {
        let big = format!(r#"{{"userID":"{}"}}"#, "a".repeat(2000));
        assert_eq!(
            err_detail(json_body(&req(&big, None), 1024)).0,
            "payload-too-large"
        );
        assert_eq!(
            err_detail(json_body(&req("{}", Some("text/plain")), 1024)).0,
            "unsupported-media-type"
        );
        let ok: Result<Body2, _> = json_body(
            &req(
                r#"{"userID":"a","password":"b"}"#,
                Some("application/json; charset=utf-8"),
            ),
            1024,
        );
        assert!(ok.is_ok());
    }

    fn with_user_param(raw: &str) -> Request {
        let event = serde_json::json!({
            "resource": "/users/{userID}/lock", "path": format!("/users/{raw}/lock"),
            "httpMethod": "PUT", "headers": {}, "multiValueHeaders": {},
            "queryStringParameters": null, "multiValueQueryStringParameters": null,
            "pathParameters": {"userID": raw}, "stageVariables": null, "body": null,
            "isBase64Encoded": false,
            "requestContext": {"requestId": "r", "resourcePath": "/users/{userID}/lock",
                "httpMethod": "PUT", "path": "/users/x/lock", "identity": {}, "accountId": "1",
                "stage": "dev"}
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn a_percent_encoded_path_user_id_is_decoded_once() {
        let user = path_user_id(&with_user_param("Jane%40Example.com")).unwrap();
        assert_eq!(user.as_str(), "jane@example.com");
        assert_eq!(
            path_user_id(&with_user_param("bob")).unwrap().as_str(),
            "bob"
        );
        // double encoding leaves a `%`, and a stray `%` stays one: both refused
        for bad in ["jane%2540example.com", "50%", "%zz", "a%2Fb", "%C3%28"] {
            let err = path_user_id(&with_user_param(bad)).unwrap_err();
            assert_eq!(err.slug(), "invalid-request", "{bad}");
        }
    }

    #[test]
    fn bearer_tokens_need_the_scheme() {
        let r = http::Request::builder()
            .header("authorization", "Basic abc")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(bearer_token(&r).unwrap_err().slug(), "unauthenticated");
        let r = http::Request::builder()
            .header("authorization", "Bearer abc.def")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(bearer_token(&r).unwrap(), "abc.def");
    }
}
