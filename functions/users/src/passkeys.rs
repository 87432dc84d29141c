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

use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{Directory, DirectoryError, Passkey},
    domain::lock::{LockStore, PasskeyLink},
    http::request::{json_body, path_user_id},
    time::{epoch_seconds, rfc3339},
};

use super::{Op, own_token};
use crate::factors::ensure_recent_sign_in;

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
    /// The one-time code, shown this once (only its hash is kept).
    code: String,
    expires_at: String,
}

impl std::fmt::Debug for LinkIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkIssued")
            .field("user_id", &self.user_id)
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `POST /users/{userID}/passkeys/registration-link` `{returnCode}` (admin): a one-time code
/// with which its holder registers a passkey for the user without the password. Only its
/// SHA-256 is kept; a new code replaces the user's earlier one; it holds an hour and serves
/// one registration. Sending it to the user's email is not offered yet (`returnCode: true`
/// is required): the admin hands it over.
pub(crate) async fn registration_link<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let user = path_user_id(req)?;
    let admin = app.admin(req, tenant).await?;
    let body: LinkRequest = json_body(req, app.config.body_limit_bytes)?;
    let user = app.canonical(tenant, user).await?;
    if body.return_code != Some(true) {
        return Err(ApiError::InvalidRequest(
            "sending the code to the user's email is not offered yet: ask for it with \
             `returnCode: true` and hand it over"
                .into(),
        ));
    }
    let work = async {
        let found = app
            .directory
            .find_user(tenant, &user)
            .await
            .map_err(DirectoryError::for_admin)?
            .ok_or(ApiError::UserNotFound)?;
        if !found.enabled {
            return Err(ApiError::AccountDisabled);
        }
        let now = std::time::SystemTime::now();
        let code = PasskeyLink::new_code()?;
        let expires = now + PasskeyLink::LIFETIME;
        let link = PasskeyLink {
            code_hash: PasskeyLink::hash_of(&code),
            app_client_id: tenant.app_client_id.clone(),
            expires_at: epoch_seconds(expires),
            created_at: rfc3339(now),
            created_by: admin.sub.clone(),
        };
        app.locks
            .put_passkey_link(&tenant.user_pool_id, &user, &link, true)
            .await?;
        Ok(LinkIssued {
            user_id: user.as_str().to_string(),
            code,
            expires_at: rfc3339(expires),
        })
    };
    Reply::created(&app.audited(call, &user, &admin.sub, work).await?)
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

/// The path's `credentialID` (API Gateway names it; elsewhere it is the last segment).
fn path_credential_id(req: &Request) -> Result<String, ApiError> {
    let named = req
        .path_parameters_ref()
        .and_then(|p| p.first("credentialID"))
        .map(str::to_string);
    let raw = named.unwrap_or_else(|| {
        req.raw_http_path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    credential_id_of(&raw)
}

/// Cognito refused the credential: it did not verify (origin, relying party, challenge,
/// signature), or the pool offers no passkeys.
fn refused(e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::InvalidParameter => ApiError::InvalidRequest(
            "the credential did not verify against this pool's relying party and challenge".into(),
        ),
        other => DirectoryError::for_admin(other),
    }
}

/// `POST /users/{userID}/passkeys`: the options for the browser. A passkey signs in without
/// the password, so registering one needs a recent sign-in, as changing a factor does.
pub(crate) async fn start<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can register a passkey for themselves";
    let (user, token, caller) = own_token(app, call, refusal).await?;
    let work = async {
        ensure_recent_sign_in(&caller)?;
        let options = app
            .directory
            .start_passkey(&call.tenant, token)
            .await
            .map_err(refused)?;
        Ok(Started {
            credential_creation_options: options,
        })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `POST /users/{userID}/passkeys/verify` `{credential}`: the browser's answer.
pub(crate) async fn verify<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can register a passkey for themselves";
    let (user, token, caller) = own_token(app, call, refusal).await?;
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
        app.directory
            .complete_passkey(&call.tenant, token, &credential)
            .await
            .map_err(refused)?;
        Ok(Registered { credential_id: id })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `GET /users/{userID}/passkeys`: the user's own.
pub(crate) async fn list<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "Cognito lists a user's passkeys only with that user's own token";
    let (_, token, _) = own_token(app, call, refusal).await?;
    let passkeys = app
        .directory
        .list_passkeys(&call.tenant, token)
        .await
        .map_err(DirectoryError::for_admin)?;
    Reply::ok(&Listed { passkeys })
}

/// `DELETE /users/{userID}/passkeys/{credentialID}`: the user's own, with a recent sign-in;
/// idempotent.
pub(crate) async fn delete<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "Cognito deletes a user's passkey only with that user's own token";
    let (user, token, caller) = own_token(app, call, refusal).await?;
    let id = path_credential_id(&call.req)?;
    let work = async {
        ensure_recent_sign_in(&caller)?;
        // idempotent: a passkey that is not there (any more) is answered `deleted: false`
        let deleted = match app.directory.delete_passkey(&call.tenant, token, &id).await {
            Ok(()) => true,
            Err(DirectoryError::ResourceNotFound) => false,
            Err(e) => return Err(DirectoryError::for_admin(e)),
        };
        Ok(Deleted {
            credential_id: id.clone(),
            deleted,
        })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
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
