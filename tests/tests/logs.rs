#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The functions' log output over a full sign-in flow holds no password, token or session.
//! Its own test binary: the subscriber is process-wide.

use account_api_tests::stack::{Answer, Stack, api_request, random_password};
use serde_json::json;

#[tokio::test]
async fn no_secret_reaches_the_logs_over_a_full_sign_in_flow() {
    let captured = shared::testing::CapturedLog::default();
    tracing::subscriber::set_global_default(captured.subscriber())
        .expect("the only subscriber of this test binary");

    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let temporary = random_password();
    stack
        .create_user_with_temporary_password(&t, "logged", &temporary)
        .await;
    let app = stack.app().await;
    let call = |path: &str, body: serde_json::Value| api_request(&t, "POST", path, &body, None);

    let mut secrets = vec![temporary.clone()];
    let mut activity_ids = vec![];

    let a = Answer::from(
        app.handle::<auth::Group>(call(
            "/user-authentication",
            json!({"userID": "logged", "password": "Wrong-Passw0rd-1"}),
        ))
        .await,
    );
    assert_eq!(a.status, 401);
    secrets.push("Wrong-Passw0rd-1".into());
    activity_ids.push(a.activity_id);

    let a = Answer::from(
        app.handle::<auth::Group>(call(
            "/user-authentication",
            json!({"userID": "logged", "password": temporary}),
        ))
        .await,
    );
    assert_eq!(a.status, 200);
    let session = a.data()["session"].as_str().unwrap().to_string();
    secrets.push(session.clone());
    activity_ids.push(a.activity_id);

    let permanent = random_password();
    secrets.push(permanent.clone());
    let a = Answer::from(
        app.handle::<auth::Group>(call(
            "/change-temporary-password",
            json!({"userID": "logged", "newPassword": permanent, "session": session}),
        ))
        .await,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let tokens = a.data()["authenticationResult"].clone();
    activity_ids.push(a.activity_id);
    for name in ["accessToken", "idToken", "refreshToken"] {
        secrets.push(tokens[name].as_str().unwrap().to_string());
    }

    let a = Answer::from(
        app.handle::<auth::Group>(call(
            "/user-refresh-tokens",
            json!({"userID": "logged", "refreshToken": tokens["refreshToken"]}),
        ))
        .await,
    );
    assert_eq!(a.status, 200);
    secrets.push(
        a.data()["authenticationResult"]["accessToken"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    activity_ids.push(a.activity_id);

    let output = captured.text();
    // the capture works: every request left its closing line, with its activity id and route
    for id in &activity_ids {
        assert!(
            output.contains(id.as_str()),
            "no log line for activity {id}:\n{output}"
        );
    }
    assert!(
        output.contains("\"route\":\"change-temporary-password\""),
        "{output}"
    );
    for line in output.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    for secret in &secrets {
        assert!(
            !output.contains(secret.as_str()),
            "a secret reached the logs:\n{output}"
        );
        // a token's signature alone must not appear either
        if let Some(tail) = secret.rsplit('.').next().filter(|s| s.len() > 16) {
            assert!(!output.contains(tail), "part of a token reached the logs");
        }
    }
}
