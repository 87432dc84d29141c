//! Security keys (U2F) as a second factor the API verifies itself (`shared::domain::u2f`): the
//! user registers one in two steps (the creation options for the browser's
//! `navigator.credentials.create()`, then its answer), lists and deletes theirs; an admin may
//! list and delete a user's keys. Cognito never sees these keys: they are kept in the
//! account-state table (the lock store's `SecurityKeys` port), and a password sign-in of a user
//! who holds one is answered with a `U2F` challenge before any token leaves the API (the `auth`
//! function).
//!
//! Every change to a user's keys is written over the version read (compare and set): two
//! answers to one registration, or a delete racing a sign-in's counter, cannot both land.

use serde::{Deserialize, Serialize};
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::Passkeys,
    domain::lock::SecurityKeys,
    domain::tenant::Tenant,
    domain::u2f::{self, KeyRing, U2fError},
    domain::user_id::UserId,
    domain::validate::Text,
    http::request::{json_body, path_param},
    time::{epoch_seconds, rfc3339},
};

use super::Op;
use crate::access::{admin_or_self, ensure_recent_sign_in, is_self, own_user};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Started {
    credential_creation_options: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    credential: serde_json::Map<String, serde_json::Value>,
    name: Option<Text<64>>,
}

#[derive(Debug, Serialize)]
struct Registered {
    #[serde(rename = "u2fID")]
    u2f_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    u2f: Vec<Listing>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    #[serde(rename = "u2fID")]
    u2f_id: String,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Deleted {
    #[serde(rename = "u2fID")]
    u2f_id: String,
    deleted: bool,
}

/// What a key is called when the user names it nothing.
const DEFAULT_NAME: &str = "Security key";

/// The tenant's relying party: the pool's passkey relying party, so that a key and a passkey
/// of one user answer to the same site.
pub(crate) async fn relying_party<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
) -> Result<String, ApiError> {
    app.directory
        .passkey_relying_party(tenant)
        .await?
        .map(|rp| rp.id)
        .ok_or(ApiError::Conflict(
            "the tenant's user pool names no relying party (WebAuthnConfiguration): security \
             keys answer to the same site as passkeys",
        ))
}

/// A ceremony's refusal as the caller sees it; the reason goes to the log only.
fn refused(e: U2fError) -> ApiError {
    match e {
        U2fError::NoCeremony => ApiError::Conflict(
            "no security key registration is under way (or it expired): start one with \
             `POST /users/{userID}/u2f`",
        ),
        U2fError::NotVerified(why) | U2fError::ClonedKey(why) => {
            tracing::info!(reason = %why, "security key refused");
            ApiError::credential_not_verified()
        }
        U2fError::AlreadyRegistered => {
            ApiError::Conflict("this security key is registered for the user already")
        }
        U2fError::TooMany => ApiError::Conflict("a user holds at most 10 security keys"),
        U2fError::RelyingParty(rp) => {
            ApiError::Internal(format!("the relying party id is not a domain: {rp}"))
        }
        U2fError::Internal(why) => ApiError::Internal(why),
    }
}

/// Reads the user's ring, changes it with `change` and writes it over the version read; a
/// write that lost to another is tried again on what that one left (a few times), so
/// nothing is written over a change this one did not see.
async fn change_ring<P: Ports, T>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    mut change: impl FnMut(&mut KeyRing) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    for _ in 0..3 {
        let (mut ring, version) = app.locks.key_ring(&tenant.user_pool_id, user).await?;
        let out = change(&mut ring)?;
        if app
            .locks
            .put_key_ring(&tenant.user_pool_id, user, &ring, version)
            .await?
        {
            return Ok(out);
        }
    }
    Err(ApiError::Conflict(
        "the user's security keys changed meanwhile: try again",
    ))
}

