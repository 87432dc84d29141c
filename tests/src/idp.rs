//! A person signing in with the local OpenID Connect provider, as their browser would: from
//! an intent's `authUrl` through the pool domain (the emulator) and the provider
//! (`infra/local/oidc_provider.py`, on `OIDC_ISSUER_URL`) back to the API's callback.

use serde_json::{Value, json};

/// Who signs in at the provider: its subject and the claims it tells.
pub struct Person {
    pub sub: String,
    pub email: String,
    pub name: String,
}

impl Person {
    pub fn new(sub: &str) -> Self {
        Self {
            sub: sub.to_string(),
            email: format!("{sub}@idp.example.com"),
            name: format!("Person {sub}"),
        }
    }
}

/// The local provider's issuer; the test command starts it.
pub fn issuer() -> String {
    crate::stack::local_oidc_issuer().unwrap_or_else(|| {
        panic!(
            "OIDC_ISSUER_URL is not set: run the tests through infra/local/test.sh, which starts \
             the local OpenID Connect provider"
        )
    })
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Where a `302` sends the browser.
fn location(resp: &reqwest::Response) -> String {
    assert_eq!(
        resp.status().as_u16(),
        302,
        "{} did not redirect",
        resp.url()
    );
    resp.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a Location")
        .to_string()
}

/// The browser's way from `auth_url` to the page the pool sends it back to: the pool's
/// authorize endpoint sends it to the provider, where `person` signs in (or, with
/// `consent: false`, declines), the provider back to the pool's `/oauth2/idpresponse`, and the
/// pool on to the app client's callback URL. Answers that last URL (the API's callback, with
/// `code` and `state`, or with `error`).
pub async fn through_provider(auth_url: &str, person: &Person, consent: bool) -> String {
    let browser = browser();
    // the provider knows the person's claims (the mock provider's user store)
    let put = browser
        .put(format!("{}/users/{}", issuer(), person.sub))
        .json(&json!({"email": person.email, "email_verified": true, "name": person.name}))
        .send()
        .await
        .expect("the provider's user store");
    assert!(
        put.status().is_success(),
        "the provider kept no claims: {}",
        put.status()
    );
    let to_provider = location(
        &browser
            .get(auth_url)
            .send()
            .await
            .expect("the pool's authorize"),
    );
    assert!(
        to_provider.starts_with(&issuer()),
        "the pool did not send the browser to the provider: {to_provider}"
    );
    let form: &[(&str, &str)] = if consent {
        &[("sub", person.sub.as_str())]
    } else {
        &[("action", "deny")]
    };
    let answered = browser
        .post(&to_provider)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(shared::url::form(form))
        .send()
        .await
        .expect("the provider's sign-in");
    let to_pool = location(&answered);
    let back = browser
        .get(&to_pool)
        .send()
        .await
        .expect("the pool's idpresponse");
    location(&back)
}

/// The path and query of `url` (what API Gateway hands the function).
pub fn path_and_query(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

/// The query parameters of `url`, percent-decoded.
pub fn query_of(url: &str) -> std::collections::BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// The browser arriving at the API's callback: `url` as API Gateway hands it to the auth
/// function (no tenant headers, no API key).
pub fn callback_request(url: &str) -> lambda_http::Request {
    let path = path_and_query(url);
    let route = path.split_once('?').map_or(path.as_str(), |(r, _)| r);
    let decoded: Vec<String> = query_of(url)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let path = format!("{route}?{}", decoded.join("&"));
    shared::testing::api_request(
        "GET",
        &path,
        &Value::Null,
        &[("user-agent".into(), "a browser".into())],
    )
}
