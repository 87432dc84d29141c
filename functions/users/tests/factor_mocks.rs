#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Second factors on the real Cognito adapter, pinning the exact requests Cognito gets (the
//! user's own token for the authenticator, this factor's settings only in
//! AdminSetUserMFAPreference, the preferred factor handed on) and reading its documented
//! answers, what real Cognito says and the emulator only imitates.

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        admin_get_user::AdminGetUserOutput,
        admin_set_user_mfa_preference::{
            AdminSetUserMFAPreferenceError, AdminSetUserMfaPreferenceOutput,
        },
        associate_software_token::AssociateSoftwareTokenOutput,
        describe_user_pool::DescribeUserPoolOutput,
        verify_software_token::{VerifySoftwareTokenError, VerifySoftwareTokenOutput},
    },
    types::{
        AttributeType, UserPoolMfaType, UserPoolType, VerifySoftwareTokenResponseType,
        error::{EnableSoftwareTokenMfaException, InvalidParameterException},
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shared::testing::cognito_mocks::SESSION_TOKEN;
use shared::{
    App,
    testing::{self, Answer, WithCognito, access_token, cognito_app},
};

const POOL: &str = "us-east-1_test";

fn pool(mfa: UserPoolMfaType) -> Rule {
    mock!(Client::describe_user_pool).then_output(move || {
        DescribeUserPoolOutput::builder()
            .user_pool(
                UserPoolType::builder()
                    .mfa_configuration(mfa.clone())
                    .build(),
            )
            .build()
    })
}

/// `demo-user` as AdminGetUser answers: a `sub`, email and phone verified, these factors on.
fn the_user(factors: &'static [&'static str], preferred: Option<&'static str>) -> Rule {
    user_with(factors, preferred, true)
}

fn user_with(
    factors: &'static [&'static str],
    preferred: Option<&'static str>,
    phone_verified: bool,
) -> Rule {
    mock!(Client::admin_get_user)
        .match_requests(|r| r.user_pool_id() == Some(POOL) && r.username() == Some("demo-user"))
        .then_output(move || {
            AdminGetUserOutput::builder()
                .username("demo-user")
                .enabled(true)
                .user_status(aws_sdk_cognitoidentityprovider::types::UserStatusType::Confirmed)
                .user_attributes(
                    AttributeType::builder()
                        .name("email_verified")
                        .value("true")
                        .build()
                        .unwrap(),
                )
                .user_attributes(
                    AttributeType::builder()
                        .name("phone_number_verified")
                        .value(phone_verified.to_string())
                        .build()
                        .unwrap(),
                )
                .user_attributes(
                    AttributeType::builder()
                        .name("sub")
                        .value("sub-demo-user")
                        .build()
                        .unwrap(),
                )
                .set_user_mfa_setting_list(Some(factors.iter().map(|f| f.to_string()).collect()))
                .set_preferred_mfa_setting(preferred.map(str::to_string))
                .build()
                .unwrap()
        })
}

/// What ListWebAuthnCredentials answers for a user with one passkey, a laptop's.
fn one_passkey_listed()
-> aws_sdk_cognitoidentityprovider::operation::list_web_authn_credentials::ListWebAuthnCredentialsOutput
{
    use aws_sdk_cognitoidentityprovider::{
        operation::list_web_authn_credentials::ListWebAuthnCredentialsOutput,
        types::WebAuthnCredentialDescription,
    };
    ListWebAuthnCredentialsOutput::builder()
        .credentials(
            WebAuthnCredentialDescription::builder()
                .credential_id("AbC-_1")
                .friendly_credential_name("laptop")
                .relying_party_id("example.com")
                .authenticator_transports("internal")
                .created_at(aws_smithy_types::DateTime::from_secs(1_795_000_000))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn app_with(rules: &[&Rule]) -> App<WithCognito> {
    // the caller's account, as the bearer check reads it (AdminGetUser), after the rules
    // of the users a test describes
    let live = shared::testing::cognito_mocks::caller_is_live();
    // the user's own operations go through the API's session as the user (`shared::session`)
    let session = shared::testing::cognito_mocks::session_as("demo-user", "user-access");
    let mut rules = rules.to_vec();
    rules.extend(session.rules());
    rules.push(&live);
    cognito_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        rules
    ))
}