/// `POST /users/{userID}/u2f`: the options for the browser. A key is a second factor, so
/// registering one needs a recent sign-in, as changing any factor does.
pub(crate) async fn start<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can register a security key for themselves";
    let (user, caller) = own_user(app, call, refusal).await?;
    let work = async {
        ensure_recent_sign_in(&caller)?;
        let rp_id = relying_party(app, &call.tenant).await?;
        let options = change_ring(app, &call.tenant, &user, |ring| {
            u2f::start_registration(&rp_id, &user, ring).map_err(refused)
        })
        .await?;
        Ok(Started {
            credential_creation_options: options,
        })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `POST /users/{userID}/u2f/verify` `{credential, name?}`: the browser's answer. The
/// registration under way is spent by any answer, right or wrong.
pub(crate) async fn verify<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can register a security key for themselves";
    let (user, caller) = own_user(app, call, refusal).await?;
    let body: Verify = json_body(&call.req, app.config.body_limit_bytes)?;
    let credential = serde_json::Value::Object(body.credential);
    let name = body
        .name
        .as_ref()
        .map_or(DEFAULT_NAME, |n| n.as_str())
        .to_string();
    let work = async {
        ensure_recent_sign_in(&caller)?;
        let rp_id = relying_party(app, &call.tenant).await?;
        let now = epoch_seconds(std::time::SystemTime::now());
        // the challenge is spent even when the answer is refused: the refusal is written too
        let outcome = change_ring(app, &call.tenant, &user, |ring| {
            Ok(u2f::finish_registration(
                &rp_id,
                ring,
                &credential,
                &name,
                now,
            ))
        })
        .await?;
        let u2f_id = outcome.map_err(refused)?;
        Ok(Registered { u2f_id })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `GET /users/{userID}/u2f`: the user's keys (ids, names, dates), for the user or an admin.
pub(crate) async fn list<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only list their own security keys";
    let (_, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    let (ring, _) = app.locks.key_ring(&tenant.user_pool_id, &user).await?;
    let at = |s: u64| rfc3339(shared::time::from_epoch_seconds(s));
    let u2f = ring
        .keys
        .iter()
        .map(|k| Listing {
            u2f_id: k.u2f_id.clone(),
            name: k.name.clone(),
            created_at: at(k.created_at),
            last_used_at: k.last_used_at.map(at),
        })
        .collect();
    Reply::ok(&Listed { u2f })
}

/// `DELETE /users/{userID}/u2f/{u2fID}`: the user (with a recent sign-in, an admin deleting
/// their own key too) or an admin; idempotent (`deleted: false` for a key that is not there).
pub(crate) async fn delete<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only delete their own security keys";
    let (caller, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    let u2f_id = u2f_id_of(path_param(req, "u2fID")?)?;
    let own = is_self(&caller, &user);
    let actor = if own {
        "self".to_string()
    } else {
        caller.sub.clone()
    };
    let work = async {
        // one's own key, an admin's too, only with a recent sign-in: a token taken from a
        // signed-in browser must not be enough to take the second factor away
        if own {
            ensure_recent_sign_in(&caller)?;
        }
        let deleted = change_ring(app, tenant, &user, |ring| {
            let before = ring.keys.len();
            ring.keys.retain(|k| k.u2f_id != u2f_id);
            Ok(ring.keys.len() != before)
        })
        .await?;
        Ok(Deleted {
            u2f_id: u2f_id.clone(),
            deleted,
        })
    };
    Reply::ok(&app.audited(call, &user, &actor, work).await?)
}

/// A `u2fID`: base64url, as the API makes them.
fn u2f_id_of(value: &str) -> Result<String, ApiError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(ApiError::InvalidRequest(
            "`u2fID` must be a security key's id (base64url)".into(),
        ))
    }
}

/// Whether the user holds a security key (`authentication-methods` lists `U2F`).
pub(crate) async fn holds_key<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<bool, ApiError> {
    let (ring, _) = app.locks.key_ring(&tenant.user_pool_id, user).await?;
    Ok(!ring.keys.is_empty())
}
