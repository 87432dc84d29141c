use lambda_runtime::{Error, run, service_fn};
use shared::adapters::dynamodb::DynamoLocks;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = shared::config::Config::from_env()?;
    let sdk = shared::aws::sdk_config(&config).await?;
    let locks = DynamoLocks::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &config.account_state_table,
    );
    let locks = &locks;
    run(service_fn(move |event| {
        custom_auth::handle(locks, event, std::time::SystemTime::now())
    }))
    .await
}
