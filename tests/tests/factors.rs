#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: second factors on the emulator (extended with a TOTP secret per user checked by
//! RFC 6238, codes by SMS and email at sign-in, read from the header the extension returns them
//! in). A user enrols an authenticator app through the API with codes computed from the secret
//! it returned, the QR code carries the same key URI, and the next sign-in asks for a code;
//! codes by SMS and email need a verified contact; wrong codes lock the account by their own
//! budget; recovery does not bypass the factor; the last factor of a tenant that requires one
//! stays.

use account_api_tests::factors::{methods, totp_code};
use account_api_tests::stack::{
    Stack, TenantFixture, call, public, random_password, sign_in, trail,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::{AwsApp, testing::Answer};

/// A code that is not `right`.
fn wrong(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// The text of the QR code in a `data:image/png;base64,…` URI, read by rqrr.
fn qr_text(data_uri: &str) -> String {
    use base64::Engine;
    let png = data_uri
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URI");
    let png = base64::engine::general_purpose::STANDARD
        .decode(png)
        .expect("base64");
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("a readable QR code").1
}

/// Enrols an authenticator app for `user` through the API; returns its secret.
async fn enrol_totp(app: &AwsApp, t: &TenantFixture, user: &str, token: &str) -> String {
    let path = format!("/users/{user}/totp");
    let started = call::<users::Group>(app, t, "POST", &path, Value::Null, token).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.data()["secret"].as_str().unwrap().to_string();
    let code = totp_code(&secret);
    let verify = format!("/users/{user}/totp/verify");
    let body = json!({"code": code, "friendlyName": "phone"});
    let verified = call::<users::Group>(app, t, "POST", &verify, body, token).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    secret
}

/// `POST /respond-to-auth-challenge` through the auth function.
async fn answer(
    app: &AwsApp,
    t: &TenantFixture,
    user: &str,
    challenge: &Value,
    code: &str,
) -> Answer {
    let body = json!({
        "userID": user,
        "session": challenge["session"],
        "challengeName": challenge["challengeName"],
        "code": code,
    });
    public::<auth::Group>(app, t, "/respond-to-auth-challenge", body).await
}

async fn mfa_settings(
    stack: &Stack,
    t: &TenantFixture,
    user: &str,
) -> (Vec<String>, Option<String>) {
    let out = stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username(user)
        .send()
        .await
        .expect("admin get user");
    (
        out.user_mfa_setting_list().to_vec(),
        out.preferred_mfa_setting().map(str::to_string),
    )
}

#[tokio::test]
async fn an_authenticator_enrolled_through_the_api_is_asked_for_at_sign_in() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "tess", &password).await;
    let own = stack.sign_in(&t, &app, "tess", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;

    // only the user starts an authenticator for herself
    let by_admin =
        call::<users::Group>(&app, &t, "POST", "/users/tess/totp", Value::Null, &admin).await;
    assert_eq!(
        (by_admin.status, by_admin.slug()),
        (403, "forbidden"),
        "{}",
        by_admin.body
    );

    let started =
        call::<users::Group>(&app, &t, "POST", "/users/tess/totp", Value::Null, &own).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.data()["secret"].as_str().unwrap().to_string();
    let uri = started.data()["uri"].as_str().unwrap().to_string();
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/{client}:tess?secret={secret}&issuer={client}&algorithm=SHA1&digits=6&period=30",
            client = t.client_id
        )
    );
    // the QR code carries exactly the key URI; the SVG is an SVG
    assert_eq!(
        qr_text(started.data()["qrCode"]["png"].as_str().unwrap()),
        uri
    );
    let svg = started.data()["qrCode"]["svg"].as_str().unwrap();
    let svg = {
        use base64::Engine;
        let b64 = svg.strip_prefix("data:image/svg+xml;base64,").unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(svg.contains("<svg"), "{svg}");
    // nothing is on until a code is verified
    assert_eq!(
        methods(&app, &t, "tess", &own).await,
        json!({"methods": ["PASSWORD"], "preferred": null})
    );
    assert_eq!(
        mfa_settings(&stack, &t, "tess").await.0,
        Vec::<String>::new()
    );

    let right = totp_code(&secret);
    let verify = |code: &str| json!({"code": code, "friendlyName": "phone"});
    let bad = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/tess/totp/verify",
        verify(wrong(&right)),
        &own,
    )
    .await;
    assert_eq!(
        (bad.status, bad.slug()),
        (400, "code-mismatch"),
        "{}",
        bad.body
    );
    assert_eq!(
        mfa_settings(&stack, &t, "tess").await.0,
        Vec::<String>::new()
    );
    let ok = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/tess/totp/verify",
        verify(&right),
        &own,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.data(),
        &json!({"methods": ["PASSWORD", "TOTP"], "preferred": "TOTP"})
    );
    assert_eq!(
        mfa_settings(&stack, &t, "tess").await,
        (
            vec!["SOFTWARE_TOKEN_MFA".to_string()],
            Some("SOFTWARE_TOKEN_MFA".to_string())
        )
    );
    // an admin reads it too; another user may not
    assert_eq!(
        methods(&app, &t, "tess", &admin).await["methods"],
        json!(["PASSWORD", "TOTP"])
    );
    let other = random_password();
    stack.create_user(&t, "otto", &other).await;
    let otto = stack.sign_in(&t, &app, "otto", &other).await;
    let peek = call::<users::Group>(
        &app,
        &t,
        "GET",
        "/users/tess/authentication-methods",
        Value::Null,
        &otto,
    )
    .await;
    assert_eq!((peek.status, peek.slug()), (403, "forbidden"));

    // the password alone is no longer enough: a code is asked for, then tokens
    let first = sign_in(&app, &t, "tess", &password).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.data()["challengeName"], "SOFTWARE_TOKEN_MFA");
    assert_eq!(first.data()["authenticationResult"], Value::Null);
    let challenge = first.data().clone();
    let right = totp_code(&secret);
    let refused = answer(&app, &t, "tess", &challenge, wrong(&right)).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (400, "code-mismatch"),
        "{}",
        refused.body
    );
    let done = answer(&app, &t, "tess", &challenge, &right).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.data()["authenticationResult"]["accessToken"].is_string());

    // each step is in the trail, under the user's own name
    let trail = trail(&app, &t, "tess", &admin).await;
    for step in [
        ("start-totp", "success"),
        ("verify-totp", "code-mismatch"),
        ("verify-totp", "success"),
        ("respond-to-auth-challenge", "code-mismatch"),
        ("respond-to-auth-challenge", "success"),
    ] {
        assert!(
            trail.contains(&(step.0.into(), step.1.into())),
            "{step:?} in {trail:?}"
        );
    }
}

