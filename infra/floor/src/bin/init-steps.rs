//! Where a function's init goes (`bench steps`, README "Performance"): the floor's bare
//! runtime loop, preceded by the first `INIT_STEPS` of the steps a function's `main` takes
//! before it first polls (`shared::lambda::run`), in their order: 1 logging set-up, 2 the
//! configuration from the environment, 3 the SDK configuration (its HTTPS transport, TLS
//! configuration and compiled-in roots included), 4 the DynamoDB client, 5 the Cognito client,
//! 6 the SES client. Started for each step count by the benchmark as Lambda starts a function;
//! the differences between consecutive medians are each step's cost. Not deployed.

fn main() -> Result<(), lambda_runtime::Error> {
    let steps: u32 = std::env::var("INIT_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            if steps >= 1 {
                shared::telemetry::init();
            }
            let config = if steps >= 2 {
                Some(shared::config::Config::from_env()?)
            } else {
                None
            };
            let sdk = match (&config, steps >= 3) {
                (Some(config), true) => Some(shared::aws::sdk_config(config)?),
                _ => None,
            };
            let clients = sdk.as_ref().map(|sdk| {
                (
                    (steps >= 4).then(|| aws_sdk_dynamodb::Client::new(sdk)),
                    (steps >= 5).then(|| aws_sdk_cognitoidentityprovider::Client::new(sdk)),
                    (steps >= 6).then(|| aws_sdk_sesv2::Client::new(sdk)),
                )
            });
            let clients = &clients;
            lambda_runtime::run(lambda_runtime::service_fn(
                move |_: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                    let _ = clients;
                    Ok::<_, lambda_runtime::Error>(serde_json::json!({
                        "statusCode": 200,
                        "headers": {"content-type": "application/json"},
                        "body": "{\"data\":null,\"error\":null}"
                    }))
                },
            ))
            .await
        })
}
