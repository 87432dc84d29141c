//! Everything a function needs, built once per cold start: configuration, the tenant cache,
//! the ports, the token verifier. Domain code is generic over [`Ports`], so tests run the same
//! routes on in-memory implementations.

use crate::domain::directory::Passwords;
use crate::domain::directory::{SignIn, UserAdmin};
use crate::domain::lock::Locks;
use std::{future::Future, sync::Arc};

use lambda_http::{Body, Request, Response};

use crate::{
    adapters::jwks::TokenVerifier,
    adapters::{
        cognito::CognitoDirectory,
        dynamodb::{DynamoAudit, DynamoLocks, DynamoTenants},
    },
    config::Config,
    deadline,
    domain::audit::{AuditLog, Event},
    domain::directory::Directory,
    domain::lock::{AccountState, Lock, LockStore},
    domain::store::Chain,
    domain::tenant::{CachedTenants, Tenant, TenantRegistry},
    domain::token::Caller,
    domain::user_id::UserId,
    domain::validate::Password,
    http::cors,
    http::problem::ApiError,
    http::request::{RequestMeta, bearer_token},
    http::respond::Reply,
    http::routes::{self, Operations, Route},
};

/// The set of port implementations an [`App`] runs on.
pub trait Ports: Send + Sync + 'static {
    type Directory: Directory;
    type Locks: LockStore;
    type Tenants: TenantRegistry;
    type Audit: AuditLog;
    type Mail: crate::domain::mail::Mailer;
}

pub struct App<P: Ports> {
    pub config: Config,
    pub tenants: CachedTenants<P::Tenants>,
    pub directory: P::Directory,
    pub locks: P::Locks,
    pub audit: P::Audit,
    pub mail: P::Mail,
    pub tokens: TokenVerifier,
    /// How long each pool's sign-ins usually take (what a refusal without a check pads to).
    pub latencies: crate::latency::Latencies,
}

/// The production wiring: Cognito and DynamoDB.
pub struct Aws;

impl Ports for Aws {
    type Directory = CognitoDirectory;
    type Locks = DynamoLocks;
    type Tenants = DynamoTenants;
    type Audit = DynamoAudit;
    type Mail = crate::adapters::ses::SesMailer;
}

pub type AwsApp = App<Aws>;

pub use crate::aws::InitError;

impl AwsApp {
    /// Builds the clients from the environment. Nothing here touches the network.
    pub fn from_env() -> Result<Self, InitError> {
        Self::from_config(Config::from_env()?)
    }

    pub fn from_config(config: Config) -> Result<Self, InitError> {
        let sdk = crate::aws::sdk_config(&config)?;
        Ok(Self::from_sdk(config, &sdk))
    }

    /// The clients from an SDK configuration already made (`crate::aws::sdk_config`), which a
    /// test may point elsewhere (the fault stage: through a proxy that injects faults).
    pub fn from_sdk(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        App {
            tenants: CachedTenants::new(
                DynamoTenants::new(dynamodb.clone(), &config.tenants_table),
                config.tenant_cache_ttl,
            ),
            directory: CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk))
                .with_http_timeout(config.attempt_timeout),
            locks: DynamoLocks::new(dynamodb.clone(), &config.account_state_table)
                .with_audit(crate::adapters::dynamodb::AuditTable::of(&config)),
            audit: DynamoAudit::new(dynamodb, &config.audit_table, config.audit_retention),
            mail: crate::adapters::ses::SesMailer::lazy(sdk),
            tokens: TokenVerifier::new(config.jwks_cache_ttl, config.attempt_timeout),
            latencies: Default::default(),
            config,
        }
    }
}

/// One request, as a function's `route` gets it: which route, for which tenant.
pub struct Call<Op: 'static> {
    pub req: Request,
    pub meta: RequestMeta,
    pub route: &'static Route<Op>,
    pub tenant: Arc<Tenant>,
}

/// The audit entry of a change that may be written with it (see [`App::audited_change`]):
/// made before the change, with outcome `success`; the change notes whether its store wrote it.
pub struct ChangeEntry {
    pub event: Event,
    written: std::sync::atomic::AtomicBool,
}

