//! The `auth` group: sign-in, token refresh, temporary-password change and MFA challenge
//! responses. Each route checks the account's lock before any credential reaches Cognito
//! (`guard`). About 570 lines: the four sign-in routes, their request types and the route
//! table, which read as one; the passkey, security key, registration code and identity
//! provider steps have rooms of their own.

mod guard;
mod idp;
mod passkey;
mod registration;
mod u2f;

use shared::domain::directory::SignIn as _;
use std::future::Future;

use serde::Deserialize;
use shared::{
    ApiError, App, Call, Ports, Reply,
    adapters::jwks::TokenError,
    budget::Settle,
    domain::directory::{AuthResult, Challenge, DirectoryError},
    domain::lock::Budget,
    domain::tenant::Tenant,
    domain::user_id::UserId,
    domain::validate::{Code, Password, RefreshToken, Session, Text},
    http::request::{RequestMeta, json_body},
    http::routes::{Route, get, post},
};

use guard::{
    Checked, Guarded, checked_of, ensure_unlocked, hold, hold_as, lock_refusal, sign_in_error,
    visible,
};

shared::operations! {
    /// The operations of the group.
    pub enum Op {
        SignIn,
        RefreshTokens,
        ChangeTemporaryPassword,
        RespondToAuthChallenge,
        StartPasskeyRegistration,
        VerifyPasskeyRegistration,
        StartIdpIntent,
        IdpCallback,
        RetrieveIdpIntent,
    }
}

/// The `auth` function.
pub struct Group;

