#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Admin operations on the real Cognito adapter, where the emulator cannot show Cognito's
//! behaviour: `AdminCreateUser MessageAction=RESEND` (moto creates a second user),
//! `ResendConfirmationCode` (not implemented by moto), and a reset without a verified channel.

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        admin_create_user::AdminCreateUserOutput, admin_get_user::AdminGetUserOutput,
        admin_reset_user_password::AdminResetUserPasswordError,
        describe_user_pool::DescribeUserPoolOutput,
        describe_user_pool_client::DescribeUserPoolClientOutput,
        resend_confirmation_code::ResendConfirmationCodeOutput,
    },
    types::{
        CodeDeliveryDetailsType, DeliveryMediumType, MessageActionType, UserPoolClientType,
        UserPoolType, UserStatusType, error::InvalidParameterException,
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use lambda_http::Request;
use serde_json::{Value, json};
use shared::{
    App,
    testing::{self, Answer},
    testing::{WithCognito, access_token, cognito_app},
};

/// The rules, and a pool without alias or username attributes: its userIDs are usernames.
fn app_with(rules: &[&Rule]) -> App<WithCognito> {
    let pool = mock!(Client::describe_user_pool).then_output(|| {
        DescribeUserPoolOutput::builder()
            .user_pool(UserPoolType::builder().build())
            .build()
    });
    let mut rules = rules.to_vec();
    rules.push(&pool);
    cognito_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        rules
    ))
}

fn admin_token() -> String {
    access_token("boss", &["admins"], 600)
}

/// The admin's own account, as the bearer check reads it (`AdminGetUser`): enabled.
fn live_token() -> Rule {
    mock!(Client::admin_get_user)
        .match_requests(|r| r.username() == Some("boss"))
        .then_output(|| {
            AdminGetUserOutput::builder()
                .username("boss")
                .user_status(UserStatusType::Confirmed)
                .enabled(true)
                .build()
                .unwrap()
        })
}

fn user_in(status: UserStatusType) -> Rule {
    mock!(Client::admin_get_user)
        .match_requests(|r| r.username() == Some("demo-user"))
        .then_output(move || {
            AdminGetUserOutput::builder()
                .username("demo-user")
                .user_status(status.clone())
                .enabled(true)
                .build()
                .unwrap()
        })
}

fn request(op: &str) -> Request {
    testing::with_bearer(testing::sample_event("admin", op), &admin_token())
}

async fn call(app: &App<WithCognito>, req: Request) -> (u16, Value) {
    let a = Answer::from(app.handle::<admin::Group>(req).await);
    (a.status, a.body)
}

#[tokio::test]
async fn the_invitation_is_resent_with_message_action_resend() {
    let (live, user) = (live_token(), user_in(UserStatusType::ForceChangePassword));
    let resend = mock!(Client::admin_create_user)
        .match_requests(|r| {
            r.message_action() == Some(&MessageActionType::Resend)
                && r.username() == Some("demo-user")
        })
        .then_output(|| AdminCreateUserOutput::builder().build());
    let app = app_with(&[&live, &user, &resend]);
    let (status, body) = call(&app, request("resend-welcome-message")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"userID": "demo-user", "status": "FORCE_CHANGE_PASSWORD"})
    );
    assert_eq!(resend.num_calls(), 1);
    assert_eq!(app.audit.events.lock().unwrap()[0].actor, "sub-boss");
}

#[tokio::test]
async fn the_confirmation_code_is_resent_to_an_unconfirmed_user_with_a_secret_hash() {
    let (live, user) = (live_token(), user_in(UserStatusType::Unconfirmed));
    let describe = mock!(Client::describe_user_pool_client).then_output(|| {
        DescribeUserPoolClientOutput::builder()
            .user_pool_client(
                UserPoolClientType::builder()
                    .client_secret("s3cr3t")
                    .build(),
            )
            .build()
    });
    let resend = mock!(Client::resend_confirmation_code)
        .match_requests(|r| r.secret_hash().is_some() && r.username() == Some("demo-user"))
        .then_output(|| {
            ResendConfirmationCodeOutput::builder()
                .code_delivery_details(
                    CodeDeliveryDetailsType::builder()
                        .destination("d***@e***")
                        .delivery_medium(DeliveryMediumType::Email)
                        .attribute_name("email")
                        .build(),
                )
                .build()
        });
    let app = app_with(&[&live, &user, &describe, &resend]);
    let (status, body) = call(&app, request("resend-confirmation-code")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["codeDeliveryDetails"]["destination"],
        "d***@e***"
    );
    assert_eq!(resend.num_calls(), 1);
}

#[tokio::test]
async fn a_user_in_the_wrong_state_is_409_and_nothing_is_sent() {
    let (live, user) = (live_token(), user_in(UserStatusType::Confirmed));
    let resend =
        mock!(Client::admin_create_user).then_output(|| AdminCreateUserOutput::builder().build());
    let app = app_with(&[&live, &user, &resend]);
    for op in ["resend-welcome-message", "resend-confirmation-code"] {
        let (status, body) = call(&app, request(op)).await;
        assert_eq!(status, 409, "{op}: {body}");
        assert_eq!(body["error"]["type"], "/problems/conflict");
    }
    assert_eq!(resend.num_calls(), 0);
}

#[tokio::test]
async fn a_reset_without_a_verified_channel_is_409() {
    let live = live_token();
    let reset = mock!(Client::admin_reset_user_password).then_error(|| {
        AdminResetUserPasswordError::InvalidParameterException(
            InvalidParameterException::builder()
                .message("Cannot reset password for the user as there is no registered/verified email or phone_number")
                .build(),
        )
    });
    let app = app_with(&[&live, &reset]);
    let (status, body) = call(&app, request("admin-reset-password")).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        !body.to_string().contains("registered/verified"),
        "no AWS text reaches the caller"
    );
}