/// demo-user's access token, one for the whole run: the mocks match the token Cognito gets,
/// and a token made again in another second (its `exp`, its `auth_time`) would be another.
fn demo_token() -> String {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| access_token("demo-user", &[], 600))
        .clone()
}

async fn call(app: &App<WithCognito>, method: &str, path: &str, body: Value) -> (u16, Value) {
    let token = demo_token();
    let req = testing::api_request(method, path, &body, &testing::demo_headers(Some(&token)));
    let a = Answer::from(app.handle::<users::Group>(req).await);
    (a.status, a.body)
}

#[tokio::test]
async fn an_authenticator_is_started_and_verified_through_the_apis_session_as_the_user() {
    let start = mock!(Client::associate_software_token)
        .match_requests(move |r| r.access_token() == Some(SESSION_TOKEN) && r.session().is_none())
        .then_output(|| {
            AssociateSoftwareTokenOutput::builder()
                .secret_code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
                .build()
        });
    let verify = mock!(Client::verify_software_token)
        .match_requests(move |r| {
            r.access_token() == Some(SESSION_TOKEN)
                && r.user_code() == Some("123456")
                && r.friendly_device_name() == Some("phone")
        })
        .then_output(|| {
            VerifySoftwareTokenOutput::builder()
                .status(VerifySoftwareTokenResponseType::Success)
                .build()
        });
    // TOTP on and preferred, and nothing said about the other factors
    let turn_on = mock!(Client::admin_set_user_mfa_preference)
        .match_requests(|r| {
            r.user_pool_id() == Some(POOL)
                && r.username() == Some("demo-user")
                && r.software_token_mfa_settings()
                    .is_some_and(|s| s.enabled() && s.preferred_mfa())
                && r.sms_mfa_settings().is_none()
                && r.email_mfa_settings().is_none()
        })
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let user = the_user(&["SOFTWARE_TOKEN_MFA"], Some("SOFTWARE_TOKEN_MFA"));
    let app = app_with(&[&start, &verify, &turn_on, &pool, &user]);

    let (status, body) = call(&app, "POST", "/users/demo-user/totp", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["secret"], "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    assert!(
        body["data"]["uri"].as_str().unwrap().starts_with(
            "otpauth://totp/demo:demo-user?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=demo&"
        ),
        "{body}"
    );
    let verify_body = json!({"code": "123456", "friendlyName": "phone"});
    let (status, body) = call(&app, "POST", "/users/demo-user/totp/verify", verify_body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"methods": ["PASSWORD", "TOTP"], "preferred": "TOTP"})
    );
    assert_eq!(
        (start.num_calls(), verify.num_calls(), turn_on.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_wrong_code_at_enrolment_is_code_mismatch_and_turns_nothing_on() {
    // what Cognito answers VerifySoftwareToken with a wrong code
    let verify = mock!(Client::verify_software_token).then_error(|| {
        VerifySoftwareTokenError::EnableSoftwareTokenMfaException(
            EnableSoftwareTokenMfaException::builder()
                .message("Code mismatch and fail enable Software Token MFA")
                .build(),
        )
    });
    let turn_on = mock!(Client::admin_set_user_mfa_preference)
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let app = app_with(&[&verify, &turn_on, &pool]);
    let (status, body) = call(
        &app,
        "POST",
        "/users/demo-user/totp/verify",
        json!({"code": "000000"}),
    )
    .await;
    assert_eq!(
        (status, testing::slug(&body)),
        (400, "code-mismatch"),
        "{body}"
    );
    assert_eq!(turn_on.num_calls(), 0);
}

#[tokio::test]
async fn codes_by_email_are_turned_on_alone_and_not_preferred_over_an_app() {
    let turn_on = mock!(Client::admin_set_user_mfa_preference)
        .match_requests(|r| {
            r.email_mfa_settings()
                .is_some_and(|s| s.enabled() && !s.preferred_mfa())
                && r.software_token_mfa_settings().is_none()
                && r.sms_mfa_settings().is_none()
        })
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let user = the_user(&["SOFTWARE_TOKEN_MFA"], Some("SOFTWARE_TOKEN_MFA"));
    let app = app_with(&[&turn_on, &pool, &user]);
    let (status, body) = call(&app, "POST", "/users/demo-user/otp-email", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"methods": ["PASSWORD", "TOTP", "OTP_EMAIL"], "preferred": "TOTP"})
    );
    assert_eq!(turn_on.num_calls(), 1);
}

