//! The Lambda entry points: every HTTP function's `main` is one call of [`run`], every Cognito
//! trigger's one call of [`run_trigger`].

use std::convert::Infallible;

use lambda_http::LambdaEvent;

use crate::app::{AwsApp, Group};

/// Runs the group `G` on Lambda: telemetry, configuration and clients once per cold start (a
/// configuration error stops the process before the first request), then every event through
/// [`crate::App::handle`] on a current-thread runtime, as Lambda hands one event at a time.
pub fn run<G: Group>() -> Result<(), lambda_http::Error> {
    on_lambda(async {
        let app = AwsApp::from_env()?;
        let app = &app;
        lambda_http::run(lambda_http::service_fn(move |req| async move {
            Ok::<_, Infallible>(app.handle::<G>(req).await)
        }))
        .await
    })
}

/// Runs a Cognito trigger on Lambda: telemetry, configuration and the account-state table once
/// per cold start (a configuration error stops the process before the first event), then every
/// event through `handler`, on a current-thread runtime. The store lives as long as the
/// process, so `handler` borrows it for `'static`.
pub fn run_trigger<A, R, Refusal, F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static crate::adapters::dynamodb::DynamoLocks, LambdaEvent<A>) -> Fut,
    Fut: std::future::Future<Output = Result<R, Refusal>>,
    Refusal: Into<lambda_http::lambda_runtime::Diagnostic> + std::fmt::Debug,
    A: serde::de::DeserializeOwned,
    R: serde::Serialize,
{
    on_lambda(async {
        let config = crate::config::Config::from_env()?;
        let sdk = crate::aws::sdk_config(&config)?;
        let locks: &'static _ = Box::leak(Box::new(crate::adapters::dynamodb::DynamoLocks::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            &config.account_state_table,
        )));
        let margin = config.deadline_margin;
        lambda_http::lambda_runtime::run(lambda_http::service_fn(move |event: LambdaEvent<A>| {
            // a trigger that cannot answer within Cognito's time fails (the sign-in is refused)
            // with its own message, before Lambda stops it
            let budget = crate::deadline::remaining(event.context.deadline, margin);
            let work = handler(locks, event);
            async move {
                match crate::deadline::within(budget, work).await {
                    Ok(answer) => answer.map_err(Into::into),
                    Err(_) => Err(lambda_http::lambda_runtime::Diagnostic {
                        error_type: "DeadlineExceeded".into(),
                        error_message: "the trigger's dependencies did not answer in time".into(),
                    }),
                }
            }
        }))
        .await
    })
}

/// Telemetry, then `main` on a current-thread runtime (Lambda hands one event at a time).
fn on_lambda(
    main: impl std::future::Future<Output = Result<(), lambda_http::Error>>,
) -> Result<(), lambda_http::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        crate::telemetry::init();
        main.await
    })
}
