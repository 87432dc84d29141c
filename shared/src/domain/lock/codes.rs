//! One-time codes and flow steps: what a code opens and how it is kept (only its hash), the
//! check every trigger makes of the API's own sign-in, and the short-lived steps of a flow that
//! spans requests.

use std::time::{Duration, SystemTime};

use super::*;

/// What a one-time code opens: a custom sign-in of the user on the tenant's app client (the
/// `custom-auth` triggers check the code), for one purpose. The custom challenge is answered
/// with `purpose:code`, so the trigger reads the one record the purpose names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// An admin's passkey registration code, in its holder's hands: it registers one passkey.
    PasskeyRegistration,
    /// The API itself, for an admin, acting as the user for the calls Cognito offers only
    /// with the user's own token (listing and deleting passkeys). Made and spent within one
    /// request; it also lets that one sign-in through the user's lock (an admin removing the
    /// passkeys of a locked account).
    AdminAccess,
    /// The API itself, for the signed-in user, making the calls Cognito offers only with the
    /// user's own token (a factor, a passkey, a contact's code, the password), since no token
    /// the API hands out carries the scope for them (`shared::session`). Made and spent within
    /// one request; a lockout (never an admin lock) lets it through, as it lets live sessions.
    UserAccess,
}

impl CodePurpose {
    pub const ALL: [Self; 3] = [
        Self::PasskeyRegistration,
        Self::AdminAccess,
        Self::UserAccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasskeyRegistration => "passkey-registration",
            Self::AdminAccess => "admin-access",
            Self::UserAccess => "user-access",
        }
    }

    /// The custom challenge's answer for `code`.
    pub fn answer(self, code: &str) -> String {
        format!("{}:{code}", self.as_str())
    }

    /// The purpose and the code of a custom challenge's answer.
    pub fn of_answer(answer: &str) -> Option<(Self, &str)> {
        let (purpose, code) = answer.split_once(':')?;
        let purpose = Self::ALL.into_iter().find(|p| p.as_str() == purpose)?;
        Some((purpose, code))
    }

    /// How long a code of this purpose holds.
    pub fn lifetime(self) -> Duration {
        match self {
            Self::PasskeyRegistration => Duration::from_secs(60 * 60),
            Self::AdminAccess | Self::UserAccess => Duration::from_secs(60),
        }
    }
}

/// A one-time code, as kept: its SHA-256, never the code itself, until `expires_at` or its
/// use, whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeCode {
    /// Lower-case hex SHA-256 of the code.
    pub code_hash: String,
    /// The account's `sub` when the code was made: a user deleted and made again under the
    /// same name (outside the API, which would have removed the code) is another account.
    pub sub: String,
    /// The app client whose custom sign-in may use it (the tenant's, which only the API can
    /// call: it has a secret).
    pub app_client_id: String,
    /// Epoch seconds after which the code is refused.
    pub expires_at: u64,
    /// RFC 3339 UTC, and the admin's `sub`.
    pub created_at: String,
    pub created_by: String,
}

impl OneTimeCode {
    /// Whether `code` is this link's, unexpired at `now`. The hashes are compared in constant
    /// time.
    pub fn admits(&self, code: &str, now: SystemTime) -> bool {
        if crate::time::epoch_seconds(now) >= self.expires_at {
            return false;
        }
        secret_matches(code, &self.code_hash)
    }

    /// A new code: 256 bits from the operating system's CSPRNG, base64url (43 characters).
    /// Guessing one is hopeless, so wrong codes spend no lockout budget (they would only let
    /// anyone lock a user out).
    pub fn new_code() -> Result<String, StoreError> {
        Self::random_text(43)
    }