#[tokio::test]
async fn wrong_codes_lock_the_account_by_their_own_budget() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .set_tenant_attribute(&t, "maxOtpAttempts", AttributeValue::N("3".into()))
        .await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "gus", &password).await;
    let own = stack.sign_in(&t, &app, "gus", &password).await;
    let secret = enrol_totp(&app, &t, "gus", &own).await;

    let challenge = sign_in(&app, &t, "gus", &password).await.data().clone();
    let right = totp_code(&secret);
    // guesses with gus's session under another name are refused before any code is checked,
    // and spend neither name's budget
    let (mallory, _) = stack.admin_token(&t, &app).await;
    for other in [mallory.as_str(), "nobody-at-all"] {
        let a = answer(&app, &t, other, &challenge, wrong(&right)).await;
        assert_eq!(
            (a.status, a.slug()),
            (401, "invalid-credentials"),
            "{}",
            a.body
        );
    }
    for i in 1..=3 {
        let a = answer(&app, &t, "gus", &challenge, wrong(&right)).await;
        assert_eq!(
            (a.status, a.slug()),
            (400, "code-mismatch"),
            "code {i}: {}",
            a.body
        );
    }
    // the right code is refused now, and so is the password
    let late = answer(&app, &t, "gus", &challenge, &totp_code(&secret)).await;
    assert_eq!(
        (late.status, late.slug()),
        (403, "account-locked"),
        "{}",
        late.body
    );
    let again = sign_in(&app, &t, "gus", &password).await;
    assert_eq!((again.status, again.slug()), (403, "account-locked"));

    let (_, admin) = stack.admin_token(&t, &app).await;
    let lock = call::<lock::Group>(&app, &t, "GET", "/users/gus/lock", Value::Null, &admin).await;
    assert_eq!(lock.status, 200, "{}", lock.body);
    assert_eq!(lock.data()["source"], "lockout-policy");
    assert_eq!(
        lock.data()["reason"],
        "3 consecutive wrong second-factor codes"
    );
    assert_eq!(lock.data()["failedOtpAttempts"], 3);
    assert_eq!(lock.data()["failedAttempts"], 0, "the passwords were right");

    // a password recovery proves the mailbox, not the authenticator: the lock stays
    let (app, probe) = stack.probed_app().await;
    let forgot =
        public::<password::Group>(&app, &t, "/forgot-password", json!({"userID": "gus"})).await;
    assert_eq!(forgot.status, 200, "{}", forgot.body);
    let body = json!({"userID": "gus", "confirmationCode": probe.last_code().unwrap(),
                      "newPassword": random_password()});
    let reset = public::<password::Group>(&app, &t, "/confirm-forgot-password", body).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let still = call::<lock::Group>(&app, &t, "GET", "/users/gus/lock", Value::Null, &admin).await;
    assert_eq!(still.data()["locked"], true, "{}", still.body);
    assert_eq!(still.data()["failedOtpAttempts"], 3);
    // an admin unlock lifts it
    let unlocked =
        call::<lock::Group>(&app, &t, "PUT", "/users/gus/unlock", Value::Null, &admin).await;
    assert_eq!(unlocked.data()["failedOtpAttempts"], 0, "{}", unlocked.body);
}