#[tokio::test]
async fn a_pool_that_does_not_offer_a_factor_is_a_conflict() {
    // e.g. email codes on a pool outside the Essentials plan or without SES
    let refused = mock!(Client::admin_set_user_mfa_preference).then_error(|| {
        AdminSetUserMFAPreferenceError::InvalidParameterException(
            InvalidParameterException::builder().build(),
        )
    });
    let pool = pool(UserPoolMfaType::Optional);
    let user = the_user(&[], None);
    let app = app_with(&[&refused, &pool, &user]);
    let (status, body) = call(&app, "POST", "/users/demo-user/otp-email", Value::Null).await;
    assert_eq!((status, testing::slug(&body)), (409, "conflict"), "{body}");
    assert!(
        body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("does not offer")
    );
}

#[tokio::test]
async fn removing_the_preferred_factor_hands_the_preference_on() {
    let totp_off = mock!(Client::admin_set_user_mfa_preference)
        .match_requests(|r| {
            r.software_token_mfa_settings()
                .is_some_and(|s| !s.enabled() && !s.preferred_mfa())
                && r.email_mfa_settings().is_none()
        })
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let email_preferred = mock!(Client::admin_set_user_mfa_preference)
        .match_requests(|r| {
            r.email_mfa_settings()
                .is_some_and(|s| s.enabled() && s.preferred_mfa())
                && r.software_token_mfa_settings().is_none()
        })
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::On);
    let user = the_user(
        &["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"],
        Some("SOFTWARE_TOKEN_MFA"),
    );
    let app = app_with(&[&totp_off, &email_preferred, &pool, &user]);
    let (status, body) = call(&app, "DELETE", "/users/demo-user/totp", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"methods": ["PASSWORD", "OTP_EMAIL"], "preferred": "OTP_EMAIL"})
    );
    assert_eq!((totp_off.num_calls(), email_preferred.num_calls()), (1, 1));
}

#[tokio::test]
async fn the_last_factor_of_a_pool_that_requires_one_is_not_removed() {
    let any = mock!(Client::admin_set_user_mfa_preference)
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::On);
    let user = the_user(&["SOFTWARE_TOKEN_MFA"], Some("SOFTWARE_TOKEN_MFA"));
    let app = app_with(&[&any, &pool, &user]);
    let (status, body) = call(&app, "DELETE", "/users/demo-user/totp", Value::Null).await;
    assert_eq!((status, testing::slug(&body)), (409, "conflict"), "{body}");
    assert_eq!(any.num_calls(), 0, "nothing reached Cognito");
}

