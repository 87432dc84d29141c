//! The shared crate of the account API, in layers:
//!
//! - [`http`]: reading a request, the response envelope, problems;
//! - [`domain`]: users, tenants, locks, the audit trail, token and input rules, and the ports
//!   (`Directory`, `LockStore`, `TenantRegistry`, `AuditLog`);
//! - [`adapters`]: the ports on Cognito and DynamoDB (and in memory, for tests);
//! - [`app`]: everything a function needs, wired once per cold start; [`config`], [`aws`] and
//!   [`telemetry`] set it up.

pub mod adapters;
pub mod app;
pub mod aws;
pub mod budget;
pub mod cache;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod http;
pub mod https;
pub mod idempotency;
pub mod lambda;
pub mod latency;
pub mod metrics;
pub mod seal;
pub mod session;
pub mod telemetry;
pub mod time;
pub mod url;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use app::{App, Aws, AwsApp, Call, ChangeEntry, Group, Ports};
pub use http::problem::ApiError;
pub use http::respond::{Reply, serve};
