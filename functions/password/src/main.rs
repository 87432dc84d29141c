//! The `password` function's Lambda `bootstrap`.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<password::Group>()
}
