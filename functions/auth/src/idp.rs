//! Sign-in with an identity provider, through the tenant's pool domain (ZITADEL's IdP
//! intents): `POST /idp-intents` starts one, `GET /idp-intents/callback` is where the pool
//! sends the browser back, `POST /idp-intents/{intentID}/retrieve` hands the outcome to the
//! tenant's app. See `shared::domain::federation` for what is kept, and where.

use shared::domain::directory::{IdentityLinks, UserAdmin};
use shared::domain::lock::{Flows, Locks};
use std::{sync::Arc, time::SystemTime};

use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};
use shared::{
    ApiError, App, Call, Ports, Reply,
    adapters::jwks::TokenError,
    domain::directory::{AuthResult, DirectoryError, Tokens},
    domain::federation::{
        self, IdpInformation, LINK_LIFETIME, Linkable, OUTCOME_LIFETIME, Outcome, PENDING_LIFETIME,
        PendingIntent,
    },
    domain::lock::{FlowKind, FlowRecord, Lock, OneTimeCode},
    domain::store::Chain,
    domain::tenant::{Federation, Tenant},
    domain::user_id::UserId,
    domain::validate::{Secret, Text},
    http::request::json_body,
    time::epoch_seconds,
};

use crate::Op;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Start {
    idp_name: Text<32>,
    success_url: Text<2048>,
    failure_url: Text<2048>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Started {
    #[serde(rename = "intentID")]
    intent_id: String,
    auth_url: String,
    /// For the app to keep in the session of the browser that starts the intent (never in a
    /// URL): retrieving the intent takes it, so an intent finished in another browser opens
    /// for nobody here.
    intent_secret: String,
    /// RFC 3339 UTC: when the provider's answer is no longer taken.
    expires_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Retrieve {
    intent_token: Secret<64>,
    intent_secret: Secret<64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Retrieved {
    idp_information: IdpInformation,
    /// The user the identity signs in as; `None`: no user yet (register or link, then sign in
    /// again).
    #[serde(rename = "userID")]
    user_id: Option<String>,
    authentication_result: Option<Tokens>,
    /// When the identity is nobody's yet: what links it to the account the person then signs
    /// in to (`POST /users/{userID}/idp-links`), for ten minutes, once.
    link_token: Option<String>,
    /// `U2F` when the user holds a security key: the tokens wait for its answer
    /// (`POST /respond-to-auth-challenge`), as after a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_request_options: Option<serde_json::Value>,
}

fn federation_of(tenant: &Tenant) -> Result<&Federation, ApiError> {
    tenant.federation.as_ref().ok_or(ApiError::Conflict(
        "this tenant offers no sign-in with identity providers",
    ))
}

fn stored<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::Internal(format!("cannot keep a flow step: {e}")))
}

/// `POST /idp-intents`: keeps the pending intent under its `state`'s hash and answers the
/// pool domain's authorize URL.
pub(crate) async fn start<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let tenant = &call.tenant;
    let body: Start = json_body(&call.req, app.config.body_limit_bytes)?;
    let federation = federation_of(tenant)?;
    if !federation.offers(body.idp_name.as_str()) {
        return Err(ApiError::InvalidRequest(
            "`idpName` names no identity provider of this tenant".into(),
        ));
    }
    for url in [&body.success_url, &body.failure_url] {
        if !federation.admits_redirect(url.as_str()) {
            return Err(ApiError::RedirectNotAllowed);
        }
    }
    let (intent_id, state) = (federation::secret()?, federation::secret()?);
    let (verifier, intent_secret) = (federation::secret()?, federation::secret()?);
    let now = SystemTime::now();
    let expires = now + PENDING_LIFETIME;
    let pending = PendingIntent {
        intent_id: intent_id.clone(),
        tenant: tenant.key.clone(),
        idp_name: body.idp_name.as_str().to_string(),
        success_url: body.success_url.as_str().to_string(),
        failure_url: body.failure_url.as_str().to_string(),
        verifier: verifier.clone(),
        secret_hash: OneTimeCode::hash_of(&intent_secret),
    };
    let state_hash = OneTimeCode::hash_of(&state);
    let record = FlowRecord {
        body: stored(&pending)?,
        secret_hash: state_hash.clone(),
        expires_at: epoch_seconds(expires),
    };
    app.locks
        .put_flow(FlowKind::IdpState, &state_hash, &record)
        .await?;
    let auth_url = federation.authorize_url(
        &tenant.app_client_id,
        &pending.idp_name,
        &state,
        &federation::pkce_challenge(&verifier),
    );
    Reply::ok(&Started {
        intent_id,
        auth_url,
        intent_secret,
        expires_at: shared::time::rfc3339(expires),
    })
}

