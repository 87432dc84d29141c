//! [`Codes`] in memory.

use super::*;
use crate::domain::lock::Codes;

impl Codes for InMemoryLocks {
    async fn put_code(
        &self,
        purpose: CodePurpose,
        _: &str,
        user: &UserId,
        link: &OneTimeCode,
        replace: bool,
    ) -> Result<(), StoreError> {
        self.with(user, |a| {
            if replace || !a.codes.contains_key(&purpose) {
                a.codes.insert(purpose, link.clone());
            }
        })
    }

    async fn one_time_code(
        &self,
        purpose: CodePurpose,
        _: &str,
        user: &UserId,
    ) -> Result<Option<OneTimeCode>, StoreError> {
        self.with(user, |a| a.codes.get(&purpose).cloned())
    }

    async fn take_code(
        &self,
        purpose: CodePurpose,
        _: &str,
        user: &UserId,
        code_hash: &str,
        now: SystemTime,
    ) -> Result<Option<OneTimeCode>, StoreError> {
        self.with(user, |a| {
            let live = a
                .codes
                .get(&purpose)
                .is_some_and(|l| l.code_hash == code_hash && l.expires_at > epoch_seconds(now));
            if live { a.codes.remove(&purpose) } else { None }
        })
    }
}