#[tokio::test]
async fn a_stale_sign_in_cannot_start_an_authenticator_turn_on_codes_or_remove_a_factor() {
    // a token refreshed from a sign-in an hour ago: still valid, but not enough to change the
    // factors (an admin acting on another user is not held to it; on their own account they are)
    let start = mock!(Client::associate_software_token).then_output(|| {
        AssociateSoftwareTokenOutput::builder()
            .secret_code("X")
            .build()
    });
    let set = mock!(Client::admin_set_user_mfa_preference)
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let user = the_user(&["SOFTWARE_TOKEN_MFA"], Some("SOFTWARE_TOKEN_MFA"));
    let app = app_with(&[&start, &set, &pool, &user]);
    let stale = testing::access_token_signed_in("demo-user", &[], 3600);
    // an admin acting on their own account is held to it as any user is
    let stale_admin = testing::access_token_signed_in("demo-user", &["admins"], 3600);
    for (stale, (method, path)) in [&stale, &stale_admin].into_iter().flat_map(|token| {
        [
            ("POST", "/users/demo-user/totp"),
            // a code factor Cognito asks at sign-in stands in for a security key there
            ("POST", "/users/demo-user/otp-sms"),
            ("POST", "/users/demo-user/otp-email"),
            ("DELETE", "/users/demo-user/totp"),
            ("DELETE", "/users/demo-user/otp-email"),
        ]
        .map(|route| (token, route))
    }) {
        let req = testing::api_request(
            method,
            path,
            &Value::Null,
            &testing::demo_headers(Some(stale)),
        );
        let a = Answer::from(app.handle::<users::Group>(req).await);
        assert_eq!(
            (a.status, a.slug()),
            (403, "forbidden"),
            "{method} {path}: {}",
            a.body
        );
        assert!(
            a.body["error"]["detail"]
                .as_str()
                .unwrap()
                .contains("sign in again")
        );
    }
    assert_eq!((start.num_calls(), set.num_calls()), (0, 0));
    // fresh enough: the same removal goes through
    let (status, body) = call(&app, "DELETE", "/users/demo-user/totp", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(set.num_calls(), 1);
}

#[tokio::test]
async fn passkeys_are_registered_listed_and_deleted_through_the_apis_session_as_the_user() {
    use aws_sdk_cognitoidentityprovider::operation::{
        complete_web_authn_registration::CompleteWebAuthnRegistrationOutput,
        delete_web_authn_credential::DeleteWebAuthnCredentialOutput,
        start_web_authn_registration::StartWebAuthnRegistrationOutput,
    };
    use aws_smithy_types::Document;
    let start = mock!(Client::start_web_authn_registration)
        .match_requests(move |r| r.access_token() == Some(SESSION_TOKEN))
        .then_output(|| {
            let options = Document::Object(
                [("challenge".to_string(), Document::String("c-1".into()))].into(),
            );
            StartWebAuthnRegistrationOutput::builder()
                .credential_creation_options(options)
                .build()
                .unwrap()
        });
    // the browser's answer reaches Cognito as it was sent, as a document
    let complete = mock!(Client::complete_web_authn_registration)
        .match_requests(move |r| {
            r.access_token() == Some(SESSION_TOKEN)
                && r.credential().is_some_and(|c| match c {
                    Document::Object(m) => {
                        m.get("id") == Some(&Document::String("AbC-_1".into()))
                            && matches!(m.get("response"), Some(Document::Object(_)))
                    }
                    _ => false,
                })
        })
        .then_output(|| CompleteWebAuthnRegistrationOutput::builder().build());
    let list = mock!(Client::list_web_authn_credentials)
        .match_requests(move |r| r.access_token() == Some(SESSION_TOKEN))
        .then_output(one_passkey_listed);
    let delete = mock!(Client::delete_web_authn_credential)
        .match_requests(move |r| {
            r.access_token() == Some(SESSION_TOKEN) && r.credential_id() == Some("AbC-_1")
        })
        .then_output(|| DeleteWebAuthnCredentialOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let app = app_with(&[&start, &complete, &list, &delete, &pool]);

    let (status, body) = call(&app, "POST", "/users/demo-user/passkeys", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["credentialCreationOptions"]["challenge"],
        "c-1"
    );
    let credential = json!({"id": "AbC-_1", "rawId": "AbC-_1", "type": "public-key",
                            "response": {"clientDataJSON": "e30", "attestationObject": "oA"}});
    let (status, body) = call(
        &app,
        "POST",
        "/users/demo-user/passkeys/verify",
        json!({"credential": credential}),
    )
    .await;
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({"credentialID": "AbC-_1"})),
        "{body}"
    );
    let token = demo_token();
    let req = testing::api_request(
        "GET",
        "/users/demo-user/passkeys",
        &Value::Null,
        &testing::demo_headers(Some(&token)),
    );
    let listed = Answer::from(app.handle::<users::Group>(req).await);
    assert_eq!(
        listed.body["data"]["passkeys"][0],
        json!({"credentialID": "AbC-_1", "name": "laptop", "relyingPartyID": "example.com",
               "authenticatorAttachment": null, "transports": ["internal"],
               "createdAt": "2026-11-18T11:06:40Z"}),
        "{}",
        listed.body
    );
    let (status, body) = call(
        &app,
        "DELETE",
        "/users/demo-user/passkeys/AbC-_1",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, &body["data"]["deleted"]),
        (200, &json!(true)),
        "{body}"
    );
    assert_eq!(
        (
            start.num_calls(),
            complete.num_calls(),
            list.num_calls(),
            delete.num_calls()
        ),
        (1, 1, 1, 1)
    );
}