#[tokio::test]
async fn recovery_does_not_bypass_the_second_factor() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, probe) = stack.probed_app().await;
    let password = random_password();
    stack.create_user(&t, "rae", &password).await;
    let own = stack.sign_in(&t, &app, "rae", &password).await;
    let secret = enrol_totp(&app, &t, "rae", &own).await;

    let forgot =
        public::<password::Group>(&app, &t, "/forgot-password", json!({"userID": "rae"})).await;
    assert_eq!(forgot.status, 200, "{}", forgot.body);
    let code = probe.last_code().expect("a reset code");
    let new_password = random_password();
    let body = json!({"userID": "rae", "confirmationCode": code, "newPassword": new_password});
    let reset = public::<password::Group>(&app, &t, "/confirm-forgot-password", body).await;
    assert_eq!(reset.status, 200, "{}", reset.body);

    // the new password leads to the code challenge, not to tokens
    let after = sign_in(&app, &t, "rae", &new_password).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.data()["challengeName"], "SOFTWARE_TOKEN_MFA");
    assert_eq!(after.data()["authenticationResult"], Value::Null);
    let done = answer(&app, &t, "rae", after.data(), &totp_code(&secret)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        mfa_settings(&stack, &t, "rae").await.0,
        vec!["SOFTWARE_TOKEN_MFA".to_string()]
    );
}

#[tokio::test]
async fn codes_by_sms_and_email_need_a_verified_contact_and_are_asked_at_sign_in() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, probe) = stack.probed_app().await;
    let password = random_password();
    stack.create_user(&t, "sam", &password).await;
    let own = stack.sign_in(&t, &app, "sam", &password).await;
    let (_, admin) = stack.admin_token(&t, &app).await;

    // no phone number yet
    let early =
        call::<users::Group>(&app, &t, "POST", "/users/sam/otp-sms", Value::Null, &own).await;
    assert_eq!(
        (early.status, early.slug()),
        (409, "conflict"),
        "{}",
        early.body
    );
    assert!(
        early.body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("verified phone number")
    );
    assert_eq!(
        mfa_settings(&stack, &t, "sam").await.0,
        Vec::<String>::new()
    );
    let phone = json!({"phoneNumber": "+15550100123", "verified": true});
    let set = call::<users::Group>(&app, &t, "PUT", "/users/sam/phone", phone, &admin).await;
    assert_eq!(set.status, 200, "{}", set.body);

    let sms = call::<users::Group>(&app, &t, "POST", "/users/sam/otp-sms", Value::Null, &own).await;
    assert_eq!(sms.status, 200, "{}", sms.body);
    assert_eq!(
        sms.data(),
        &json!({"methods": ["PASSWORD", "OTP_SMS"], "preferred": "OTP_SMS"})
    );
    // an admin adds codes by email (the address is verified); SMS stays preferred
    let email = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/sam/otp-email",
        Value::Null,
        &admin,
    )
    .await;
    assert_eq!(email.status, 200, "{}", email.body);
    assert_eq!(
        email.data(),
        &json!({"methods": ["PASSWORD", "OTP_SMS", "OTP_EMAIL"], "preferred": "OTP_SMS"})
    );
    assert_eq!(
        mfa_settings(&stack, &t, "sam").await,
        (
            vec!["SMS_MFA".to_string(), "EMAIL_OTP".to_string()],
            Some("SMS_MFA".to_string())
        )
    );

    // sign-in asks for the SMS code
    let first = sign_in(&app, &t, "sam", &password).await;
    assert_eq!(first.data()["challengeName"], "SMS_MFA", "{}", first.body);
    let code = probe.last_mfa_code("SMS_MFA").expect("an SMS code");
    let refused = answer(&app, &t, "sam", first.data(), wrong(&code)).await;
    assert_eq!((refused.status, refused.slug()), (400, "code-mismatch"));
    let done = answer(&app, &t, "sam", first.data(), &code).await;
    assert_eq!(done.status, 200, "{}", done.body);

    // the preferred factor removed, the next one takes its place
    let removed =
        call::<users::Group>(&app, &t, "DELETE", "/users/sam/otp-sms", Value::Null, &own).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(
        removed.data(),
        &json!({"methods": ["PASSWORD", "OTP_EMAIL"], "preferred": "OTP_EMAIL"})
    );
    assert_eq!(
        mfa_settings(&stack, &t, "sam").await,
        (vec!["EMAIL_OTP".to_string()], Some("EMAIL_OTP".to_string()))
    );
    // removing it again changes nothing
    let again =
        call::<users::Group>(&app, &t, "DELETE", "/users/sam/otp-sms", Value::Null, &own).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data()["methods"], json!(["PASSWORD", "OTP_EMAIL"]));

    let second = sign_in(&app, &t, "sam", &password).await;
    assert_eq!(
        second.data()["challengeName"],
        "EMAIL_OTP",
        "{}",
        second.body
    );
    let code = probe.last_mfa_code("EMAIL_OTP").expect("an email code");
    let done = answer(&app, &t, "sam", second.data(), &code).await;
    assert_eq!(done.status, 200, "{}", done.body);

    // the admin removes the last one: the tenant does not require a factor
    let last = call::<users::Group>(
        &app,
        &t,
        "DELETE",
        "/users/sam/otp-email",
        Value::Null,
        &admin,
    )
    .await;
    assert_eq!(
        last.data(),
        &json!({"methods": ["PASSWORD"], "preferred": null}),
        "{}",
        last.body
    );
    let plain = sign_in(&app, &t, "sam", &password).await;
    assert!(
        plain.data()["authenticationResult"]["accessToken"].is_string(),
        "{}",
        plain.body
    );
}