impl shared::Group for Group {
    type Op = Op;
    const ROUTES: &'static [Route<Op>] = &[
        post("/user-authentication", "user-authentication", Op::SignIn),
        post(
            "/user-refresh-tokens",
            "user-refresh-tokens",
            Op::RefreshTokens,
        ),
        post(
            "/change-temporary-password",
            "change-temporary-password",
            Op::ChangeTemporaryPassword,
        ),
        post(
            "/respond-to-auth-challenge",
            "respond-to-auth-challenge",
            Op::RespondToAuthChallenge,
        ),
        post(
            "/passkey-registration",
            "start-passkey-registration",
            Op::StartPasskeyRegistration,
        ),
        post(
            "/passkey-registration/verify",
            "verify-passkey-registration",
            Op::VerifyPasskeyRegistration,
        ),
        post("/idp-intents", "start-idp-intent", Op::StartIdpIntent),
        get(
            "/idp-intents/callback",
            "idp-intent-callback",
            Op::IdpCallback,
        ),
        post(
            "/idp-intents/{intentID}/retrieve",
            "retrieve-idp-intent",
            Op::RetrieveIdpIntent,
        ),
    ];

    /// The group's routes are all public: sign-in and its steps.
    fn replayable(_: Op) -> bool {
        false
    }

    async fn tenant<P: Ports>(
        app: &App<P>,
        op: Op,
        req: &lambda_http::Request,
        meta: &RequestMeta,
    ) -> Result<std::sync::Arc<Tenant>, ApiError> {
        match op {
            Op::IdpCallback => idp::callback_tenant(app, req).await,
            _ => app.tenant(req, meta).await,
        }
    }

    async fn route<P: Ports>(app: &App<P>, call: Call<Op>) -> Result<Reply, ApiError> {
        let (req, tenant) = (&call.req, &call.tenant);
        let limit = app.config.body_limit_bytes;
        let result = match call.route.op {
            Op::SignIn => {
                // writes its audit entry itself, together with settling the lockout budget
                let mut body: SignIn = json_body(req, limit)?;
                // the lock, the lockout counter and the audit entry are the username's, whichever
                // name (alias, sub) the caller signs in with
                body.user_id = app.canonical(tenant, body.user_id).await?;
                let key = match body.method {
                    Method::Password => call.route.name,
                    Method::Passkey => PASSKEY_START,
                };
                let (result, checked) = sign_in(app, tenant, &call.meta, body).await;
                hold_as(app, tenant, &call, key, checked).await;
                return Reply::ok(&result?);
            }
            Op::RefreshTokens => {
                let body: Refresh = json_body(req, limit)?;
                let claimed = body.user_id.clone();
                let (result, owner) = refresh(app, tenant, body).await;
                let result = visible(tenant, result);
                // audited under the token's own account once known, whatever userID the body
                // names
                let user = owner.as_ref().unwrap_or(&claimed);
                let (meta, name) = (&call.meta, call.route.name);
                app.record_outcome(tenant, user, meta, "self", name, &result)
                    .await;
                result
            }
            Op::ChangeTemporaryPassword => {
                let mut body: NewPassword = json_body(req, limit)?;
                body.user_id = app.canonical(tenant, body.user_id).await?;
                let user = body.user_id.clone();
                let mut checked = Checked::Neither;
                let work = async {
                    let (result, c) = new_password(app, tenant, body).await;
                    checked = c;
                    visible(tenant, result)
                };
                let result = app.audited(&call, &user, "self", work).await;
                hold(app, tenant, &call, checked).await;
                result
            }
            Op::StartPasskeyRegistration => {
                let mut body: registration::Start = json_body(req, limit)?;
                body.user_id = app.canonical(tenant, body.user_id).await?;
                let user = body.user_id.clone();
                let step = |kept| registration::start(app, tenant, body, kept);
                return registration_step(app, &call, user, step).await;
            }
            Op::VerifyPasskeyRegistration => {
                let mut body: registration::Verify = json_body(req, limit)?;
                body.user_id = app.canonical(tenant, body.user_id).await?;
                let user = body.user_id.clone();
                let step = |kept| registration::verify(app, tenant, body, kept);
                return registration_step(app, &call, user, step).await;
            }
            Op::StartIdpIntent => return idp::start(app, &call).await,
            Op::IdpCallback => return idp::callback(app, &call).await,
            Op::RetrieveIdpIntent => return idp::retrieve(app, &call).await,
            Op::RespondToAuthChallenge => {
                let mut body: ChallengeAnswer = json_body(req, limit)?;
                if body.challenge_name.as_str() == u2f::CHALLENGE {
                    return Reply::ok(&u2f::respond(app, &call, body).await?);
                }
                // an unsupported challenge is refused without looking anybody up
                let challenge = challenge_of(body.challenge_name.as_str());
                if challenge.is_ok() {
                    body.user_id = app.canonical(tenant, body.user_id).await?;
                }
                let user = body.user_id.clone();
                let key = match challenge {
                    Ok(Challenge::WebAuthn) => PASSKEY_ANSWER,
                    _ => call.route.name,
                };
                let mut checked = Checked::Neither;
                let work = async {
                    let (result, c) =
                        answer_challenge(app, tenant, &call.meta, challenge?, body).await;
                    checked = c;
                    visible(tenant, result)
                };
                let result = app.audited(&call, &user, "self", work).await;
                hold_as(app, tenant, &call, key, checked).await;
                result
            }
        };
        Reply::ok(&result?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    #[serde(rename = "userID")]
    user_id: UserId,
    password: Option<Password>,
    #[serde(default)]
    method: Method,
}

/// How a sign-in starts: with the password, or with a passkey (no password; the answer is the
/// `WEB_AUTHN` challenge with the options for the browser).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Method {
    #[default]
    Password,
    Passkey,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Refresh {
    #[serde(rename = "userID")]
    user_id: UserId,
    refresh_token: RefreshToken,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewPassword {
    #[serde(rename = "userID")]
    user_id: UserId,
    new_password: Password,
    session: Session,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ChallengeAnswer {
    #[serde(rename = "userID")]
    pub(crate) user_id: UserId,
    pub(crate) session: Session,
    challenge_name: Text<64>,
    /// The code (or, for `SELECT_MFA_TYPE`, the chosen factor).
    pub(crate) code: Option<Code>,
    /// For `WEB_AUTHN` and `U2F`: the browser's `AuthenticationResponseJSON`.
    pub(crate) credential: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The latency samples of a passkey's two steps (see `hold_as`).
const PASSKEY_START: &str = "user-authentication#passkey";
const PASSKEY_ANSWER: &str = "respond-to-auth-challenge#passkey";

/// What a `WEB_AUTHN` answer may weigh at most, as JSON text (an assertion is well under 2 KiB).
const CREDENTIAL_LIMIT: usize = 8 * 1024;

impl ChallengeAnswer {
    /// The answer as Cognito takes it for `challenge`: the code, or the credential as JSON text.
    pub(crate) fn answer(&self, challenge: Challenge) -> Result<String, ApiError> {
        match (challenge, &self.code, &self.credential) {
            (Challenge::WebAuthn, None, Some(credential)) => {
                // the shape of an AuthenticationResponseJSON, checked before any budget is
                // spent: only an assertion the directory looked at and refused counts
                let text_at = |path: &[&str]| {
                    let mut v = credential.get(path[0]);
                    for key in &path[1..] {
                        v = v.and_then(|v| v.get(key));
                    }
                    v.and_then(serde_json::Value::as_str)
                        .filter(|s| !s.is_empty())
                };
                let shaped = text_at(&["type"]) == Some("public-key")
                    && text_at(&["id"]).is_some()
                    && text_at(&["id"]) == text_at(&["rawId"])
                    && ["clientDataJSON", "authenticatorData", "signature"]
                        .iter()
                        .all(|k| text_at(&["response", k]).is_some());
                if !shaped {
                    return Err(ApiError::InvalidRequest(
                        "`credential` is not an AuthenticationResponseJSON".into(),
                    ));
                }
                let text = serde_json::Value::Object(credential.clone()).to_string();
                if text.len() > CREDENTIAL_LIMIT {
                    return Err(ApiError::InvalidRequest("`credential` is too large".into()));
                }
                Ok(text)
            }
            (Challenge::WebAuthn, _, _) => Err(ApiError::InvalidRequest(
                "answer WEB_AUTHN with `credential` (the AuthenticationResponseJSON), not `code`"
                    .into(),
            )),
            (_, Some(code), None) => Ok(code.expose().to_string()),
            _ => Err(ApiError::InvalidRequest(
                "answer this challenge with `code` alone".into(),
            )),
        }
    }
}

/// A registration code's step for `user`: the user's kept code read first (the admin who made
/// it is the audit entry's actor), then the step, audited and held to a credential check's
/// time as the other public routes are.
async fn registration_step<P, T, F, Fut>(
    app: &App<P>,
    call: &Call<Op>,
    user: UserId,
    step: F,
) -> Result<Reply, ApiError>
where
    P: Ports,
    T: serde::Serialize,
    F: FnOnce(Option<shared::domain::lock::OneTimeCode>) -> Fut,
    Fut: Future<Output = (Result<T, ApiError>, Checked)>,
{
    let tenant = &call.tenant;
    let kept = registration::kept(app, tenant, &user).await?;
    let actor = registration::actor(kept.as_ref());
    let mut checked = Checked::Neither;
    let work = async {
        let (result, c) = step(kept).await;
        checked = c;
        visible(tenant, result)
    };
    let result = app.audited(call, &user, &actor, work).await;
    hold(app, tenant, call, checked).await;
    Reply::ok(&result?)
}

/// `POST /user-authentication`: the password check, then its two writes, settling the lockout
/// budget and the audit entry. They are independent, so on a success they go out together:
/// one DynamoDB round trip of latency instead of two. A wrong password settles first, because
/// it may lock the account, and the trail lists that auto-lock before the request's own entry.
async fn sign_in<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    meta: &RequestMeta,
    body: SignIn,
) -> (Result<AuthResult, ApiError>, Checked) {
    let user = &body.user_id;
    let password = match (body.method, &body.password) {
        (Method::Password, Some(password)) => password,
        (Method::Password, None) => {
            let missing = ApiError::InvalidRequest("`password` is required".into());
            return (Err(missing), Checked::Neither);
        }
        (Method::Passkey, Some(_)) => {
            let both = ApiError::InvalidRequest("a passkey sign-in takes no `password`".into());
            return (Err(both), Checked::Neither);
        }
        (Method::Passkey, None) => {
            let (result, checked) = passkey::start(app, tenant, user).await;
            let result = visible(tenant, result);
            // a challenge handed out proves nothing: its own action, not a sign-in's success
            app.record_outcome(tenant, user, meta, "self", "passkey-challenge", &result)
                .await;
            return (result, checked);
        }
    };
    // the user's security keys are read while Cognito checks the password (for every sign-in,
    // right password or not): a key's challenge costs the caller no extra round trip
    let ring = async {
        use shared::domain::lock::SecurityKeys as _;
        app.locks.key_ring(&tenant.user_pool_id, user).await
    };
    let ((result, settle, checked), ring) =
        tokio::join!(check_password(app, tenant, user, password.expose()), ring);
    let result = match result {
        Ok(signed_in) => u2f::gate_with(app, tenant, user, signed_in, ring).await,
        refused => refused,
    };
    let result = visible(tenant, result);
    let audit = app.record_outcome(tenant, user, meta, "self", "user-authentication", &result);
    if matches!(settle, Settle::Failure { .. }) {
        app.settle(tenant, meta, user, settle).await;
        audit.await;
    } else {
        tokio::join!(app.settle(tenant, meta, user, settle), audit);
    }
    (result, checked)
}

/// A password check under the tenant's lockout policy (see `check_under_budget`).
async fn check_password<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    password: &str,
) -> (Result<AuthResult, ApiError>, Settle, Checked) {
    let check = app.directory.password_auth(tenant, user, password);
    let wrong = |e: &DirectoryError| {
        matches!(
            e,
            DirectoryError::NotAuthorized | DirectoryError::UserNotFound
        )
    };
    let into = |e| sign_in_error(tenant, e);
    check_under_budget(app, tenant, user, Budget::Password, check, wrong, into).await
}

/// A check of a guessable secret under the tenant's lockout policy: reserve a unit of
/// `budget`, check, and say how to settle the reservation (see `shared::domain::lock`).
/// `wrong` tells a wrong guess (the unit stays spent) from a check that never happened;
/// `into` is how the directory's refusal reads to the caller.
async fn check_under_budget<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    budget: Budget,
    check: impl Future<Output = Result<AuthResult, DirectoryError>>,
    wrong: impl Fn(&DirectoryError) -> bool,
    into: impl Fn(DirectoryError) -> ApiError,
) -> (Result<AuthResult, ApiError>, Settle, Checked) {
    let reserved = match app.reserve(tenant, user, budget).await {
        Ok(reserved) => reserved,
        Err(e) => {
            let (result, checked) = lock_refusal(e);
            return (result, Settle::Nothing, checked);
        }
    };
    let outcome = check.await;
    let settle = reserved.settle(&outcome, wrong);
    let checked = checked_of(&outcome);
    (outcome.map_err(into), settle, checked)
}

/// A refresh, and the account its token belongs to once the new access token named it.
async fn refresh<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: Refresh,
) -> (Result<AuthResult, ApiError>, Option<UserId>) {
    // The lock checked is that of the account the refresh token belongs to, read from the new
    // access token, not the body's userID (which only goes into the secret hash). The tokens
    // are only returned once that account is known not to be locked.
    let result = match app
        .directory
        .refresh(tenant, &body.user_id, body.refresh_token.expose())
        .await
    {
        Ok(result) => result,
        Err(e) => return (Err(e.into()), None),
    };
    let owner = match refreshed_owner(app, tenant, &result).await {
        Ok(owner) => owner,
        Err(e) => return (Err(e), None),
    };
    let checked = ensure_unlocked(app, tenant, &owner, Guarded::Session).await;
    (checked.map(|()| result), Some(owner))
}