fn query<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .filter(|v| !v.is_empty())
}

/// The hash of the `state` a callback brings back: the key its pending intent is kept under.
/// A state this API made is 43 base64url characters; for any other nothing is read.
fn state_hash(req: &Request) -> Result<String, ApiError> {
    query(req, "state")
        .filter(|s| federation::is_intent_id(s))
        .map(OneTimeCode::hash_of)
        .ok_or(ApiError::InvalidIntent)
}

fn pending_in(record: &FlowRecord) -> Result<PendingIntent, ApiError> {
    serde_json::from_str(&record.body)
        .map_err(|e| ApiError::Internal(format!("a pending intent does not read back: {e}")))
}

/// The callback's tenant: the one that started the intent its `state` names (a browser
/// coming back from the pool carries no tenant headers and no API key). The one read of the
/// pending intent: unknown or spent is `invalid-intent`, expired `intent-expired`.
pub(crate) async fn callback_tenant<P: Ports>(
    app: &App<P>,
    req: &Request,
) -> Result<Arc<Tenant>, ApiError> {
    let record = app
        .locks
        .flow(FlowKind::IdpState, &state_hash(req)?)
        .await?
        .ok_or(ApiError::InvalidIntent)?;
    if record.expired_at(SystemTime::now()) {
        return Err(ApiError::IntentExpired);
    }
    let headers = shared::domain::tenant::TenantKey::parse(&pending_in(&record)?.tenant)
        .ok_or_else(|| ApiError::Internal("a pending intent names no tenant".into()))?;
    let tenant = app.tenants.resolve(&headers).await?;
    tracing::Span::current().record("tenant", tenant.key.as_str());
    Ok(tenant)
}

/// `GET /idp-intents/callback?code&state`: takes the pending intent (once; its tenant read it
/// first, [`callback_tenant`]), exchanges the code, keeps the outcome sealed with a new intent
/// token, and sends the browser to the app. A `state` that is unknown, spent or expired is
/// answered here (there is nowhere safe to send the browser); anything after that goes to the
/// intent's failure URL with the slug.
pub(crate) async fn callback<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let hash = state_hash(req)?;
    let (code, error) = (query(req, "code"), query(req, "error"));
    if code.is_none() && error.is_none() {
        return Err(ApiError::InvalidRequest(
            "the callback carries neither `code` nor `error`".into(),
        ));
    }
    // taken once: of two browsers back with one state (a replay), one goes on
    let now = SystemTime::now();
    let taken = app
        .locks
        .take_flow(FlowKind::IdpState, &hash, &hash, now)
        .await?
        .ok_or(ApiError::InvalidIntent)?;
    let pending = pending_in(&taken)?;
    let federation = federation_of(tenant)?;
    // the allow-list as it is now: a page taken off it since the start is no longer sent to
    if ![&pending.success_url, &pending.failure_url]
        .into_iter()
        .all(|u| federation.admits_redirect(u))
    {
        return Err(ApiError::RedirectNotAllowed);
    }
    let failed = |e: ApiError| {
        tracing::info!(outcome = e.slug(), cause = %e, "identity provider sign-in not finished");
        Reply::redirect(Federation::with_query(
            &pending.failure_url,
            &[("intentID", &pending.intent_id), ("error", e.slug())],
        ))
    };
    let code = match (code, error) {
        (Some(code), None) => code,
        // the provider (or the pool) refused; its description is not passed on
        _ => return failed(ApiError::IdpFailed("the provider answered an error".into())),
    };
    let tokens = match app
        .directory
        .exchange_code(tenant, federation, code, &pending.verifier)
        .await
    {
        Ok(tokens) => tokens,
        Err(DirectoryError::NotAuthorized) => {
            return failed(ApiError::IdpFailed("the pool refused the code".into()));
        }
        Err(e) => return failed(e.into()),
    };
    let Some(id_token) = tokens.id_token.clone() else {
        app.end_code_session(tenant, &tokens).await;
        return failed(ApiError::Internal("the pool answered no ID token".into()));
    };
    let outcome = Outcome {
        idp_name: pending.idp_name.clone(),
        tenant: tenant.key.clone(),
        secret_hash: pending.secret_hash.clone(),
        access_token: tokens.access_token.clone(),
        id_token,
        refresh_token: tokens.refresh_token.clone(),
        expires_in: tokens.expires_in,
    };
    let kept = async {
        let intent_token = federation::secret()?;
        let sealed = shared::seal::seal(
            &intent_token,
            &pending.intent_id,
            stored(&outcome)?.as_bytes(),
        )?;
        let record = FlowRecord {
            body: sealed,
            secret_hash: OneTimeCode::hash_of(&intent_token),
            expires_at: epoch_seconds(now + OUTCOME_LIFETIME),
        };
        app.locks
            .put_flow(FlowKind::IdpIntent, &pending.intent_id, &record)
            .await?;
        Ok::<_, ApiError>(intent_token)
    };
    match kept.await {
        Ok(intent_token) => Reply::redirect(Federation::with_query(
            &pending.success_url,
            &[
                ("intentID", &pending.intent_id),
                ("intentToken", &intent_token),
            ],
        )),
        Err(e) => {
            // nobody can retrieve these tokens: they end here
            app.end_code_session(tenant, &tokens).await;
            failed(e)
        }
    }
}