#[tokio::test]
async fn the_last_factor_of_a_tenant_that_requires_one_stays() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "uma", &password).await;
    let own = stack.sign_in(&t, &app, "uma", &password).await;
    enrol_totp(&app, &t, "uma", &own).await;
    let (admin_name, admin) = stack.admin_token(&t, &app).await;

    // the tenant now requires a second factor (a new instance: the pool's settings are cached)
    stack
        .cognito
        .set_user_pool_mfa_config()
        .user_pool_id(&t.user_pool_id)
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::On)
        .software_token_mfa_configuration(
            aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaConfigType::builder()
                .enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let app = stack.app().await;
    let refused =
        call::<users::Group>(&app, &t, "DELETE", "/users/uma/totp", Value::Null, &own).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (409, "conflict"),
        "{}",
        refused.body
    );
    assert!(
        refused.body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("requires a second factor")
    );
    assert_eq!(
        mfa_settings(&stack, &t, "uma").await.0,
        vec!["SOFTWARE_TOKEN_MFA".to_string()]
    );

    // with another factor in place, the admin may remove the app (codes by email need a
    // phone to recover the password by: Cognito does not recover by email then)
    let phone = json!({"phoneNumber": "+15550100456", "verified": true});
    let set = call::<users::Group>(&app, &t, "PUT", "/users/uma/phone", phone, &admin).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let email = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/uma/otp-email",
        Value::Null,
        &admin,
    )
    .await;
    assert_eq!(email.status, 200, "{}", email.body);
    let removed =
        call::<users::Group>(&app, &t, "DELETE", "/users/uma/totp", Value::Null, &admin).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(
        removed.data(),
        &json!({"methods": ["PASSWORD", "OTP_EMAIL"], "preferred": "OTP_EMAIL"})
    );
    assert_eq!(
        mfa_settings(&stack, &t, "uma").await,
        (vec!["EMAIL_OTP".to_string()], Some("EMAIL_OTP".to_string()))
    );
    // audited with the admin as the actor
    let admin_sub = stack.user_attributes(&t, &admin_name).await["sub"].to_string();
    let events =
        call::<users::Group>(&app, &t, "GET", "/users/uma/events", Value::Null, &admin).await;
    let removal = events.data()["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "remove-totp" && e["outcome"] == "success")
        .cloned()
        .expect("the removal is audited");
    assert_eq!(removal["actor"], admin_sub.as_str());
}

#[tokio::test]
async fn a_pool_without_second_factors_refuses_them() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    stack
        .cognito
        .set_user_pool_mfa_config()
        .user_pool_id(&t.user_pool_id)
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::Off)
        .send()
        .await
        .unwrap();
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "vic", &password).await;
    let own = stack.sign_in(&t, &app, "vic", &password).await;
    for (method, path) in [
        ("POST", "/users/vic/totp"),
        ("POST", "/users/vic/otp-email"),
    ] {
        let a = call::<users::Group>(&app, &t, method, path, Value::Null, &own).await;
        assert_eq!(
            (a.status, a.slug()),
            (409, "conflict"),
            "{path}: {}",
            a.body
        );
        assert!(
            a.body["error"]["detail"]
                .as_str()
                .unwrap()
                .contains("turned off")
        );
    }
    assert_eq!(
        mfa_settings(&stack, &t, "vic").await.0,
        Vec::<String>::new()
    );
}
