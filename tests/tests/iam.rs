#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every AWS call a function makes is one its IAM policy in infra/template.yaml allows. The
//! emulator checks no IAM, so a call the policy forgets passes every other test and fails every
//! request of a deployed stage (a lock route that reads the pool's configuration without
//! `cognito-idp:DescribeUserPool`, say). Here each function serves every route of the catalogue
//! (and the paths that make more calls: a sign-in by alias, wrong passwords up to a lockout, a
//! refresh) through SDK clients that record each operation, and each operation is checked
//! against the actions of that function's policy statements.

use std::collections::{BTreeMap, BTreeSet};

use account_api_tests::{
    catalogue::ROUTES,
    stack::{Answer, Stack, api_request, dispatch, random_password, trigger_event},
};
use aws_sdk_cognitoidentityprovider::types::AliasAttributeType;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

const DYNAMODB: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
];

/// Cognito's public operations, authorized by the user's token, session or code, not by IAM:
/// their API reference says "Amazon Cognito doesn't evaluate Identity and Access Management
/// (IAM) policies in requests for this API operation".
const COGNITO_WITHOUT_IAM: &[&str] = &[
    "InitiateAuth",
    "RespondToAuthChallenge",
    "GetUser",
    "ChangePassword",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "GlobalSignOut",
    "ResendConfirmationCode",
    "RevokeToken",
    "GetUserAttributeVerificationCode",
    "VerifyUserAttribute",
    "AssociateSoftwareToken",
    "VerifySoftwareToken",
    "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration",
    "ListWebAuthnCredentials",
    "DeleteWebAuthnCredential",
];

fn action(operation: &str) -> String {
    if operation == "SendEmail" {
        "ses:SendEmail".into()
    } else if DYNAMODB.contains(&operation) {
        format!("dynamodb:{operation}")
    } else {
        format!("cognito-idp:{operation}")
    }
}

/// The actions each function's policy statements allow, by function (`auth`, …).
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/template.yaml"
    ))
    .unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_string();
        let mut actions = BTreeSet::new();
        for policy in resource["Properties"]["Policies"].as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                assert_eq!(statement["Effect"].as_str(), Some("Allow"));
                match &statement["Action"] {
                    serde_yaml_ng::Value::String(a) => {
                        actions.insert(a.clone());
                    }
                    serde_yaml_ng::Value::Sequence(list) => {
                        actions.extend(list.iter().map(|a| a.as_str().unwrap().to_string()));
                    }
                    other => panic!("{binary}: an Action of {other:?}"),
                }
            }
        }
        out.insert(binary, actions);
    }
    out
}

