//! The local stack: provisioning of tables, tenants and users on the emulator (used by the
//! run command's bootstrap and by every end-to-end test), and helpers to drive the functions
//! with API Gateway-shaped requests.
//!
//! Everything here reads the same environment the functions read (`AWS_ENDPOINT_URL`,
//! `TENANTS_TABLE`, `ACCOUNT_STATE_TABLE`, …), which `infra/local/test.sh` and
//! `infra/local/run.sh` set.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod authenticator;
pub mod catalogue;
pub mod factors;
pub mod idp;
pub mod loopback;
pub mod measure;
pub mod stack;

pub use stack::{Stack, TenantFixture};