/// An admin lists and deletes a user's passkeys through a session of the user's own: a custom
/// sign-in (`CUSTOM_AUTH`, the challenge answered `admin-access:<code>` under the username and
/// secret hash), the WebAuthn call with that session's token, and its refresh token revoked
/// with the app client's secret. Nothing of the session reaches the admin.
#[tokio::test]
async fn an_admin_reaches_a_users_passkeys_through_a_session_of_the_users_own() {
    use aws_sdk_cognitoidentityprovider::operation::delete_web_authn_credential::DeleteWebAuthnCredentialOutput;
    // the session's requests as every API session makes them (shared::testing::cognito_mocks:
    // the answer `admin-access:<code>` in the challenge and in ClientMetadata)
    let session = shared::testing::cognito_mocks::session_as("demo-user", "admin-access");
    let user = the_user(&[], None);
    let list = mock!(Client::list_web_authn_credentials)
        .match_requests(|r| r.access_token() == Some("user-session"))
        .then_output(one_passkey_listed);
    let delete = mock!(Client::delete_web_authn_credential)
        .match_requests(|r| {
            r.access_token() == Some("user-session") && r.credential_id() == Some("AbC-_1")
        })
        .then_output(|| DeleteWebAuthnCredentialOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let mut rules = vec![&user, &list, &delete, &pool];
    rules.extend(session.rules());
    let app = app_with(&rules);
    let admin = access_token("admin", &["admins"], 600);
    let as_admin = |method: &str, path: &str| {
        let req = testing::api_request(
            method,
            path,
            &Value::Null,
            &testing::demo_headers(Some(&admin)),
        );
        let app = &app;
        async move { Answer::from(app.handle::<users::Group>(req).await) }
    };

    let listed = as_admin("GET", "/users/demo-user/passkeys").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    // ids, names and dates only
    assert_eq!(
        listed.body["data"]["passkeys"][0],
        json!({"credentialID": "AbC-_1", "name": "laptop", "relyingPartyID": null,
               "authenticatorAttachment": null, "transports": [],
               "createdAt": "2026-11-18T11:06:40Z"})
    );
    assert!(!listed.body.to_string().contains("user-session"));
    let deleted = as_admin("DELETE", "/users/demo-user/passkeys/AbC-_1").await;
    assert_eq!(
        (deleted.status, &deleted.body["data"]),
        (200, &json!({"credentialID": "AbC-_1", "deleted": true})),
        "{}",
        deleted.body
    );
    assert_eq!(
        (
            session.initiate.num_calls(),
            session.respond.num_calls(),
            session.revoke.num_calls()
        ),
        (2, 2, 2),
        "a session per call, each revoked"
    );
    assert_eq!((list.num_calls(), delete.num_calls()), (1, 1));
    // each code spent at once
    let user_id = shared::domain::user_id::UserId::parse("demo-user").unwrap();
    let left = shared::domain::lock::Codes::one_time_code(
        &app.locks,
        shared::domain::lock::CodePurpose::AdminAccess,
        POOL,
        &user_id,
    )
    .await
    .unwrap();
    assert_eq!(left, None);
    let actions = app.audit.actions();
    assert!(
        actions.contains(&("admin-access".into(), "success".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("delete-passkey".into(), "success".into())),
        "{actions:?}"
    );
}

/// Cognito recovers no password by email when email is the user's second factor (its
/// `AccountRecoverySetting` documentation: "Email MFA is also disqualifying for account
/// recovery with email"): without a verified phone, codes by email are refused with a problem
/// that says so, and nothing reaches AdminSetUserMFAPreference.
#[tokio::test]
async fn codes_by_email_without_a_phone_to_recover_by_are_refused() {
    let turn_on = mock!(Client::admin_set_user_mfa_preference)
        .then_output(|| AdminSetUserMfaPreferenceOutput::builder().build());
    let pool = pool(UserPoolMfaType::Optional);
    let user = user_with(&[], None, false);
    let app = app_with(&[&turn_on, &pool, &user]);
    let (status, body) = call(&app, "POST", "/users/demo-user/otp-email", Value::Null).await;
    assert_eq!((status, testing::slug(&body)), (409, "conflict"), "{body}");
    assert!(
        body["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("recover the password"),
        "{body}"
    );
    assert_eq!(turn_on.num_calls(), 0);
}
