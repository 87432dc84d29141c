#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: a lock, a lockout counter and an audit entry belong to the username, whichever
//! name (an email alias, the `sub`) the caller used. Cognito takes all three for a `Username`
//! (the emulator is extended to, as Cognito documents it); a lock kept under the alias would
//! answer `locked: true` while the user still signs in with the username, and the Pre
//! Authentication trigger, which Cognito hands the username, would never see it.

use account_api_tests::stack::{
    Stack, TenantFixture, call, random_password, sign_in, trigger_event,
};
use aws_sdk_cognitoidentityprovider::types::AliasAttributeType;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoLocks;

async fn sub_of(stack: &Stack, t: &TenantFixture, user: &str) -> String {
    stack.user_attributes(t, user).await["sub"].clone()
}

/// Whether the account-state table holds an item for `name`.
async fn has_state_item(stack: &Stack, t: &TenantFixture, name: &str) -> bool {
    stack
        .state_item(format!("{}#{name}", t.user_pool_id))
        .await
        .is_some()
}

/// What the Pre Authentication trigger answers when Cognito signs `user` in (Cognito hands it
/// the username, never the alias the user typed).
async fn trigger_refuses(stack: &Stack, t: &TenantFixture, user: &str) -> bool {
    let locks = DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table);
    match pre_authentication::handle(&locks, trigger_event(t, user)).await {
        Ok(_) => false,
        Err(pre_authentication::Refusal::Locked) => true,
        Err(other) => panic!("the trigger failed: {other}"),
    }
}

#[tokio::test]
async fn a_lock_by_sub_or_by_email_alias_is_the_usernames_lock() {
    let stack = Stack::connect().await;
    let t = stack
        .fresh_tenant_with_aliases(&[AliasAttributeType::Email])
        .await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    // create_user gives the user the verified email `<user>@example.com`
    stack.create_user(&t, "kim", &password).await;
    let sub = sub_of(&stack, &t, "kim").await;
    let email = "Kim@Example.com";
    assert_eq!(sign_in(&app, &t, email, &password).await.status, 200);

    // locked by sub: the answer names the username, and every name is refused
    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        &format!("/users/{sub}/lock"),
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(locked.status, 200, "{}", locked.body);
    assert_eq!(locked.data()["userID"], "kim");
    assert_eq!(locked.data()["locked"], true);
    assert!(has_state_item(&stack, &t, "kim").await);
    assert!(!has_state_item(&stack, &t, &sub).await);
    for name in ["kim", email, sub.as_str()] {
        let a = sign_in(&app, &t, name, &password).await;
        assert_eq!(
            (a.status, a.slug()),
            (403, "account-locked"),
            "{name}: {}",
            a.body
        );
    }
    assert!(trigger_refuses(&stack, &t, "kim").await);

    // read and lifted by the percent-encoded alias, as `encodeURIComponent` builds the path
    let path = "/users/Kim%40Example.com";
    let state = call::<lock::Group>(
        &app,
        &t,
        "GET",
        &format!("{path}/lock"),
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(
        (
            state.data()["userID"].clone(),
            state.data()["locked"].clone()
        ),
        (json!("kim"), json!(true))
    );
    let unlocked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        &format!("{path}/unlock"),
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert!(!trigger_refuses(&stack, &t, "kim").await);
    assert_eq!(sign_in(&app, &t, "kim", &password).await.status, 200);

    // locked by the alias: the username is refused, through the API and the trigger
    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        &format!("{path}/lock"),
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(locked.data()["userID"], "kim");
    assert!(!has_state_item(&stack, &t, "kim@example.com").await);
    let a = sign_in(&app, &t, "kim", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"), "{}", a.body);
    assert!(trigger_refuses(&stack, &t, "kim").await);

    // the trail is the username's, whichever name reads it
    let events = call::<users::Group>(
        &app,
        &t,
        "GET",
        &format!("/users/{sub}/events"),
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(events.status, 200, "{}", events.body);
    let actions: Vec<&str> = events.data()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "lock").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"unlock"), "{actions:?}");
    assert!(actions.contains(&"user-authentication"), "{actions:?}");
    assert!(
        events.data()["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["userID"] == "kim"),
        "{}",
        events.body
    );
}

#[tokio::test]
async fn wrong_passwords_under_several_names_spend_one_budget() {
    let stack = Stack::connect().await;
    let t = stack
        .fresh_tenant_with_aliases(&[AliasAttributeType::Email])
        .await;
    stack
        .set_tenant_attribute(&t, "maxPasswordAttempts", AttributeValue::N("3".into()))
        .await;
    stack
        .set_tenant_attribute(
            &t,
            "lockoutDurationSeconds",
            AttributeValue::N("900".into()),
        )
        .await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "lee", &password).await;
    let sub = sub_of(&stack, &t, "lee").await;

    // three wrong passwords, one under each name: the third locks the username
    for name in ["lee", "lee@example.com", sub.as_str()] {
        let a = sign_in(&app, &t, name, "Wrong-Passw0rd-z").await;
        assert_eq!(a.slug(), "invalid-credentials", "{name}: {}", a.body);
    }
    assert!(!has_state_item(&stack, &t, "lee@example.com").await);
    assert!(!has_state_item(&stack, &t, &sub).await);
    for name in ["lee", "lee@example.com"] {
        let a = sign_in(&app, &t, name, &password).await;
        assert_eq!(
            (a.status, a.slug()),
            (403, "account-locked"),
            "{name}: {}",
            a.body
        );
    }
    assert!(trigger_refuses(&stack, &t, "lee").await);
}

#[tokio::test]
async fn in_a_pool_without_aliases_an_email_is_just_a_name() {
    // the userID is the username there: an unknown name is not looked up, and a user whose
    // username is an email address is locked under it
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, token) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "max", &password).await;
    let missing = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        "/users/max@example.com/lock",
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(
        (missing.status, missing.slug()),
        (404, "user-not-found"),
        "{}",
        missing.body
    );
    let sub = sub_of(&stack, &t, "max").await;
    let locked = call::<lock::Group>(
        &app,
        &t,
        "PUT",
        &format!("/users/{sub}/lock"),
        Value::Null,
        &token,
    )
    .await;
    assert_eq!(locked.data()["userID"], "max", "{}", locked.body);
    let a = sign_in(&app, &t, "max", &password).await;
    assert_eq!((a.status, a.slug()), (403, "account-locked"), "{}", a.body);
}
