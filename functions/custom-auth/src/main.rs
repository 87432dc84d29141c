fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::run_trigger(|locks, event| {
        custom_auth::handle(locks, event, std::time::SystemTime::now())
    })
}
