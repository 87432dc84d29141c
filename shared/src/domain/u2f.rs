//! Security keys (U2F, or FIDO2 keys that cannot verify their user) as a second factor the API
//! verifies itself: Cognito has no WebAuthn second factor, so the API keeps the keys (behind the
//! lock store's [`SecurityKeys`](crate::domain::lock::SecurityKeys) port) and runs both
//! ceremonies with a maintained relying-party library (`webauthn_rp`: attestation, origin,
//! relying party, challenge, signature and counter checks), never hand-written CBOR.
//!
//! A key is a *second* factor: the person touches it after their password, so registration
//! and sign-in discourage user verification (most keys in drawers have no PIN), allow only the
//! user's own keys, and ask for no resident key. A ceremony's state (its challenge, bound to
//! the user and spent by one answer) is kept between the two requests as the library encodes
//! it; a key's signature counter that does not move forward marks a cloned key.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use webauthn_rp::{
    AuthenticatedCredential, NonDiscoverableAuthenticationServerState,
    NonDiscoverableCredentialRequestOptions, PublicKeyCredentialCreationOptions,
    RegistrationServerState,
    bin::{Decode, Encode},
    request::{
        AsciiDomain, Credentials as _, PublicKeyCredentialDescriptor, RpId,
        auth::{
            AllowedCredential, AllowedCredentials, AuthenticationVerificationOptions,
            SignatureCounterEnforcement,
        },
        register::{
            AuthenticatorAttachmentReq, CrossPlatformHint, PublicKeyCredentialUserEntity,
            RegistrationVerificationOptions, UserHandle16, Username,
        },
    },
    response::{
        AuthTransports, CredentialId,
        auth::{error::AuthCeremonyErr, ser_relaxed::NonDiscoverableAuthenticationRelaxed16},
        register::{DynamicState, StaticState, ser_relaxed::RegistrationRelaxed},
    },
};

use crate::domain::user_id::UserId;

/// How many keys a user may hold: enough for a key on the keyring, one in the drawer and a
/// few spares; a bound on the record and on the options every sign-in sends.
pub const MAX_KEYS: usize = 10;

/// One registered key, as kept. The library's states are kept as it encodes them (base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityKey {
    /// The API's id of the key (`u2fID`): random, never the credential id.
    pub u2f_id: String,
    /// The WebAuthn credential id (base64url).
    pub credential_id: String,
    /// The public key and the extensions fixed at registration (`StaticState`).
    pub static_state: String,
    /// The signature counter and flags, moved by every sign-in (`DynamicState`).
    pub dynamic_state: String,
    /// How the key talks to the browser (`AuthTransports`).
    pub transports: String,
    pub name: String,
    /// Epoch seconds.
    pub created_at: u64,
    pub last_used_at: Option<u64>,
}

/// A user's security keys and the registration under way, kept as one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRing {
    /// The user's WebAuthn user handle (random, made with the first registration), which every
    /// key of theirs is bound to (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[serde(default)]
    pub keys: Vec<SecurityKey>,
    /// The registration under way: the library's server state (its challenge and expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

/// Why a ceremony failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum U2fError {
    /// No registration (or sign-in) under way, or it expired: start again.
    #[error("no security key ceremony is under way")]
    NoCeremony,
    /// The answer did not verify (signature, challenge, origin, relying party, user presence,
    /// attestation): the reason is for logs, never for the caller.
    #[error("the security key's answer did not verify: {0}")]
    NotVerified(String),
    /// The key's signature counter did not move forward: a clone of it signed.
    #[error("security key {0} answered with a signature counter that did not move forward")]
    ClonedKey(String),
    /// The credential is one of the user's keys already.
    #[error("this security key is registered already")]
    AlreadyRegistered,
    /// The user holds [`MAX_KEYS`] keys.
    #[error("at most {MAX_KEYS} security keys")]
    TooMany,
    /// The relying party id is not a domain.
    #[error("the relying party id is not a domain: {0}")]
    RelyingParty(String),
    /// A kept state did not decode, or a new one did not encode: a fault of the API's.
    #[error("security keys: {0}")]
    Internal(String),
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

