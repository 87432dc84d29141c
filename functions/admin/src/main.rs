//! The `admin` function's Lambda `bootstrap`.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<admin::Group>()
}
