#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! How many Cognito and DynamoDB calls each route makes on a warm instance (tenant, client
//! secret and password policy cached), on its main success and failure paths. A change that
//! adds a round trip fails here and has to say why.

use std::collections::BTreeMap;

use account_api_tests::stack::{Answer, Stack, api_request, random_password};
use serde_json::{Value, json};

fn calls(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

#[tokio::test]
async fn each_route_makes_the_calls_it_needs_and_no_more() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, probe) = stack.probed_app().await;
    let password = random_password();
    stack.create_user(&t, "rhea", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let sign_in = |p: &str| {
        api_request(
            &t,
            "POST",
            "/user-authentication",
            &json!({"userID": "rhea", "password": p}),
            None,
        )
    };

    // warm the caches (tenant, client secret, pool policy) and start counting afresh
    Answer::from(app.handle::<auth::Group>(sign_in(&password)).await);
    let new_password = json!({"userID": "rhea", "newPassword": "short", "session": "s".repeat(30)});
    Answer::from(
        app.handle::<auth::Group>(api_request(
            &t,
            "POST",
            "/change-temporary-password",
            &new_password,
            None,
        ))
        .await,
    );
    probe.take();

    let expect = |what: &str, a: Answer, status: u16, want: BTreeMap<String, usize>| {
        assert_eq!(a.status, status, "{what}: {}", a.body);
        assert_eq!(probe.take(), want, "{what}");
    };

    let a = Answer::from(app.handle::<auth::Group>(sign_in(&password)).await);
    let refresh_token = a.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    // reserve a unit of the budget, check (reading the user's security keys meanwhile), give
    // the budget back, audit
    expect(
        "sign-in",
        a,
        200,
        calls(&[
            ("UpdateItem", 2),
            ("InitiateAuth", 1),
            ("GetItem", 1),
            ("PutItem", 1),
        ]),
    );
    let a = Answer::from(app.handle::<auth::Group>(sign_in("Wrong-Passw0rd-1")).await);
    // a wrong password keeps its unit spent: nothing to settle (the keys are read all the
    // same: whether a user holds one shows in no sign-in's time)
    expect(
        "wrong password",
        a,
        401,
        calls(&[
            ("UpdateItem", 1),
            ("InitiateAuth", 1),
            ("GetItem", 1),
            ("PutItem", 1),
        ]),
    );
    let r = api_request(
        &t,
        "POST",
        "/user-refresh-tokens",
        &json!({"userID": "rhea", "refreshToken": refresh_token}),
        None,
    );
    let a = Answer::from(app.handle::<auth::Group>(r).await);
    expect(
        "refresh",
        a,
        200,
        calls(&[("GetItem", 1), ("InitiateAuth", 1), ("PutItem", 1)]),
    );

    let lock_req =
        |method: &str, path: &str| api_request(&t, method, path, &Value::Null, Some(&admin));
    // the admin: account still enabled (AdminGetUser; a token without the self-service scope
    // cannot ask GetUser) and not locked nor signed out (GetItem), concurrently; then the
    // target exists (AdminGetUser), the stored state read (GetItem), the lock and its audit
    // entry in one transaction (the lock notes the end of the user's sessions in the same
    // write), the sign-out
    let a = Answer::from(
        app.handle::<lock::Group>(lock_req("PUT", "/users/rhea/lock"))
            .await,
    );
    expect(
        "lock",
        a,
        200,
        calls(&[
            ("GetItem", 2),
            ("AdminGetUser", 2),
            ("TransactWriteItems", 1),
            ("AdminUserGlobalSignOut", 1),
        ]),
    );
    let a = Answer::from(app.handle::<auth::Group>(sign_in(&password)).await);
    // a locked account: the refused reservation, the audit entry; Cognito never asked (the
    // security keys' read went out beside the reservation, and costs no time)
    expect(
        "locked sign-in",
        a,
        403,
        calls(&[("UpdateItem", 1), ("GetItem", 1), ("PutItem", 1)]),
    );
    let a = Answer::from(
        app.handle::<users::Group>(lock_req("GET", "/users/rhea"))
            .await,
    );
    expect(
        "get user",
        a,
        200,
        calls(&[("GetItem", 2), ("AdminGetUser", 2)]),
    );
    let a = Answer::from(
        app.handle::<lock::Group>(lock_req("PUT", "/users/rhea/unlock"))
            .await,
    );
    // the lift and its audit entry in one transaction
    expect(
        "unlock",
        a,
        200,
        calls(&[
            ("GetItem", 1),
            ("AdminGetUser", 2),
            ("TransactWriteItems", 1),
        ]),
    );
    let a = Answer::from(
        app.handle::<users::Group>(lock_req("GET", "/users?limit=10"))
            .await,
    );
    expect(
        "list users",
        a,
        200,
        calls(&[
            ("AdminGetUser", 1),
            ("GetItem", 1),
            ("ListUsers", 1),
            ("BatchGetItem", 1),
        ]),
    );
}

/// A successful sign-in's two closing writes, settling the lockout budget (UpdateItem) and the
/// audit entry (PutItem), are in flight together: the caller waits for one round trip, not two.
#[tokio::test]
async fn a_sign_in_settles_the_budget_and_audits_in_one_round_trip() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, probe) = stack.probed_app().await;
    let password = random_password();
    stack.create_user(&t, "ines", &password).await;
    let sign_in = || {
        api_request(
            &t,
            "POST",
            "/user-authentication",
            &json!({"userID": "ines", "password": password}),
            None,
        )
    };
    // warm the caches, then watch one sign-in
    Answer::from(app.handle::<auth::Group>(sign_in()).await);
    probe.take_spans();
    let a = Answer::from(app.handle::<auth::Group>(sign_in()).await);
    assert_eq!(a.status, 200, "{}", a.body);
    let spans = probe.take_spans();
    let order: Vec<&str> = spans.iter().map(|s| s.operation.as_str()).collect();
    assert_eq!(
        order.iter().filter(|o| **o == "InitiateAuth").count(),
        1,
        "{order:?}"
    );
    let cognito = spans
        .iter()
        .position(|s| s.operation == "InitiateAuth")
        .unwrap();
    // the user's security keys are read while Cognito checks the password, not after it
    let keys = spans.iter().find(|s| s.operation == "GetItem").unwrap();
    assert!(
        keys.start < spans[cognito].end,
        "the key ring was read after the password check: {order:?}"
    );
    let closing: Vec<_> = spans[cognito + 1..]
        .iter()
        .filter(|s| s.operation != "GetItem")
        .collect();
    assert_eq!(closing.len(), 2, "{order:?}");
    let (first, second) = (&closing[0], &closing[1]);
    assert!(
        second.start < first.end,
        "{} started after {} ended: the writes ran one after the other",
        second.operation,
        first.operation
    );
    let mut ops: Vec<&str> = closing.iter().map(|s| s.operation.as_str()).collect();
    ops.sort_unstable();
    assert_eq!(ops, ["PutItem", "UpdateItem"]);
}