#[tokio::test]
async fn every_call_a_function_makes_is_allowed_by_its_policy() {
    let stack = Stack::connect().await;
    // a pool with an email alias, so that sign-in routes look names up as in production
    let t = stack
        .fresh_tenant_with_aliases(&[AliasAttributeType::Email])
        .await;
    stack
        .set_tenant_attribute(&t, "maxPasswordAttempts", AttributeValue::N("3".into()))
        .await;
    let (app, probe) = stack.probed_app().await;
    let (admin, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "iam-user", &password).await;
    probe.take();

    let mut called: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut record = |function: &str, ops: BTreeMap<String, usize>| {
        called.entry(function.to_string()).or_default().extend(
            ops.into_keys()
                .filter(|op| !COGNITO_WITHOUT_IAM.contains(&op.as_str()))
                .map(|op| action(&op)),
        );
    };

    // every route of the catalogue, as an admin, on a user that exists; each function on an
    // app of its own, as each is its own Lambda with its own caches (a pool's configuration
    // read by one function is not in another's cache)
    for function in ["auth", "password", "admin", "lock", "users"] {
        let (app, probe) = stack.probed_app().await;
        // the user is deleted last, so that every other route acts on a user that exists
        let (deletes, others): (Vec<_>, Vec<_>) = ROUTES
            .iter()
            .filter(|r| r.0 == function)
            .partition(|r| r.1 == "DELETE" && r.2 == "/users/{u}");
        for (_, method, path, body, _) in others.into_iter().chain(deletes) {
            let user = if path.contains("change-password") {
                admin.as_str()
            } else {
                "iam-user"
            };
            let path = account_api_tests::catalogue::fill(path, user);
            let body: Value = serde_json::from_str(body).unwrap();
            let req = api_request(&t, method, &path, &body, Some(&token));
            let a = Answer::from(dispatch(&app, function, req).await);
            assert!(a.status < 500, "{method} {path}: {}", a.body);
        }
        record(function, probe.take());
    }
    let (app, probe) = stack.probed_app().await;
    // the calls the catalogue's bodies do not reach: a sign-in by alias, a refresh, wrong
    // passwords up to a lockout, a created user read and deleted
    stack.create_user(&t, "iam-other", &password).await;
    let sign_in = |user: &str, password: &str| {
        api_request(
            &t,
            "POST",
            "/user-authentication",
            &json!({"userID": user, "password": password}),
            None,
        )
    };
    let a = Answer::from(dispatch(&app, "auth", sign_in("iam-other@example.com", &password)).await);
    assert_eq!(a.status, 200, "{}", a.body);
    let refresh_token = a.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = api_request(
        &t,
        "POST",
        "/user-refresh-tokens",
        &json!({"userID": "iam-other", "refreshToken": refresh_token}),
        None,
    );
    let a = Answer::from(dispatch(&app, "auth", refresh).await);
    assert_eq!(a.status, 200, "{}", a.body);
    for _ in 0..3 {
        dispatch(&app, "auth", sign_in("iam-other", "Wrong-Passw0rd-z")).await;
    }
    record("auth", probe.take());
    // a registration code mailed (the catalogue's asks for it back): iam-other's email verified
    stack
        .cognito
        .admin_update_user_attributes()
        .user_pool_id(&t.user_pool_id)
        .username("iam-other")
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("email")
                .value("iam-other@example.org")
                .build()
                .unwrap(),
        )
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mailed = api_request(
        &t,
        "POST",
        "/users/iam-other/passkeys/registration-link",
        &json!({}),
        Some(&token),
    );
    let a = Answer::from(dispatch(&app, "users", mailed).await);
    assert_eq!(a.status, 201, "{}", a.body);
    for (method, path) in [
        ("GET", "/users/iam-other"),
        ("GET", "/users/iam-other/events"),
        ("DELETE", "/users/iam-other"),
    ] {
        let req = api_request(&t, method, path, &Value::Null, Some(&token));
        let a = Answer::from(dispatch(&app, "users", req).await);
        assert!(a.status < 500, "{method} {path}: {}", a.body);
    }
    record("users", probe.take());
    // an identity provider's sign-in whose identity is nobody's yet (the user Cognito made of
    // it removed), then an admin's link and unlink of that identity
    {
        use account_api_tests::{idp, stack};
        let person = idp::Person::new(&stack::unique("iam-idp"));
        let body = json!({"idpName": stack::LOCAL_IDP, "successUrl": stack::IDP_SUCCESS_URL,
            "failureUrl": stack::IDP_FAILURE_URL});
        let a = Answer::from(
            dispatch(
                &app,
                "auth",
                api_request(&t, "POST", "/idp-intents", &body, None),
            )
            .await,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let field = |k: &str| a.data()[k].as_str().unwrap().to_string();
        let (intent, auth_url, secret) =
            (field("intentID"), field("authUrl"), field("intentSecret"));
        let pool_says = idp::through_provider(&auth_url, &person, true).await;
        let back = Answer::from(dispatch(&app, "auth", idp::callback_request(&pool_says)).await);
        assert_eq!(back.status, 302, "{}", back.body);
        let intent_token =
            idp::query_of(back.headers["location"].to_str().unwrap())["intentToken"].clone();
        let retrieve = api_request(
            &t,
            "POST",
            &format!("/idp-intents/{intent}/retrieve"),
            &json!({"intentToken": intent_token, "intentSecret": secret}),
            None,
        );
        let retrieved = Answer::from(dispatch(&app, "auth", retrieve).await);
        assert_eq!(retrieved.status, 200, "{}", retrieved.body);
        let link_token = retrieved.data()["linkToken"].as_str().unwrap().to_string();
        record("auth", probe.take());
        // the admin links the identity to their own account (the users the sweep used are
        // gone), with the retrieve's link token, and unlinks it
        let link = json!({"idpName": stack::LOCAL_IDP, "idpUserID": person.sub,
            "intentID": intent, "linkToken": link_token});
        let own = format!("/users/{admin}/idp-links");
        let a = Answer::from(
            dispatch(
                &app,
                "users",
                api_request(&t, "POST", &own, &link, Some(&token)),
            )
            .await,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let path = format!("{own}/{}/{}", stack::LOCAL_IDP, person.sub);
        let a = Answer::from(
            dispatch(
                &app,
                "users",
                api_request(&t, "DELETE", &path, &Value::Null, Some(&token)),
            )
            .await,
        );
        assert_eq!(
            (a.status, &a.data()["deleted"]),
            (200, &json!(true)),
            "{}",
            a.body
        );
        record("users", probe.take());
    }
    // the trigger
    pre_authentication::handle(&app.locks, trigger_event(&t, "iam-user"))
        .await
        .unwrap();
    record("pre-authentication", probe.take());
    // the custom sign-in's verify trigger, the one of the three that reads
    let verify = serde_json::json!({
        "version": "1", "triggerSource": "VerifyAuthChallengeResponse_Authentication",
        "region": "us-east-1", "userPoolId": t.user_pool_id, "userName": "iam-user",
        "callerContext": {"awsSdkVersion": "test", "clientId": t.app_client_id},
        "request": {"userAttributes": {}, "privateChallengeParameters": {},
                    "challengeAnswer": "passkey-registration:not-the-code", "userNotFound": false},
        "response": {}
    });
    custom_auth::handle(
        &app.locks,
        lambda_runtime::LambdaEvent::new(verify, lambda_runtime::Context::default()),
        std::time::SystemTime::now(),
    )
    .await
    .unwrap();
    record("custom-auth", probe.take());

    let allowed = allowed();
    let mut missing = vec![];
    for (function, actions) in &called {
        let policy = allowed
            .get(function)
            .unwrap_or_else(|| panic!("no function {function} in the template"));
        for a in actions.difference(policy) {
            missing.push(format!("{function} calls {a}"));
        }
    }
    assert!(
        missing.is_empty(),
        "calls the template's IAM policies do not allow: {missing:?}"
    );
    // the sweep reached what it is for: every function made calls
    for function in [
        "auth",
        "password",
        "admin",
        "lock",
        "users",
        "pre-authentication",
        "custom-auth",
    ] {
        assert!(
            called.get(function).is_some_and(|a| !a.is_empty()),
            "{function} made no call: {called:?}"
        );
    }
    assert!(
        called["auth"].contains("cognito-idp:AdminGetUser"),
        "{called:?}"
    );
    assert!(called["users"].contains("ses:SendEmail"), "{called:?}");
    for (function, action) in [
        ("auth", "cognito-idp:AdminDeleteUser"),
        ("auth", "dynamodb:PutItem"),
        ("auth", "dynamodb:DeleteItem"),
        ("users", "cognito-idp:AdminLinkProviderForUser"),
        ("users", "cognito-idp:AdminDisableProviderForUser"),
    ] {
        assert!(
            called[function].contains(action),
            "{function} never called {action}: {called:?}"
        );
    }
}
