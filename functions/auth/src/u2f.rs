//! A security key as the second step of a sign-in (`shared::domain::u2f`): the API's own second
//! factor, which Cognito never sees.
//!
//! When Cognito's own steps succeed for a user who holds a key (a password sign-in, a
//! temporary password changed, an identity provider's sign-in retrieved), the tokens Cognito issued do not leave the API: they are kept
//! sealed (AES-256-GCM under the session the API hands out, as an identity provider's outcome
//! is) under the SHA-256 of that session for [`TIMEOUT_MS`] (`FlowKind::U2fSignIn`), and the
//! answer is the `U2F` challenge with the request options for `navigator.credentials.get()`.
//! `POST /respond-to-auth-challenge {challengeName: "U2F", session, credential}` takes the
//! kept step once, verifies the key's assertion and releases the tokens. A wrong or cloned
//! key's answer spends the second-factor budget (`maxOtpAttempts`) as a wrong code does, and
//! its tokens are revoked; the session is spent by any answer, and a session the API does not
//! hold (replayed, made up) is refused without spending anything.
//!
//! How it combines with the other factors (ZITADEL's rule: a user who has a second factor
//! presents one): a sign-in whose second factor Cognito already asked for (TOTP, a code by SMS
//! or email) presented one, and is not asked for the key too; a passkey sign-in verifies its
//! user, and is multi-factor by itself; a refresh continues a signed-in session.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use shared::{
    ApiError, App, Ports,
    domain::directory::{AuthResult, Challenge, DirectoryError, Passkeys as _, Tokens},
    domain::lock::{Budget, FlowKind, FlowRecord, Flows as _, OneTimeCode, SecurityKeys as _},
    domain::store::StoreError,
    domain::tenant::Tenant,
    domain::u2f::{self, KeyRing, U2fError},
    domain::user_id::UserId,
    http::request::RequestMeta,
    time::epoch_seconds,
};

use crate::guard::{Checked, hold_as, visible};

/// How long the `U2F` challenge may be answered: the options' own timeout (five minutes).
pub(crate) const TIMEOUT_MS: u64 = 300_000;

/// The challenge's name, in the answer and in the request that answers it.
pub(crate) const CHALLENGE: &str = "U2F";

/// What is kept under the session's hash.
#[derive(Serialize, Deserialize)]
struct Kept {
    /// The pool of the tenant the password was checked at: a session answered at another
    /// tenant (for a user of the same name there) is one the API does not hold for it.
    #[serde(default)]
    pool: String,
    /// The username the tokens are for.
    user: String,
    /// The ceremony's state (the challenge, the keys allowed).
    ceremony: String,
    /// The tokens, sealed with the session.
    tokens: String,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("security key sign-in: {e}"))
}

/// The relying party the user's keys answer to (the pool's passkey relying party; the adapter
/// caches it). A user with keys in a pool that names none is a fault: fail closed.
async fn relying_party<P: Ports>(app: &App<P>, tenant: &Tenant) -> Result<String, ApiError> {
    app.directory
        .passkey_relying_party(tenant)
        .await?
        .map(|rp| rp.id)
        .ok_or_else(|| internal("the pool names no relying party, and the user has keys"))
}

/// After Cognito's own steps gave `result`: the result as it is for a user without a security
/// key (or a result without tokens: a challenge of Cognito's comes first), else the tokens kept
/// sealed and the `U2F` challenge instead. Fails closed: a user with keys whose step cannot be
/// kept gets no tokens.
pub(crate) async fn gate<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    result: AuthResult,
) -> Result<AuthResult, ApiError> {
    if result.authentication_result.is_none() {
        return Ok(result);
    }
    let ring = app.locks.key_ring(&tenant.user_pool_id, user).await;
    gate_with(app, tenant, user, result, ring).await
}

