//! The Cognito Pre Authentication trigger: the lock holds for sign-ins that bypass the API
//! (hosted UI, SDKs, `AdminInitiateAuth`). It reads the same account-state item as the API
//! and fails closed: if the item cannot be read, the sign-in is refused.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreAuthentication;
use lambda_runtime::LambdaEvent;
use std::time::SystemTime;

use shared::{
    domain::lock::{API_SESSION, CodePurpose, Codes, Lock, Locks, code_admits},
    domain::store::Chain,
    domain::user_id::UserId,
};

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

pub async fn handle<L: Locks + Codes>(
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
        // The one sign-in a lock lets through: the API's own, for an admin, which proves in
        // its `ClientMetadata` (here `validationData`) a live admin-access code made for this
        // account and this app client (which has a secret only the API holds). Any other
        // sign-in of the user is refused while the code lives, the user's own included.
        let payload = &event.payload;
        let client = header
            .caller_context
            .client_id
            .as_deref()
            .unwrap_or_default();
        let sub = payload
            .request
            .user_attributes
            .get("sub")
            .map(String::as_str);
        let answer = payload
            .request
            .validation_data
            .get(API_SESSION)
            .map(String::as_str)
            .unwrap_or_default();
        let admitted = code_admits(locks, pool, &user, client, sub, answer, SystemTime::now())
            .await
            .map_err(|e| {
                tracing::error!(cause = %Chain(&e), "account state unreadable: refusing the sign-in");
                Refusal::Unavailable
            })?;
        // the API's session for the signed-in user passes a lockout (which leaves sessions
        // alone), never an admin lock
        let lets_through = match admitted {
            Some(CodePurpose::AdminAccess) => true,
            Some(CodePurpose::UserAccess) => {
                !state.lock.as_ref().is_some_and(Lock::refuses_sessions)
            }
            _ => false,
        };
        if lets_through {
            tracing::info!(
                outcome = "admin-access",
                "a locked account's sign-in by the API for an admin"
            );
            return Ok(event.payload);
        }
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
