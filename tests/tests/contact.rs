#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: contact verification on the emulator (extended with Cognito's
//! GetUserAttributeVerificationCode and VerifyUserAttribute, its codes read from the header the
//! extension returns them in). A new email address is held until verified, the old one stays in
//! use; only the user verifies, only an admin sets an address verified; another user's address
//! is refused.

use account_api_tests::stack::{Stack, call, random_password, trail};
use serde_json::{Value, json};

#[tokio::test]
async fn a_new_email_is_held_until_the_user_verifies_it() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant_holding_new_emails().await;
    let (app, probe) = stack.probed_app().await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "nora", &password).await;
    let own = stack.sign_in(&t, &app, "nora", &password).await;

    // the user changes her own address: a code goes out, the old address stays in use
    let set = call::<users::Group>(
        &app,
        &t,
        "PUT",
        "/users/nora/email",
        json!({"email": "nora.new@example.com"}),
        &own,
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(
        set.data()["email"],
        "nora@example.com",
        "the old address until verified"
    );
    assert_eq!(set.data()["pendingEmail"], "nora.new@example.com");
    let held = stack.user_attributes(&t, "nora").await;
    assert_eq!(
        (held["email"].as_str(), held["email_verified"].as_str()),
        ("nora@example.com", "true")
    );
    // Cognito says nothing of the new address; the API shows it to the admin and the user
    let shown = call::<users::Group>(&app, &t, "GET", "/users/nora", Value::Null, &admin).await;
    assert_eq!(
        (
            shown.data()["email"].as_str(),
            shown.data()["pendingEmail"].as_str()
        ),
        (Some("nora@example.com"), Some("nora.new@example.com")),
        "{}",
        shown.body
    );
    let first = probe.last_contact_code("email").expect("a code was sent");

    // she may not declare it verified herself; the admin's token cannot verify it for her
    let cheat = call::<users::Group>(
        &app,
        &t,
        "PUT",
        "/users/nora/email",
        json!({"email": "x@example.com", "verified": true}),
        &own,
    )
    .await;
    assert_eq!(
        (cheat.status, cheat.slug()),
        (403, "forbidden"),
        "{}",
        cheat.body
    );
    let by_admin = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/nora/email/verify",
        json!({"verificationCode": first}),
        &admin,
    )
    .await;
    assert_eq!(
        (by_admin.status, by_admin.slug()),
        (403, "forbidden"),
        "{}",
        by_admin.body
    );

    // a wrong code, then a new code sent, then the right one
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    let a = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/nora/email/verify",
        json!({"verificationCode": wrong}),
        &own,
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "code-mismatch"), "{}", a.body);
    let resent = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/nora/email/resend",
        Value::Null,
        &own,
    )
    .await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(
        resent.data()["codeDeliveryDetails"]["attributeName"],
        "email"
    );
    assert_eq!(
        resent.data()["codeDeliveryDetails"]["deliveryMedium"],
        "EMAIL"
    );
    let code = probe.last_contact_code("email").unwrap();
    let verified = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/nora/email/verify",
        json!({"verificationCode": code}),
        &own,
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.data()["emailVerified"], true);
    let now = stack.user_attributes(&t, "nora").await;
    assert_eq!(
        (now["email"].as_str(), now["email_verified"].as_str()),
        ("nora.new@example.com", "true")
    );
    let shown = call::<users::Group>(&app, &t, "GET", "/users/nora", Value::Null, &own).await;
    assert_eq!(shown.data()["email"], "nora.new@example.com");
    assert_eq!(
        shown.data()["pendingEmail"],
        Value::Null,
        "nothing pending once verified"
    );
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.config.account_state_table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("{}#nora", t.user_pool_id)),
        )
        .send()
        .await
        .unwrap();
    assert!(
        item.item().is_none_or(|i| !i.contains_key("pendingEmail")),
        "the noted address is gone: {item:?}"
    );
    // the old address hears of it once the new one is verified, not before
    let told: Vec<_> = stack
        .sent_mail()
        .await
        .into_iter()
        .filter(|m| {
            m["to"].to_string().contains("nora@example.com")
                && m["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("to nora.new@example.com"))
        })
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["subject"], "Your email address was changed");
    assert_eq!(told[0]["from"], account_api_tests::stack::MAIL_FROM);

    // the trail: set, the refused tries, resend, verify, all under the username
    let actions = trail(&app, &t, "nora", &admin).await;
    for expected in [
        ("set-email", "success"),
        ("verify-email", "code-mismatch"),
        ("resend-email-code", "success"),
        ("verify-email", "success"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, o)| (a.as_str(), o.as_str()) == expected),
            "{expected:?} not in {actions:?}"
        );
    }
}

