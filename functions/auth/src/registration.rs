//! A passkey registration code (`POST /users/{userID}/passkeys/registration-link`, an admin's)
//! in its holder's hands: `POST /passkey-registration` `{userID, code}` answers the options for
//! the browser's `navigator.credentials.create()`, `POST /passkey-registration/verify`
//! `{userID, code, credential}` registers the passkey and spends the code.
//!
//! Cognito registers a passkey only with the user's own access token, so each step first turns
//! the code into a sign-in of its own (`CUSTOM_AUTH`, the pool's custom-auth triggers checking
//! the code against its hash). The tokens never leave this function (the holder gets the
//! options, then the credential's id, nothing that opens the account) and are revoked once
//! used.
//!
//! The code is taken (a conditional delete: of concurrent verifies, one registers) only after
//! the sign-in, which needs it, and put back if Cognito then refuses the credential, so that a
//! browser's mistake does not cost the user their code.

use serde::{Deserialize, Serialize};
use shared::domain::directory::{Passkeys, SignIn, UserAdmin};
use shared::domain::lock::Codes;
use shared::{
    ApiError, App, Ports,
    domain::directory::{DirectoryError, Tokens},
    domain::lock::{CodePurpose, OneTimeCode},
    domain::mail::{Mail, Mailer},
    domain::store::Chain,
    domain::tenant::Tenant,
    domain::user_id::UserId,
};

use crate::guard::{Checked, Guarded, ensure_unlocked, lock_refusal};

/// The holder's code: base64url, as `OneTimeCode::new_code` makes them. Never printed.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct RegistrationCode(String);

impl TryFrom<String> for RegistrationCode {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = (16..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err("`code` must be the registration code as it was handed out".into())
        }
    }
}

impl std::fmt::Debug for RegistrationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistrationCode(<redacted>)")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Start {
    #[serde(rename = "userID")]
    pub(crate) user_id: UserId,
    code: RegistrationCode,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Verify {
    #[serde(rename = "userID")]
    pub(crate) user_id: UserId,
    code: RegistrationCode,
    credential: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Started {
    credential_creation_options: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub(crate) struct Registered {
    #[serde(rename = "credentialID")]
    credential_id: String,
}

/// What a registration credential may weigh at most, as JSON (an attestation is a few KiB).
const CREDENTIAL_LIMIT: usize = 16 * 1024;

/// The user's registration code as kept, read before anything else: the actor of the steps'
/// audit entries is the admin who made it (`code:<sub>`).
pub(crate) async fn kept<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Option<OneTimeCode>, ApiError> {
    let purpose = CodePurpose::PasskeyRegistration;
    Ok(app
        .locks
        .one_time_code(purpose, &tenant.user_pool_id, user)
        .await?)
}

/// Who the audit names for a holder's step.
pub(crate) fn actor(kept: Option<&OneTimeCode>) -> String {
    kept.map_or_else(|| "self".into(), |k| format!("code:{}", k.created_by))
}

/// The code's sign-in: the user's access token, or the refusal the holder sees. A code that is
/// not the user's (wrong, spent, expired, another user's) and no such user read alike, and are
/// refused on the kept record alone, before the lock or Cognito is asked: nobody without the
/// code learns whether the user exists or is locked, or makes Cognito and the triggers work.
async fn signed_in<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    code: &RegistrationCode,
    kept: Option<&OneTimeCode>,
) -> Result<Tokens, (ApiError, Checked)> {
    let now = std::time::SystemTime::now();
    let admitted =
        kept.is_some_and(|k| k.app_client_id == tenant.app_client_id && k.admits(&code.0, now));
    if !admitted {
        return Err((ApiError::InvalidCredentials, Checked::Neither));
    }
    if let Err(e) = ensure_unlocked(app, tenant, user, Guarded::Credential).await {
        let (Err(e), checked) = lock_refusal::<()>(e) else {
            unreachable!("lock_refusal refuses")
        };
        return Err((e, checked));
    }
    let answer = CodePurpose::PasskeyRegistration.answer(&code.0);
    match app.directory.code_auth(tenant, user, &answer).await {
        Ok(result) => result.authentication_result.ok_or((
            ApiError::Internal("Cognito issued no tokens".into()),
            Checked::Neither,
        )),
        Err(DirectoryError::NotAuthorized | DirectoryError::UserNotFound) => {
            Err((ApiError::InvalidCredentials, Checked::Refused))
        }
        Err(e) => Err((ApiError::from(e), Checked::Neither)),
    }
}

/// Cognito refused the registration or the pool offers no passkeys.
fn refused(e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::InvalidParameter => ApiError::credential_not_verified(),
        other => ApiError::from(other),
    }
}

