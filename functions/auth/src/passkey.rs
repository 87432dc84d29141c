//! A passkey sign-in's first step, and the session that ties its answer to it.
//!
//! The answer never tells who has a passkey, nor (where the tenant hides account states) who is
//! locked, disabled, unconfirmed or must reset their password: all of them get a decoy that is
//! the real thing's double. Both are shaped here, field by field:
//!
//! - `credentialRequestOptions` is `{challenge, timeout, rpId, userVerification}` and nothing
//!   else: the challenge is Cognito's (a real one) or as many random base64url characters as
//!   the pool's last real one had (a decoy; 43 before this instance saw one), `timeout` is the
//!   API's ([`TIMEOUT_MS`]), `rpId` and `userVerification` the pool's own
//!   (`GetUserPoolMfaConfig`), never Cognito's list of credentials (passkeys are discoverable);
//! - `session` is the API's: 43 base64url characters (a one-time code's shape) under whose
//!   SHA-256 Cognito's own session is kept for [`TIMEOUT_MS`] (`FlowKind::PasskeySignIn`), taken
//!   once by the answer. A decoy's session is kept the same way (the same write: the same
//!   time), behind it a random stand-in that Cognito refuses, in a real answer's time.

use shared::domain::directory::{Passkeys, SignIn};
use shared::domain::lock::Flows;
use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{
    ApiError, App, Ports,
    domain::directory::{AuthResult, DirectoryError, RelyingParty},
    domain::lock::{FlowKind, FlowRecord, OneTimeCode},
    domain::tenant::Tenant,
    domain::user_id::UserId,
    time::epoch_seconds,
};

use crate::guard::{Checked, Guarded, ensure_unlocked, lock_refusal, refused};

/// How long a passkey challenge may be answered, in milliseconds: the browser's `timeout`, and
/// how long the API keeps Cognito's session (Cognito's own lasts its `AuthSessionValidity`,
/// three minutes by default).
pub(crate) const TIMEOUT_MS: u64 = 180_000;

/// A decoy challenge's length before this instance has seen a real one of the pool.
const DEFAULT_CHALLENGE_LEN: usize = 43;

/// What is kept under the session the API hands out.
#[derive(Serialize, Deserialize)]
struct Kept {
    /// Cognito's session.
    session: String,
    /// The username the challenge was made for.
    user: String,
}

/// Each pool's last real challenge length, for its decoys (per instance).
fn challenge_lengths() -> &'static Mutex<HashMap<String, usize>> {
    static LENGTHS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    LENGTHS.get_or_init(Default::default)
}

fn options(challenge: String, rp: &RelyingParty) -> Value {
    json!({
        "challenge": challenge,
        "timeout": TIMEOUT_MS,
        "rpId": rp.id,
        "userVerification": rp.user_verification,
    })
}

fn challenge(session: String, options: Value) -> AuthResult {
    AuthResult {
        challenge_name: Some("WEB_AUTHN".into()),
        session: Some(session),
        authentication_result: None,
        credential_request_options: Some(options),
    }
}

/// A `WEB_AUTHN` challenge nobody can answer, the double of a real one of the pool: its
/// session is kept as a real one is (the same write, so the same time), behind it a random
/// "Cognito session" that Cognito refuses.
async fn decoy<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    rp: &RelyingParty,
) -> Result<AuthResult, ApiError> {
    let len = challenge_lengths()
        .lock()
        .ok()
        .and_then(|l| l.get(&tenant.user_pool_id).copied())
        .unwrap_or(DEFAULT_CHALLENGE_LEN);
    let handle = keep(app, user, OneTimeCode::random_text(DECOY_SESSION_LEN)?).await?;
    Ok(challenge(
        handle,
        options(OneTimeCode::random_text(len)?, rp),
    ))
}

/// A decoy's stand-in for Cognito's session (Cognito's are of about this length).
const DECOY_SESSION_LEN: usize = 920;

