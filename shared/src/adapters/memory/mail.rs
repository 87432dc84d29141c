//! Mail kept in memory: what would have gone out, for tests to read.

use std::sync::{
    Mutex,
    atomic::{AtomicBool, Ordering},
};

use crate::domain::{
    mail::{Mail, Mailer},
    store::StoreError,
};

#[derive(Default)]
pub struct InMemoryMail {
    sent: Mutex<Vec<Mail>>,
    /// Every send fails (SES unreachable).
    pub unavailable: AtomicBool,
}

impl InMemoryMail {
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Mailer for InMemoryMail {
    async fn send(&self, mail: &Mail) -> Result<(), StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("in-memory mail is down"));
        }
        self.sent
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?
            .push(mail.clone());
        Ok(())
    }
}
