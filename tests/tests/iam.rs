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
    stack::{
        Answer, SdkProbe, Stack, Write, api_request, api_request_with_headers, dispatch,
        random_password, tenant_headers, trigger_event,
    },
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
    "ConditionCheckItem",
];

/// Calls IAM does not authorize as themselves: a transaction's items are authorized as the
/// operations they are (`PutItem`, `UpdateItem`, …; the probe records them as writes).
const AUTHORIZED_BY_THEIR_ITEMS: &[&str] = &["TransactWriteItems", "TransactGetItems"];

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

/// One statement of a function's policy: its actions, the resources it names (a table's
/// logical id for `!GetAtt <Table>.Arn`), and its `dynamodb:LeadingKeys` patterns, if any.
#[derive(Debug)]
struct Statement {
    actions: BTreeSet<String>,
    resources: Vec<String>,
    leading_keys: Option<Vec<String>>,
}

/// IAM's `StringLike`: `*` any run of characters, `?` one.
fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    // matches[i][j]: p[..i] matches v[..j]
    let mut matches = vec![vec![false; v.len() + 1]; p.len() + 1];
    matches[0][0] = true;
    for i in 1..=p.len() {
        if p[i - 1] == '*' {
            matches[i][0] = matches[i - 1][0];
        }
        for j in 1..=v.len() {
            matches[i][j] = match p[i - 1] {
                '*' => matches[i - 1][j] || matches[i][j - 1],
                '?' => matches[i - 1][j - 1],
                c => c == v[j - 1] && matches[i - 1][j - 1],
            };
        }
    }
    matches[p.len()][v.len()]
}

/// Each function's policy statements, by function (`auth`, …).
fn statements() -> BTreeMap<String, Vec<Statement>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/template.yaml"
    ))
    .unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let strings = |v: &serde_yaml_ng::Value| -> Vec<String> {
        let one = |v: &serde_yaml_ng::Value| match v {
            serde_yaml_ng::Value::String(s) => s.clone(),
            serde_yaml_ng::Value::Tagged(t) => t
                .value
                .as_str()
                .unwrap_or_default()
                .trim_end_matches(".Arn")
                .to_string(),
            other => format!("{other:?}"),
        };
        match v {
            serde_yaml_ng::Value::Sequence(list) => list.iter().map(one).collect(),
            other => vec![one(other)],
        }
    };
    let mut out = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_string();
        let mut found = vec![];
        for policy in resource["Properties"]["Policies"].as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                let keys =
                    &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                found.push(Statement {
                    actions: strings(&statement["Action"]).into_iter().collect(),
                    resources: strings(&statement["Resource"]),
                    leading_keys: (!keys.is_null()).then(|| strings(keys)),
                });
            }
        }
        out.insert(binary, found);
    }
    out
}

