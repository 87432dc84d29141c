#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The password routes on the real Cognito adapter with `aws-smithy-mocks` answering what
//! Cognito documents where the emulator does not: code mismatch vs expiry, attempt limits,
//! unknown users, and `forgot-password` timing.

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        admin_user_global_sign_out::{AdminUserGlobalSignOutError, AdminUserGlobalSignOutOutput},
        confirm_forgot_password::{ConfirmForgotPasswordError, ConfirmForgotPasswordOutput},
        describe_user_pool::DescribeUserPoolOutput,
        describe_user_pool_client::DescribeUserPoolClientOutput,
        forgot_password::{ForgotPasswordError, ForgotPasswordOutput},
    },
    types::{
        CodeDeliveryDetailsType, DeliveryMediumType, UserPoolClientType, UserPoolType,
        error::{
            CodeMismatchException, ExpiredCodeException, LimitExceededException,
            NotAuthorizedException, TooManyFailedAttemptsException, TooManyRequestsException,
            UserNotConfirmedException, UserNotFoundException,
        },
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use lambda_http::Request;
use serde_json::{Value, json};
use shared::{
    App,
    testing::{Answer, slug},
    testing::{WithCognito, cognito_app},
};

/// The rules, over a pool without alias or username attributes unless a rule describes one.
fn app_with(rules: &[&Rule], floor: Duration) -> App<WithCognito> {
    let pool = describe_pool();
    let mut rules = rules.to_vec();
    rules.push(&pool);
    let mut app = cognito_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        rules
    ));
    app.config.forgot_password_floor = floor;
    app
}

fn describe_client() -> Rule {
    mock!(Client::describe_user_pool_client).then_output(|| {
        DescribeUserPoolClientOutput::builder()
            .user_pool_client(
                UserPoolClientType::builder()
                    .client_secret("s3cr3t")
                    .build(),
            )
            .build()
    })
}

fn describe_pool() -> Rule {
    mock!(Client::describe_user_pool).then_output(|| {
        DescribeUserPoolOutput::builder()
            .user_pool(UserPoolType::builder().build())
            .build()
    })
}

fn request(path: &str, body: Value) -> Request {
    shared::testing::api_request("POST", path, &body, &shared::testing::demo_headers(None))
}

async fn call(app: &App<WithCognito>, req: Request) -> (u16, Value) {
    let a = Answer::from(app.handle::<password::Group>(req).await);
    (a.status, a.body)
}

fn delivered() -> ForgotPasswordOutput {
    ForgotPasswordOutput::builder()
        .code_delivery_details(
            CodeDeliveryDetailsType::builder()
                .destination("d***@e***")
                .delivery_medium(DeliveryMediumType::Email)
                .attribute_name("email")
                .build(),
        )
        .build()
}

fn unknown_user() -> ForgotPasswordError {
    ForgotPasswordError::UserNotFoundException(
        UserNotFoundException::builder()
            .message("Username/client id combination not found.")
            .build(),
    )
}

