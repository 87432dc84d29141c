//! The floor of the cold-start benchmark (`infra/local/bench.sh`, infra/docs/performance.md): the
//! least a Rust function on Lambda can do, a bare `lambda_runtime` loop on the same
//! current-thread runtime and release profile as the functions, answering every event with a
//! constant. Each function's init is reported as a multiple of this one's, measured in the
//! same run the same way: what is left above it is the product's own start-up. Not deployed.

fn main() -> Result<(), lambda_runtime::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(lambda_runtime::run(lambda_runtime::service_fn(
            |_: lambda_runtime::LambdaEvent<serde_json::Value>| async {
                Ok::<_, lambda_runtime::Error>(serde_json::json!({
                    "statusCode": 200,
                    "headers": {"content-type": "application/json"},
                    "body": "{\"data\":null,\"error\":null}"
                }))
            },
        )))
}
