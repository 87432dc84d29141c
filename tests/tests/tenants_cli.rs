#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The operator's `tenants` command against the emulator: a tenant it registers is one the
//! functions serve, a bad or duplicate registration writes nothing, a policy it sets is the
//! one the functions read, and a removed tenant is refused.

use account_api_tests::stack::{Stack, TenantFixture, random_password, sign_in, unique};
use aws_sdk_cognitoidentityprovider::types::{
    ExplicitAuthFlowsType, PreventUserExistenceErrorTypes,
};
use aws_sdk_dynamodb::types::AttributeValue;
use clap::Parser;
use tenants::{Cli, CliError, Clients};

async fn tenants(args: &[&str]) -> Result<String, CliError> {
    let cli = Cli::try_parse_from(std::iter::once("tenants").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    tenants::run(cli, &Clients::from_env().await.unwrap()).await
}

async fn record(
    stack: &Stack,
    key: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    stack
        .dynamodb
        .get_item()
        .table_name(&stack.config.tenants_table)
        .key("tenantKey", AttributeValue::S(key.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test]
async fn a_tenant_registered_by_the_command_is_served_and_one_removed_is_refused() {
    let stack = Stack::connect().await;
    // a pool and app client to register under new headers
    let pool = stack.fresh_tenant().await;
    let password = random_password();
    stack.create_user(&pool, "cli-user", &password).await;
    let client_id = unique("cli");
    let key = format!("{client_id}#CLI#main");
    let table = stack.config.tenants_table.clone();
    let jwks = format!(
        "{}/{}/.well-known/jwks.json",
        stack.endpoint.trim_end_matches('/'),
        pool.user_pool_id
    );
    let headers = [
        "--table",
        &table,
        "--client-id",
        &client_id,
        "--client-code",
        "CLI",
        "--database",
        "main",
    ];
    let add = |extra: Vec<&'static str>| {
        let mut args = vec!["add"];
        args.extend_from_slice(&headers);
        args.extend([
            "--user-pool-id",
            pool.user_pool_id.as_str(),
            "--app-client-id",
            pool.app_client_id.as_str(),
            "--jwks-url",
            jwks.as_str(),
            "--api-key-id",
            "key-one",
        ]);
        args.extend(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| async move {
        tenants(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
    };

    // the pool serves the fixture's tenant already: a second record naming it would mix the
    // two tenants' locks and audit trails (and here tokens too), and is refused
    let taken = run(add(vec![])).await;
    assert!(
        matches!(&taken, Err(CliError::Invalid(why)) if why.contains("already serves tenant")),
        "{taken:?}"
    );
    assert!(record(&stack, &key).await.is_none(), "nothing written");
    stack.remove_tenant_record(&pool).await;

    let added = run(add(vec![
        "--max-password-attempts",
        "3",
        "--max-otp-attempts",
        "4",
        "--totp-issuer",
        "Acme Corp",
    ]))
    .await
    .unwrap();
    assert!(added.contains(&pool.user_pool_id), "{added}");
    let item = record(&stack, &key).await.expect("the record is written");
    assert_eq!(
        item["apiKeyIds"].as_ss().unwrap(),
        &vec!["key-one".to_string()]
    );
    assert_eq!(item["maxPasswordAttempts"].as_n().unwrap(), "3");
    assert_eq!(item["maxOtpAttempts"].as_n().unwrap(), "4");
    assert_eq!(item["totpIssuer"].as_s().unwrap(), "Acme Corp");
    assert!(added.contains("\"maxOtpAttempts\": 4"), "{added}");

    // the functions serve it
    let fixture = TenantFixture {
        client_id: client_id.clone(),
        client_code: "CLI".into(),
        database: "main".into(),
        ..pool.clone()
    };
    let app = stack.app().await;
    let a = sign_in(&app, &fixture, "cli-user", &password).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // a second registration of the same headers is refused and changes nothing
    assert!(matches!(run(add(vec![])).await, Err(CliError::Exists(k)) if k == key));
    assert_eq!(
        record(&stack, &key).await.unwrap()["maxPasswordAttempts"]
            .as_n()
            .unwrap(),
        "3"
    );

    // headers the functions would refuse, a pool that does not exist: nothing is written
    let bad = tenants(&[
        "add",
        "--table",
        &table,
        "--client-id",
        "a#b",
        "--client-code",
        "X",
        "--database",
        "main",
        "--user-pool-id",
        &pool.user_pool_id,
        "--app-client-id",
        &pool.app_client_id,
    ])
    .await;
    assert!(matches!(bad, Err(CliError::Invalid(_))), "{bad:?}");
    assert!(record(&stack, "a#b#X#main").await.is_none());
    let ghost = unique("ghost");
    let missing = tenants(&[
        "add",
        "--table",
        &table,
        "--client-id",
        &ghost,
        "--client-code",
        "X",
        "--database",
        "main",
        "--user-pool-id",
        "us-east-1_doesnotexist",
        "--app-client-id",
        "nosuchclient",
    ])
    .await;
    assert!(matches!(missing, Err(CliError::Aws(_))), "{missing:?}");
    assert!(record(&stack, &format!("{ghost}#X#main")).await.is_none());

    // a policy change is what the functions read
    let mut args = vec!["set-policy"];
    args.extend_from_slice(&headers);
    args.extend(["--hide-account-state", "true", "--lockout-seconds", "60"]);
    let shown = tenants(&args).await.unwrap();
    assert!(shown.contains("\"hideAccountState\": true"), "{shown}");
    let item = record(&stack, &key).await.unwrap();
    assert_eq!(item["hideAccountState"].as_bool().unwrap(), &true);
    assert_eq!(item["lockoutDurationSeconds"].as_n().unwrap(), "60");
    assert_eq!(
        item["maxPasswordAttempts"].as_n().unwrap(),
        "3",
        "other fields stay"
    );

    // an issuer that would break the key URI's label is refused, nothing written
    let mut args = vec!["set-policy"];
    args.extend_from_slice(&headers);
    args.extend(["--totp-issuer", "Acme:Evil"]);
    assert!(matches!(tenants(&args).await, Err(CliError::Invalid(_))));
    assert_eq!(
        record(&stack, &key).await.unwrap()["totpIssuer"]
            .as_s()
            .unwrap(),
        "Acme Corp"
    );

    // a sender and the page for mailed passkey registration codes; refused where they could
    // not serve (no address, a page without the code, plain http off localhost)
    let mut args = vec!["set-policy"];
    args.extend_from_slice(&headers);
    args.extend([
        "--email-from",
        "Acme <no-reply@acme.example>",
        "--passkey-registration-url",
        "https://app.acme.example/passkey?user={userID}&code={code}",
    ]);
    tenants(&args).await.unwrap();
    let item = record(&stack, &key).await.unwrap();
    assert_eq!(
        item["emailFrom"].as_s().unwrap(),
        "Acme <no-reply@acme.example>"
    );
    assert_eq!(
        item["passkeyRegistrationUrl"].as_s().unwrap(),
        "https://app.acme.example/passkey?user={userID}&code={code}"
    );
    for (flag, bad) in [
        ("--email-from", "Acme"),
        ("--email-from", "Acme <no-reply>"),
        (
            "--passkey-registration-url",
            "https://app.acme.example/passkey",
        ),
        (
            "--passkey-registration-url",
            "http://app.acme.example/p?code={code}",
        ),
        (
            "--passkey-registration-url",
            "http://localhost.evil.example/p?code={code}",
        ),
        (
            "--passkey-registration-url",
            "https://app.acme.example@evil.example/?c={code}",
        ),
        ("--email-from", "Acmé <no-reply@acme.example>"),
        ("--email-from", "Acme <no-reply@acme.example"),
    ] {
        let mut args = vec!["set-policy"];
        args.extend_from_slice(&headers);
        args.extend([flag, bad]);
        assert!(
            matches!(tenants(&args).await, Err(CliError::Invalid(_))),
            "{flag} {bad}"
        );
    }

    // sign-in with identity providers: what the pool's app client serves, and nothing else
    // (a callback URL it does not list would end at Cognito's redirect_mismatch page)
    let prefix = stack
        .cognito
        .describe_user_pool()
        .user_pool_id(&pool.user_pool_id)
        .send()
        .await
        .unwrap()
        .user_pool()
        .and_then(|p| p.domain())
        .expect("the local pool's domain")
        .to_string();
    let domain = format!("{}/_domains/{prefix}", stack.endpoint.trim_end_matches('/'));
    let callback = account_api_tests::stack::idp_callback_url();
    let federation = [
        "--auth-domain",
        domain.as_str(),
        "--idp-callback-url",
        callback.as_str(),
        "--identity-provider",
        account_api_tests::stack::LOCAL_IDP,
        "--idp-redirect-url",
        "https://app.acme.example/signed-in",
    ];
    let mut args = vec!["set-policy"];
    args.extend_from_slice(&headers);
    args.extend(federation);
    let shown = tenants(&args).await.unwrap();
    assert!(
        shown.contains("\"identityProviders\": [\n    \"LocalOIDC\"\n  ]"),
        "{shown}"
    );
    let item = record(&stack, &key).await.unwrap();
    assert_eq!(item["idpCallbackUrl"].as_s().unwrap(), &callback);
    for (flag, bad) in [
        (
            "--idp-callback-url",
            "https://api.example.com/dev/idp-intents/callback",
        ),
        // not the pool's own domain: the client's secret would go there
        (
            "--auth-domain",
            "https://elsewhere.auth.us-east-1.amazoncognito.com",
        ),
        ("--identity-provider", "Okta"),
        ("--idp-redirect-url", "http://app.acme.example/signed-in"),
        ("--idp-redirect-url", "https://app.acme.example/sïgned-in"),
    ] {
        let mut args = vec!["set-policy"];
        args.extend_from_slice(&headers);
        let mut spoilt = federation;
        let at = spoilt.iter().position(|a| *a == flag).unwrap();
        spoilt[at + 1] = bad;
        args.extend(spoilt);
        assert!(
            matches!(tenants(&args).await, Err(CliError::Invalid(_))),
            "{flag} {bad}"
        );
    }
    let mut args = vec!["set-policy"];
    args.extend_from_slice(&headers);
    args.extend(["--auth-domain", domain.as_str()]);
    assert!(
        matches!(tenants(&args).await, Err(CliError::Invalid(_))),
        "a domain without its callback"
    );
    assert_eq!(
        record(&stack, &key).await.unwrap()["idpCallbackUrl"]
            .as_s()
            .unwrap(),
        &callback
    );

    let listed = tenants(&["list", "--table", &table]).await.unwrap();
    assert!(listed.lines().any(|l| l.starts_with(&key)), "{listed}");

    // removal asks for --yes, then the tenant's callers are refused
    let mut args = vec!["remove"];
    args.extend_from_slice(&headers);
    assert!(matches!(tenants(&args).await, Err(CliError::Invalid(_))));
    assert!(record(&stack, &key).await.is_some());
    args.push("--yes");
    tenants(&args).await.unwrap();
    assert!(record(&stack, &key).await.is_none());
    assert!(matches!(tenants(&args).await, Err(CliError::NotFound(_))));
    let fresh = stack.app().await;
    let a = sign_in(&fresh, &fixture, "cli-user", &password).await;
    assert_eq!((a.status, a.slug()), (401, "invalid-tenant"), "{}", a.body);
}

#[tokio::test]
async fn a_stage_names_its_table_and_nothing_else_is_a_stage() {
    let shown = tenants(&[
        "show",
        "--stage",
        "qa",
        "--client-id",
        "a",
        "--client-code",
        "b",
        "--database",
        "c",
    ])
    .await;
    assert!(matches!(shown, Err(CliError::Invalid(m)) if m.contains("dev, staging or prod")));
    assert!(
        Cli::try_parse_from(["tenants", "list"]).is_err(),
        "a table or a stage is required"
    );
}

/// A pool whose tokens would reach Cognito's self-service operations around the API (no pre
/// token generation trigger of event version V2_0) is refused, and nothing is written.
#[tokio::test]
async fn a_pool_without_the_pre_token_generation_trigger_is_refused() {
    assert!(
        std::env::var_os("LAMBDA_ENDPOINT_URL").is_some(),
        "the test command gives every pool its triggers (LAMBDA_ENDPOINT_URL); run it through infra/local/test.sh"
    );
    let stack = Stack::connect().await;
    let pool = stack.fresh_tenant().await;
    stack.remove_tenant_record(&pool).await;
    let table = stack.config.tenants_table.clone();
    let client_id = unique("cli");
    let add = |client_id: &str| {
        let args = [
            "add",
            "--table",
            &table,
            "--client-id",
            client_id,
            "--client-code",
            "CLI",
            "--database",
            "main",
            "--user-pool-id",
            &pool.user_pool_id,
            "--app-client-id",
            &pool.app_client_id,
            "--api-key-id",
            "key-one",
        ]
        .map(String::from);
        async move { tenants(&args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    // as the templates make it: registered
    assert!(add(&client_id).await.is_ok());
    stack
        .dynamodb
        .delete_item()
        .table_name(&table)
        .key(
            "tenantKey",
            AttributeValue::S(format!("{client_id}#CLI#main")),
        )
        .send()
        .await
        .unwrap();
    // a client that tells unknown users from wrong passwords is refused too
    let client = |prevent| {
        stack
            .cognito
            .update_user_pool_client()
            .user_pool_id(&pool.user_pool_id)
            .client_id(&pool.app_client_id)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
            .prevent_user_existence_errors(prevent)
            .send()
    };
    client(PreventUserExistenceErrorTypes::Legacy)
        .await
        .unwrap();
    let refused = add(&client_id).await;
    assert!(
        matches!(&refused, Err(CliError::Invalid(why)) if why.contains("PreventUserExistenceErrors")),
        "{refused:?}"
    );
    client(PreventUserExistenceErrorTypes::Enabled)
        .await
        .unwrap();
    // UpdateUserPool without a LambdaConfig takes the triggers away
    stack
        .cognito
        .update_user_pool()
        .user_pool_id(&pool.user_pool_id)
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::Optional)
        .send()
        .await
        .unwrap();
    let refused = add(&client_id).await;
    assert!(
        matches!(&refused, Err(CliError::Invalid(why)) if why.contains("pre token generation")),
        "{refused:?}"
    );
    assert!(
        record(&stack, &format!("{client_id}#CLI#main"))
            .await
            .is_none()
    );
}

/// An audit entry a function could not write is not lost: its error log line holds it, and
/// `replay-audit` writes it into the audit table, as the entry the function would have
/// written (same key, same fields), once however often it is replayed. The function's audit
/// table here is one that does not exist, so every write of it fails, retries included. The
/// change is an admin disable, which lives in Cognito (an admin lock's entry is written with
/// the lock, in one DynamoDB transaction: `locks.rs`).
#[tokio::test(flavor = "current_thread")]
async fn an_audit_entry_held_in_the_log_is_replayed_into_the_trail() {
    use shared::{
        adapters::dynamodb::DynamoAudit,
        domain::{audit::AuditLog, user_id::UserId},
    };
    let captured = shared::testing::CapturedLog::default();
    let _guard = tracing::subscriber::set_default(captured.subscriber());
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let mut app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let user = unique("held");
    stack.create_user(&t, &user, &random_password()).await;
    app.audit = DynamoAudit::new(
        stack.dynamodb.clone(),
        "no-such-audit-table",
        stack.config.audit_retention,
    );
    let disabled = account_api_tests::stack::call::<admin::Group>(
        &app,
        &t,
        "POST",
        &format!("/users/{user}/admin-disable"),
        serde_json::json!({}),
        &token,
    )
    .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);

    let trail = DynamoAudit::new(
        stack.dynamodb.clone(),
        &stack.config.audit_table,
        stack.config.audit_retention,
    );
    let entries = || async {
        trail
            .list(&t.user_pool_id, &UserId::parse(&user).unwrap(), 50, None)
            .await
            .unwrap()
            .events
    };
    assert!(entries().await.is_empty(), "the function wrote nothing");

    let log = captured.text();
    let file = std::env::temp_dir().join(format!("{}.log", unique("held-audit")));
    std::fs::write(&file, &log).unwrap();
    let args = [
        "replay-audit",
        "--table",
        stack.config.audit_table.as_str(),
        "--from",
        file.to_str().unwrap(),
    ];
    let said = tenants(&args).await.unwrap();
    assert_eq!(
        said,
        format!("wrote 1 audit entry to {}", stack.config.audit_table)
    );
    let replayed = entries().await;
    assert_eq!(replayed.len(), 1, "{replayed:?}");
    let e = &replayed[0];
    assert_eq!(
        (e.action.as_str(), e.outcome.as_str(), e.user_id.as_str()),
        ("admin-disable", "success", user.as_str())
    );
    assert_eq!(e.activity_id, disabled.activity_id);
    // again: the same item, not a second entry
    tenants(&args).await.unwrap();
    assert_eq!(entries().await, replayed);
    std::fs::remove_file(&file).ok();
}
