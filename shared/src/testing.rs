//! In-memory ports for tests (feature `test-support`): a directory of users with passwords,
//! a lock map, a tenant map. Each counts the calls that reach it, so tests can assert how many
//! backend round trips a route makes.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use crate::{
    app::App,
    config::Config,
    directory::{AuthResult, Challenge, Directory, DirectoryError, PasswordPolicy, Tokens},
    lock::{Lock, LockStore},
    problem::ApiError,
    request::{TenantHeaders, UserId},
    tenant::{CachedTenants, LockoutPolicy, Tenant, TenantRegistry},
    token::TokenVerifier,
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
        body_limit_bytes: Config::DEFAULT_BODY_LIMIT,
        tenant_cache_ttl: Duration::from_secs(60),
        connect_timeout: Duration::from_millis(200),
        attempt_timeout: Duration::from_millis(200),
        operation_timeout: Duration::from_millis(400),
        jwks_cache_ttl: Duration::from_secs(3600),
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

    pub fn fail_with(&self, fault: Fault) {
        if let Ok(mut f) = self.fault.lock() {
            *f = Some(fault);
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn enter(&self) -> Result<(), DirectoryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
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
        self.enter()?;
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
        self.enter()?;
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
        self.enter()?;
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
        self.enter()?;
        if session != format!("session-{user}-{}", challenge.name()) {
            return Err(DirectoryError::NotAuthorized);
        }
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        Ok(Self::tokens(user))
    }

    async fn password_policy(&self, _: &Tenant) -> Result<PasswordPolicy, DirectoryError> {
        Ok(self.policy.clone())
    }
}

#[derive(Default)]
pub struct InMemoryLocks {
    pub locks: Mutex<HashMap<String, Lock>>,
    pub calls: AtomicUsize,
    pub unavailable: std::sync::atomic::AtomicBool,
}

impl InMemoryLocks {
    pub fn lock(&self, user: &str, lock: Lock) {
        if let Ok(mut l) = self.locks.lock() {
            l.insert(user.to_ascii_lowercase(), lock);
        }
    }
}

impl LockStore for InMemoryLocks {
    async fn active_lock(&self, _: &Tenant, user: &UserId) -> Result<Option<Lock>, ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(ApiError::DependencyUnavailable(
                "in-memory lock store is down".into(),
            ));
        }
        Ok(self
            .locks
            .lock()
            .ok()
            .and_then(|l| l.get(user.as_str()).cloned())
            .filter(|l| l.holds_at(std::time::SystemTime::now())))
    }
}

pub type MemApp = App<InMemoryDirectory, InMemoryLocks, InMemoryTenants>;

/// An app on in-memory ports, serving the demo tenant.
pub fn app(directory: InMemoryDirectory) -> MemApp {
    let config = config();
    App {
        tenants: CachedTenants::new(InMemoryTenants::with(tenant()), config.tenant_cache_ttl),
        directory,
        locks: InMemoryLocks::default(),
        #[allow(clippy::expect_used)]
        tokens: TokenVerifier::new(config.jwks_cache_ttl, config.attempt_timeout)
            .expect("an HTTP client for tests"),
        config,
    }
}
