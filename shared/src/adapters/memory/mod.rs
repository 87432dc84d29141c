//! The ports in memory (feature `test-support`): a directory of users with passwords, a lock
//! map, a tenant map, an audit list. Each counts the calls that reach it, so tests can assert
//! how many backend round trips a route makes. They keep the contract suites the AWS adapters
//! keep (`tests/tests/port_contract.rs` for the stores, `tests/tests/directory_contract.rs`
//! for the directory's user administration, sign-in and contacts; its factor, passkey and
//! identity-link capabilities have no suite yet).

mod audit;
mod directory;
mod locks;
mod mail;
mod tenants;

pub use audit::InMemoryAudit;
pub use directory::{Fault, InMemoryDirectory, MemUser};
pub use locks::InMemoryLocks;
pub use mail::InMemoryMail;
pub use tenants::InMemoryTenants;