#[tokio::test]
async fn an_admin_sets_an_address_verified_and_another_users_address_is_refused() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let (_, admin) = stack.admin_token(&t, &app).await;
    let password = random_password();
    stack.create_user(&t, "olga", &password).await;
    stack.create_user(&t, "pia", &password).await;

    let a = call::<users::Group>(
        &app,
        &t,
        "PUT",
        "/users/olga/email",
        json!({"email": "olga.work@example.com", "verified": true}),
        &admin,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.data()["email"].clone(), a.data()["emailVerified"].clone()),
        (json!("olga.work@example.com"), json!(true))
    );
    // set verified by the admin: in use at once, and the old address is told
    let mail = stack.sent_mail().await;
    assert!(
        mail.iter()
            .any(|m| m["to"].to_string().contains("olga@example.com")
                && m["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("to olga.work@example.com"))),
        "{mail:?}"
    );
    let a = call::<users::Group>(
        &app,
        &t,
        "PUT",
        "/users/olga/phone",
        json!({"phoneNumber": "+14155550123", "verified": true}),
        &admin,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (
            a.data()["phoneNumber"].clone(),
            a.data()["phoneVerified"].clone()
        ),
        (json!("+14155550123"), json!(true))
    );

    // pia may not take olga's address, nor her number, not even by an admin
    let own = stack.sign_in(&t, &app, "pia", &password).await;
    for (path, body, token) in [
        (
            "/users/pia/email",
            json!({"email": "olga.work@example.com"}),
            &own,
        ),
        (
            "/users/pia/phone",
            json!({"phoneNumber": "+14155550123", "verified": true}),
            &admin,
        ),
    ] {
        let a = call::<users::Group>(&app, &t, "PUT", path, body, token).await;
        assert_eq!(
            (a.status, a.slug()),
            (409, "conflict"),
            "{path}: {}",
            a.body
        );
    }
    // nor through PATCH /users/{userID}, which holds an address to the same rules
    for body in [
        json!({"email": "olga.work@example.com", "emailVerified": true}),
        json!({"phoneNumber": "+14155550123", "phoneVerified": true, "givenName": "Pia"}),
    ] {
        let a = call::<users::Group>(&app, &t, "PATCH", "/users/pia", body.clone(), &admin).await;
        assert_eq!(
            (a.status, a.slug()),
            (409, "conflict"),
            "{body}: {}",
            a.body
        );
    }
    let held = stack.user_attributes(&t, "pia").await;
    assert_eq!(held["email"], "pia@example.com");
    assert!(
        !held.contains_key("given_name"),
        "nothing written: {held:?}"
    );
    // an address of nobody's goes through
    let a = call::<users::Group>(
        &app,
        &t,
        "PATCH",
        "/users/pia",
        json!({"email": "pia.home@example.com", "emailVerified": true}),
        &admin,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["email"], "pia.home@example.com");

    // one user may not change another's address
    let a = call::<users::Group>(
        &app,
        &t,
        "PUT",
        "/users/olga/email",
        json!({"email": "mine@example.com"}),
        &own,
    )
    .await;
    assert_eq!((a.status, a.slug()), (403, "forbidden"), "{}", a.body);
    // a malformed address never reaches Cognito
    let a = call::<users::Group>(
        &app,
        &t,
        "PUT",
        "/users/pia/phone",
        json!({"phoneNumber": "0123"}),
        &own,
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"), "{}", a.body);
}