fn decode(text: &str) -> Result<Vec<u8>, U2fError> {
    b64()
        .decode(text)
        .map_err(|_| U2fError::Internal("a kept state is not base64url".into()))
}

/// A kept user handle's 16 bytes.
fn handle_bytes(text: &str) -> Result<[u8; 16], U2fError> {
    decode(text)?
        .try_into()
        .map_err(|_| U2fError::Internal("the kept user handle is not 16 bytes".into()))
}

fn rp(rp_id: &str) -> Result<RpId, U2fError> {
    AsciiDomain::try_from(rp_id.to_owned())
        .map(RpId::Domain)
        .map_err(|_| U2fError::RelyingParty(rp_id.to_string()))
}

/// The origin in a response's `clientDataJSON`, if the relying party may be asked from it, by
/// Cognito's rule for passkeys: the RP ID's own host or a subdomain over https, or plain http
/// on localhost. The library then checks the response against exactly this origin.
fn origin_of(credential: &serde_json::Value, rp_id: &str) -> Result<String, U2fError> {
    let refused = |why: &str| U2fError::NotVerified(why.to_string());
    let text = credential["response"]["clientDataJSON"]
        .as_str()
        .ok_or_else(|| refused("no clientDataJSON"))?;
    let bytes = b64()
        .decode(text.trim_end_matches('='))
        .map_err(|_| refused("clientDataJSON is not base64url"))?;
    let data: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| refused("clientDataJSON is not JSON"))?;
    let origin = data["origin"]
        .as_str()
        .ok_or_else(|| refused("no origin"))?;
    let url = url::Url::parse(origin).map_err(|_| refused("the origin is not a URL"))?;
    let host = url.host_str().unwrap_or_default();
    let same_site = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    let secure = url.scheme() == "https" || (url.scheme() == "http" && host == "localhost");
    if !same_site || !secure {
        return Err(refused("the origin is not the relying party's"));
    }
    Ok(origin.to_string())
}

/// Starts registering a key for `user`: the creation options for
/// `navigator.credentials.create()` (a roaming key, no resident key, user verification
/// discouraged, the user's keys excluded), the ceremony kept in `ring.pending` (replacing one
/// under way).
pub fn start_registration(
    rp_id: &str,
    user: &UserId,
    ring: &mut KeyRing,
) -> Result<serde_json::Value, U2fError> {
    if ring.keys.len() >= MAX_KEYS {
        return Err(U2fError::TooMany);
    }
    let rp = rp(rp_id)?;
    let handle = match &ring.handle {
        Some(kept) => UserHandle16::decode(handle_bytes(kept)?)
            .map_err(|_| U2fError::Internal("the kept user handle is not one".into()))?,
        None => UserHandle16::new(),
    };
    let name = Username::try_from(user.as_str())
        .map_err(|_| U2fError::NotVerified("the username is not a WebAuthn user name".into()))?;
    let exclude = ring
        .keys
        .iter()
        .map(descriptor)
        .collect::<Result<Vec<_>, _>>()?;
    let mut options = PublicKeyCredentialCreationOptions::second_factor(
        &rp,
        PublicKeyCredentialUserEntity {
            name,
            id: &handle,
            display_name: None,
        },
        exclude,
    );
    options.authenticator_selection.authenticator_attachment =
        AuthenticatorAttachmentReq::CrossPlatform(CrossPlatformHint::SecurityKey);
    let (server, client) = options
        .start_ceremony()
        .map_err(|e| U2fError::Internal(format!("the options: {e}")))?;
    let (client, state) = started(&client, server.encode())?;
    let handle = handle
        .encode()
        .map_err(|e| U2fError::Internal(format!("the user handle did not encode: {e:?}")))?;
    ring.handle = Some(b64().encode(handle));
    ring.pending = Some(state);
    Ok(client)
}

