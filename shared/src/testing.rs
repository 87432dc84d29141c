//! In-memory ports for tests (feature `test-support`): a directory of users with passwords,
//! a lock map, a tenant map. Each counts the calls that reach it, so tests can assert how many
//! backend round trips a route makes.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use crate::{
    app::{App, Ports},
    config::Config,
    domain::audit::{AuditLog, Event, EventPage},
    domain::directory::{
        AuthResult, Challenge, CodeDelivery, Directory, DirectoryError, DirectoryUser, NewUser,
        PasswordPolicy, Tokens, UserPage,
    },
    domain::lock::{AccountState, Lock, LockSource, LockStore, Locked, Reservation},
    domain::tenant::{CachedTenants, LockoutPolicy, Tenant, TenantRegistry},
    domain::token::TokenVerifier,
    http::problem::ApiError,
    http::request::{TenantHeaders, UserId},
};

/// The demo tenant as the fixtures' headers name it (`demo` / `DEMO` / `main`).
pub fn tenant() -> Tenant {
    Tenant {
        key: "demo/DEMO/main".into(),
        user_pool_id: "us-east-1_test".into(),
        app_client_id: "test-client".into(),
        admin_group: "admins".into(),
        api_key_ids: vec![],
        lockout: LockoutPolicy::default(),
        hide_account_state: false,
        jwks_url: "http://127.0.0.1:1/us-east-1_test/.well-known/jwks.json".into(),
        issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test".into(),
    }
}

pub fn config() -> Config {
    Config {
        tenants_table: "tenants".into(),
        account_state_table: "account-state".into(),
        audit_table: "audit".into(),
        audit_retention: Duration::from_secs(400 * 86_400),
        body_limit_bytes: Config::DEFAULT_BODY_LIMIT,
        tenant_cache_ttl: Duration::from_secs(60),
        connect_timeout: Duration::from_millis(200),
        attempt_timeout: Duration::from_millis(200),
        operation_timeout: Duration::from_millis(400),
        jwks_cache_ttl: Duration::from_secs(3600),
        forgot_password_floor: Duration::from_millis(50),
    }
}

#[derive(Default)]
pub struct InMemoryTenants {
    pub tenants: Mutex<HashMap<TenantHeaders, Tenant>>,
    pub calls: AtomicUsize,
}

impl InMemoryTenants {
    pub fn with(tenant: Tenant) -> Self {
        let registry = Self::default();
        registry.insert("demo", "DEMO", "main", tenant);
        registry
    }

    pub fn insert(&self, client_id: &str, client_code: &str, database: &str, tenant: Tenant) {
        if let Ok(mut t) = self.tenants.lock() {
            t.insert(
                TenantHeaders {
                    client_id: client_id.into(),
                    client_code: client_code.into(),
                    database: database.into(),
                },
                tenant,
            );
        }
    }
}

impl TenantRegistry for InMemoryTenants {
    async fn find(&self, headers: &TenantHeaders) -> Result<Option<Tenant>, ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .tenants
            .lock()
            .ok()
            .and_then(|t| t.get(headers).cloned()))
    }
}

/// A user of the in-memory directory.
#[derive(Debug, Clone)]
pub struct MemUser {
    pub password: String,
    pub enabled: bool,
    /// Cognito's `UserStatus`: `CONFIRMED`, `FORCE_CHANGE_PASSWORD`, `RESET_REQUIRED`, `UNCONFIRMED`.
    pub status: &'static str,
    pub mfa: bool,
}

impl MemUser {
    pub fn confirmed(password: &str) -> Self {
        Self {
            password: password.into(),
            enabled: true,
            status: "CONFIRMED",
            mfa: false,
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
}

impl InMemoryDirectory {
    pub const MFA_CODE: &'static str = "123456";

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
        }
    }