/// The path's `intentID`.
fn path_intent_id(req: &Request) -> Result<String, ApiError> {
    let raw = shared::http::request::path_param(req, "intentID")?;
    if federation::is_intent_id(raw) {
        Ok(raw.to_string())
    } else {
        Err(ApiError::InvalidRequest(
            "`intentID` is not an intent id".into(),
        ))
    }
}

/// `POST /idp-intents/{intentID}/retrieve {intentToken}`: the outcome, once, to the holder of
/// the intent's token. The tokens when the identity signs in as a user of the pool (and that
/// user is not locked); the provider's information alone when it is no user's yet.
pub(crate) async fn retrieve<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let intent_id = path_intent_id(req)?;
    let body: Retrieve = json_body(req, app.config.body_limit_bytes)?;
    let token = body.intent_token.expose();
    let now = SystemTime::now();
    let record = app
        .locks
        .flow(FlowKind::IdpIntent, &intent_id)
        .await?
        .filter(|r| r.opens_with(token))
        .ok_or(ApiError::InvalidIntent)?;
    if record.expired_at(now) {
        return Err(ApiError::IntentExpired);
    }
    let outcome: Outcome = shared::seal::open(token, &intent_id, &record.body)
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .ok_or_else(|| ApiError::Internal("an intent's outcome does not open".into()))?;
    // another tenant's headers, or another browser's session (not the intent secret of the
    // start), do not open it, and do not spend it either
    if outcome.tenant != tenant.key
        || !shared::domain::lock::secret_matches(body.intent_secret.expose(), &outcome.secret_hash)
    {
        return Err(ApiError::InvalidIntent);
    }
    app.locks
        .take_flow(FlowKind::IdpIntent, &intent_id, &record.secret_hash, now)
        .await?
        .ok_or(ApiError::InvalidIntent)?;
    let tokens = outcome.tokens();
    let result = signed_in(app, call, &intent_id, &outcome).await;
    if result.is_err() {
        // refused: the tokens Cognito issued go no further (an identity that is nobody's yet
        // had its session ended before its user was removed)
        app.end_code_session(tenant, &tokens).await;
    }
    let result = if tenant.hide_account_state {
        result.map_err(ApiError::hide_account_state)
    } else {
        result
    };
    Reply::ok(&result?)
}

