//! Mail through Amazon SES (API v2, `SendEmail`, simple content, UTF-8).

use aws_sdk_sesv2::{
    Client,
    error::ProvideErrorMetadata,
    types::{Body, Content, Destination, EmailContent, Message},
};

use crate::domain::{
    mail::{Mail, Mailer},
    store::StoreError,
};

/// The SES client is made on the first mail, not at start: few requests send mail, and
/// making the client is a tenth of a millisecond of every cold start (`bench steps`).
pub struct SesMailer {
    client: std::sync::OnceLock<Client>,
    make: Box<dyn Fn() -> Client + Send + Sync>,
}

impl SesMailer {
    pub fn new(client: Client) -> Self {
        Self {
            client: std::sync::OnceLock::new(),
            make: Box::new(move || client.clone()),
        }
    }

    /// A mailer whose client is made from `sdk` when the first mail goes out.
    pub fn lazy(sdk: &aws_config::SdkConfig) -> Self {
        let sdk = sdk.clone();
        Self {
            client: std::sync::OnceLock::new(),
            make: Box::new(move || Client::new(&sdk)),
        }
    }

    fn client(&self) -> &Client {
        self.client.get_or_init(|| (self.make)())
    }
}

fn content(text: &str) -> Result<Content, StoreError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| StoreError::internal(format!("an email's content: {e}")))
}

impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), StoreError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).build())
            .build();
        let sent = self
            .client()
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                use aws_sdk_sesv2::operation::send_email::SendEmailError as E;
                // the error's kind only: SES's text may name the recipient
                let kind = match e.as_service_error() {
                    Some(s) => s.code().unwrap_or("a service error").to_string(),
                    None => "no answer".to_string(),
                };
                let text = format!("SES SendEmail failed: {kind}");
                match e.as_service_error() {
                    // the tenant's sender is not verified, the account is in the sandbox and
                    // the address is not, sending is paused, the function may not send as
                    // that identity: a configuration to fix, not a passing fault
                    Some(
                        E::MessageRejected(_)
                        | E::MailFromDomainNotVerifiedException(_)
                        | E::AccountSuspendedException(_)
                        | E::SendingPausedException(_)
                        | E::NotFoundException(_)
                        | E::BadRequestException(_),
                    ) => Err(StoreError::internal(text)),
                    Some(other) if other.code() == Some("AccessDeniedException") => {
                        Err(StoreError::internal(text))
                    }
                    // throttled, a quota, a 5xx, the network: may pass
                    _ => Err(StoreError::unavailable(text)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_sdk_sesv2::{
        operation::send_email::{SendEmailError, SendEmailOutput},
        types::error::{MessageRejected, TooManyRequestsException},
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn mail() -> Mail {
        Mail {
            from: "Example <no-reply@example.com>".into(),
            to: "sam@example.org".into(),
            subject: "Register a passkey for your account".into(),
            text: "the code".into(),
        }
    }

    #[tokio::test]
    async fn a_mail_is_one_simple_utf8_message_to_one_address() {
        let sent = mock!(Client::send_email)
            .match_requests(|r| {
                let simple = r.content().and_then(|c| c.simple()).unwrap();
                let text = simple.body().and_then(|b| b.text()).unwrap();
                r.from_email_address() == Some("Example <no-reply@example.com>")
                    && r.destination().map(|d| d.to_addresses())
                        == Some(&["sam@example.org".to_string()][..])
                    && simple.subject().map(|s| s.data())
                        == Some("Register a passkey for your account")
                    && simple.subject().and_then(|s| s.charset()) == Some("UTF-8")
                    && text.data() == "the code"
                    && text.charset() == Some("UTF-8")
                    && simple.body().and_then(|b| b.html()).is_none()
            })
            .then_output(|| SendEmailOutput::builder().message_id("m-1").build());
        let mailer = SesMailer::new(mock_client!(aws_sdk_sesv2, RuleMode::MatchAny, [&sent]));
        mailer.send(&mail()).await.unwrap();
        assert_eq!(sent.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_rejected_sender_is_a_fault_to_fix_and_throttling_may_pass() {
        let rejected = mock!(Client::send_email).then_error(|| {
            SendEmailError::MessageRejected(
                MessageRejected::builder()
                    .message("Email address is not verified.")
                    .build(),
            )
        });
        let mailer = SesMailer::new(mock_client!(aws_sdk_sesv2, RuleMode::MatchAny, [&rejected]));
        assert!(matches!(
            mailer.send(&mail()).await,
            Err(StoreError::Internal(_))
        ));
        let throttled = mock!(Client::send_email).then_error(|| {
            SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().build())
        });
        let mailer = SesMailer::new(mock_client!(
            aws_sdk_sesv2,
            RuleMode::MatchAny,
            [&throttled]
        ));
        assert!(matches!(
            mailer.send(&mail()).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}