    /// `len` base64url characters from the operating system's CSPRNG.
    pub fn random_text(len: usize) -> Result<String, StoreError> {
        use base64::Engine;
        let mut bytes = vec![0u8; len.div_ceil(4) * 3];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::internal(format!("no randomness for a code: {e}")))?;
        let mut text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        text.truncate(len);
        Ok(text)
    }

    /// The hash kept for `code`.
    pub fn hash_of(code: &str) -> String {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(code.as_bytes()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Short-lived state of a flow that spans requests (an identity provider's sign-in), each
/// kind under a key prefix of its own in the account-state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowKind {
    /// A started sign-in, under the SHA-256 of its `state` (what the callback brings back).
    IdpState,
    /// A finished sign-in's outcome, under its intent id, until retrieved.
    IdpIntent,
    /// A retrieved identity that is no user's yet, under its intent id: what lets the holder
    /// of the intent's token link it to their own account.
    IdpLink,
    /// A started passkey sign-in, under the SHA-256 of the session the API handed out for it:
    /// Cognito's own session, which never leaves the API (its length and shape would tell a
    /// real challenge from a decoy).
    PasskeySignIn,
    /// A sign-in waiting for the user's security key, under the SHA-256 of the session the API
    /// handed out: Cognito's tokens, sealed with that session, until the key answers.
    U2fSignIn,
}

impl FlowKind {
    pub const ALL: [Self; 5] = [
        Self::IdpState,
        Self::IdpIntent,
        Self::IdpLink,
        Self::PasskeySignIn,
        Self::U2fSignIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdpState => "idp-state",
            Self::IdpIntent => "idp-intent",
            Self::IdpLink => "idp-link",
            Self::PasskeySignIn => "passkey-sign-in",
            Self::U2fSignIn => "u2f-sign-in",
        }
    }
}

/// One kept flow step: what it holds, the hash of the secret that takes it, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// What the flow keeps, as text (JSON; sealed where it holds tokens).
    pub body: String,
    /// Lower-case hex SHA-256 of the secret whose holder may take it ([`OneTimeCode::hash_of`]).
    pub secret_hash: String,
    /// Epoch seconds after which it is refused.
    pub expires_at: u64,
}

impl FlowRecord {
    /// Whether `secret` is this record's (compared in constant time).
    pub fn opens_with(&self, secret: &str) -> bool {
        secret_matches(secret, &self.secret_hash)
    }

    pub fn expired_at(&self, now: SystemTime) -> bool {
        crate::time::epoch_seconds(now) >= self.expires_at
    }
}

/// The `ClientMetadata` key under which the API's own custom sign-in carries its answer
/// (`purpose:code`) to the pool's triggers: Pre Authentication (as `validationData`) and pre
/// token generation read it to tell the API's one sign-in from any other of the same user.
pub const API_SESSION: &str = "apiSession";

/// Whether `answer` (`purpose:code`) is a live one-time code of the user's, made for `client`
/// and the account `sub`: the purpose it opens, or `None`. What the custom-auth verify trigger,
/// the pre token generation trigger and the Pre Authentication trigger each check.
pub async fn code_admits<L: Codes + ?Sized>(
    locks: &L,
    pool_id: &str,
    user: &UserId,
    client: &str,
    sub: Option<&str>,
    answer: &str,
    now: SystemTime,
) -> Result<Option<CodePurpose>, StoreError> {
    let Some((purpose, code)) = CodePurpose::of_answer(answer) else {
        return Ok(None);
    };
    if code.is_empty() {
        return Ok(None);
    }
    let kept = locks.one_time_code(purpose, pool_id, user).await?;
    let admitted = kept.is_some_and(|k| {
        k.app_client_id == client && Some(k.sub.as_str()) == sub && k.admits(code, now)
    });
    Ok(admitted.then_some(purpose))
}

/// Whether `secret` hashes to `hash` ([`OneTimeCode::hash_of`]),
/// compared in constant time.
pub fn secret_matches(secret: &str, hash: &str) -> bool {
    let given = OneTimeCode::hash_of(secret);
    given.len() == hash.len()
        && given
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}
