//! The pool's triggers around the API's one-time codes (`CodePurpose`): the custom sign-in
//! that turns a code into a session of the user's (a passkey registration code in its
//! holder's hands, the API's own access for an admin or for the signed-in user), and pre token
//! generation, which takes Cognito's self-service scope out of every other token
//! ([`pre_token`]).
//!
//! Cognito takes some operations (registering a passkey, a TOTP, a contact's code, a password
//! change) only with the user's own access token, so the API turns a code into a sign-in of
//! its own: `InitiateAuth` `CUSTOM_AUTH`, one `CUSTOM_CHALLENGE`, the code as the answer (and
//! as `ClientMetadata`). These triggers run that sign-in, as
//! aws-samples/amazon-cognito-passwordless-auth runs its magic links:
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
    domain::lock::{API_SESSION, CodePurpose, Codes, code_admits},
    domain::store::Chain,
    domain::user_id::UserId,
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
pub async fn handle<L: Codes>(
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
        s if s.starts_with("TokenGeneration_") => pre_token(locks, payload, now).await?,
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
pub async fn verify<L: Codes>(
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
    let Some((purpose, _)) = CodePurpose::of_answer(answer) else {
        tracing::info!(outcome = "refused", "an answer naming no purpose");
        event.response.answer_correct = false;
        return Ok(event);
    };
    let sub = event.request.user_attributes.get("sub").map(String::as_str);
    let admitted = code_admits(locks, pool, &user, client, sub, answer, now)
        .await
        .map_err(unreadable)?;
    let right = !event.request.user_not_found && admitted.is_some();
    tracing::info!(
        purpose = purpose.as_str(),
        outcome = if right { "admitted" } else { "refused" },
        "one-time code checked"
    );
    event.response.answer_correct = right;
    Ok(event)
}

fn unreadable(e: shared::domain::store::StoreError) -> Refusal {
    tracing::error!(cause = %Chain(&e), "account state unreadable: refusing the sign-in");
    Refusal::Unavailable
}

/// The scope that makes an access token a credential for Cognito's self-service operations
/// (`GetUser`, `UpdateUserAttributes`, `VerifyUserAttribute`, `ChangePassword`, `DeleteUser`,
/// `AssociateSoftwareToken`, `SetUserMFAPreference`, the WebAuthn operations, …).
pub const SELF_SERVICE_SCOPE: &str = "aws.cognito.signin.user.admin";

/// The pre token generation trigger (event `V2_0`, every `TokenGeneration_*` source: sign-in,
/// refresh, a new password, the pool's domain): every access token leaves without
/// [`SELF_SERVICE_SCOPE`], so no token the API hands out can act at Cognito directly, around
/// the API's rules (its recent-sign-in rule, its budgets, its audit trail). The one exception is
/// the API's own custom sign-in, which proves a live one-time code in its `ClientMetadata`
/// ([`API_SESSION`]): its tokens never leave the function, which uses them for the operations
/// Cognito offers only with the user's token and then revokes them.
///
/// Nothing is read for a sign-in that claims no code; a claim that cannot be checked fails the
/// sign-in (closed).
pub async fn pre_token<L: Codes>(
    locks: &L,
    mut payload: Value,
    now: SystemTime,
) -> Result<Value, Refusal> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let pool = text(payload.get("userPoolId")).ok_or(Refusal::Malformed)?;
    // the API's session is a sign-in, never a refresh, a new password or the pool's domain
    let sign_in =
        text(payload.get("triggerSource")).as_deref() == Some("TokenGeneration_Authentication");
    let claimed = text(payload.pointer(&format!("/request/clientMetadata/{API_SESSION}")))
        .filter(|_| sign_in);
    let keep = match claimed {
        None => false,
        Some(answer) => {
            let user = text(payload.get("userName"))
                .as_deref()
                .and_then(UserId::of_cognito)
                .ok_or(Refusal::Malformed)?;
            let client = text(payload.pointer("/callerContext/clientId")).unwrap_or_default();
            let sub = text(payload.pointer("/request/userAttributes/sub"));
            code_admits(locks, &pool, &user, &client, sub.as_deref(), &answer, now)
                .await
                .map_err(unreadable)?
                .is_some()
        }
    };
    tracing::info!(
        outcome = if keep {
            "api-session"
        } else {
            "scope-suppressed"
        },
        "access token scopes decided"
    );
    let details = if keep {
        Value::Null
    } else {
        serde_json::json!({
            "accessTokenGeneration": { "scopesToSuppress": [SELF_SERVICE_SCOPE] }
        })
    };
    let response = payload
        .as_object_mut()
        .ok_or(Refusal::Malformed)?
        .entry("response")
        .or_insert_with(|| serde_json::json!({}));
    let response = response.as_object_mut().ok_or(Refusal::Malformed)?;
    response.insert("claimsAndScopeOverrideDetails".into(), details);
    Ok(payload)
}