impl ChangeEntry {
    /// The entry of the call's change on `user` by `actor`, under the route's name.
    pub fn new<Op>(call: &Call<Op>, user: &UserId, actor: &str) -> Self {
        Self {
            event: Event::new(
                user,
                &call.meta.activity_id,
                actor,
                call.route.name,
                "success",
            ),
            written: Default::default(),
        }
    }

    /// What the store said of the entry.
    pub fn note(&self, audited: crate::domain::lock::Audited) {
        if audited == crate::domain::lock::Audited::WithTheChange {
            self.written
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// An endpoint group: one Lambda function's route table and the handler of its operations.
pub trait Group: 'static {
    /// The group's operations; `route` matches on them exhaustively.
    type Op: Operations;
    /// Method and path template of each operation (`crate::http::routes`).
    const ROUTES: &'static [Route<Self::Op>];

    /// The call's tenant: by default the one the `vbasoftware-*` headers name (and the API
    /// key admits). A route a browser reaches without them (an identity provider's callback)
    /// finds it otherwise.
    fn tenant<P: Ports>(
        app: &App<P>,
        _op: Self::Op,
        req: &Request,
        meta: &RequestMeta,
    ) -> impl Future<Output = Result<Arc<Tenant>, ApiError>> + Send {
        app.tenant(req, meta)
    }

    /// Whether the route honours an `Idempotency-Key` (`crate::idempotency`): every route
    /// whose caller is the bearer token's, but for those whose answer carries a secret (a TOTP
    /// secret, a registration code), which is never kept. Public routes (sign-in, recovery)
    /// do not: their answers are not a caller's to replay.
    fn replayable(_op: Self::Op) -> bool {
        true
    }

    /// Runs one call of a route of [`Self::ROUTES`], tenant already resolved.
    fn route<P: Ports>(
        app: &App<P>,
        call: Call<Self::Op>,
    ) -> impl Future<Output = Result<Reply, ApiError>> + Send;
}

impl<P: Ports> App<P> {
    /// Ends a session whose tokens the API holds and hands to nobody (a one-time code's custom
    /// sign-in, made for its own use of the user's token; an identity provider's sign-in that
    /// is refused or finds no user): `RevokeToken` on its refresh token, which Cognito extends
    /// to every token issued from it. A failure is logged, not answered: the tokens never left
    /// the function and expire on their own.
    pub async fn end_code_session(
        &self,
        tenant: &Tenant,
        tokens: &crate::domain::directory::Tokens,
    ) {
        let Some(refresh) = tokens.refresh_token.as_deref() else {
            return;
        };
        if let Err(e) = self.directory.revoke_refresh_token(tenant, refresh).await {
            tracing::warn!(cause = %Chain(&e), "a custom sign-in's tokens could not be revoked");
        }
    }

    /// Serves one request of the group `G`: finds its route, resolves its tenant, and hands
    /// both to `G::route`; whatever comes back is rendered by [`crate::serve`].
    ///
    /// A browser's page (a request with an `Origin`) is held to its tenant's `allowedOrigins`:
    /// another origin is refused before anything runs, and only a listed one may read the
    /// answer ([`crate::http::cors`]). A preflight (`OPTIONS`) is answered here for every path
    /// of the group.
    pub async fn handle<G: Group>(&self, req: Request) -> Response<Body> {
        let origin = cors::origin(&req);
        if req.method() == lambda_http::http::Method::OPTIONS {
            return self.preflight::<G>(req, origin).await;
        }
        let resolved = std::sync::OnceLock::new();
        let (origin_ref, resolved_ref) = (origin.as_deref(), &resolved);
        let budget = self.budget(&req);
        let mut response = crate::http::respond::serve(req, |req, meta| async move {
            // boxed: the route's future is deep, and every caller's future would carry it
            // inline (the compiler's layout queries overflowed on the functions' tests)
            let work = Box::pin(self.dispatch::<G>(req, meta, origin_ref, resolved_ref));
            deadline::within(budget, work)
                .await
                .unwrap_or_else(|_| Err(ApiError::out_of_time()))
        })
        .await;
        if let Some(origin) = origin {
            // an answer given before the tenant was known (a missing header, an unknown
            // tenant) is readable by any tenant's page, so it can show what went wrong
            let admitted = match resolved.get() {
                Some(tenant) => tenant.admits_origin(&origin),
                None => self.tenants.origin_listed(&origin).await.unwrap_or(false),
            };
            cors::answer(&mut response, &origin, admitted);
        }
        response
    }

    /// How long the request may take: what Lambda gives the invocation, less the margin kept
    /// for the answer (`None` outside Lambda: a test's event names no deadline).
    fn budget(&self, req: &Request) -> Option<std::time::Duration> {
        use lambda_http::RequestExt;
        req.lambda_context_ref()
            .and_then(|c| deadline::remaining(c.deadline, self.config.deadline_margin))
    }

    /// One request's route, tenant, origin check and idempotency, then `G::route`.
    async fn dispatch<G: Group>(
        &self,
        req: Request,
        meta: RequestMeta,
        origin: Option<&str>,
        resolved: &std::sync::OnceLock<Arc<Tenant>>,
    ) -> Result<Reply, ApiError> {
        {
            let route = routes::find(G::ROUTES, &req)
                .ok_or_else(|| ApiError::InvalidRequest("no such route in this function".into()))?;
            tracing::Span::current().record("route", route.name);
            let _ = meta.route.set(route.name);
            let tenant = G::tenant(self, route.op, &req, &meta).await?;
            let _ = resolved.set(tenant.clone());
            if origin.is_some_and(|o| !tenant.admits_origin(o)) {
                return Err(ApiError::Forbidden(
                    "pages of this web origin may not call the API for this client",
                ));
            }
            let call = Call {
                req,
                meta,
                route,
                tenant,
            };
            if !G::replayable(route.op) {
                return G::route(self, call).await;
            }
            crate::idempotency::around(self, call, |call| G::route(self, call)).await
        }
    }

    /// A browser's preflight for a path of the group `G`: allowed when some tenant lists the
    /// page's origin (a preflight names no tenant); the request itself is then held to its own
    /// tenant's list. `OPTIONS` needs no API key at API Gateway, so this is all a page learns.
    async fn preflight<G: Group>(&self, req: Request, origin: Option<String>) -> Response<Body> {
        let methods: Vec<&str> = routes::on_path(G::ROUTES, &req).map(|r| r.method).collect();
        let admitted = std::sync::OnceLock::new();
        let (origin_ref, methods_ref, admitted_ref) = (origin.as_deref(), &methods, &admitted);
        let budget = self.budget(&req);
        let mut response = crate::http::respond::serve(req, |_req, meta| async move {
            deadline::within(budget, async move {
                let _ = meta.route.set("preflight");
                if methods_ref.is_empty() {
                    return Err(ApiError::InvalidRequest(
                        "no such route in this function".into(),
                    ));
                }
                let origin = origin_ref.ok_or_else(|| {
                    ApiError::InvalidRequest("a preflight names the page's Origin".into())
                })?;
                if !self.tenants.origin_listed(origin).await? {
                    return Err(ApiError::Forbidden(
                        "pages of this web origin may not call the API",
                    ));
                }
                let _ = admitted_ref.set(());
                Reply::ok(&serde_json::json!({ "allowedMethods": methods_ref }))
            })
            .await
            .unwrap_or_else(|_| Err(ApiError::out_of_time()))
        })
        .await;
        if let Some(origin) = &origin {
            cors::answer(&mut response, origin, admitted.get().is_some());
            if admitted.get().is_some() {
                cors::preflight(&mut response, &methods);
            }
        }
        response
    }

    /// Resolves the request's tenant, and refuses an API key the tenant does not list. With a
    /// key (behind API Gateway), headers that name no tenant get the same 403 as a wrong key,
    /// so trying header triples does not tell which tenants exist.
    pub async fn tenant(&self, req: &Request, meta: &RequestMeta) -> Result<Arc<Tenant>, ApiError> {
        const NOT_THIS_KEY: ApiError =
            ApiError::Forbidden("this API key is not registered for this client");
        let named = crate::http::request::tenant_key(req)?;
        let key = meta.api_key_id.as_deref();
        let tenant = match self.tenants.resolve(&named).await {
            Err(crate::domain::tenant::TenantError::Unknown) if key.is_some() => {
                return Err(NOT_THIS_KEY);
            }
            other => other?,
        };
        tracing::Span::current().record("tenant", tenant.key.as_str());
        if !tenant.admits_api_key(key) {
            return Err(NOT_THIS_KEY);
        }
        Ok(tenant)
    }

    /// The caller behind the bearer token: a valid access token of the tenant's pool and app
    /// client, of an account that exists and is enabled (`AdminGetUser`), whose sessions were
    /// not ended after this one began (the account state's `sessionsEndedAt`, written wherever
    /// the API signs the user out everywhere), and not under a lock that refuses sessions (an
    /// admin lock; see [`crate::domain::lock::Lock::refuses_sessions`]). The two reads run
    /// concurrently.
    ///
    /// Cognito's `GetUser` cannot check the token itself any more: no token the API hands out
    /// carries the scope it needs (`shared::session`). So a sign-out made at Cognito directly,
    /// around the API, holds for this API only once the access token expires (its validity,
    /// an hour by default); every sign-out the API makes holds at once.
    pub async fn caller(&self, req: &Request, tenant: &Tenant) -> Result<Caller, ApiError> {
        Ok(self.caller_and_state(req, tenant).await?.0)
    }

    /// [`Self::caller`], with the account state it read, for a route that checks a password
    /// and so must also refuse a lockout.
    pub async fn caller_and_state(
        &self,
        req: &Request,
        tenant: &Tenant,
    ) -> Result<(Caller, AccountState), ApiError> {
        let token = bearer_token(req)?;
        let caller = self.tokens.verify_access(tenant, token).await?;
        let user = UserId::of_cognito(&caller.username)
            .ok_or(ApiError::Unauthenticated("the token names no valid user"))?;
        const ENDED: ApiError =
            ApiError::Unauthenticated("the token was revoked or its account disabled");
        let (found, state) = tokio::join!(
            self.directory.find_user(tenant, &user),
            self.locks.state(&tenant.user_pool_id, &user),
        );
        match found.map_err(|e| match ApiError::from(e) {
            ApiError::InvalidCredentials | ApiError::AccountDisabled => ENDED,
            other => other,
        })? {
            // the same account, not one made again under the name since (whose state the
            // deletion of the first one took with it): Cognito always names the `sub`
            Some(found) if found.enabled && found.sub.as_ref().is_none_or(|s| *s == caller.sub) => {
            }
            _ => return Err(ENDED),
        }
        let state = state?;
        if state.ended_sessions_of(&caller) {
            return Err(ENDED);
        }
        if state.lock.as_ref().is_some_and(Lock::refuses_sessions) {
            return Err(ApiError::AccountLocked);
        }
        Ok((caller, state))
    }

    /// The user as the directory has them now (`AdminGetUser`); `user-not-found` if there is
    /// none.
    pub async fn user(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<crate::domain::directory::DirectoryUser, ApiError> {
        self.directory
            .find_user(tenant, user)
            .await
            .map_err(crate::domain::directory::DirectoryError::for_admin)?
            .ok_or(ApiError::UserNotFound)
    }

    /// The username `user` names (an alias or a `sub` resolved; see
    /// [`Directory::canonical_username`]): the key of its lock, its lockout counter and its
    /// audit entries, and the name every directory call uses after it.
    pub async fn canonical(&self, tenant: &Tenant, user: UserId) -> Result<UserId, ApiError> {
        Ok(self.directory.canonical_username(tenant, &user).await?)
    }

    /// A caller in the tenant's admin group.
    pub async fn admin(&self, req: &Request, tenant: &Tenant) -> Result<Caller, ApiError> {
        let caller = self.caller(req, tenant).await?;
        if !caller.groups.iter().any(|g| g == &tenant.admin_group) {
            return Err(ApiError::Forbidden("this operation is for administrators"));
        }
        Ok(caller)
    }

    /// Audits how a call on `user` by `actor` ended: `success` or the problem slug it got.
    pub async fn record_outcome<T>(
        &self,
        tenant: &Tenant,
        user: &UserId,
        meta: &RequestMeta,
        actor: &str,
        action: &str,
        result: &Result<T, ApiError>,
    ) {
        let outcome = result.as_ref().map_or_else(ApiError::slug, |_| "success");
        self.record(
            tenant,
            Event::new(user, &meta.activity_id, actor, action, outcome),
        )
        .await;
    }

    /// Runs `work`, the call's operation on `user` by `actor`, and audits how it ended under
    /// the route's name.
    pub async fn audited<Op, T>(
        &self,
        call: &Call<Op>,
        user: &UserId,
        actor: &str,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let result = work.await;
        self.record_outcome(
            &call.tenant,
            user,
            &call.meta,
            actor,
            call.route.name,
            &result,
        )
        .await;
        result
    }

    /// Runs `work`, a change whose store may write its audit entry in the same transaction
    /// (an admin lock or unlock: see [`crate::domain::lock::Locks::lock`]), and audits how it
    /// ended as [`App::audited`] does, but for an entry already written with the change: that
    /// one stands, and a failure after it (the sign-out that follows a lock) gets an entry of
    /// its own.
    pub async fn audited_change<Op, T>(
        &self,
        call: &Call<Op>,
        entry: &ChangeEntry,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let result = work.await;
        let written = entry.written.load(std::sync::atomic::Ordering::SeqCst);
        match &result {
            Ok(_) if written => {}
            // the entry made before the change, under the same key a replay would use
            Ok(_) => self.record(&call.tenant, entry.event.clone()).await,
            Err(e) => self.record(&call.tenant, entry.event.then(e.slug())).await,
        }
        result
    }

    /// Refuses a password the tenant's pool would refuse, naming the rule it breaks, before
    /// Cognito sees it (Cognito's own answer does not say which rule).
    pub async fn check_password_policy(
        &self,
        tenant: &Tenant,
        password: &Password,
    ) -> Result<(), ApiError> {
        let policy = self.directory.password_policy(tenant).await?;
        match policy.violation(password.expose()) {
            Some(rule) => Err(ApiError::InvalidPassword(rule)),
            None => Ok(()),
        }
    }

    /// Appends an audit entry. A failed write does not change the caller's answer, and the
    /// entry is never dropped: it is tried again within the request's time
    /// ([`crate::domain::audit::RETRY_AFTER`]), and if it still cannot be written it goes to
    /// the error log whole, in the fields [`crate::domain::audit::Fallback`] reads back (it
    /// holds no secret), for the operator's `tenants replay-audit` to write later; the stage
    /// alarms on every such line (`AuditWriteFailures`).
    pub async fn record(&self, tenant: &Tenant, event: Event) {
        let pool = &tenant.user_pool_id;
        let mut last = match self.audit.append(pool, &event).await {
            Ok(()) => return,
            Err(e) => e,
        };
        for pause in crate::domain::audit::RETRY_AFTER {
            tokio::time::sleep(pause).await;
            match self.audit.append(pool, &event).await {
                Ok(()) => return,
                Err(e) => last = e,
            }
        }
        crate::metrics::audit_write_failed();
        tracing::error!(
            cause = %Chain(&last),
            audit.pool = %pool,
            audit.user = %event.user_id,
            audit.at = %event.at,
            audit.at_nanos = %event.at_nanos,
            audit.activity = %event.activity_id,
            audit.action = %event.action,
            audit.outcome = %event.outcome,
            audit.actor = %event.actor,
            "{}",
            crate::domain::audit::Fallback::MESSAGE
        );
    }
}