#[tokio::test]
async fn an_unknown_user_gets_the_shape_a_known_user_gets() {
    let (d, known) = (
        describe_client(),
        mock!(Client::forgot_password).then_output(delivered),
    );
    let app = app_with(&[&d, &known], Duration::from_millis(1));
    let (s1, b1) = call(
        &app,
        request("/forgot-password", json!({"userID": "demo-user"})),
    )
    .await;
    let unknown = mock!(Client::forgot_password).then_error(unknown_user);
    let app = app_with(&[&d, &unknown], Duration::from_millis(1));
    let (s2, b2) = call(
        &app,
        request("/forgot-password", json!({"userID": "ghost"})),
    )
    .await;
    let (_, b3) = call(
        &app,
        request("/forgot-password", json!({"userID": "ghost"})),
    )
    .await;
    assert_eq!((s1, s2), (200, 200));
    let shape = |b: &Value| {
        let d = b["data"]["codeDeliveryDetails"].as_object().unwrap();
        d.iter()
            .map(|(k, v)| (k.clone(), v.is_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&b1), shape(&b2));
    assert_eq!(b2["data"], b3["data"], "the stand-in is stable, not random");
    assert!(!b2.to_string().contains("not found"));
}

/// Cognito limits the codes one account is sent (`LimitExceededException`, "Attempt limit
/// exceeded"), which only an existing account reaches: that user gets the answer an unknown
/// user gets (200, the stand-in made from the name given), not a 429 that would tell them
/// apart. A rate throttle (`TooManyRequestsException`), which falls on any name alike, stays
/// a 429.
#[tokio::test]
async fn a_user_cognito_sent_too_many_codes_is_answered_as_an_unknown_user() {
    // demo-user's forgot-password, with Cognito answering `ForgotPassword` with `error`
    async fn forgot_failing_with(error: fn() -> ForgotPasswordError) -> (u16, Value, usize) {
        let d = describe_client();
        let forgot = mock!(Client::forgot_password).then_error(error);
        let app = app_with(&[&d, &forgot], Duration::from_millis(1));
        let req = request("/forgot-password", json!({"userID": "demo-user"}));
        let (status, body) = call(&app, req).await;
        (status, body, forgot.num_calls())
    }
    let (status, limited, calls) = forgot_failing_with(|| {
        ForgotPasswordError::LimitExceededException(
            LimitExceededException::builder()
                .message("Attempt limit exceeded, please try after some time.")
                .build(),
        )
    })
    .await;
    assert_eq!((status, calls), (200, 1), "{limited}");
    let (_, unknown, _) = forgot_failing_with(unknown_user).await;
    assert_eq!(limited["data"], unknown["data"]);
    let (status, throttled, _) = forgot_failing_with(|| {
        ForgotPasswordError::TooManyRequestsException(
            aws_sdk_cognitoidentityprovider::types::error::TooManyRequestsException::builder()
                .build(),
        )
    })
    .await;
    assert_eq!(
        (status, slug(&throttled)),
        (429, "too-many-requests"),
        "{throttled}"
    );
}

#[tokio::test]
async fn forgot_password_latency_does_not_tell_a_known_user_from_an_unknown_one() {
    // Cognito takes longer when it really sends a code; here the known path is made 120 ms
    // slower than the unknown one. With a 250 ms floor both medians sit on the floor: the
    // difference left is scheduling noise (a few ms), well under the 120 ms gap it hides and
    // far under what a network observer could resolve through API Gateway's own jitter.
    let floor = Duration::from_millis(250);
    let d = describe_client();
    let known = mock!(Client::forgot_password).then_compute_output(|_| {
        std::thread::sleep(Duration::from_millis(120));
        delivered()
    });
    let unknown = mock!(Client::forgot_password).then_error(unknown_user);
    let known_app = app_with(&[&d, &known], floor);
    let unknown_app = app_with(&[&d, &unknown], floor);
    let mut known_times = vec![];
    let mut unknown_times = vec![];
    for _ in 0..9 {
        let started = Instant::now();
        assert_eq!(
            call(
                &known_app,
                request("/forgot-password", json!({"userID": "demo-user"}))
            )
            .await
            .0,
            200
        );
        known_times.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(
            call(
                &unknown_app,
                request("/forgot-password", json!({"userID": "ghost"}))
            )
            .await
            .0,
            200
        );
        unknown_times.push(started.elapsed());
    }
    known_times.sort();
    unknown_times.sort();
    let (k, u) = (known_times[4], unknown_times[4]);
    assert!(u >= floor && k >= floor, "known {k:?}, unknown {u:?}");
    let gap = k.abs_diff(u);
    assert!(
        gap < Duration::from_millis(40),
        "median gap {gap:?} (known {k:?}, unknown {u:?})"
    );
}

async fn confirm_failing_with(error: fn() -> ConfirmForgotPasswordError) -> (u16, Value) {
    confirm_failing_for(error, false).await
}

async fn confirm_failing_for(
    error: fn() -> ConfirmForgotPasswordError,
    hide_account_state: bool,
) -> (u16, Value) {
    let (d, p) = (describe_client(), describe_pool());
    let confirm = mock!(Client::confirm_forgot_password)
        .match_requests(|r| r.secret_hash().is_some() && r.confirmation_code() == Some("123456"))
        .then_error(error);
    let mut app = app_with(&[&d, &p, &confirm], Duration::from_millis(1));
    let mut t = shared::testing::tenant();
    t.hide_account_state = hide_account_state;
    app.tenants = shared::domain::tenant::CachedTenants::new(
        shared::testing::InMemoryTenants::with(t),
        app.config.tenant_cache_ttl,
    );
    let body = json!({"userID": "demo-user", "confirmationCode": "123456", "newPassword": "Brand-New-Passw0rd!"});
    let answer = call(&app, request("/confirm-forgot-password", body)).await;
    assert_eq!(confirm.num_calls(), 1);
    answer
}

/// What only a real account can get (an expired code; a disabled or unconfirmed account)
/// reads, for a tenant that hides account state, as what an unknown user gets.
#[tokio::test]
async fn recovery_hides_account_state_where_the_tenant_asks() {
    type Case = fn() -> ConfirmForgotPasswordError;
    let cases: [(Case, &str); 3] = [
        (
            || {
                ConfirmForgotPasswordError::ExpiredCodeException(
                    ExpiredCodeException::builder().build(),
                )
            },
            "code-expired",
        ),
        (
            || {
                ConfirmForgotPasswordError::NotAuthorizedException(
                    NotAuthorizedException::builder()
                        .message("User is disabled.")
                        .build(),
                )
            },
            "account-disabled",
        ),
        (
            || {
                ConfirmForgotPasswordError::UserNotConfirmedException(
                    UserNotConfirmedException::builder().build(),
                )
            },
            "account-unconfirmed",
        ),
    ];
    for (error, shown) in cases {
        let (_, open) = confirm_failing_for(error, false).await;
        assert_eq!(slug(&open), shown);
        let (status, hidden) = confirm_failing_for(error, true).await;
        assert_eq!((status, slug(&hidden)), (400, "code-mismatch"), "{shown}");
    }
}

#[tokio::test]
async fn confirm_errors_have_their_slugs() {
    type Case = (fn() -> ConfirmForgotPasswordError, u16, &'static str);
    let cases: [Case; 6] = [
        (
            || {
                ConfirmForgotPasswordError::CodeMismatchException(
                    CodeMismatchException::builder().build(),
                )
            },
            400,
            "code-mismatch",
        ),
        (
            || {
                ConfirmForgotPasswordError::ExpiredCodeException(
                    ExpiredCodeException::builder().build(),
                )
            },
            400,
            "code-expired",
        ),
        // Cognito's limits on one account's wrong codes, which only an existing account
        // reaches, read as the wrong code an unknown user gets
        (
            || {
                ConfirmForgotPasswordError::TooManyFailedAttemptsException(
                    TooManyFailedAttemptsException::builder().build(),
                )
            },
            400,
            "code-mismatch",
        ),
        (
            || {
                ConfirmForgotPasswordError::LimitExceededException(
                    LimitExceededException::builder().build(),
                )
            },
            400,
            "code-mismatch",
        ),
        // a rate throttle falls on any name alike
        (
            || {
                ConfirmForgotPasswordError::TooManyRequestsException(
                    aws_sdk_cognitoidentityprovider::types::error::TooManyRequestsException::builder()
                        .build(),
                )
            },
            429,
            "too-many-requests",
        ),
        (
            || {
                ConfirmForgotPasswordError::UserNotFoundException(
                    UserNotFoundException::builder().build(),
                )
            },
            400,
            "code-mismatch",
        ),
    ];
    for (error, status, want) in cases {
        let (s, b) = confirm_failing_with(error).await;
        assert_eq!((s, slug(&b)), (status, want), "{b}");
    }
}

#[tokio::test]
async fn a_good_code_changes_the_password_and_ends_every_session() {
    let (d, p) = (describe_client(), describe_pool());
    let confirm = mock!(Client::confirm_forgot_password)
        .match_requests(|r| {
            r.password() == Some("Brand-New-Passw0rd!") && r.username() == Some("demo-user")
        })
        .then_output(|| ConfirmForgotPasswordOutput::builder().build());
    let sign_out = mock!(Client::admin_user_global_sign_out)
        .match_requests(|r| {
            r.user_pool_id() == Some("us-east-1_test") && r.username() == Some("demo-user")
        })
        .then_output(|| AdminUserGlobalSignOutOutput::builder().build());
    let app = app_with(&[&d, &p, &confirm, &sign_out], Duration::from_millis(1));
    let body = json!({"userID": "Demo-User", "confirmationCode": "123456", "newPassword": "Brand-New-Passw0rd!"});
    let (status, b) = call(&app, request("/confirm-forgot-password", body)).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        b["data"],
        json!({"passwordChanged": true, "signedOut": true})
    );
    assert_eq!(sign_out.num_calls(), 1);
    assert_eq!(
        app.audit.actions(),
        vec![("confirm-forgot-password".to_string(), "success".to_string())]
    );
}

/// The password has changed by the time the sessions are ended: a sign-out Cognito refuses
/// does not turn the answer into a failure, it is said (`signedOut: false`) and logged.
#[tokio::test]
async fn a_reset_whose_sign_out_fails_still_answers_that_the_password_changed() {
    let (d, p) = (describe_client(), describe_pool());
    let confirm = mock!(Client::confirm_forgot_password)
        .then_output(|| ConfirmForgotPasswordOutput::builder().build());
    let sign_out = mock!(Client::admin_user_global_sign_out).then_error(|| {
        AdminUserGlobalSignOutError::TooManyRequestsException(
            TooManyRequestsException::builder().build(),
        )
    });
    let app = app_with(&[&d, &p, &confirm, &sign_out], Duration::from_millis(1));
    let body = json!({"userID": "demo-user", "confirmationCode": "123456", "newPassword": "Brand-New-Passw0rd!"});
    let (status, b) = call(&app, request("/confirm-forgot-password", body)).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        b["data"],
        json!({"passwordChanged": true, "signedOut": false})
    );
    assert_eq!(sign_out.num_calls(), 1);
}
