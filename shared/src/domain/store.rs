//! The error of the stores kept beside Cognito (`LockStore`, `TenantRegistry`, `AuditLog`), in
//! the stores' own terms: what went wrong, with the SDK's error kept as its `source`. Callers
//! that are not HTTP (the Pre Authentication trigger) read it as it is; the HTTP layer turns it
//! into a problem in one place (`From<StoreError> for ApiError`).

use std::{error::Error, fmt, time::Duration};

/// What a store failed with underneath: the SDK's error, or a description.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached, timed out, is out of capacity or answered a server
    /// error. Whatever depended on it fails closed.
    #[error("the store is unavailable")]
    Unavailable(#[source] Cause),
    /// The store is held by concurrent work on the same item; the caller may retry after
    /// `retry_after`.
    #[error("the store is busy; retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    /// A page cursor that this store did not hand out.
    #[error("not a cursor this store returned")]
    InvalidCursor,
    /// Anything else: a malformed record, an answer the store should not give.
    #[error("store error")]
    Internal(#[source] Cause),
}

impl StoreError {
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable(cause.into())
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }
}

/// An error and its sources, one after another (`a: b: c`), for a log line.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_shows_every_source() {
        let e = StoreError::unavailable("connection refused");
        assert_eq!(
            Chain(&e).to_string(),
            "the store is unavailable: connection refused"
        );
    }
}
