//! A user's links to identity providers' identities (`AdminLinkProviderForUser`,
//! `AdminDisableProviderForUser`): a linked identity signs in as the user through
//! `/idp-intents`.
//!
//! An admin links any identity of a provider the tenant offers. A user links only an identity
//! they proved to hold: the intent they retrieved that found it nobody's (its `intentID` and
//! the `linkToken` the retrieve answered), so nobody links someone else's identity to their own
//! account.

use shared::domain::directory::IdentityLinks;
use shared::domain::lock::Flows;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::DirectoryError,
    domain::federation::{self, Identity, Linkable},
    domain::lock::{FlowKind, FlowRecord, OneTimeCode},
    domain::tenant::Federation,
    domain::tenant::Tenant,
    domain::token::Caller,
    domain::user_id::UserId,
    domain::validate::{Secret, Text},
    http::request::json_body,
};

use crate::{
    Op,
    access::{admin_or_self, ensure_recent_sign_in, is_self},
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Link {
    idp_name: Text<32>,
    #[serde(rename = "idpUserID")]
    idp_user_id: Text<128>,
    /// The user's proof: the intent they retrieved, which found the identity nobody's, and the
    /// link token that retrieve answered.
    #[serde(rename = "intentID")]
    intent_id: Option<Text<64>>,
    link_token: Option<Secret<64>>,
}

#[derive(Debug, Serialize)]
struct Links {
    links: Vec<Identity>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Unlinked {
    idp_name: String,
    #[serde(rename = "idpUserID")]
    idp_user_id: String,
    deleted: bool,
}

fn federation_of(tenant: &Tenant) -> Result<&Federation, ApiError> {
    tenant.federation.as_ref().ok_or(ApiError::Conflict(
        "this tenant offers no sign-in with identity providers",
    ))
}

/// Whether the caller is the path's user, and the audit actor that makes them (`self`, or the
/// admin's `sub`).
fn who(caller: &Caller, user: &UserId) -> (bool, String) {
    let own = is_self(caller, user);
    (
        own,
        if own {
            "self".into()
        } else {
            caller.sub.clone()
        },
    )
}

/// The user's linked identities, as Cognito lists them on the user (`identities`).
async fn linked<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Vec<Identity>, ApiError> {
    let found = app.user(tenant, user).await?;
    Ok(found
        .attribute("identities")
        .map(|i| federation::identities(&serde_json::Value::String(i.to_string())))
        .unwrap_or_default())
}

/// `POST /users/{userID}/idp-links {idpName, idpUserID, intentID?, intentToken?}`.
pub(crate) async fn link<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only link identities to their own account";
    let (caller, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    let body: Link = json_body(req, app.config.body_limit_bytes)?;
    let (own, actor) = who(&caller, &user);
    let work = async {
        let federation = federation_of(tenant)?;
        let (idp_name, idp_user_id) = (body.idp_name.as_str(), body.idp_user_id.as_str());
        if !federation.offers(idp_name) {
            return Err(ApiError::InvalidRequest(
                "`idpName` names no identity provider of this tenant".into(),
            ));
        }
        // the user's own link needs the proof, even from an admin linking for themselves
        let proof = if own {
            ensure_recent_sign_in(&caller)?;
            Some(take_proof(app, tenant, &body, idp_name, idp_user_id).await?)
        } else {
            None
        };
        let linked = app
            .directory
            .link_identity(tenant, &user, idp_name, idp_user_id)
            .await
            .map_err(DirectoryError::for_admin);
        // the proof holds for another try (if its time is not up) where Cognito clearly
        // refused the link; after a failure that may have linked (a timeout), it stays spent
        let refused = matches!(
            linked,
            Err(ApiError::Conflict(_) | ApiError::InvalidRequest(_) | ApiError::UserNotFound)
        );
        if let (true, Some((intent_id, record))) = (refused, &proof)
            && let Err(e) = app
                .locks
                .put_flow(FlowKind::IdpLink, intent_id, record)
                .await
        {
            tracing::warn!(cause = %e, "a link's proof could not be put back");
        }
        linked?;
        Ok(Identity {
            idp_name: idp_name.to_string(),
            idp_user_id: idp_user_id.to_string(),
            idp_type: None,
            linked_at: Some(shared::time::rfc3339(SystemTime::now())),
        })
    };
    Reply::ok(&app.audited(call, &user, &actor, work).await?)
}

/// Takes the intent's proof that the caller holds the identity (once): it must name exactly
/// this identity.
async fn take_proof<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: &Link,
    idp_name: &str,
    idp_user_id: &str,
) -> Result<(String, FlowRecord), ApiError> {
    let (Some(intent_id), Some(token)) = (&body.intent_id, &body.link_token) else {
        // required of the user themselves (an admin linking for someone else gives neither)
        return Err(ApiError::InvalidRequest(
            "linking an identity to one's own account takes the intent that found it: \
             `intentID` and `linkToken`"
                .into(),
        ));
    };
    let (intent_id, token) = (intent_id.as_str(), token.expose());
    if !federation::is_intent_id(intent_id) {
        return Err(ApiError::InvalidIntent);
    }
    let now = SystemTime::now();
    let record = app
        .locks
        .flow(FlowKind::IdpLink, intent_id)
        .await?
        .filter(|r| r.opens_with(token))
        .ok_or(ApiError::InvalidIntent)?;
    if record.expired_at(now) {
        return Err(ApiError::IntentExpired);
    }
    let proven: Linkable = serde_json::from_str(&record.body)
        .map_err(|e| ApiError::Internal(format!("a link's proof does not read back: {e}")))?;
    if proven.tenant != tenant.key
        || proven.idp_name != idp_name
        || proven.idp_user_id != idp_user_id
    {
        return Err(ApiError::InvalidIntent);
    }
    let hash = OneTimeCode::hash_of(token);
    let taken = app
        .locks
        .take_flow(FlowKind::IdpLink, intent_id, &hash, now)
        .await?
        .ok_or(ApiError::InvalidIntent)?;
    Ok((intent_id.to_string(), taken))
}

/// `GET /users/{userID}/idp-links`.
pub(crate) async fn list<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only read their own linked identities";
    let (_, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    Reply::ok(&Links {
        links: linked(app, tenant, &user).await?,
    })
}

/// The path's `name` (a provider's name or subject), percent-decoded once.
fn path_segment(req: &lambda_http::Request, name: &str) -> Result<String, ApiError> {
    let decoded = shared::http::request::path_param_decoded(req, name)?;
    if decoded.is_empty() || decoded.chars().count() > 128 || decoded.chars().any(char::is_control)
    {
        return Err(ApiError::InvalidRequest(format!("`{name}` is not valid")));
    }
    Ok(decoded)
}

/// `DELETE /users/{userID}/idp-links/{idpName}/{idpUserID}`: idempotent; only an identity
/// linked to this user is unlinked (`AdminDisableProviderForUser` itself names no user).
pub(crate) async fn unlink<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only unlink identities from their own account";
    let (caller, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    let idp_name = path_segment(req, "idpName")?;
    let idp_user_id = path_segment(req, "idpUserID")?;
    let (own, actor) = who(&caller, &user);
    let work = async {
        if own {
            ensure_recent_sign_in(&caller)?;
        }
        let is_linked = linked(app, tenant, &user)
            .await?
            .iter()
            .any(|i| i.idp_name == idp_name && i.idp_user_id == idp_user_id);
        if is_linked {
            app.directory
                .unlink_identity(tenant, &idp_name, &idp_user_id)
                .await
                .map_err(DirectoryError::for_admin)?;
        }
        Ok(Unlinked {
            idp_name: idp_name.clone(),
            idp_user_id: idp_user_id.clone(),
            deleted: is_linked,
        })
    };
    Reply::ok(&app.audited(call, &user, &actor, work).await?)
}
