//! The shared crate of the account API: request reading and tenant resolution, the response
//! envelope and problems, bearer-token verification, the ports (`Directory`, `LockStore`,
//! `TenantRegistry`) and their Cognito/DynamoDB adapters.

pub mod adapters;
pub mod app;
pub mod audit;
pub mod aws;
pub mod config;
pub mod directory;
pub mod lock;
pub mod problem;
pub mod request;
pub mod respond;
pub mod telemetry;
pub mod tenant;
pub mod token;
pub mod user;
pub mod validate;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use app::{App, Aws, AwsApp, Call, Ports};
pub use problem::ApiError;
pub use respond::{Reply, serve};
