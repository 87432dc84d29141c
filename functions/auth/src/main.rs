//! The `auth` function's Lambda `bootstrap`.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<auth::Group>()
}