async fn refreshed_owner<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    result: &AuthResult,
) -> Result<UserId, ApiError> {
    let access = result
        .authentication_result
        .as_ref()
        .map(|t| t.access_token.as_str())
        .ok_or_else(|| ApiError::Internal("a refresh answered without an access token".into()))?;
    let owner = app
        .tokens
        .verify_access(tenant, access)
        .await
        .map_err(|e| match e {
            unavailable @ TokenError::Unavailable(_) => unavailable.into(),
            other => ApiError::Internal(format!("the refreshed access token: {other}")),
        })?;
    UserId::of_cognito(&owner.username)
        .ok_or_else(|| ApiError::Internal("the refreshed access token names no user".into()))
}

/// The policy is checked before the lock: the other way round, a weak password would get
/// `invalid-password` from an open account and the lock's answer from a locked one.
async fn new_password<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: NewPassword,
) -> (Result<AuthResult, ApiError>, Checked) {
    if let Err(e) = app.check_password_policy(tenant, &body.new_password).await {
        return (Err(e), Checked::Neither);
    }
    if let Err(e) = ensure_unlocked(app, tenant, &body.user_id, Guarded::Credential).await {
        return lock_refusal(e);
    }
    let outcome = app
        .directory
        .complete_new_password(
            tenant,
            &body.user_id,
            body.session.expose(),
            body.new_password.expose(),
        )
        .await;
    let checked = checked_of(&outcome);
    let result = match outcome {
        Ok(signed_in) => u2f::gate(app, tenant, &body.user_id, signed_in).await,
        Err(e) => Err(ApiError::from(e)),
    };
    (result, checked)
}