/// A started ceremony's two halves: the options for the browser as JSON, and the state the
/// API keeps (base64url of the library's encoding).
fn started<E: std::fmt::Debug>(
    client: &impl Serialize,
    state: Result<Vec<u8>, E>,
) -> Result<(serde_json::Value, String), U2fError> {
    let client = serde_json::to_value(client)
        .map_err(|e| U2fError::Internal(format!("the options did not serialize: {e}")))?;
    let state =
        state.map_err(|e| U2fError::Internal(format!("the ceremony did not encode: {e:?}")))?;
    Ok((client, b64().encode(state)))
}

fn descriptor(key: &SecurityKey) -> Result<PublicKeyCredentialDescriptor<Vec<u8>>, U2fError> {
    let id = CredentialId::decode(decode(&key.credential_id)?)
        .map_err(|_| U2fError::Internal("a kept credential id is not one".into()))?;
    let transports = decode(&key.transports)?
        .first()
        .and_then(|t| AuthTransports::decode(*t).ok())
        .ok_or_else(|| U2fError::Internal("a kept key's transports are not".into()))?;
    Ok(PublicKeyCredentialDescriptor { id, transports })
}

/// Completes the registration under way in `ring` with the browser's
/// `RegistrationResponseJSON`: verified against the kept challenge (spent whatever the
/// outcome), the relying party and the origin; the key is added as `name`. Returns its
/// `u2fID`.
pub fn finish_registration(
    rp_id: &str,
    ring: &mut KeyRing,
    credential: &serde_json::Value,
    name: &str,
    now: u64,
) -> Result<String, U2fError> {
    let pending = ring.pending.take().ok_or(U2fError::NoCeremony)?;
    let server = RegistrationServerState::<16>::decode(decode(&pending)?.as_slice())
        .map_err(|_| U2fError::NoCeremony)?;
    let rp = rp(rp_id)?;
    let origin = origin_of(credential, rp_id)?;
    let RegistrationRelaxed(registration) = serde_json::from_value(credential.clone())
        .map_err(|e| U2fError::NotVerified(format!("not a RegistrationResponseJSON: {e}")))?;
    let allowed = [origin.as_str()];
    let options = RegistrationVerificationOptions::<&str, &str> {
        allowed_origins: &allowed,
        ..RegistrationVerificationOptions::default()
    };
    let registered = server
        .verify(&rp, &registration, &options)
        .map_err(|e| U2fError::NotVerified(e.to_string()))?;
    let (id, transports, _, static_state, dynamic_state, _) = registered.as_parts();
    let credential_id = b64().encode(id.as_ref());
    if ring.keys.iter().any(|k| k.credential_id == credential_id) {
        return Err(U2fError::AlreadyRegistered);
    }
    if ring.keys.len() >= MAX_KEYS {
        return Err(U2fError::TooMany);
    }
    let encode_err = |what: &str| U2fError::Internal(format!("the {what} did not encode"));
    let key = SecurityKey {
        u2f_id: random_id()?,
        credential_id,
        static_state: b64().encode(static_state.encode().map_err(|_| encode_err("key"))?),
        dynamic_state: b64().encode(dynamic_state.encode().map_err(|_| encode_err("counter"))?),
        transports: b64().encode([transports.encode().map_err(|_| encode_err("transports"))?]),
        name: name.to_string(),
        created_at: now,
        last_used_at: None,
    };
    let u2f_id = key.u2f_id.clone();
    ring.keys.push(key);
    Ok(u2f_id)
}

/// A random id for a key (base64url of 16 bytes from the OS generator).
fn random_id() -> Result<String, U2fError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| U2fError::Internal(format!("no randomness for an id: {e}")))?;
    Ok(b64().encode(bytes))
}

