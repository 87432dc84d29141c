fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::run_trigger(pre_authentication::handle)
}