/// Who the outcome's tokens are for, and what the caller gets.
async fn signed_in<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    intent_id: &str,
    outcome: &Outcome,
) -> Result<Retrieved, ApiError> {
    let tenant = &call.tenant;
    let caller = app
        .tokens
        .verify_access(tenant, &outcome.access_token)
        .await
        .map_err(|e| match e {
            // the keys' download failing is the dependency's, and worth a retry
            e @ TokenError::Unavailable(_) => e.into(),
            e => ApiError::Internal(format!("the pool's access token does not verify: {e}")),
        })?;
    let claims = federation::claims(&outcome.id_token)
        .filter(|c| c.get("sub").and_then(|s| s.as_str()) == Some(caller.sub.as_str()))
        .ok_or_else(|| {
            ApiError::Internal("the pool's ID token is not the access token's".into())
        })?;
    // the browser could have changed the authorize URL's provider: a sign-in with another
    // provider than the intent's is refused (for a user linked to both, Cognito's token does
    // not say which one signed in; infra/docs/api.md, Signing in through identity providers)
    let information = IdpInformation::of(&claims, &outcome.idp_name);
    let refused = || ApiError::IdpFailed("the sign-in was not with the intent's provider".into());
    let user = UserId::of_cognito(&caller.username)
        .ok_or_else(|| ApiError::Internal("the pool's token names no valid user".into()))?;
    // gone: another retrieve of the same identity's sign-in removed it a moment ago
    let found = app
        .directory
        .find_user(tenant, &user)
        .await?
        .ok_or_else(|| ApiError::IdpFailed("the sign-in's user is gone".into()))?;
    if found.status == "EXTERNAL_PROVIDER" {
        // Cognito makes a user of an identity's own at its first sign-in (and it stays when a
        // sign-in is abandoned); the tenant's users are the ones it registers, so such an
        // identity is nobody's yet: its session ends, the user Cognito made goes (a link needs
        // it gone; also when the sign-in was with another provider than the intent's), and
        // the retriever may link the identity or register a user for it
        app.end_code_session(tenant, &outcome.tokens()).await;
        match app.directory.delete_user(tenant, &user).await {
            Ok(()) | Err(DirectoryError::UserNotFound) => {}
            Err(e) => {
                tracing::error!(cause = %Chain(&e), "the identity's own pool user could not be removed");
                return Err(e.into());
            }
        }
        // in the trail too, under the name Cognito gave it
        let actor = format!("idp:{}", outcome.idp_name);
        let removed = shared::domain::audit::Event::new(
            &user,
            &call.meta.activity_id,
            &actor,
            "remove-idp-user",
            "success",
        );
        app.record(tenant, removed).await;
        let information = information.ok_or_else(refused)?;
        let linkable = Linkable {
            tenant: tenant.key.clone(),
            idp_name: information.idp_name.clone(),
            idp_user_id: information.idp_user_id.clone(),
        };
        // a new secret, only ever in this answer's body (the intent token was in a URL)
        let link_token = federation::secret()?;
        let record = FlowRecord {
            body: stored(&linkable)?,
            secret_hash: OneTimeCode::hash_of(&link_token),
            expires_at: epoch_seconds(SystemTime::now() + LINK_LIFETIME),
        };
        app.locks
            .put_flow(FlowKind::IdpLink, intent_id, &record)
            .await?;
        return Ok(Retrieved {
            idp_information: information,
            user_id: None,
            authentication_result: None,
            link_token: Some(link_token),
            challenge_name: None,
            session: None,
            credential_request_options: None,
        });
    }
    let information = information.ok_or_else(refused)?;
    // a sign-in as a user of the pool: an admin's lock holds here (Cognito runs no Pre
    // Authentication trigger for a federated sign-in); a lockout of the password or code
    // budget does not, as it does not end sessions: it stops guessing, which a sign-in at the
    // provider is not, and anyone who knows a userID could cause one
    let actor = format!("idp:{}", information.idp_name);
    let work = async {
        let state = app.locks.state(&tenant.user_pool_id, &user).await?;
        if state.lock.as_ref().is_some_and(Lock::refuses_sessions) {
            return Err(ApiError::AccountLocked);
        }
        if !found.enabled {
            return Err(ApiError::AccountDisabled);
        }
        // a user who holds a security key presents it after the provider too, as after a
        // password: the provider proved the first factor only
        let signed_in = AuthResult {
            challenge_name: None,
            session: None,
            authentication_result: Some(outcome.tokens()),
            credential_request_options: None,
        };
        let result = crate::u2f::gate(app, tenant, &user, signed_in).await?;
        Ok(Retrieved {
            idp_information: information,
            user_id: Some(user.as_str().to_string()),
            authentication_result: result.authentication_result,
            link_token: None,
            challenge_name: result.challenge_name,
            session: result.session,
            credential_request_options: result.credential_request_options,
        })
    };
    app.audited(call, &user, &actor, work).await
}
