//! The Lambda entry point of every HTTP function: its `main` is one call of [`run`].

use std::convert::Infallible;

use crate::app::{AwsApp, Group};

/// Runs the group `G` on Lambda: telemetry, configuration and clients once per cold start (a
/// configuration error stops the process before the first request), then every event through
/// [`crate::App::handle`] on a current-thread runtime, as Lambda hands one event at a time.
pub fn run<G: Group>() -> Result<(), lambda_http::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        crate::telemetry::init();
        let app = AwsApp::from_env().await?;
        let app = &app;
        lambda_http::run(lambda_http::service_fn(move |req| async move {
            Ok::<_, Infallible>(app.handle::<G>(req).await)
        }))
        .await
    })
}