/// The actions each function's policy statements allow, by function (`auth`, …).
fn allowed(statements: &BTreeMap<String, Vec<Statement>>) -> BTreeMap<String, BTreeSet<String>> {
    statements
        .iter()
        .map(|(function, policy)| {
            let actions = policy.iter().flat_map(|st| st.actions.iter().cloned());
            (function.clone(), actions.collect())
        })
        .collect()
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
    probe.take_writes();

    let mut called: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrote: BTreeMap<String, Vec<Write>> = BTreeMap::new();
    let mut record = |function: &str, probe: &SdkProbe| {
        let writes = probe.take_writes();
        called.entry(function.to_string()).or_default().extend(
            probe
                .take()
                .into_keys()
                .filter(|op| !COGNITO_WITHOUT_IAM.contains(&op.as_str()))
                .filter(|op| !AUTHORIZED_BY_THEIR_ITEMS.contains(&op.as_str()))
                .map(|op| action(&op))
                .chain(writes.iter().map(|w| action(&w.operation))),
        );
        wrote
            .entry(function.to_string())
            .or_default()
            .extend(writes);
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
            // with an Idempotency-Key, as a careful client sends every state change (its
            // claim, its kept answer or its release are writes of their own)
            let mut headers = tenant_headers(&t, Some(&token));
            headers.push((
                "idempotency-key".into(),
                format!("iam-{function}-{method}-{path}"),
            ));
            let req = api_request_with_headers(method, &path, &body, &headers);
            let a = Answer::from(dispatch(&app, function, req).await);
            assert!(a.status < 500, "{method} {path}: {}", a.body);
        }
        record(function, &probe);
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
    record("auth", &probe);
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
    // the admin's own account, as a user: the API's session as the user (a user-access code)
    // and a code sent (the send budgets)
    for (method, path, body) in [
        ("GET", format!("/users/{admin}/passkeys"), Value::Null),
        (
            "PUT",
            format!("/users/{admin}/email"),
            json!({"email": "iam-admin.new@example.org"}),
        ),
    ] {
        let req = api_request(&t, method, &path, &body, Some(&token));
        let a = Answer::from(dispatch(&app, "users", req).await);
        assert_eq!(a.status, 200, "{method} {path}: {}", a.body);
    }
    record("users", &probe);
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
        record("auth", &probe);
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
        record("users", &probe);
    }
    // the trigger
    pre_authentication::handle(&app.locks, trigger_event(&t, "iam-user"))
        .await
        .unwrap();
    record("pre-authentication", &probe);
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
    record("custom-auth", &probe);

    // every write to the account-state table is one a statement of the function's policy
    // allows by its key (`dynamodb:LeadingKeys`), and every statement that allows writes there
    // names the keys it allows
    let statements = statements();
    let state_table = &stack.config.account_state_table;
    // the template's `${AWS::Region}`, as the local stack's pools name their region
    let region = t.user_pool_id.split_once('_').unwrap().0.to_string();
    let string_like = |pattern: &str, value: &str| {
        string_like(&pattern.replace("${AWS::Region}", &region), value)
    };
    let mut refused = vec![];
    for (function, writes) in &wrote {
        let policy = &statements[function];
        for w in writes.iter().filter(|w| &w.table == state_table) {
            let action = format!("dynamodb:{}", w.operation);
            let allows = policy.iter().filter(|st| {
                st.actions.contains(&action)
                    && st.resources.iter().any(|r| r == "AccountStateTable")
            });
            let mut any = false;
            for st in allows {
                let Some(keys) = &st.leading_keys else {
                    refused.push(format!("{function}: {action} on any key"));
                    continue;
                };
                any |= keys.iter().any(|k| string_like(k, &w.key));
            }
            if !any {
                refused.push(format!("{function}: {action} of {}", w.key));
            }
        }
    }
    refused.sort();
    refused.dedup();
    assert!(
        refused.is_empty(),
        "writes the policies' key conditions do not allow: {refused:?}"
    );
    // and no other: every key a policy lets a function write is one it wrote in the sweep,
    // but for the few paths the sweep does not take, each shown by the test named
    let elsewhere: &[(&str, &str, &str, &str)] = &[
        (
            "auth",
            "PutItem",
            "passkey-sign-in#*",
            "passkeys.rs: a real passkey start",
        ),
        (
            "auth",
            "DeleteItem",
            "passkey-sign-in#*",
            "passkeys.rs: its answer",
        ),
        (
            "auth",
            "PutItem",
            "passkey-registration#*",
            "passkeys.rs: a code put back",
        ),
        (
            "auth",
            "DeleteItem",
            "passkey-registration#*",
            "passkeys.rs: a code spent",
        ),
        (
            "users",
            "PutItem",
            "idp-link#*",
            "idp.rs: a link proof put back after a refusal",
        ),
        (
            "users",
            "PutItem",
            "u2f#*",
            "u2f.rs: a security key registered",
        ),
        (
            "auth",
            "PutItem",
            "u2f-sign-in#*",
            "u2f.rs: a password sign-in of a user with a key",
        ),
        (
            "auth",
            "DeleteItem",
            "u2f-sign-in#*",
            "u2f.rs: the key's answer",
        ),
        (
            "auth",
            "PutItem",
            "u2f#*",
            "u2f.rs: the key's counter moved",
        ),
        (
            "lock",
            "DeleteItem",
            "idem#*",
            "idempotency.rs: a refused lock's claim given up",
        ),
    ];
    let mut unused = vec![];
    for (function, policy) in &statements {
        for st in policy {
            let Some(keys) = &st.leading_keys else {
                continue;
            };
            for action in &st.actions {
                let operation = action.trim_start_matches("dynamodb:");
                for key in keys {
                    let used = wrote.get(function).is_some_and(|ws| {
                        ws.iter().any(|w| {
                            &w.table == state_table
                                && w.operation == operation
                                && string_like(key, &w.key)
                        })
                    });
                    let shown = elsewhere
                        .iter()
                        .any(|e| (e.0, e.1, e.2) == (function.as_str(), operation, key.as_str()));
                    if !used && !shown {
                        unused.push(format!("{function}: {action} on {key}"));
                    }
                }
            }
        }
    }
    assert!(
        unused.is_empty(),
        "keys a policy allows that the function never writes: {unused:?}"
    );

    let allowed = allowed(&statements);
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

#[test]
fn string_like_is_iams() {
    for (pattern, value, matches) in [
        ("us-east-1_*#*", "us-east-1_AbC#jane", true),
        ("eusc-de-east-1_*#*", "eusc-de-east-1_x#a", true),
        ("us-east-1_*#*", "user-access#us-east-1_AbC#jane", false),
        ("us-east-1_*#*", "code-sends#us-east-1_AbC#jane#493", false),
        ("us-east-1_*#*", "passkey-sign-in#0f3a", false),
        ("code-sends#*", "code-sends#us-east-1_AbC#jane#493", true),
        ("code-sends#*", "user-access#us-east-1_AbC#jane", false),
        ("a*b", "ab", true),
        ("a?b", "ab", false),
    ] {
        assert_eq!(string_like(pattern, value), matches, "{pattern} {value}");
    }
}
