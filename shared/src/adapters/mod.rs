//! The ports' AWS implementations.

pub mod cognito;
pub mod dynamodb;
