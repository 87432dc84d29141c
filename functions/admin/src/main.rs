use std::convert::Infallible;

use lambda_http::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = shared::AwsApp::from_env().await?;
    let app = &app;
    run(service_fn(move |req| async move {
        Ok::<_, Infallible>(admin::handle(app, req).await)
    }))
    .await
}
