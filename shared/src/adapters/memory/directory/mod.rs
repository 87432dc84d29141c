//! A Cognito user pool in memory: users with passwords and statuses, the pool's password
//! policy, and faults a test can inject.

mod contacts;
mod factors;
mod identity_links;
mod passkeys;
mod passwords;
mod sign_in;
mod users;

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use crate::{
    domain::directory::{
        AuthResult, Challenge, CodeDelivery, Contact, DirectoryError, DirectoryUser, Factor,
        MfaMode, NewUser, Passkey, PasswordPolicy, Tokens, UserPage, canonical_by_lookup,
    },
    domain::tenant::Tenant,
    domain::user_id::UserId,
};

/// A user of the in-memory directory.
#[derive(Debug, Clone)]
pub struct MemUser {
    pub password: String,
    pub enabled: bool,
    /// Cognito's `UserStatus`: `CONFIRMED`, `FORCE_CHANGE_PASSWORD`, `RESET_REQUIRED`, `UNCONFIRMED`.
    pub status: &'static str,
    /// Sign-ins are asked for a code (`SOFTWARE_TOKEN_MFA`).
    pub mfa: bool,
    /// Attributes beyond the username (`email_verified`, `phone_number_verified`, …).
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The second factors turned on, and the preferred one.
    pub factors: Vec<Factor>,
    pub preferred: Option<Factor>,
    /// A TOTP authenticator was verified (`confirm_totp`), so TOTP may be turned on.
    pub totp_verified: bool,
}

impl MemUser {
    pub fn confirmed(password: &str) -> Self {
        Self {
            password: password.into(),
            enabled: true,
            status: "CONFIRMED",
            mfa: false,
            attributes: Default::default(),
            factors: vec![],
            preferred: None,
            totp_verified: false,
        }
    }
}

/// Errors a test wants the next directory call to fail with.
pub type Fault = fn() -> DirectoryError;

#[derive(Default)]
pub struct InMemoryDirectory {
    pub users: Mutex<HashMap<String, MemUser>>,
    pub policy: PasswordPolicy,
    pub calls: AtomicUsize,
    pub fault: Mutex<Option<Fault>>,
    /// Makes `global_sign_out` alone fail as unavailable (a lock written, its sign-out not).
    pub sign_out_fails: std::sync::atomic::AtomicBool,
    pub sign_outs: AtomicUsize,
    /// How long each call takes, so that concurrent requests really overlap.
    pub latency: Duration,
    /// The pool requires a second factor (`MfaConfiguration=ON`); else it is `OPTIONAL`.
    pub mfa_required: std::sync::atomic::AtomicBool,
    /// Users with a TOTP authenticator started (`start_totp`) and not yet verified: as
    /// Cognito, a code is checked only against an authenticator that was started.
    pub pending_totp: Mutex<std::collections::HashSet<String>>,
    /// The challenge of each user's passkey registration under way (`start_passkey`).
    pub pending_passkey: Mutex<HashMap<String, String>>,
    /// Passkeys registered, by user (`complete_passkey`).
    pub passkeys: Mutex<HashMap<String, Vec<Passkey>>>,
}

impl InMemoryDirectory {
    pub const MFA_CODE: &'static str = "123456";
    /// The secret every in-memory TOTP authenticator gets.
    pub const TOTP_SECRET: &'static str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    pub fn with_user(user: &str, u: MemUser) -> Self {
        let d = Self::default();
        d.add(user, u);
        d
    }

    pub fn add(&self, user: &str, u: MemUser) {
        if let Ok(mut users) = self.users.lock() {
            users.insert(user.to_ascii_lowercase(), u);
        }
    }

    fn update(&self, user: &UserId, f: impl FnOnce(&mut MemUser)) -> Result<(), DirectoryError> {
        let mut users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        f(users
            .get_mut(user.as_str())
            .ok_or(DirectoryError::UserNotFound)?);
        Ok(())
    }

    fn store_password(&self, user: &str, password: &str) {
        if let Ok(mut users) = self.users.lock()
            && let Some(u) = users.get_mut(user)
        {
            u.password = password.into();
            u.status = "CONFIRMED";
        }
    }

    pub fn fail_with(&self, fault: Fault) {
        if let Ok(mut f) = self.fault.lock() {
            *f = Some(fault);
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn enter(&self) -> Result<(), DirectoryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        match self.fault.lock().ok().and_then(|f| *f) {
            Some(fault) => Err(fault()),
            None => Ok(()),
        }
    }

    fn user(&self, user: &UserId) -> Result<MemUser, DirectoryError> {
        self.users
            .lock()
            .ok()
            .and_then(|u| u.get(user.as_str()).cloned())
            .ok_or(DirectoryError::UserNotFound)
    }

    fn tokens(user: &UserId) -> AuthResult {
        AuthResult {
            challenge_name: None,
            session: None,
            authentication_result: Some(Tokens {
                access_token: format!("access-{user}"),
                id_token: Some(format!("id-{user}")),
                refresh_token: Some(format!("refresh-{user}")),
                expires_in: 3600,
                token_type: "Bearer".into(),
            }),
            credential_request_options: None,
        }
    }

    fn challenge(name: &str, user: &UserId) -> AuthResult {
        AuthResult {
            challenge_name: Some(name.into()),
            session: Some(format!("session-{user}-{name}")),
            authentication_result: None,
            credential_request_options: None,
        }
    }
}

/// The access token a refresh issues for `user`: signed with the test key, valid for an hour,
/// minted once per process. RSA signing takes milliseconds, which is Cognito's time, not the
/// handler's, and would swamp what the benchmark's in-memory table measures.
fn refreshed_access_token(user: &UserId) -> String {
    static MINTED: std::sync::OnceLock<Mutex<HashMap<String, String>>> = std::sync::OnceLock::new();
    let minted = MINTED.get_or_init(Mutex::default);
    if let Some(token) = minted
        .lock()
        .ok()
        .and_then(|m| m.get(user.as_str()).cloned())
    {
        return token;
    }
    let token = crate::testing::access_token(user.as_str(), &[], 3600);
    if let Ok(mut m) = minted.lock() {
        m.insert(user.as_str().to_string(), token.clone());
    }
    token
}

/// The user of an in-memory token (`access-<user>`), or of a signed test token the verifier
/// checked.
fn token_user(access_token: &str) -> Result<String, DirectoryError> {
    let signed = jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(access_token)
        .ok()
        .and_then(|c| c["username"].as_str().map(str::to_ascii_lowercase));
    access_token
        .strip_prefix("access-")
        .map(str::to_string)
        .or(signed)
        .ok_or(DirectoryError::NotAuthorized)
}
