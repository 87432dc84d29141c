#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The API-key check behind API Gateway fails closed, and before the API says whether a
//! tenant exists: a key for a tenant record that lists no key ids is refused, and a key sent
//! with headers that name no tenant gets the same 403 as a wrong key, so a caller cannot list
//! the registered tenants by trying header triples. In memory; needs no emulator.

use serde_json::{Value, json};
use shared::testing::{Answer, InMemoryDirectory, MemUser, api_event, demo_headers, tenant};

fn sign_in(client_id: &str, api_key: Option<&str>) -> lambda_http::Request {
    let mut headers = demo_headers(None);
    for (name, value) in &mut headers {
        if name == "vbasoftware-client-id" {
            *value = client_id.to_string();
        }
    }
    let body = json!({"userID": "demo-user", "password": "Demo-Passw0rd!"});
    let mut event = api_event("POST", "/user-authentication", &body, &headers);
    event["requestContext"]["identity"]["apiKeyId"] = api_key.map_or(Value::Null, Value::from);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn answer(keys: &[&str], client_id: &str, api_key: Option<&str>) -> Answer {
    let mut t = tenant();
    t.api_key_ids = keys.iter().map(|k| (*k).to_string()).collect();
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("Demo-Passw0rd!"));
    let app = shared::testing::app_for(t, directory);
    Answer::from(app.handle::<auth::Group>(sign_in(client_id, api_key)).await)
}

#[tokio::test]
async fn a_key_for_a_tenant_that_lists_no_keys_is_refused() {
    let a = answer(&[], "demo", Some("some-key-id")).await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"), "{}", a.body);
}

#[tokio::test]
async fn a_listed_key_gets_through_and_another_is_refused() {
    let a = answer(&["demo-key-id"], "demo", Some("demo-key-id")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = answer(&["demo-key-id"], "demo", Some("other-key-id")).await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"));
}

#[tokio::test]
async fn a_key_with_unknown_tenant_headers_reads_like_a_wrong_key() {
    let unknown = answer(&["demo-key-id"], "nobody", Some("demo-key-id")).await;
    let wrong = answer(&["demo-key-id"], "demo", Some("other-key-id")).await;
    assert_eq!((unknown.status, unknown.slug()), (403, "forbidden"));
    assert_eq!(
        unknown.body["error"]["detail"],
        wrong.body["error"]["detail"]
    );
}

#[tokio::test]
async fn without_a_gateway_key_the_tenant_headers_decide() {
    // the local stack and direct invocations carry no key id: nothing to check
    let a = answer(&[], "demo", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = answer(&[], "nobody", None).await;
    assert_eq!((a.status, a.slug()), (401, "invalid-tenant"));
}