fn challenge_of(name: &str) -> Result<Challenge, ApiError> {
    match name {
        "NEW_PASSWORD_REQUIRED" => Err(ApiError::InvalidRequest(
            "answer NEW_PASSWORD_REQUIRED with POST /change-temporary-password".into(),
        )),
        name => Challenge::parse(name).ok_or_else(|| {
            ApiError::InvalidRequest(
                "`challengeName` must be SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE, \
                 WEB_AUTHN or U2F"
                    .into(),
            )
        }),
    }
}

/// A code answering a sign-in challenge spends the tenant's second-factor budget
/// (`maxOtpAttempts`); choosing a factor (`SELECT_MFA_TYPE`) guesses nothing. The budget is
/// settled before the request's audit entry, so an auto-lock is listed first.
async fn answer_challenge<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    meta: &RequestMeta,
    challenge: Challenge,
    body: ChallengeAnswer,
) -> (Result<AuthResult, ApiError>, Checked) {
    let user = &body.user_id;
    let answer = match body.answer(challenge) {
        Ok(answer) => answer,
        Err(e) => return (Err(e), Checked::Neither),
    };
    // a passkey's session is the API's own: Cognito's is behind it (`passkey`), taken only
    // once the budget admits the answer
    let check = async {
        let session = match challenge {
            Challenge::WebAuthn => {
                passkey::cognito_session(app, user, body.session.expose()).await?
            }
            _ => body.session.expose().to_string(),
        };
        app.directory
            .answer_challenge(tenant, user, challenge, &session, &answer)
            .await
    };
    if challenge == Challenge::SelectMfaType {
        if let Err(e) = ensure_unlocked(app, tenant, user, Guarded::Credential).await {
            return lock_refusal(e);
        }
        let outcome = check.await;
        let checked = checked_of(&outcome);
        return (outcome.map_err(ApiError::from), checked);
    }
    // a passkey is a first factor: a refused assertion spends the password budget
    let (budget, wrong): (Budget, fn(&DirectoryError) -> bool) = match challenge {
        // only a refused assertion: a pool whose relying party does not fit the page (origin,
        // RP ID) is a configuration fault, not a guess, and gives its unit back
        Challenge::WebAuthn => (Budget::Password, |e| {
            matches!(e, DirectoryError::NotAuthorized)
        }),
        _ => (Budget::Otp, |e| matches!(e, DirectoryError::CodeMismatch)),
    };
    let (result, settle, checked) =
        check_under_budget(app, tenant, user, budget, check, wrong, ApiError::from).await;
    app.settle(tenant, meta, user, settle).await;
    (result, checked)
}