    fn challenge(name: &str, user: &UserId) -> AuthResult {
        AuthResult {
            challenge_name: Some(name.into()),
            session: Some(format!("session-{user}-{name}")),
            authentication_result: None,
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

    async fn validate_access_token(
        &self,
        _: &Tenant,
        access_token: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        // a signed test token (see `access_token`) was checked by the verifier already
        let Some(user) = access_token.strip_prefix("access-") else {
            return Ok(());
        };
        let u = self.users.lock().ok().and_then(|u| u.get(user).cloned());
        match u {
            Some(u) if u.enabled => Ok(()),
            _ => Err(DirectoryError::NotAuthorized),
        }
    }

    async fn find_user(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.enter().await?;
        Ok(self.user(user).ok().map(|u| DirectoryUser {
            username: user.as_str().to_string(),
            sub: Some(format!("sub-{user}")),
            status: u.status.to_string(),
            enabled: u.enabled,
            ..DirectoryUser::default()
        }))
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
        // an in-memory token (`access-<user>`), or a signed test token the verifier checked
        let signed =
            jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(access_token)
                .ok()
                .and_then(|c| c["username"].as_str().map(str::to_ascii_lowercase));
        let user = access_token
            .strip_prefix("access-")
            .map(str::to_string)
            .or(signed)
            .ok_or(DirectoryError::NotAuthorized)?;
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

    async fn sign_out_everywhere(&self, _: &Tenant, _: &str) -> Result<(), DirectoryError> {
        self.enter().await
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
                password: new.temporary_password.clone().unwrap_or_default(),
                enabled: true,
                status: "FORCE_CHANGE_PASSWORD",
                mfa: false,
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
        _: &[(String, String)],
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map(|_| ())
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

    async fn list_users(
        &self,
        _: &Tenant,
        _: Option<&str>,
        limit: i32,
        _: Option<&str>,
    ) -> Result<UserPage, DirectoryError> {
        self.enter().await?;
        let users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        let mut names: Vec<&String> = users.keys().collect();
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

/// One account's state in memory: the same rules as the DynamoDB store, under one mutex.
#[derive(Debug, Clone, Default)]
struct MemAccount {
    lock: Option<Lock>,
    attempts: u32,
}

#[derive(Default)]
pub struct InMemoryLocks {
    accounts: Mutex<HashMap<String, MemAccount>>,
    pub calls: AtomicUsize,
    pub unavailable: std::sync::atomic::AtomicBool,
}

impl InMemoryLocks {
    /// Puts a lock in place directly, as a test fixture.
    pub fn lock_now(&self, user: &str, lock: Lock) {
        if let Ok(mut a) = self.accounts.lock() {
            a.entry(user.to_ascii_lowercase()).or_default().lock = Some(lock);
        }
    }

    pub fn attempts(&self, user: &str) -> u32 {
        self.accounts
            .lock()
            .ok()
            .and_then(|a| a.get(&user.to_ascii_lowercase()).map(|m| m.attempts))
            .unwrap_or(0)
    }

    fn with<T>(&self, user: &UserId, f: impl FnOnce(&mut MemAccount) -> T) -> Result<T, ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(ApiError::DependencyUnavailable(
                "in-memory lock store is down".into(),
            ));
        }
        let mut accounts = self
            .accounts
            .lock()
            .map_err(|_| ApiError::Internal("poisoned".into()))?;
        Ok(f(accounts.entry(user.as_str().to_string()).or_default()))
    }
}

impl LockStore for InMemoryLocks {
    async fn state(&self, _: &str, user: &UserId) -> Result<AccountState, ApiError> {
        let now = SystemTime::now();
        self.with(user, |a| {
            let lock = a.lock.clone().filter(|l| l.holds_at(now));
            let expired_lockout = a
                .lock
                .as_ref()
                .is_some_and(|l| l.source == LockSource::LockoutPolicy)
                && lock.is_none();
            AccountState {
                lock,
                failed_attempts: if expired_lockout { 0 } else { a.attempts },
            }
        })
    }

    async fn reserve_attempt(
        &self,
        _: &str,
        user: &UserId,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Reservation, ApiError> {
        self.with(user, |a| {
            match &a.lock {
                Some(l) if l.holds_at(now) => return Reservation::Locked(l.clone()),
                Some(_) => {
                    a.lock = None;
                    a.attempts = 0;
                }
                None => {}
            }
            if a.attempts >= policy.max_password_attempts {
                return Reservation::Exhausted;
            }
            a.attempts += 1;
            Reservation::Granted {
                attempt: a.attempts,
            }
        })
    }

    async fn record_failure(
        &self,
        _: &str,
        user: &UserId,
        attempt: u32,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Option<Lock>, ApiError> {
        self.with(user, |a| {
            if attempt < policy.max_password_attempts
                || a.lock.as_ref().is_some_and(|l| l.holds_at(now))
            {
                return None;
            }
            let lock = Lock::lockout(policy, now);
            a.lock = Some(lock.clone());
            Some(lock)
        })
    }

    async fn record_success(&self, _: &str, user: &UserId) -> Result<(), ApiError> {
        self.with(user, |a| a.attempts = 0)
    }

    async fn release_attempt(&self, _: &str, user: &UserId) -> Result<(), ApiError> {
        self.with(user, |a| a.attempts = a.attempts.saturating_sub(1))
    }

    async fn lock(
        &self,
        _: &str,
        user: &UserId,
        lock: Lock,
        now: SystemTime,
    ) -> Result<Locked, ApiError> {
        self.with(user, |a| match &a.lock {
            Some(existing) if existing.holds_at(now) => Locked {
                lock: existing.clone(),
                created: false,
                failed_attempts: a.attempts,
            },
            _ => {
                a.lock = Some(lock.clone());
                Locked {
                    lock,
                    created: true,
                    failed_attempts: a.attempts,
                }
            }
        })
    }

    async fn clear_lockout(&self, _: &str, user: &UserId) -> Result<(), ApiError> {
        self.with(user, |a| {
            a.attempts = 0;
            if a.lock
                .as_ref()
                .is_some_and(|l| l.source == LockSource::LockoutPolicy)
            {
                a.lock = None;
            }
        })
    }

    async fn states(
        &self,
        pool: &str,
        users: &[UserId],
    ) -> Result<HashMap<String, AccountState>, ApiError> {
        let mut out = HashMap::new();
        for u in users {
            out.insert(u.as_str().to_string(), self.state(pool, u).await?);
        }
        Ok(out)
    }

    async fn forget(&self, _: &str, user: &UserId) -> Result<(), ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut a) = self.accounts.lock() {
            a.remove(user.as_str());
        }
        Ok(())
    }

    async fn unlock(&self, _: &str, user: &UserId) -> Result<(), ApiError> {
        self.with(user, |a| {
            a.lock = None;
            a.attempts = 0;
        })
    }
}

/// Audit entries in memory, in the order they were appended.
#[derive(Default)]
pub struct InMemoryAudit {
    pub events: Mutex<Vec<Event>>,
}

impl InMemoryAudit {
    /// `(action, outcome)` of every entry, oldest first.
    pub fn actions(&self) -> Vec<(String, String)> {
        self.events
            .lock()
            .map(|e| {
                e.iter()
                    .map(|e| (e.action.clone(), e.outcome.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl AuditLog for InMemoryAudit {
    async fn append(&self, _: &str, event: &Event) -> Result<(), ApiError> {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
        Ok(())
    }

    async fn list(
        &self,
        _: &str,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<EventPage, ApiError> {
        let events = self
            .events
            .lock()
            .map_err(|_| ApiError::Internal("poisoned".into()))?;
        let skip: usize = cursor.map(|c| c.parse().unwrap_or(0)).unwrap_or(0);
        let mine: Vec<Event> = events
            .iter()
            .rev()
            .filter(|e| e.user_id == user.as_str())
            .cloned()
            .collect();
        let page: Vec<Event> = mine
            .iter()
            .skip(skip)
            .take(limit as usize)
            .cloned()
            .collect();
        let next = skip + page.len();
        Ok(EventPage {
            cursor: (next < mine.len()).then(|| next.to_string()),
            events: page,
        })
    }
}

pub struct InMemory;

impl Ports for InMemory {
    type Directory = InMemoryDirectory;
    type Locks = InMemoryLocks;
    type Tenants = InMemoryTenants;
    type Audit = InMemoryAudit;
}

pub type MemApp = App<InMemory>;

/// An app on in-memory ports, serving the demo tenant.
pub fn app(directory: InMemoryDirectory) -> MemApp {
    app_for(tenant(), directory)
}

/// An app on in-memory ports, serving `tenant` under the demo headers.
pub fn app_for(tenant: Tenant, directory: InMemoryDirectory) -> MemApp {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant), config.tenant_cache_ttl),
        directory,
        locks: InMemoryLocks::default(),
        audit: InMemoryAudit::default(),
        tokens: TokenVerifier::new(config.jwks_cache_ttl, config.attempt_timeout),
        config,
    }
}

/// The real Cognito adapter (on a mocked or emulated client); everything else in memory.
pub struct WithCognito;

impl Ports for WithCognito {
    type Directory = crate::adapters::cognito::CognitoDirectory;
    type Locks = InMemoryLocks;
    type Tenants = InMemoryTenants;
    type Audit = InMemoryAudit;
}

/// An app on the given Cognito client, serving the demo tenant, whose token verifier trusts
/// the test signing key (see [`access_token`]).
pub fn cognito_app(client: aws_sdk_cognitoidentityprovider::Client) -> App<WithCognito> {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant()), config.tenant_cache_ttl),
        directory: crate::adapters::cognito::CognitoDirectory::new(client),
        locks: InMemoryLocks::default(),
        audit: InMemoryAudit::default(),
        tokens: test_verifier(&config),
        config,
    }
}

/// The real DynamoDB adapters for locks and audit (on a mocked, emulated or broken client);
/// the directory and the tenant registry in memory.
pub struct WithDynamo;

impl Ports for WithDynamo {
    type Directory = InMemoryDirectory;
    type Locks = crate::adapters::dynamodb::DynamoLocks;
    type Tenants = InMemoryTenants;
    type Audit = crate::adapters::dynamodb::DynamoAudit;
}

/// An app on the given DynamoDB client for locks and audit, serving the demo tenant from
/// memory with `directory`, whose token verifier trusts the test signing key.
pub fn dynamo_app(
    client: aws_sdk_dynamodb::Client,
    directory: InMemoryDirectory,
) -> App<WithDynamo> {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant()), config.tenant_cache_ttl),
        directory,
        locks: crate::adapters::dynamodb::DynamoLocks::new(
            client.clone(),
            &config.account_state_table,
        ),
        audit: crate::adapters::dynamodb::DynamoAudit::new(
            client,
            &config.audit_table,
            config.audit_retention,
        ),
        tokens: test_verifier(&config),
        config,
    }
}

/// A verifier that trusts the test key for the demo tenant's JWKS URL.
#[allow(clippy::expect_used)]
pub fn test_verifier(config: &Config) -> TokenVerifier {
    let jwks = serde_json::from_str(include_str!("../tests/fixtures/test-jwks.json"))
        .expect("the test JWKS parses");
    TokenVerifier::new(config.jwks_cache_ttl, config.attempt_timeout)
        .with_keys(&tenant().jwks_url, jwks)
}

/// An access token of the demo tenant's pool for `username`, signed with the test key,
/// expiring `expires_in` seconds from now (negative: already expired).
#[allow(clippy::expect_used)]
pub fn access_token(username: &str, groups: &[&str], expires_in: i64) -> String {
    let t = tenant();
    let exp = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(0) + expires_in;
    let claims = serde_json::json!({
        "sub": format!("sub-{username}"), "username": username, "client_id": t.app_client_id,
        "token_use": "access", "iss": t.issuer, "cognito:groups": groups, "exp": exp,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_der(include_bytes!(
        "../tests/fixtures/test-signing-key.der"
    ));
    jsonwebtoken::encode(&header, &claims, &key).expect("a signed test token")
}
