//! A Cognito user pool in memory: users with passwords and statuses, the pool's password
//! policy, and faults a test can inject.

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
        AuthResult, Challenge, CodeDelivery, Contact, Directory, DirectoryError, DirectoryUser,
        Factor, MfaMode, NewUser, Passkey, PasswordPolicy, Tokens, UserPage, canonical_by_lookup,
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

impl Directory for InMemoryDirectory {
    async fn password_auth(
        &self,
        _: &Tenant,
        user: &UserId,
        password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        let u = self.user(user)?;
        if u.password != password {
            return Err(DirectoryError::NotAuthorized);
        }
        if !u.enabled {
            return Err(DirectoryError::UserDisabled);
        }
        match u.status {
            "FORCE_CHANGE_PASSWORD" => Ok(Self::challenge("NEW_PASSWORD_REQUIRED", user)),
            "RESET_REQUIRED" => Err(DirectoryError::PasswordResetRequired),
            "UNCONFIRMED" => Err(DirectoryError::UserNotConfirmed),
            _ if u.mfa => Ok(Self::challenge("SOFTWARE_TOKEN_MFA", user)),
            _ => Ok(Self::tokens(user)),
        }
    }

    async fn refresh(
        &self,
        _: &Tenant,
        user: &UserId,
        refresh_token: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        let u = self.user(user).map_err(|_| DirectoryError::NotAuthorized)?;
        if refresh_token != format!("refresh-{user}") || !u.enabled {
            return Err(DirectoryError::NotAuthorized);
        }
        let mut r = Self::tokens(user);
        if let Some(t) = r.authentication_result.as_mut() {
            t.refresh_token = None;
            // as Cognito's: a signed token naming the user (the refresh route verifies it)
            t.access_token = refreshed_access_token(user);
        }
        Ok(r)
    }

    async fn complete_new_password(
        &self,
        _: &Tenant,
        user: &UserId,
        session: &str,
        new_password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        if session != format!("session-{user}-NEW_PASSWORD_REQUIRED") {
            return Err(DirectoryError::NotAuthorized);
        }
        if self.policy.violation(new_password).is_some() {
            return Err(DirectoryError::InvalidPassword(None));
        }
        if let Ok(mut users) = self.users.lock()
            && let Some(u) = users.get_mut(user.as_str())
        {
            u.password = new_password.into();
            u.status = "CONFIRMED";
        }
        Ok(Self::tokens(user))
    }

    async fn answer_challenge(
        &self,
        _: &Tenant,
        user: &UserId,
        challenge: Challenge,
        session: &str,
        code: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        if session != format!("session-{user}-{}", challenge.name()) {
            return Err(DirectoryError::NotAuthorized);
        }
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        Ok(Self::tokens(user))
    }

    async fn find_user(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.enter().await?;
        // Cognito also finds a user by `sub`; here every user's sub is `sub-<username>`
        let user = match user.as_str().strip_prefix("sub-").map(UserId::of_cognito) {
            Some(Some(named)) if self.user(&named).is_ok() => named,
            _ => user.clone(),
        };
        let user = &user;
        Ok(self.user(user).ok().map(|u| DirectoryUser {
            username: user.as_str().to_string(),
            sub: Some(format!("sub-{user}")),
            status: u.status.to_string(),
            enabled: u.enabled,
            attributes: u.attributes.clone(),
            factors: u.factors.clone(),
            preferred_factor: u.preferred,
            ..DirectoryUser::default()
        }))
    }

    /// As the Cognito adapter does in a pool without alias attributes: only a name shaped like
    /// a sub (`sub-<username>` here) is looked up.
    async fn canonical_username(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<UserId, DirectoryError> {
        if !user.as_str().starts_with("sub-") {
            return Ok(user.clone());
        }
        canonical_by_lookup(self, tenant, user).await
    }

    async fn global_sign_out(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        if self.sign_out_fails.load(Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable("sign-out failed".into()));
        }
        self.user(user)?;
        self.sign_outs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn forgot_password(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<CodeDelivery, DirectoryError> {
        self.enter().await?;
        self.user(user)?;
        Ok(CodeDelivery {
            destination: Some("d***@e***".into()),
            delivery_medium: Some("EMAIL".into()),
            attribute_name: Some("email".into()),
        })
    }

    async fn confirm_forgot_password(
        &self,
        _: &Tenant,
        user: &UserId,
        code: &str,
        new_password: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map_err(|_| DirectoryError::CodeMismatch)?;
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        self.store_password(user.as_str(), new_password);
        Ok(())
    }

    async fn change_password(
        &self,
        _: &Tenant,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        let user = token_user(access_token)?;
        let user = user.as_str();
        let current = self
            .users
            .lock()
            .ok()
            .and_then(|u| u.get(user).map(|u| u.password.clone()));
        if current.as_deref() != Some(previous) {
            return Err(DirectoryError::NotAuthorized);
        }
        self.store_password(user, proposed);
        Ok(())
    }

    async fn send_contact_code(
        &self,
        _: &Tenant,
        access_token: &str,
        contact: Contact,
    ) -> Result<CodeDelivery, DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Ok(CodeDelivery {
            destination: Some("d***@e***".into()),
            delivery_medium: Some(
                match contact {
                    Contact::Email => "EMAIL",
                    Contact::Phone => "SMS",
                }
                .into(),
            ),
            attribute_name: Some(contact.attribute().into()),
        })
    }

    /// The in-memory code is always [`Self::MFA_CODE`].
    async fn verify_contact(
        &self,
        _: &Tenant,
        access_token: &str,
        _: Contact,
        code: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        if code == Self::MFA_CODE {
            Ok(())
        } else {
            Err(DirectoryError::CodeMismatch)
        }
    }

    async fn start_totp(&self, _: &Tenant, access_token: &str) -> Result<String, DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Ok(Self::TOTP_SECRET.into())
    }

