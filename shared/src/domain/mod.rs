//! What the API is about, free of HTTP and of AWS (no file here names `http`, `lambda_http`
//! or an AWS crate; `http::problem` turns these errors into problems): users and their ids, tenants and their
//! policies, locks and the lockout budget, the audit trail, token rules, input rules, and the
//! ports (`Directory`, `LockStore`, `TenantRegistry`, `AuditLog`, `Mailer`) the adapters implement.

pub mod audit;
pub mod directory;
pub mod federation;
pub mod idempotency;
pub mod lock;
pub mod mail;
pub mod password_policy;
pub mod store;
pub mod tenant;
pub mod token;
pub mod u2f;
pub mod user;
pub mod user_id;
pub mod validate;
