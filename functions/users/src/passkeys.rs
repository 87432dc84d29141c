//! Passkeys (WebAuthn credentials), kept by Cognito: the user registers one with their own
//! token in two steps (the options for the browser's `navigator.credentials.create()`, then
//! its answer, which Cognito verifies), lists and deletes theirs. Cognito offers these
//! operations with the user's own token only: there is no admin variant to list or delete
//! another user's passkeys, so these routes are the user's.
//!
//! An admin can hand a user a one-time registration code instead
//! (`POST …/passkeys/registration-link`): its holder registers a passkey without the password
//! through the public `POST /passkey-registration` routes (the `auth` function), which turn the
//! code into a custom sign-in of its own (`functions/custom-auth`).

use lambda_http::Request;
use serde::{Deserialize, Serialize};
use shared::domain::directory::Passkeys;
use shared::domain::lock::Codes;
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{DirectoryError, Passkey},
    domain::lock::{CodePurpose, OneTimeCode},
    domain::mail::{Mail, Mailer},
    domain::tenant::Tenant,
    domain::user_id::UserId,
    http::request::{json_body, path_user_id},
    time::{epoch_seconds, rfc3339},
};

use super::Op;
use crate::access::{admin_or_self, as_self, as_user, ensure_recent_sign_in, is_self, own_user};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Started {
    credential_creation_options: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    credential: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct Registered {
    #[serde(rename = "credentialID")]
    credential_id: String,
}

#[derive(Debug, Serialize)]
struct Listed {
    passkeys: Vec<Passkey>,
}

#[derive(Debug, Serialize)]
struct Deleted {
    #[serde(rename = "credentialID")]
    credential_id: String,
    deleted: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LinkRequest {
    return_code: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkIssued {
    #[serde(rename = "userID")]
    user_id: String,
    /// The one-time code, shown this once (only its hash is kept), with `returnCode: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    /// Where it was mailed, otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    sent_to: Option<String>,
    expires_at: String,
}

impl std::fmt::Debug for LinkIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkIssued")
            .field("user_id", &self.user_id)
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("sent_to", &self.sent_to)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `POST /users/{userID}/passkeys/registration-link` `{returnCode?}` (admin): a one-time code
/// with which its holder registers a passkey for the user without the password. Only its
/// SHA-256 is kept; a new code replaces the user's earlier one; it holds an hour and serves
/// one registration. Mailed to the user's verified email from the tenant's `emailFrom` (with
/// a link where the tenant has a `passkeyRegistrationUrl`), or, with `returnCode: true`,
/// answered to the admin to hand over.
pub(crate) async fn registration_link<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let user = path_user_id(req)?;
    let admin = app.admin(req, tenant).await?;
    let body: LinkRequest = json_body(req, app.config.body_limit_bytes)?;
    let user = app.canonical(tenant, user).await?;
    let by_mail = body.return_code != Some(true);
    let work = async {
        let from = match (&tenant.email_from, by_mail) {
            (Some(from), true) => Some(from.as_str()),
            (None, true) => {
                return Err(ApiError::Conflict(
                    "this tenant sends no mail (no emailFrom): ask for the code with \
                     `returnCode: true` and hand it over",
                ));
            }
            (_, false) => None,
        };
        let found = app.user(tenant, &user).await?;
        if !found.enabled {
            return Err(ApiError::AccountDisabled);
        }
        let to = match (from, found.attribute("email")) {
            (None, _) => None,
            (Some(_), Some(email)) if found.verified("email_verified") => Some(email.to_string()),
            (Some(_), _) => {
                return Err(ApiError::Conflict(
                    "the user has no verified email: ask for the code with `returnCode: true`",
                ));
            }
        };
        let sub = found
            .sub
            .clone()
            .ok_or_else(|| ApiError::Internal("Cognito named no sub for the user".into()))?;
        let now = std::time::SystemTime::now();
        let code = OneTimeCode::new_code()?;
        let purpose = CodePurpose::PasskeyRegistration;
        let expires = now + purpose.lifetime();
        let link = OneTimeCode {
            code_hash: OneTimeCode::hash_of(&code),
            sub,
            app_client_id: tenant.app_client_id.clone(),
            expires_at: epoch_seconds(expires),
            created_at: rfc3339(now),
            created_by: admin.sub.clone(),
        };
        let pool = &tenant.user_pool_id;
        // the code this one replaces, to put back if the mail does not go out
        let earlier = match to {
            Some(_) => app.locks.one_time_code(purpose, pool, &user).await?,
            None => None,
        };
        // one mail a minute at most: a stolen admin token is no way to flood a mailbox from
        // the tenant's sender
        let made = earlier
            .as_ref()
            .and_then(|e| shared::time::parse_rfc3339(&e.created_at));
        if let Some(made) = made {
            let next = made + MAIL_COOLDOWN.as_secs();
            if next > epoch_seconds(now) {
                return Err(ApiError::TooManyRequests {
                    retry_after: std::time::Duration::from_secs(next - epoch_seconds(now)),
                });
            }
        }
        app.locks
            .put_code(purpose, pool, &user, &link, true)
            .await?;
        if let (Some(from), Some(to)) = (from, &to) {
            let mail = registration_mail(tenant, &user, &code, &rfc3339(expires), from, to);
            if let Err(e) = app.mail.send(&mail).await {
                // nothing half-done: a code that did not go out is withdrawn, and the one it
                // replaced is back
                let undone = match &earlier {
                    Some(earlier) => {
                        app.locks
                            .put_code(purpose, pool, &user, earlier, true)
                            .await
                    }
                    None => app
                        .locks
                        .take_code(purpose, pool, &user, &link.code_hash, now)
                        .await
                        .map(|_| ()),
                };
                if let Err(lost) = undone {
                    tracing::error!(cause = %shared::domain::store::Chain(&lost), "an unsent registration code was left to expire");
                }
                return Err(e.into());
            }
        }
        Ok(LinkIssued {
            user_id: user.as_str().to_string(),
            code: (!by_mail).then_some(code),
            sent_to: to,
            expires_at: rfc3339(expires),
        })
    };
    Reply::created(&app.audited(call, &user, &admin.sub, work).await?)
}

/// How long after a registration code was made another may be mailed for the same user.
const MAIL_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(60);

/// The mail that carries a registration code: a link where the tenant names its page, else
/// the code itself, and when it stops working.
fn registration_mail(
    tenant: &Tenant,
    user: &UserId,
    code: &str,
    expires_at: &str,
    from: &str,
    to: &str,
) -> Mail {
    let way = match &tenant.passkey_registration_url {
        Some(template) => format!(
            "Open this link on the device you want to sign in with:\n\n{}\n",
            template
                .replace("{code}", code)
                .replace("{userID}", &shared::url::encode(user.as_str()))
        ),
        None => format!("Your registration code:\n\n{code}\n"),
    };
    Mail {
        from: from.to_string(),
        to: to.to_string(),
        subject: "Register a passkey for your account".into(),
        text: format!(
            "An administrator invited you to register a passkey (a fingerprint, face or \
             device PIN instead of a password) for your account {user}.\n\n{way}\nIt works \
             once, until {expires_at}. If you did not expect this, do not use it, and tell \
             your administrator.\n",
            user = user.as_str(),
        ),
    }
}

/// A WebAuthn credential id: base64url, as browsers and Cognito write it.
fn credential_id_of(value: &str) -> Result<String, ApiError> {
    let ok = (1..=1024).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(ApiError::InvalidRequest(
            "`credentialID` must be a base64url credential id".into(),
        ))
    }
}

/// The path's `credentialID`.
fn path_credential_id(req: &Request) -> Result<String, ApiError> {
    credential_id_of(shared::http::request::path_param(req, "credentialID")?)
}

/// Cognito refused the credential: it did not verify (origin, relying party, challenge,
/// signature), or the pool offers no passkeys.
fn refused(e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::InvalidParameter => ApiError::credential_not_verified(),
        other => DirectoryError::for_admin(other),
    }
}