    /// The in-memory code is always [`Self::MFA_CODE`].
    async fn confirm_totp(
        &self,
        _: &Tenant,
        access_token: &str,
        code: &str,
        _: Option<&str>,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        let user = token_user(access_token)?;
        let user = UserId::of_cognito(&user).ok_or(DirectoryError::NotAuthorized)?;
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        self.update(&user, |u| u.totp_verified = true)
    }

    /// As Cognito: TOTP turns on only once verified; turning off the preferred factor, or
    /// asking for another as preferred, leaves none preferred.
    async fn set_factor(
        &self,
        _: &Tenant,
        user: &UserId,
        factor: Factor,
        enabled: bool,
        preferred: bool,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        if factor == Factor::Totp && enabled && !self.user(user)?.totp_verified {
            return Err(DirectoryError::InvalidParameter);
        }
        self.update(user, |u| {
            u.factors.retain(|f| *f != factor);
            if enabled {
                u.factors.push(factor);
                u.factors.sort();
            }
            if enabled && preferred {
                u.preferred = Some(factor);
            } else if u.preferred == Some(factor) {
                u.preferred = None;
            }
            u.mfa = !u.factors.is_empty();
        })
    }

    /// Passkeys are proven on the emulator (real WebAuthn verification); in memory they are
    /// only as far as the handler tests need: a fixed challenge, any credential with an id.
    async fn start_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<serde_json::Value, DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Ok(serde_json::json!({"challenge": "in-memory", "rp": {"id": "localhost"}}))
    }

    async fn complete_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        credential["id"]
            .as_str()
            .map(|_| ())
            .ok_or(DirectoryError::InvalidParameter)
    }

    async fn list_passkeys(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<Vec<Passkey>, DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Ok(vec![])
    }

    async fn delete_passkey(
        &self,
        _: &Tenant,
        access_token: &str,
        _: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        token_user(access_token)?;
        Err(DirectoryError::ResourceNotFound)
    }

    async fn passkey_auth(&self, _: &Tenant, _: &UserId) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        Err(DirectoryError::NotAuthorized)
    }

    /// No pool triggers here to check a code (the `custom-auth` function's tests and the
    /// end-to-end tests do): an existing, enabled user signs in with any answer naming a
    /// purpose, anything else is refused.
    async fn code_auth(
        &self,
        _: &Tenant,
        user: &UserId,
        answer: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        let u = self.user(user).map_err(|_| DirectoryError::NotAuthorized)?;
        if !u.enabled {
            return Err(DirectoryError::UserDisabled);
        }
        if crate::domain::lock::CodePurpose::of_answer(answer).is_none() {
            return Err(DirectoryError::NotAuthorized);
        }
        Ok(Self::tokens(user))
    }

    async fn revoke_refresh_token(&self, _: &Tenant, _: &str) -> Result<(), DirectoryError> {
        self.enter().await
    }

    async fn offers_passkeys(&self, _: &Tenant) -> Result<bool, DirectoryError> {
        Ok(false)
    }

    /// The local pools' relying party, as the test command configures them (a configuration
    /// read, cached by the Cognito adapter: not counted as a call).
    async fn passkey_relying_party(
        &self,
        _: &Tenant,
    ) -> Result<Option<crate::domain::directory::RelyingParty>, DirectoryError> {
        Ok(Some(crate::domain::directory::RelyingParty {
            id: "localhost".into(),
            user_verification: "required".into(),
        }))
    }

    async fn mfa_mode(&self, _: &Tenant) -> Result<MfaMode, DirectoryError> {
        Ok(if self.mfa_required.load(Ordering::SeqCst) {
            MfaMode::On
        } else {
            MfaMode::Optional
        })
    }

    async fn admin_reset_password(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| u.status = "RESET_REQUIRED")
    }

    async fn set_enabled(
        &self,
        _: &Tenant,
        user: &UserId,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| u.enabled = enabled)
    }

    async fn resend_confirmation_code(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<CodeDelivery, DirectoryError> {
        self.enter().await?;
        self.user(user)?;
        Ok(CodeDelivery {
            destination: Some("d***@e***".into()),
            delivery_medium: Some("EMAIL".into()),
            attribute_name: Some("email".into()),
        })
    }

    async fn resend_invitation(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map(|_| ())
    }

    async fn create_user(
        &self,
        _: &Tenant,
        new: &NewUser,
    ) -> Result<DirectoryUser, DirectoryError> {
        self.enter().await?;
        let mut users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        if users.contains_key(new.username.as_str()) {
            return Err(DirectoryError::Conflict("the user already exists"));
        }
        users.insert(
            new.username.as_str().to_string(),
            MemUser {
                status: "FORCE_CHANGE_PASSWORD",
                attributes: new.attributes.iter().cloned().collect(),
                ..MemUser::confirmed(&new.temporary_password.clone().unwrap_or_default())
            },
        );
        Ok(DirectoryUser {
            username: new.username.as_str().to_string(),
            sub: Some(format!("sub-{}", new.username)),
            status: "FORCE_CHANGE_PASSWORD".into(),
            enabled: true,
            attributes: new.attributes.iter().cloned().collect(),
            ..DirectoryUser::default()
        })
    }

    async fn set_password(
        &self,
        _: &Tenant,
        user: &UserId,
        password: &str,
        permanent: bool,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| {
            u.password = password.into();
            if permanent {
                u.status = "CONFIRMED";
            }
        })
    }

    async fn update_attributes(
        &self,
        _: &Tenant,
        user: &UserId,
        attributes: &[(String, String)],
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| u.attributes.extend(attributes.iter().cloned()))
    }

    async fn exchange_code(
        &self,
        _: &Tenant,
        _: &crate::domain::tenant::Federation,
        _: &str,
        _: &str,
    ) -> Result<Tokens, DirectoryError> {
        self.enter().await?;
        // no pool domain here: the intents are tested on the emulator (tests/tests/idp.rs)
        Err(DirectoryError::NotAuthorized)
    }

    async fn link_identity(
        &self,
        _: &Tenant,
        user: &UserId,
        _: &str,
        _: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map(|_| ())
    }

    async fn unlink_identity(&self, _: &Tenant, _: &str, _: &str) -> Result<(), DirectoryError> {
        self.enter().await
    }

    async fn delete_user(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.users
            .lock()
            .ok()
            .and_then(|mut u| u.remove(user.as_str()))
            .map(|_| ())
            .ok_or(DirectoryError::UserNotFound)
    }

    /// Cognito's one-filter syntax as the API writes it (`name = "value"`, `name ^= "value"`;
    /// `username`, `status` or an attribute), as `ListUsers` applies it.
    async fn list_users(
        &self,
        _: &Tenant,
        filter: Option<&str>,
        limit: i32,
        _: Option<&str>,
    ) -> Result<UserPage, DirectoryError> {
        self.enter().await?;
        let users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        let wanted = match filter {
            None => None,
            Some(f) => {
                let (name, rest) = f.split_once(' ').ok_or(DirectoryError::InvalidParameter)?;
                let (op, value) = rest
                    .split_once(' ')
                    .ok_or(DirectoryError::InvalidParameter)?;
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or(DirectoryError::InvalidParameter)?
                    .replace("\\\"", "\"");
                Some((name.to_string(), op == "^=", value))
            }
        };
        let admits = |n: &String, u: &MemUser| {
            let Some((name, prefix, value)) = &wanted else {
                return true;
            };
            let held = match name.as_str() {
                "username" => Some(n.as_str()),
                "status" | "cognito:user_status" => Some(u.status),
                other => u.attributes.get(other).map(String::as_str),
            };
            held.is_some_and(|h| {
                if *prefix {
                    h.starts_with(value.as_str())
                } else {
                    h == value
                }
            })
        };
        let mut names: Vec<&String> = users
            .iter()
            .filter(|(n, u)| admits(n, u))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        Ok(UserPage {
            users: names
                .into_iter()
                .take(usize::try_from(limit).unwrap_or(0))
                .map(|n| DirectoryUser {
                    username: n.clone(),
                    status: users[n].status.into(),
                    enabled: users[n].enabled,
                    ..DirectoryUser::default()
                })
                .collect(),
            pagination_token: None,
        })
    }

    async fn password_policy(&self, _: &Tenant) -> Result<PasswordPolicy, DirectoryError> {
        Ok(self.policy.clone())
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
