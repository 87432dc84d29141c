//! Reading a request: activity id, tenant headers, path parameters, and a size- and
//! type-checked JSON body. Works the same for API Gateway v1 (the deployed REST API) and v2
//! (`cargo lambda watch`) events.

use lambda_http::{Body, Request, RequestExt, request::RequestContext};
use serde::de::DeserializeOwned;

use crate::http::problem::ApiError;

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

/// The three tenant headers, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantHeaders {
    pub client_id: String,
    pub client_code: String,
    pub database: String,
}

impl TenantHeaders {
    pub fn of(req: &Request) -> Result<Self, ApiError> {
        Ok(Self {
            client_id: header(req, HEADER_CLIENT_ID)?,
            client_code: header(req, HEADER_CLIENT_CODE)?,
            database: header(req, HEADER_DATABASE)?,
        })
    }
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

/// A Cognito username as this API accepts it: 1–128 characters of `[A-Za-z0-9._@+-]`,
/// folded to lower case once here, since pools are case-insensitive (and the emulator is not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 128;

    const RULE: &'static str =
        "must be 1 to 128 characters of letters, digits and . _ @ + -, and not . or ..";

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::check(raw).ok_or_else(|| ApiError::InvalidRequest(format!("`userID` {}", Self::RULE)))
    }

    fn check(raw: &str) -> Option<Self> {
        let valid_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-');
        // `.` and `..` are valid Cognito names but read as path steps: refused, to be safe
        (!raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.chars().all(valid_char)
            && raw != "."
            && raw != "..")
            .then(|| Self(raw.to_ascii_lowercase()))
    }

    /// A username as Cognito hands it to a trigger: any name a pool accepts (1–128
    /// characters, none of them whitespace or control), folded to lower case as the pool folds
    /// it. Wider than [`UserId::parse`], which is the API's rule for what callers send: a user
    /// created elsewhere (the hosted UI, an SDK) may hold a name the API would not accept, and
    /// still has an account state to look up.
    pub fn of_cognito(raw: &str) -> Option<Self> {
        (!raw.is_empty()
            && raw.chars().count() <= Self::MAX_LEN
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| Self(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::check(&raw).ok_or_else(|| <D::Error as serde::de::Error>::custom(Self::RULE))
    }
}

/// The `{userID}` path parameter, percent-decoded once: clients that build paths with
/// `encodeURIComponent` send `jane%40example.com` for `jane@example.com`. A `%` left after
/// that one decoding (double encoding, or a stray `%`) is refused by the userID rule.
pub fn path_user_id(req: &Request) -> Result<UserId, ApiError> {
    UserId::parse(&path_param_decoded(req, "userID")?)
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

    #[test]
    fn user_ids_are_checked_and_folded() {
        assert_eq!(
            UserId::parse("Alice@Example.com").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in ["", "a/b", "..%2F", "a b", "é", ".", "..", &"a".repeat(129)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(UserId::parse(&"a".repeat(128)).is_ok());
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
    fn cognito_names_the_api_would_refuse_still_name_an_account() {
        assert_eq!(
            UserId::of_cognito("José.Ñandú").map(|u| u.as_str().to_string()),
            Some("josé.ñandú".to_string())
        );
        assert!(UserId::parse("José.Ñandú").is_err());
        for bad in ["", "a b", "tab\tname", &"x".repeat(129)] {
            assert!(UserId::of_cognito(bad).is_none(), "{bad:?}");
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
