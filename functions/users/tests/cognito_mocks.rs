#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Contact verification on the real Cognito adapter, pinning the exact requests Cognito gets
//! (the user's own access token, the attribute, the code) and reading its documented errors.

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        describe_user_pool::DescribeUserPoolOutput,
        get_user_attribute_verification_code::GetUserAttributeVerificationCodeOutput,
        verify_user_attribute::{VerifyUserAttributeError, VerifyUserAttributeOutput},
    },
    types::{
        CodeDeliveryDetailsType, DeliveryMediumType, UserPoolType,
        error::{CodeMismatchException, ExpiredCodeException, LimitExceededException},
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shared::{
    App,
    testing::{self, Answer, WithCognito, access_token, cognito_app},
};

fn app_with(rules: &[&Rule]) -> App<WithCognito> {
    let pool = mock!(Client::describe_user_pool).then_output(|| {
        DescribeUserPoolOutput::builder()
            .user_pool(UserPoolType::builder().build())
            .build()
    });
    // the caller's account, as the bearer check reads it (AdminGetUser), after the rules
    // of the users a test describes
    let live = shared::testing::cognito_mocks::caller_is_live();
    // the user's own codes go through the API's session as the user (`shared::session`)
    let session = shared::testing::cognito_mocks::session_as("demo-user", "user-access");
    let mut rules = rules.to_vec();
    rules.extend(session.rules());
    rules.extend([&pool, &live]);
    cognito_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        rules
    ))
}

async fn call(app: &App<WithCognito>, path: &str, body: Value, token: &str) -> (u16, Value) {
    let req = testing::api_request("POST", path, &body, &testing::demo_headers(Some(token)));
    let a = Answer::from(app.handle::<users::Group>(req).await);
    (a.status, a.body)
}

#[tokio::test]
async fn a_code_is_sent_and_verified_with_the_apis_session_as_the_user() {
    use shared::testing::cognito_mocks::SESSION_TOKEN;
    let token = access_token("demo-user", &[], 600);
    let send = mock!(Client::get_user_attribute_verification_code)
        .match_requests(move |r| {
            r.access_token() == Some(SESSION_TOKEN) && r.attribute_name() == Some("email")
        })
        .then_output(|| {
            GetUserAttributeVerificationCodeOutput::builder()
                .code_delivery_details(
                    CodeDeliveryDetailsType::builder()
                        .destination("d***@e***")
                        .delivery_medium(DeliveryMediumType::Email)
                        .attribute_name("email")
                        .build(),
                )
                .build()
        });
    let verify = mock!(Client::verify_user_attribute)
        .match_requests(move |r| {
            r.access_token() == Some(SESSION_TOKEN)
                && r.attribute_name() == Some("phone_number")
                && r.code() == Some("654321")
        })
        .then_output(|| VerifyUserAttributeOutput::builder().build());
    let app = app_with(&[&send, &verify]);

    let (status, body) = call(&app, "/users/demo-user/email/resend", Value::Null, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["codeDeliveryDetails"]["destination"],
        "d***@e***"
    );
    let (status, body) = call(
        &app,
        "/users/demo-user/phone/verify",
        json!({"verificationCode": "654321"}),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["phoneVerified"], true);
    assert_eq!((send.num_calls(), verify.num_calls()), (1, 1));
}

/// The error Cognito answers a verification with.
type Fault = fn() -> VerifyUserAttributeError;

#[tokio::test]
async fn cognitos_code_errors_have_their_slugs() {
    let token = access_token("demo-user", &[], 600);
    let cases: [(Fault, u16, &str); 3] = [
        (
            || {
                VerifyUserAttributeError::CodeMismatchException(
                    CodeMismatchException::builder().build(),
                )
            },
            400,
            "code-mismatch",
        ),
        (
            || {
                VerifyUserAttributeError::ExpiredCodeException(
                    ExpiredCodeException::builder().build(),
                )
            },
            400,
            "code-expired",
        ),
        (
            || {
                VerifyUserAttributeError::LimitExceededException(
                    LimitExceededException::builder().build(),
                )
            },
            429,
            "too-many-requests",
        ),
    ];
    for (error, status, slug) in cases {
        let verify = mock!(Client::verify_user_attribute).then_error(error);
        let app = app_with(&[&verify]);
        let (got, body) = call(
            &app,
            "/users/demo-user/email/verify",
            json!({"verificationCode": "111111"}),
            &token,
        )
        .await;
        assert_eq!((got, testing::slug(&body)), (status, slug), "{body}");
    }
}
