//! Cognito's custom sign-in triggers: a one-time code the API made (`CodePurpose`), a passkey
//! registration code in its holder's hands or the API's own access for an admin.
//!
//! An admin hands a user a one-time code (`POST /users/{userID}/passkeys/registration-link`);
//! the API keeps only its SHA-256. Cognito can register a passkey only with the user's own
//! access token, so the API turns the code into a sign-in of its own: `InitiateAuth`
//! `CUSTOM_AUTH`, one `CUSTOM_CHALLENGE`, the code as the answer. These triggers run that
//! sign-in, as aws-samples/amazon-cognito-passwordless-auth runs its magic links:
//!
//! - **Define** asks for one custom challenge, issues tokens after one right answer, and fails
//!   the sign-in after anything else (one answer per sign-in: no guessing in a loop).
//! - **Create** names the challenge; nothing secret goes into it.
//! - **Verify** reads the code the answer's purpose names (`purpose:code`) from the
//!   account-state table and admits the answer only if it hashes to the kept code, the code is
//!   unexpired, was made for this account (`sub`), and the sign-in comes through the app
//!   client it was made for (the tenant's, which has a secret: only the API can start a
//!   sign-in on it). It never consumes the code: the API does.
//!
//! Any store error fails the sign-in closed.

use std::time::SystemTime;

use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsCreateAuthChallenge, CognitoEventUserPoolsDefineAuthChallenge,
    CognitoEventUserPoolsVerifyAuthChallenge,
};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::{
    domain::lock::{CodePurpose, LockStore},
    domain::store::Chain,
    http::request::UserId,
};

/// The challenge's one public parameter: what the answer is.
pub const PURPOSE: &str = "passkey-registration-code";

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("account state unavailable")]
    Unavailable,
    #[error("malformed trigger event")]
    Malformed,
}

impl From<Refusal> for lambda_runtime::Diagnostic {
    fn from(r: Refusal) -> Self {
        Self {
            error_type: "CustomAuthRefused".into(),
            error_message: r.to_string(),
        }
    }
}

/// One of the three triggers, told apart by `triggerSource`.
pub async fn handle<L: LockStore>(
    locks: &L,
    event: LambdaEvent<Value>,
    now: SystemTime,
) -> Result<Value, Refusal> {
    let payload = event.payload;
    let source = payload
        .get("triggerSource")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let out = match source.as_str() {
        "DefineAuthChallenge_Authentication" => {
            serde_json::to_value(define(parse(payload)?)).map_err(|_| Refusal::Malformed)?
        }
        "CreateAuthChallenge_Authentication" => {
            serde_json::to_value(create(parse(payload)?)).map_err(|_| Refusal::Malformed)?
        }
        "VerifyAuthChallengeResponse_Authentication" => {
            serde_json::to_value(verify(locks, parse(payload)?, now).await?)
                .map_err(|_| Refusal::Malformed)?
        }
        _ => return Err(Refusal::Malformed),
    };
    Ok(out)
}

fn parse<T: serde::de::DeserializeOwned>(payload: Value) -> Result<T, Refusal> {
    serde_json::from_value(payload).map_err(|_| Refusal::Malformed)
}

/// One custom challenge; tokens after exactly one right answer; anything else fails.
pub fn define(
    mut event: CognitoEventUserPoolsDefineAuthChallenge,
) -> CognitoEventUserPoolsDefineAuthChallenge {
    let session: Vec<_> = event.request.session.iter().flatten().collect();
    let response = &mut event.response;
    response.issue_tokens = false;
    response.fail_authentication = false;
    response.challenge_name = None;
    match session.as_slice() {
        [] if !event.request.user_not_found => {
            response.challenge_name = Some("CUSTOM_CHALLENGE".into());
        }
        [only]
            if only.challenge_name.as_deref() == Some("CUSTOM_CHALLENGE")
                && only.challenge_result =>
        {
            response.issue_tokens = true;
        }
        _ => response.fail_authentication = true,
    }
    tracing::info!(
        outcome = if response.issue_tokens {
            "tokens"
        } else if response.fail_authentication {
            "refused"
        } else {
            "challenge"
        },
        "custom sign-in defined"
    );
    event
}

/// The challenge: its purpose, nothing secret.
pub fn create(
    mut event: CognitoEventUserPoolsCreateAuthChallenge,
) -> CognitoEventUserPoolsCreateAuthChallenge {
    event.response.public_challenge_parameters =
        [("purpose".to_string(), PURPOSE.to_string())].into();
    event.response.private_challenge_parameters = Default::default();
    event.response.challenge_metadata = Some(PURPOSE.to_string());
    event
}

/// Admits the answer if it is the user's unexpired registration code for this app client.
pub async fn verify<L: LockStore>(
    locks: &L,
    mut event: CognitoEventUserPoolsVerifyAuthChallenge,
    now: SystemTime,
) -> Result<CognitoEventUserPoolsVerifyAuthChallenge, Refusal> {
    let header = &event.cognito_event_user_pools_header;
    let pool = header.user_pool_id.as_deref().ok_or(Refusal::Malformed)?;
    let client = header
        .caller_context
        .client_id
        .as_deref()
        .unwrap_or_default();
    let user = header
        .user_name
        .as_deref()
        .and_then(UserId::of_cognito)
        .ok_or(Refusal::Malformed)?;
    let answer = match event.request.challenge_answer.as_ref() {
        Some(Value::String(s)) => s.as_str(),
        _ => "",
    };
    let Some((purpose, code)) = CodePurpose::of_answer(answer) else {
        tracing::info!(outcome = "refused", "an answer naming no purpose");
        event.response.answer_correct = false;
        return Ok(event);
    };
    let sub = event.request.user_attributes.get("sub").map(String::as_str);
    let link = locks
        .one_time_code(purpose, pool, &user)
        .await
        .map_err(|e| {
            tracing::error!(cause = %Chain(&e), "account state unreadable: refusing the sign-in");
            Refusal::Unavailable
        })?;
    let right = !event.request.user_not_found
        && !code.is_empty()
        && link.as_ref().is_some_and(|l| {
            l.app_client_id == client && Some(l.sub.as_str()) == sub && l.admits(code, now)
        });
    tracing::info!(
        purpose = purpose.as_str(),
        outcome = if right { "admitted" } else { "refused" },
        "one-time code checked"
    );
    event.response.answer_correct = right;
    Ok(event)
}