/// Starts a sign-in's second step for a user with keys: the request options for
/// `navigator.credentials.get()` (the user's keys allowed, user verification discouraged), and
/// the ceremony's state to keep until the answer.
pub fn start_sign_in(rp_id: &str, ring: &KeyRing) -> Result<(serde_json::Value, String), U2fError> {
    let rp = rp(rp_id)?;
    let mut allowed = AllowedCredentials::with_capacity(ring.keys.len());
    for key in &ring.keys {
        allowed.push(AllowedCredential::from(descriptor(key)?));
    }
    let options = NonDiscoverableCredentialRequestOptions::second_factor(&rp, allowed)
        .map_err(|_| U2fError::NoCeremony)?;
    let (server, client) = options
        .start_ceremony()
        .map_err(|e| U2fError::Internal(format!("the options: {e}")))?;
    started(&client, server.encode())
}

/// Verifies the browser's `AuthenticationResponseJSON` against the kept ceremony `state`:
/// one of the user's keys, the challenge, the relying party, the origin, the user's touch and
/// the signature, and a counter that moved forward (else [`U2fError::ClonedKey`]). The key's
/// counter and last use are moved in `ring`; returns its `u2fID`.
pub fn finish_sign_in(
    rp_id: &str,
    ring: &mut KeyRing,
    state: &str,
    credential: &serde_json::Value,
    now: u64,
) -> Result<String, U2fError> {
    let server = NonDiscoverableAuthenticationServerState::decode(decode(state)?.as_slice())
        .map_err(|_| U2fError::NoCeremony)?;
    let rp = rp(rp_id)?;
    let origin = origin_of(credential, rp_id)?;
    let handle = UserHandle16::decode(handle_bytes(
        ring.handle.as_deref().ok_or(U2fError::NoCeremony)?,
    )?)
    .map_err(|_| U2fError::Internal("the kept user handle is not one".into()))?;
    let authentication: NonDiscoverableAuthenticationRelaxed16 =
        serde_json::from_value(credential.clone()).map_err(|e| {
            U2fError::NotVerified(format!("not an AuthenticationResponseJSON: {e}"))
        })?;
    let authentication = authentication.0;
    let raw_id = b64().encode(authentication.raw_id().as_ref());
    let index = ring
        .keys
        .iter()
        .position(|k| k.credential_id == raw_id)
        .ok_or_else(|| U2fError::NotVerified("not one of the user's keys".into()))?;
    let key = &ring.keys[index];
    let id_bytes = decode(&key.credential_id)?;
    let static_bytes = decode(&key.static_state)?;
    let dynamic_bytes: [u8; 7] = decode(&key.dynamic_state)?
        .try_into()
        .map_err(|_| U2fError::Internal("a kept counter is not one".into()))?;
    let kept = |what: &str| U2fError::Internal(format!("a kept {what} is not one"));
    let mut cred = AuthenticatedCredential::new(
        CredentialId::decode(id_bytes.as_slice()).map_err(|_| kept("credential id"))?,
        &handle,
        StaticState::decode(static_bytes.as_slice()).map_err(|_| kept("public key"))?,
        DynamicState::decode(dynamic_bytes).map_err(|_| kept("counter"))?,
    )
    .map_err(|_| kept("credential"))?;
    let allowed = [origin.as_str()];
    let options = AuthenticationVerificationOptions::<&str, &str> {
        allowed_origins: &allowed,
        sig_counter_enforcement: SignatureCounterEnforcement::Fail,
        ..AuthenticationVerificationOptions::default()
    };
    match server.verify(&rp, &authentication, &mut cred, &options) {
        Ok(_) => {}
        Err(AuthCeremonyErr::SignatureCounter) => {
            return Err(U2fError::ClonedKey(key.u2f_id.clone()));
        }
        Err(e) => return Err(U2fError::NotVerified(e.to_string())),
    }
    let moved = cred
        .dynamic_state()
        .encode()
        .map_err(|_| U2fError::Internal("the counter did not encode".into()))?;
    let key = &mut ring.keys[index];
    key.dynamic_state = b64().encode(moved);
    key.last_used_at = Some(now);
    Ok(key.u2f_id.clone())
}