/// Keeps `session` (Cognito's) for `user` behind a new session of the API's: its handle.
async fn keep<P: Ports>(app: &App<P>, user: &UserId, session: String) -> Result<String, ApiError> {
    let handle = OneTimeCode::new_code()?;
    let hash = OneTimeCode::hash_of(&handle);
    let kept = Kept {
        session,
        user: user.as_str().to_string(),
    };
    let record = FlowRecord {
        body: serde_json::to_string(&kept)
            .map_err(|e| ApiError::Internal(format!("a passkey session not kept: {e}")))?,
        secret_hash: hash.clone(),
        expires_at: epoch_seconds(SystemTime::now() + Duration::from_millis(TIMEOUT_MS)),
    };
    app.locks
        .put_flow(FlowKind::PasskeySignIn, &hash, &record)
        .await?;
    Ok(handle)
}

/// `POST /user-authentication` `{userID, method: "PASSKEY"}`: the lock first, then the
/// `WEB_AUTHN` challenge, real or decoy (see the module comment). Nothing is guessed here, so
/// no budget is spent; the assertion that answers it is.
pub(crate) async fn start<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> (Result<AuthResult, ApiError>, Checked) {
    let rp = match app.directory.passkey_relying_party(tenant).await {
        Ok(Some(rp)) => rp,
        Ok(None) => {
            let off = ApiError::Conflict("the tenant's user pool offers no passkeys");
            return (Err(off), Checked::Neither);
        }
        Err(e) => return (Err(e.into()), Checked::Neither),
    };
    let hidden = tenant.hide_account_state;
    let rp = &rp;
    let as_decoy = |checked| async move {
        match decoy(app, tenant, user, rp).await {
            Ok(d) => (Ok(d), checked),
            Err(e) => (Err(e), Checked::Neither),
        }
    };
    if let Err(e) = ensure_unlocked(app, tenant, user, Guarded::Credential).await {
        return match e {
            ApiError::AccountLocked if hidden => as_decoy(Checked::Locked).await,
            other => lock_refusal(other),
        };
    }
    match app.directory.passkey_auth(tenant, user).await {
        Ok(result) => match real(app, tenant, user, rp, result).await {
            Ok(shaped) => (Ok(shaped), Checked::Neither),
            Err(e) => (Err(e), Checked::Neither),
        },
        Err(DirectoryError::NotAuthorized) => as_decoy(Checked::Refused).await,
        // the account states a tenant hides: the same decoy
        Err(
            DirectoryError::UserDisabled
            | DirectoryError::UserNotConfirmed
            | DirectoryError::PasswordResetRequired,
        ) if hidden => as_decoy(Checked::Refused).await,
        Err(e) => {
            let checked = if refused(&e) {
                Checked::Refused
            } else {
                Checked::Neither
            };
            (Err(ApiError::from(e)), checked)
        }
    }
}

/// Cognito's challenge, shaped: its challenge kept, its session kept by the API.
async fn real<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    rp: &RelyingParty,
    result: AuthResult,
) -> Result<AuthResult, ApiError> {
    let cognito_challenge = result
        .credential_request_options
        .as_ref()
        .and_then(|o| o.get("challenge"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let (Some(cognito_challenge), Some(session)) = (cognito_challenge, result.session) else {
        return Err(ApiError::Internal(
            "Cognito's WEB_AUTHN challenge has no challenge or session".into(),
        ));
    };
    if let Ok(mut lengths) = challenge_lengths().lock() {
        lengths.insert(tenant.user_pool_id.clone(), cognito_challenge.len());
    }
    let handle = keep(app, user, session).await?;
    Ok(challenge(handle, options(cognito_challenge, rp)))
}

/// The Cognito session behind the session the API handed out for `user`'s passkey challenge,
/// taken once. A session the API did not keep (a decoy's, a spent or expired one, another
/// user's) goes to Cognito as it came: Cognito refuses it, in a real answer's time.
pub(crate) async fn cognito_session<P: Ports>(
    app: &App<P>,
    user: &UserId,
    handed_out: &str,
) -> Result<String, DirectoryError> {
    let hash = OneTimeCode::hash_of(handed_out);
    let taken = app
        .locks
        .take_flow(FlowKind::PasskeySignIn, &hash, &hash, SystemTime::now())
        .await
        .map_err(|e| DirectoryError::Unavailable(format!("the passkey session store: {e}")))?;
    let kept = taken.and_then(|r| serde_json::from_str::<Kept>(&r.body).ok());
    Ok(match kept {
        Some(k) if k.user == user.as_str() => k.session,
        _ => handed_out.to_string(),
    })
}
