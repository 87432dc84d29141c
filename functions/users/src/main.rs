//! The `users` function's Lambda `bootstrap`.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run::<users::Group>()
}