/// [`gate`] with the user's key ring read already (a sign-in reads it while Cognito checks
/// the password, so that the caller waits for no extra round trip).
pub(crate) async fn gate_with<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    result: AuthResult,
    ring: Result<(KeyRing, u64), StoreError>,
) -> Result<AuthResult, ApiError> {
    let Some(tokens) = &result.authentication_result else {
        return Ok(result);
    };
    let held = async {
        let (ring, _) = ring?;
        if ring.keys.is_empty() {
            return Ok(None);
        }
        let rp_id = relying_party(app, tenant).await?;
        let (options, ceremony) = u2f::start_sign_in(&rp_id, &ring).map_err(internal)?;
        let session = OneTimeCode::new_code()?;
        let hash = OneTimeCode::hash_of(&session);
        let plain = serde_json::to_vec(tokens).map_err(internal)?;
        let kept = Kept {
            pool: tenant.user_pool_id.clone(),
            user: user.as_str().to_string(),
            ceremony,
            tokens: shared::seal::seal(&session, &hash, &plain).map_err(internal)?,
        };
        let record = FlowRecord {
            body: serde_json::to_string(&kept).map_err(internal)?,
            secret_hash: hash.clone(),
            expires_at: epoch_seconds(SystemTime::now() + Duration::from_millis(TIMEOUT_MS)),
        };
        app.locks
            .put_flow(FlowKind::U2fSignIn, &hash, &record)
            .await?;
        Ok::<_, ApiError>(Some(AuthResult {
            challenge_name: Some(CHALLENGE.into()),
            session: Some(session),
            authentication_result: None,
            credential_request_options: Some(options),
        }))
    }
    .await;
    match held {
        Ok(Some(challenge)) => Ok(challenge),
        Ok(None) => Ok(result),
        Err(e) => {
            // the tokens go nowhere: end their session
            app.end_code_session(tenant, tokens).await;
            Err(e)
        }
    }
}

/// `respond-to-auth-challenge` with `challengeName: "U2F"`: the security key's assertion
/// (`u2f`), audited as `u2f-sign-in` and held to a credential check's time.
pub(crate) async fn respond<P: Ports>(
    app: &App<P>,
    call: &shared::Call<crate::Op>,
    mut body: crate::ChallengeAnswer,
) -> Result<AuthResult, ApiError> {
    let tenant = &call.tenant;
    let credential = match (&body.code, body.credential.take()) {
        (None, Some(credential)) => credential,
        _ => {
            return Err(ApiError::InvalidRequest(
                "answer U2F with `credential` (the AuthenticationResponseJSON), not `code`".into(),
            ));
        }
    };
    body.credential = Some(credential);
    // the same shape check as a passkey's assertion, before any budget is spent
    let text = body.answer(Challenge::WebAuthn)?;
    let credential: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ApiError::Internal(format!("a checked credential: {e}")))?;
    let user = app.canonical(tenant, body.user_id).await?;
    let (result, checked) = answer(
        app,
        tenant,
        &call.meta,
        &user,
        body.session.expose(),
        credential,
    )
    .await;
    let result = visible(tenant, result);
    app.record_outcome(tenant, &user, &call.meta, "self", "u2f-sign-in", &result)
        .await;
    hold_as(app, tenant, call, U2F_ANSWER, checked).await;
    result
}

/// The latency samples of a security key's answer (see `hold_as`).
const U2F_ANSWER: &str = "respond-to-auth-challenge#u2f";

/// Why an answer was refused, as the lockout budget reads it.
enum Refusal {
    /// A wrong, replayed, expired or cloned key's answer: a guess, its unit stays spent.
    Wrong,
    /// The API could not check it (a store or a kept state failed): the unit goes back.
    Fault(ApiError),
}

