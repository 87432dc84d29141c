//! A function's route table: method and exact path template → the operation it serves.
//!
//! Each function lists its routes once, as `Route<Op>` values over its own `Op` enum, and
//! matches on `Op` exhaustively, so a route without a handler does not compile. Matching is by
//! method and the whole path: `GET /users/users` is the user `users`, never the user list.

use lambda_http::{Request, RequestExt, request::RequestContext};

/// One route: the method, the path template (`{x}` is one non-empty segment), the name logs,
/// metrics and audit entries know it by, and the function's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<Op: 'static> {
    pub method: &'static str,
    pub path: &'static str,
    pub name: &'static str,
    pub op: Op,
}

/// A function's operations, every one of them listed, so that a test can hold the route
/// table to the enum (declare them with [`crate::operations!`]).
pub trait Operations: Copy + Eq + Send + Sync + std::fmt::Debug + 'static {
    const ALL: &'static [Self];
}

/// Declares a function's operation enum and lists its variants ([`Operations::ALL`]):
/// `tests/tests/routes.rs` fails when a variant has no route.
#[macro_export]
macro_rules! operations {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::http::routes::Operations for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
        }
    };
}

macro_rules! constructor {
    ($($fn:ident => $method:literal),+) => {$(
        #[doc = concat!("A `", $method, "` route.")]
        pub const fn $fn<Op>(path: &'static str, name: &'static str, op: Op) -> Route<Op> {
            Route { method: $method, path, name, op }
        }
    )+};
}
constructor!(get => "GET", post => "POST", put => "PUT", patch => "PATCH", delete => "DELETE");

/// The route of `routes` that `req` is for.
///
/// Behind API Gateway (REST) the event names the resource template it matched, which is
/// compared as it is: a base-path mapping in front of the API does not change it. Elsewhere
/// (`cargo lambda watch`, HTTP API events) the request path is matched against each template,
/// segment by segment, over its whole length.
pub fn find<Op>(routes: &'static [Route<Op>], req: &Request) -> Option<&'static Route<Op>> {
    let method = req.method().as_str();
    on_path(routes, req).find(|r| r.method.eq_ignore_ascii_case(method))
}

/// The routes of `routes` on the request's resource, whatever their method (what a preflight
/// for that path may ask for).
///
/// A path two templates fill (`/users/x/passkeys/verify`: `…/passkeys/verify` and
/// `…/passkeys/{credentialID}`) is the resource API Gateway would pick: the one whose
/// segments, read from the left, are literal first.
pub fn on_path<Op>(
    routes: &'static [Route<Op>],
    req: &Request,
) -> impl Iterator<Item = &'static Route<Op>> + use<Op> {
    let resource = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c.resource_path.clone(),
        _ => None,
    };
    let resource = resource.or_else(|| {
        let path = req.raw_http_path();
        routes
            .iter()
            .filter(|r| matches_path(r.path, path))
            .max_by_key(|r| literal_first(r.path))
            .map(|r| r.path.to_string())
    });
    routes
        .iter()
        .filter(move |r| resource.as_deref() == Some(r.path))
}

/// How specific a template is, as API Gateway ranks the resources a path fills: for each
/// segment from the left, a literal before a `{parameter}`.
fn literal_first(template: &str) -> Vec<bool> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| !s.starts_with('{'))
        .collect()
}

/// Whether `path` fills `template` exactly: as many segments, literals equal, each `{x}` one
/// non-empty segment.
pub fn matches_path(template: &str, path: &str) -> bool {
    let mut template = template.split('/').filter(|s| !s.is_empty());
    let mut path = path.split('/').filter(|s| !s.is_empty());
    loop {
        match (template.next(), path.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') || t == p => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_two_templates_fill_is_the_more_literal_ones() {
        static ROUTES: [Route<u8>; 3] = [
            post("/users/{userID}/passkeys/verify", "verify", 0),
            delete("/users/{userID}/passkeys/{credentialID}", "delete", 1),
            get("/users/{userID}", "get", 2),
        ];
        let on = |method: &str, path: &str| {
            let req = http::Request::builder()
                .method(method)
                .uri(path)
                .body(lambda_http::Body::Empty)
                .unwrap();
            let req = lambda_http::RequestExt::with_raw_http_path(Request::from(req), path);
            (
                on_path(&ROUTES, &req).map(|r| r.name).collect::<Vec<_>>(),
                find(&ROUTES, &req).map(|r| r.name),
            )
        };
        assert_eq!(
            on("OPTIONS", "/users/x/passkeys/verify"),
            (vec!["verify"], None)
        );
        // as API Gateway: DELETE has no route on the literal resource
        assert_eq!(
            on("DELETE", "/users/x/passkeys/verify"),
            (vec!["verify"], None)
        );
        assert_eq!(
            on("DELETE", "/users/x/passkeys/abc"),
            (vec!["delete"], Some("delete"))
        );
        assert_eq!(on("GET", "/users/verify"), (vec!["get"], Some("get")));
        assert_eq!(on("GET", "/nowhere"), (vec![], None));
    }

    #[test]
    fn a_path_matches_its_template_over_its_whole_length() {
        assert!(matches_path("/users/{userID}", "/users/users"));
        assert!(matches_path("/users/{userID}/lock", "/users/lock/lock"));
        assert!(matches_path("/users", "/users/"));
        assert!(!matches_path("/users", "/users/users"));
        assert!(!matches_path("/users/{userID}", "/users"));
        assert!(!matches_path("/users/{userID}", "/users//"));
        assert!(!matches_path("/users/{userID}/lock", "/v1/users/x/lock"));
        assert!(!matches_path("/users/{userID}/lock", "/users/x/lock/more"));
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Op {
        List,
        Get,
        Events,
    }

    const ROUTES: &[Route<Op>] = &[
        get("/users", "list-users", Op::List),
        get("/users/{userID}", "get-user", Op::Get),
        get("/users/{userID}/events", "events", Op::Events),
    ];

    fn request(path: &str, resource: Option<&str>) -> Request {
        let event = serde_json::json!({
            "resource": resource, "path": path, "httpMethod": "GET", "headers": {},
            "multiValueHeaders": {}, "queryStringParameters": null,
            "multiValueQueryStringParameters": null, "pathParameters": null,
            "stageVariables": null, "body": null, "isBase64Encoded": false,
            "requestContext": {"requestId": "r", "resourcePath": resource, "httpMethod": "GET",
                "path": path, "identity": {}, "accountId": "1", "stage": "dev"}
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn the_gateway_template_decides_where_the_event_names_one() {
        let by = |path, resource| find(ROUTES, &request(path, resource)).map(|r| r.op);
        assert_eq!(by("/users/users", None), Some(Op::Get));
        assert_eq!(by("/users/events/events", None), Some(Op::Events));
        assert_eq!(by("/users", None), Some(Op::List));
        // a base-path mapping puts a prefix on the path, not on the template
        assert_eq!(
            by("/v1/users/x/events", Some("/users/{userID}/events")),
            Some(Op::Events)
        );
        assert_eq!(by("/users/x", Some("/users/{userID}/lock")), None);
    }
}
