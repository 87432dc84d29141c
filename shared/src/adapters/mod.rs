//! The ports' implementations: on AWS (Cognito, DynamoDB, SES), and in memory for tests; and
//! the bearer token verifier, which downloads each pool's JWKS.

pub mod cognito;
pub mod dynamodb;
pub mod jwks;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod ses;