/// `POST /passkey-registration`: the code's sign-in, then `StartWebAuthnRegistration`.
pub(crate) async fn start<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: Start,
    kept: Option<OneTimeCode>,
) -> (Result<Started, ApiError>, Checked) {
    let session = match signed_in(app, tenant, &body.user_id, &body.code, kept.as_ref()).await {
        Ok(session) => session,
        Err((e, checked)) => return (Err(e), checked),
    };
    let options = app
        .directory
        .start_passkey(tenant, &session.access_token)
        .await;
    app.end_code_session(tenant, &session).await;
    (
        options
            .map(|o| Started {
                credential_creation_options: o,
            })
            .map_err(refused),
        Checked::Neither,
    )
}

/// `POST /passkey-registration/verify`: the code's sign-in, the code taken, then
/// `CompleteWebAuthnRegistration`; the code back in place if that fails.
pub(crate) async fn verify<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: Verify,
    kept: Option<OneTimeCode>,
) -> (Result<Registered, ApiError>, Checked) {
    let user = &body.user_id;
    let id = body
        .credential
        .get("id")
        .and_then(serde_json::Value::as_str)
        .filter(|id| !id.is_empty() && id.len() <= 1024)
        .map(str::to_string);
    let credential = serde_json::Value::Object(body.credential);
    let Some(id) = id.filter(|_| credential.to_string().len() <= CREDENTIAL_LIMIT) else {
        let shape = "`credential` is not a RegistrationResponseJSON (or is too large)";
        return (
            Err(ApiError::InvalidRequest(shape.into())),
            Checked::Neither,
        );
    };
    let session = match signed_in(app, tenant, user, &body.code, kept.as_ref()).await {
        Ok(session) => session,
        Err((e, checked)) => return (Err(e), checked),
    };
    let (result, checked) =
        take_and_complete(app, tenant, user, &body.code, &session, &credential, id).await;
    app.end_code_session(tenant, &session).await;
    if result.is_ok() {
        tell_the_user(app, tenant, user).await;
    }
    (result, checked)
}

/// A passkey is a lasting way into the account, registered here by whoever held the code: the
/// user hears of it at their verified email, where the tenant sends mail. Best effort: the
/// passkey is registered either way, and a failure is logged.
async fn tell_the_user<P: Ports>(app: &App<P>, tenant: &Tenant, user: &UserId) {
    let Some(from) = &tenant.email_from else {
        return;
    };
    let to = match app.directory.find_user(tenant, user).await {
        Ok(Some(found)) if found.verified("email_verified") => {
            found.attribute("email").map(str::to_string)
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(cause = %Chain(&e), "the user was not told of the new passkey");
            None
        }
    };
    let Some(to) = to else {
        return;
    };
    let mail = Mail {
        from: from.clone(),
        to,
        subject: "A passkey was added to your account".into(),
        text: format!(
            "A passkey was registered for your account {user} with a registration code an \
             administrator handed out ({at}). It signs in without your password.\n\nIf this \
             was not you, tell your administrator at once: they can remove it and lock the \
             account.\n",
            user = user.as_str(),
            at = shared::time::rfc3339(std::time::SystemTime::now()),
        ),
    };
    if let Err(e) = app.mail.send(&mail).await {
        tracing::warn!(cause = %Chain(&e), "the user was not told of the new passkey");
    }
}

/// The code taken, then `CompleteWebAuthnRegistration` with the code's session; the code put
/// back if Cognito refused the credential.
async fn take_and_complete<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    code: &RegistrationCode,
    session: &Tokens,
    credential: &serde_json::Value,
    id: String,
) -> (Result<Registered, ApiError>, Checked) {
    let pool = &tenant.user_pool_id;
    let hash = OneTimeCode::hash_of(&code.0);
    let purpose = CodePurpose::PasskeyRegistration;
    let taken = match app
        .locks
        .take_code(purpose, pool, user, &hash, std::time::SystemTime::now())
        .await
    {
        Ok(Some(link)) => link,
        // spent between the sign-in and here, by a concurrent registration
        Ok(None) => return (Err(ApiError::InvalidCredentials), Checked::Refused),
        Err(e) => return (Err(e.into()), Checked::Neither),
    };
    match app
        .directory
        .complete_passkey(tenant, &session.access_token, credential)
        .await
    {
        Ok(()) => (Ok(Registered { credential_id: id }), Checked::Neither),
        // Cognito looked at the credential and refused it: nothing was registered, and the
        // code goes back for another try. After any other failure (a timeout, say) the
        // passkey may have been registered all the same, so the code stays spent.
        Err(e @ DirectoryError::InvalidParameter) => {
            if let Err(lost) = app.locks.put_code(purpose, pool, user, &taken, false).await {
                tracing::error!(
                    cause = %Chain(&lost),
                    "a registration code could not be put back after a refused registration"
                );
            }
            (Err(refused(e)), Checked::Neither)
        }
        Err(e) => (Err(refused(e)), Checked::Neither),
    }
}
