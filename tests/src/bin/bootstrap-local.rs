//! Bootstraps the demo tenant on the local emulator for `infra/local/run.sh`: tables, a pool
//! with an `admins` group, an admin with a generated password, a demo user for the sample
//! events, and `.local/demo-tenant.json` describing it all.

use account_api_tests::stack::{Stack, random_password};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

/// The sample events in `events/` sign in as this user; it exists only on the local stack.
const DEMO_USER: &str = "demo-user";
const DEMO_PASSWORD: &str = "Demo-Passw0rd!";
/// The API key id of the sample events' `requestContext.identity`.
const DEMO_API_KEY_ID: &str = "demo-key-id";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ".local/demo-tenant.json".into());
    let api_url = std::env::var("API_URL").unwrap_or_else(|_| "http://127.0.0.1:9000".into());
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("demo", "DEMO", "main").await;
    // the key id the sample events carry: behind API Gateway a key must be listed to get in
    stack
        .set_tenant_attribute(
            &tenant,
            "apiKeyIds",
            AttributeValue::Ss(vec![DEMO_API_KEY_ID.into()]),
        )
        .await;
    let admin_password = random_password();
    stack.create_user(&tenant, "admin", &admin_password).await;
    stack.add_to_group(&tenant, "admin", "admins").await;
    stack.create_user(&tenant, DEMO_USER, DEMO_PASSWORD).await;
    let description = json!({
        "apiUrl": api_url,
        "awsEndpoint": stack.endpoint,
        "clientId": tenant.client_id,
        "clientCode": tenant.client_code,
        "database": tenant.database,
        "userPoolId": tenant.user_pool_id,
        "appClientId": tenant.app_client_id,
        "adminUserID": "admin",
        "adminPassword": admin_password,
        "demoUserID": DEMO_USER,
        "demoPassword": DEMO_PASSWORD,
        // the pool's identity providers (a sign-in button each in the example app)
        "identityProviders": account_api_tests::stack::local_oidc_issuer()
            .map(|_| vec![account_api_tests::stack::LOCAL_IDP])
            .unwrap_or_default(),
    });
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&description)? + "\n")?;
    println!("demo tenant written to {out}");
    Ok(())
}