/// `POST /users/{userID}/passkeys`: the options for the browser. A passkey signs in without
/// the password, so registering one needs a recent sign-in, as changing a factor does.
pub(crate) async fn start<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can register a passkey for themselves";
    let (user, caller) = own_user(app, call, refusal).await?;
    let work = async {
        ensure_recent_sign_in(&caller)?;
        let options = as_self(app, call, &caller, &user, |token| async move {
            app.directory
                .start_passkey(&call.tenant, &token)
                .await
                .map_err(refused)
        })
        .await?;
        Ok(Started {
            credential_creation_options: options,
        })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `POST /users/{userID}/passkeys/verify` `{credential}`: the browser's answer.
pub(crate) async fn verify<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can register a passkey for themselves";
    let (user, caller) = own_user(app, call, refusal).await?;
    let body: Verify = json_body(&call.req, app.config.body_limit_bytes)?;
    let id = body
        .credential
        .get("id")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            ApiError::InvalidRequest("`credential` is not a RegistrationResponseJSON".into())
        })
        .and_then(credential_id_of)?;
    let credential = serde_json::Value::Object(body.credential);
    let work = async {
        ensure_recent_sign_in(&caller)?;
        let credential = &credential;
        as_self(app, call, &caller, &user, |token| async move {
            app.directory
                .complete_passkey(&call.tenant, &token, credential)
                .await
                .map_err(refused)
        })
        .await?;
        Ok(Registered { credential_id: id })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `GET /users/{userID}/passkeys`: the user's own.
pub(crate) async fn list<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only list their own passkeys";
    let (caller, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    if is_self(&caller, &user) {
        let passkeys = as_self(app, call, &caller, &user, |token| async move {
            let listed = app.directory.list_passkeys(tenant, &token).await;
            listed.map_err(DirectoryError::for_admin)
        })
        .await?;
        return Reply::ok(&Listed { passkeys });
    }
    // an admin sees ids, names and dates only
    let passkeys = as_user(app, call, &user, &caller.sub, |token| async move {
        let listed = app.directory.list_passkeys(tenant, &token).await;
        listed.map_err(DirectoryError::for_admin)
    })
    .await?
    .into_iter()
    .map(|p| Passkey {
        relying_party_id: None,
        authenticator_attachment: None,
        transports: vec![],
        ..p
    })
    .collect();
    Reply::ok(&Listed { passkeys })
}

/// `DELETE /users/{userID}/passkeys/{credentialID}`: the user's own, with a recent sign-in;
/// idempotent.
pub(crate) async fn delete<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only delete their own passkeys";
    let (caller, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    let id = path_credential_id(req)?;
    // idempotent: a passkey that is not there (any more) is answered `deleted: false`
    let delete = |token: String| {
        let id = id.clone();
        async move {
            let deleted = match app.directory.delete_passkey(tenant, &token, &id).await {
                Ok(()) => true,
                Err(DirectoryError::ResourceNotFound) => false,
                Err(e) => return Err(DirectoryError::for_admin(e)),
            };
            Ok(Deleted {
                credential_id: id,
                deleted,
            })
        }
    };
    if is_self(&caller, &user) {
        let work = async {
            ensure_recent_sign_in(&caller)?;
            as_self(app, call, &caller, &user, delete).await
        };
        return Reply::ok(&app.audited(call, &user, "self", work).await?);
    }
    let work = as_user(app, call, &user, &caller.sub, delete);
    Reply::ok(&app.audited(call, &user, &caller.sub, work).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_id_is_base64url() {
        assert!(credential_id_of("AbC-_09").is_ok());
        for bad in ["", "a/b", "a+b", "a=b", "a b", &"a".repeat(1025)] {
            assert!(credential_id_of(bad).is_err(), "{bad}");
        }
    }
}
