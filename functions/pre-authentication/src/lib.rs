//! The Cognito Pre Authentication trigger: the lock holds for sign-ins that bypass the API
//! (hosted UI, SDKs, `AdminInitiateAuth`). It reads the same account-state item as the API
//! and fails closed: if the item cannot be read, the sign-in is refused.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreAuthentication;
use lambda_runtime::LambdaEvent;
use shared::{domain::lock::LockStore, domain::store::Chain, http::request::UserId};

/// Why a sign-in was refused. Cognito shows the text to the client as
/// `PreAuthentication failed with error <text>.`, so it says nothing about the account beyond
/// what the API itself would.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("account locked")]
    Locked,
    #[error("account state unavailable")]
    Unavailable,
    #[error("malformed trigger event")]
    Malformed,
}

pub async fn handle<L: LockStore>(
    locks: &L,
    event: LambdaEvent<CognitoEventUserPoolsPreAuthentication>,
) -> Result<CognitoEventUserPoolsPreAuthentication, Refusal> {
    let header = &event.payload.cognito_event_user_pools_header;
    let pool = header.user_pool_id.as_deref().ok_or(Refusal::Malformed)?;
    let user = header
        .user_name
        .as_deref()
        .and_then(UserId::of_cognito)
        .ok_or(Refusal::Malformed)?;
    let state = locks.state(pool, &user).await.map_err(|e| {
        tracing::error!(cause = %Chain(&e), "account state unreadable: refusing the sign-in");
        Refusal::Unavailable
    })?;
    if state.lock.is_some() {
        tracing::info!(outcome = "account-locked", "sign-in refused");
        return Err(Refusal::Locked);
    }
    Ok(event.payload)
}

impl From<Refusal> for lambda_runtime::Diagnostic {
    fn from(r: Refusal) -> Self {
        Self {
            error_type: "PreAuthenticationRefused".into(),
            error_message: r.to_string(),
        }
    }
}
