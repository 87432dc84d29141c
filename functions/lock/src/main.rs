//! The `lock` function's Lambda `bootstrap`.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<lock::Group>()
}
