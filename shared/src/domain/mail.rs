//! Email the API sends itself (Cognito sends only its own messages: codes, invitations): a
//! passkey registration code to the user it is for.

use std::future::Future;

use super::store::StoreError;

/// One plain-text message to one address.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// The sender, an address the tenant's email identity covers (`emailFrom`).
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the text may carry a one-time code
        f.debug_struct("Mail")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &"<redacted>")
            .finish()
    }
}

/// Where mail goes out. An error is a dependency's (503 when it may pass, 500 when the
/// tenant's sender is not one the service will send for).
pub trait Mailer: Send + Sync {
    fn send(&self, mail: &Mail) -> impl Future<Output = Result<(), StoreError>> + Send;
}
