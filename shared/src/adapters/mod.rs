//! The ports' implementations: on AWS (Cognito, DynamoDB, SES), and in memory for tests.

pub mod cognito;
pub mod dynamodb;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod ses;