/// `POST /respond-to-auth-challenge {userID, challengeName: "U2F", session, credential}`: the
/// kept step taken once (whatever the answer), then, under the second-factor budget (a locked
/// account is refused here, its tokens revoked), the assertion verified against the user's
/// keys, the key's counter moved (over the version read), the tokens released. A session the
/// API does not hold for this user (spent, expired, made up, another user's) is refused
/// without spending the budget, as Cognito's refusal of a made-up session is: it proves
/// nothing about the key, and anyone who knows a userID could send one to lock the account.
pub(crate) async fn answer<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    meta: &RequestMeta,
    user: &UserId,
    session: &str,
    credential: serde_json::Value,
) -> (Result<AuthResult, ApiError>, Checked) {
    let hash = OneTimeCode::hash_of(session);
    let taken = match app
        .locks
        .take_flow(FlowKind::U2fSignIn, &hash, &hash, SystemTime::now())
        .await
    {
        Ok(taken) => taken,
        Err(e) => return (Err(e.into()), Checked::Neither),
    };
    let Some(kept) = taken
        .and_then(|r| serde_json::from_str::<Kept>(&r.body).ok())
        .filter(|k| k.pool == tenant.user_pool_id && k.user == user.as_str())
    else {
        return (Err(ApiError::InvalidCredentials), Checked::Refused);
    };
    let Some(tokens) = shared::seal::open(session, &hash, &kept.tokens)
        .and_then(|plain| serde_json::from_slice::<Tokens>(&plain).ok())
    else {
        return (
            Err(internal("the kept tokens do not open")),
            Checked::Neither,
        );
    };
    let reserved = match app.reserve(tenant, user, Budget::Otp).await {
        Ok(reserved) => reserved,
        Err(e) => {
            // a lock that arrived after the password: the tokens go no further
            app.end_code_session(tenant, &tokens).await;
            return crate::guard::lock_refusal(e);
        }
    };
    let checked = check_key(app, tenant, meta, user, &kept.ceremony, &credential).await;
    if checked.is_err() {
        // refused: the tokens Cognito issued go no further
        app.end_code_session(tenant, &tokens).await;
    }
    // the budget reads the outcome as the directory's would: a wrong answer is `NotAuthorized`
    let as_directory: Result<(), DirectoryError> = match &checked {
        Ok(()) => Ok(()),
        Err(Refusal::Wrong) => Err(DirectoryError::NotAuthorized),
        Err(Refusal::Fault(_)) => Err(DirectoryError::Unavailable("security keys".into())),
    };
    let settle = reserved.settle(&as_directory, |e| {
        matches!(e, DirectoryError::NotAuthorized)
    });
    app.settle(tenant, meta, user, settle).await;
    match checked {
        Ok(()) => (
            Ok(AuthResult {
                challenge_name: None,
                session: None,
                authentication_result: Some(tokens),
                credential_request_options: None,
            }),
            Checked::Neither,
        ),
        Err(Refusal::Wrong) => (Err(ApiError::InvalidCredentials), Checked::Refused),
        Err(Refusal::Fault(e)) => (Err(e), Checked::Neither),
    }
}

/// Verifies the assertion against the user's keys and moves the key's counter, over the
/// version read (a few times, on what a concurrent write left).
async fn check_key<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    meta: &RequestMeta,
    user: &UserId,
    ceremony: &str,
    credential: &serde_json::Value,
) -> Result<(), Refusal> {
    let fault = |e: ApiError| Refusal::Fault(e);
    let rp_id = relying_party(app, tenant).await.map_err(fault)?;
    let now = epoch_seconds(SystemTime::now());
    for _ in 0..3 {
        let (mut ring, version) = app
            .locks
            .key_ring(&tenant.user_pool_id, user)
            .await
            .map_err(|e| fault(e.into()))?;
        match u2f::finish_sign_in(&rp_id, &mut ring, ceremony, credential, now) {
            Ok(_) => {}
            Err(U2fError::ClonedKey(u2f_id)) => {
                tracing::warn!(u2f.id = %u2f_id, "a cloned security key answered: refused");
                let refused: Result<(), ApiError> = Err(ApiError::InvalidCredentials);
                app.record_outcome(tenant, user, meta, "self", "u2f-cloned-key", &refused)
                    .await;
                return Err(Refusal::Wrong);
            }
            Err(U2fError::Internal(why) | U2fError::RelyingParty(why)) => {
                return Err(fault(internal(why)));
            }
            Err(e) => {
                tracing::info!(reason = %e, "a security key's answer refused");
                return Err(Refusal::Wrong);
            }
        }
        let written = app
            .locks
            .put_key_ring(&tenant.user_pool_id, user, &ring, version)
            .await
            .map_err(|e| fault(e.into()))?;
        if written {
            return Ok(());
        }
    }
    Err(fault(ApiError::Conflict(
        "the user's security keys changed meanwhile: sign in again",
    )))
}
