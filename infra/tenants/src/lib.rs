//! The operator's command for a stage's tenant registry (the tenants table the functions read):
//! registering a tenant is one validated command instead of a hand-written `put-item`.
//! (About 750 lines: each subcommand's arguments beside its handler; the checks it makes
//! before writing are `checks.rs`, its tests `tests.rs`.)
//!
//! ```text
//! cargo run -p tenants -- add --stage dev --client-id acme --client-code ACME --database main \
//!     --user-pool-id eu-west-1_AbC --app-client-id 1h2k… --api-key-id a1b2c3d4e5 \
//!     --allowed-origin https://app.example.com
//! cargo run -p tenants -- list --stage dev
//! cargo run -p tenants -- show --stage dev --client-id acme --client-code ACME --database main
//! cargo run -p tenants -- set-policy --stage dev --client-id acme … --max-password-attempts 5
//! cargo run -p tenants -- set-policy --stage dev --client-id acme … \
//!     --allowed-origin https://app.example.com --allowed-origin https://admin.example.com
//! cargo run -p tenants -- set-policy --stage dev --client-id acme … --no-allowed-origins
//! cargo run -p tenants -- remove --stage dev --client-id acme … --yes
//! ```
//!
//! The headers are validated as the functions validate them (`tenant_key`), every record is
//! read back through the functions' own reader (`tenant_from_item`) before it is written, and
//! `add` checks with Cognito that the pool and app client exist. The AWS configuration comes
//! from the environment as for any AWS tool (`AWS_PROFILE`, `AWS_REGION`, and
//! `AWS_ENDPOINT_URL` for the local emulator).
//!
//! Besides the records, the table holds one item the command derives from them,
//! [`ALLOWED_ORIGINS_ITEM`]: every web origin some tenant allows, which browsers' preflights
//! are answered from. `add`, `set-policy` and `remove` write it again after each change
//! ([`refresh_allowed_origins`]); it is never edited by hand. Its key starts with `#`, as no
//! tenant's can, and whatever reads the records skips such keys.

mod audit;
mod checks;

pub use audit::ReplayAudit;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use clap::{Args, Parser, Subcommand};
use shared::{
    adapters::dynamodb::{ALLOWED_ORIGINS_ITEM, tenant_from_item, tenant_key},
    domain::tenant::{TenantKey, origin_allowed},
};

#[derive(Debug, Parser)]
#[command(
    name = "tenants",
    about = "A stage's tenant registry (add, list, show, set-policy, remove) and its audit entries held in the logs (replay-audit)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Registers a tenant: its headers, its user pool and app client, the API keys it may use.
    Add(Add),
    /// Lists the registered tenants.
    List(Table),
    /// Shows one tenant's record.
    Show(Key),
    /// Changes a tenant's lockout policy, whether it hides account states, its TOTP issuer, its
    /// mail sender, its passkey registration page, its identity providers or the web origins
    /// its pages may call the API from.
    SetPolicy(SetPolicy),
    /// Removes a tenant's record (its user pool and users are left alone).
    Remove(Remove),
    /// Writes the audit entries a function could not write (its error log lines `audit entry
    /// not written`) into the stage's audit table.
    ReplayAudit(ReplayAudit),
}

#[derive(Debug, Args)]
pub struct Table {
    /// The stage whose table is meant (`account-api-<stage>-tenants`).
    #[arg(long, required_unless_present = "table", conflicts_with = "table")]
    pub stage: Option<String>,
    /// The table itself (the local stack's, say), instead of a stage.
    #[arg(long)]
    pub table: Option<String>,
}

#[derive(Debug, Args)]
pub struct Key {
    #[command(flatten)]
    pub table: Table,
    /// The `vbasoftware-client-id` header the tenant's callers send.
    #[arg(long)]
    pub client_id: String,
    /// The `vbasoftware-client-code` header.
    #[arg(long)]
    pub client_code: String,
    /// The `vbasoftware-database` header.
    #[arg(long)]
    pub database: String,
}

#[derive(Debug, Args)]
pub struct Add {
    #[command(flatten)]
    pub key: Key,
    /// The tenant's Cognito user pool (`<region>_<id>`).
    #[arg(long)]
    pub user_pool_id: String,
    /// The pool's app client the API signs users in with.
    #[arg(long)]
    pub app_client_id: String,
    /// An API Gateway API key id the tenant's callers use (repeat for several). Behind API
    /// Gateway a tenant that lists none admits no request.
    #[arg(long = "api-key-id")]
    pub api_key_ids: Vec<String>,
    /// The pool group whose members are the tenant's admins.
    #[arg(long, default_value = "admins")]
    pub admin_group: String,
    #[command(flatten)]
    pub policy: Policy,
    /// Where the pool's signing keys are published, when not at the pool's issuer (the local
    /// emulator's); https, or http to loopback.
    #[arg(long)]
    pub jwks_url: Option<String>,
    /// Overwrite a record that exists.
    #[arg(long)]
    pub replace: bool,
    /// Do not ask Cognito whether the pool and app client exist and keep tokens to the API
    /// (triggers, client secret, custom auth, user existence errors): the functions refuse
    /// every sign-in of a tenant whose app client has no secret.
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args, Default)]
pub struct Policy {
    /// Wrong passwords before the account locks (0: no lockout).
    #[arg(long)]
    pub max_password_attempts: Option<u32>,
    /// Wrong second-factor codes at sign-in before the account locks (0: no lockout).
    #[arg(long)]
    pub max_otp_attempts: Option<u32>,
    /// How long a lockout lasts, in seconds (0: until an admin unlocks).
    #[arg(long)]
    pub lockout_seconds: Option<u64>,
    /// Whether account states read as invalid credentials on the public routes.
    #[arg(long)]
    pub hide_account_state: Option<bool>,
    /// The name authenticator apps list the tenant's TOTP entries under (default: the
    /// client id).
    #[arg(long)]
    pub totp_issuer: Option<String>,
    /// The sender of the mail the API sends itself (a passkey registration code): an address
    /// the tenant's verified SES identity covers, `Name <address>` allowed.
    #[arg(long)]
    pub email_from: Option<String>,
    /// Where your app registers a passkey with a code, for the mailed link: an https URL (or
    /// http://localhost) with `{code}` in it, and `{userID}` if the page needs it.
    #[arg(long)]
    pub passkey_registration_url: Option<String>,
    /// The pool domain's base URL for sign-in with identity providers
    /// (https://PREFIX.auth.REGION.amazoncognito.com, the tenant stack's AuthDomain output);
    /// with --idp-callback-url.
    #[arg(long)]
    pub auth_domain: Option<String>,
    /// The stage's GET /idp-intents/callback URL, as the app client lists it among its
    /// callback URLs (the stage's ApiUrl + /idp-intents/callback).
    #[arg(long)]
    pub idp_callback_url: Option<String>,
    /// A provider name in the pool that clients may sign in with (repeat for several).
    #[arg(long = "identity-provider")]
    pub identity_providers: Vec<String>,
    /// A URL of your app an identity provider's sign-in may come back to, exactly (repeat
    /// for several: the success and the failure page).
    #[arg(long = "idp-redirect-url")]
    pub idp_redirect_urls: Vec<String>,
    /// A web origin whose pages may call the API for the tenant from a browser, as the browser
    /// sends it: https://app.example.com[:port], no path, no trailing slash, lower case (http
    /// only to localhost, 127.0.0.1 or [::1]). Repeat for several; with set-policy the list
    /// replaces the record's.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SetPolicy {
    #[command(flatten)]
    pub key: Key,
    #[command(flatten)]
    pub policy: Policy,
    /// Removes the tenant's web origins: no browser page may call the API for it.
    #[arg(long, conflicts_with = "allowed_origins")]
    pub no_allowed_origins: bool,
}

#[derive(Debug, Args)]
pub struct Remove {
    #[command(flatten)]
    pub key: Key,
    /// Confirms the removal: the tenant's callers are refused from then on.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Invalid(String),
    #[error("no tenant {0} is registered")]
    NotFound(String),
    #[error("tenant {0} is already registered (--replace overwrites it)")]
    Exists(String),
    #[error("{0}")]
    Aws(String),
}

/// The clients the command uses.
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
}

impl Clients {
    /// From the environment, over the functions' HTTPS transport.
    pub async fn from_env() -> Result<Self, CliError> {
        let http = shared::https::client().map_err(|e| CliError::Aws(e.to_string()))?;
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .load()
            .await;
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        })
    }
}

fn aws<E: std::error::Error + 'static>(what: &str, e: E) -> CliError {
    // the SDK's display is terse; its source chain says what went wrong
    let mut text = format!("{what}: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    CliError::Aws(text)
}

impl Table {
    fn name(&self) -> Result<String, CliError> {
        stage_table(self.stage.as_deref(), self.table.as_deref(), "tenants")
    }
}

/// A table named outright (`--table`), or a stage's (`account-api-<stage>-<kind>`).
pub(crate) fn stage_table(
    stage: Option<&str>,
    table: Option<&str>,
    kind: &str,
) -> Result<String, CliError> {
    match (stage, table) {
        (_, Some(table)) => Ok(table.to_string()),
        (Some(stage), None) if matches!(stage, "dev" | "staging" | "prod") => {
            Ok(format!("account-api-{stage}-{kind}"))
        }
        (Some(stage), None) => Err(CliError::Invalid(format!(
            "--stage must be dev, staging or prod, not {stage:?}"
        ))),
        (None, None) => Err(CliError::Invalid("give --stage or --table".into())),
    }
}

impl Key {
    /// The registry key, validated as the functions validate the headers.
    fn key(&self) -> Result<String, CliError> {
        tenant_key(&TenantKey {
            client_id: self.client_id.clone(),
            client_code: self.client_code.clone(),
            database: self.database.clone(),
        })
        .ok_or_else(|| {
            CliError::Invalid(
                "--client-id, --client-code and --database must each be 1 to 64 of letters, \
                 digits and . _ -, as the vbasoftware-* headers are"
                    .into(),
            )
        })
    }
}

fn policy_items(policy: &Policy) -> Vec<(&'static str, AttributeValue)> {
    let mut items = vec![];
    if let Some(n) = policy.max_password_attempts {
        items.push(("maxPasswordAttempts", AttributeValue::N(n.to_string())));
    }
    if let Some(n) = policy.max_otp_attempts {
        items.push(("maxOtpAttempts", AttributeValue::N(n.to_string())));
    }
    if let Some(s) = policy.lockout_seconds {
        items.push(("lockoutDurationSeconds", AttributeValue::N(s.to_string())));
    }
    if let Some(h) = policy.hide_account_state {
        items.push(("hideAccountState", AttributeValue::Bool(h)));
    }
    if let Some(issuer) = &policy.totp_issuer {
        items.push(("totpIssuer", AttributeValue::S(issuer.clone())));
    }
    if let Some(from) = &policy.email_from {
        items.push(("emailFrom", AttributeValue::S(from.clone())));
    }
    if let Some(url) = &policy.passkey_registration_url {
        items.push(("passkeyRegistrationUrl", AttributeValue::S(url.clone())));
    }
    if let Some(url) = &policy.auth_domain {
        items.push(("authDomain", AttributeValue::S(url.clone())));
    }
    if let Some(url) = &policy.idp_callback_url {
        items.push(("idpCallbackUrl", AttributeValue::S(url.clone())));
    }
    let set = |values: &[String]| {
        let mut v = values.to_vec();
        v.sort();
        v.dedup();
        AttributeValue::Ss(v)
    };
    if !policy.identity_providers.is_empty() {
        items.push(("identityProviders", set(&policy.identity_providers)));
    }
    if !policy.idp_redirect_urls.is_empty() {
        items.push(("idpRedirectUrls", set(&policy.idp_redirect_urls)));
    }
    if !policy.allowed_origins.is_empty() {
        items.push(("allowedOrigins", set(&policy.allowed_origins)));
    }
    items
}

/// The record `add` writes (before it is read back through the functions' reader).
fn record(add: &Add, key: &str) -> HashMap<String, AttributeValue> {
    let mut item: HashMap<String, AttributeValue> = HashMap::from([
        ("tenantKey".into(), AttributeValue::S(key.to_string())),
        (
            "userPoolId".into(),
            AttributeValue::S(add.user_pool_id.clone()),
        ),
        (
            "appClientId".into(),
            AttributeValue::S(add.app_client_id.clone()),
        ),
        (
            "adminGroup".into(),
            AttributeValue::S(add.admin_group.clone()),
        ),
    ]);
    let mut keys = add.api_key_ids.clone();
    keys.sort();
    keys.dedup();
    if !keys.is_empty() {
        item.insert("apiKeyIds".into(), AttributeValue::Ss(keys));
    }
    for (name, value) in policy_items(&add.policy) {
        item.insert(name.into(), value);
    }
    if let Some(url) = &add.jwks_url {
        item.insert("jwksUrl".into(), AttributeValue::S(url.clone()));
    }
    item
}

/// The `UpdateItem` a `set-policy` makes: `SET` what it gives, `REMOVE` what it takes away.
#[derive(Debug, PartialEq)]
struct Update {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn policy_update(set: &SetPolicy) -> Result<Update, CliError> {
    let items = policy_items(&set.policy);
    let removed: &[&str] = if set.no_allowed_origins {
        &["allowedOrigins"]
    } else {
        &[]
    };
    if items.is_empty() && removed.is_empty() {
        return Err(CliError::Invalid(
            "give --max-password-attempts, --max-otp-attempts, --lockout-seconds, \
             --hide-account-state, --totp-issuer, --email-from, --passkey-registration-url, \
             --auth-domain with --idp-callback-url, --identity-provider, --idp-redirect-url, \
             --allowed-origin or --no-allowed-origins"
                .into(),
        ));
    }
    let (mut names, mut values) = (HashMap::new(), HashMap::new());
    let mut clauses = vec![];
    let mut sets = vec![];
    for (i, (name, value)) in items.into_iter().enumerate() {
        names.insert(format!("#n{i}"), name.to_string());
        values.insert(format!(":v{i}"), value);
        sets.push(format!("#n{i} = :v{i}"));
    }
    if !sets.is_empty() {
        clauses.push(format!("SET {}", sets.join(", ")));
    }
    let mut removes = vec![];
    for (i, name) in removed.iter().enumerate() {
        names.insert(format!("#r{i}"), (*name).to_string());
        removes.push(format!("#r{i}"));
    }
    if !removes.is_empty() {
        clauses.push(format!("REMOVE {}", removes.join(", ")));
    }
    Ok(Update {
        expression: clauses.join(" "),
        names,
        values,
    })
}

/// Whether a table item is a tenant record: the derived items' keys start with `#`
/// ([`ALLOWED_ORIGINS_ITEM`]), which no tenant's can ([`tenant_key`]).
fn is_record_key(key: &str) -> bool {
    !key.starts_with('#')
}

/// Every origin the tenant records list in `allowedOrigins`, once each and sorted: what
/// [`ALLOWED_ORIGINS_ITEM`] holds. Items that are not records (keys starting with `#`, the
/// item itself among them) are skipped, and so is a value the functions would never match
/// (not written as a browser sends an origin).
pub fn union_of_origins<'a>(
    items: impl IntoIterator<Item = &'a HashMap<String, AttributeValue>>,
) -> Vec<String> {
    let mut origins = BTreeSet::new();
    for item in items {
        let record = item
            .get("tenantKey")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|k| is_record_key(k));
        if !record {
            continue;
        }
        if let Some(listed) = item.get("allowedOrigins").and_then(|v| v.as_ss().ok()) {
            origins.extend(listed.iter().filter(|o| origin_allowed(o)).cloned());
        }
    }
    origins.into_iter().collect()
}

/// Writes [`ALLOWED_ORIGINS_ITEM`] again from the records: `origins`, the string set of every
/// origin some tenant allows ([`union_of_origins`]), or no item at all when none does
/// (DynamoDB refuses an empty set). A browser's preflight (`OPTIONS`) carries no tenant
/// headers, so the functions cannot read the tenant's record to answer it; they answer it from
/// this one item, and hold the request that follows to its own tenant's `allowedOrigins`.
/// The item is derived, never edited: after every write that changes a record (`add`,
/// `set-policy`, `remove`) it is rebuilt from a consistent scan of the whole table, so it
/// cannot drift from the records (a removed tenant's origins go with it). The number of
/// origins it now holds.
pub async fn refresh_allowed_origins(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<usize, CliError> {
    let mut items = vec![];
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .projection_expression("tenantKey, allowedOrigins")
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| aws("Scan", e))?;
        start = out.last_evaluated_key;
        items.extend(out.items.unwrap_or_default());
        if start.is_none() {
            break;
        }
    }
    let origins = union_of_origins(&items);
    let key = AttributeValue::S(ALLOWED_ORIGINS_ITEM.to_string());
    if origins.is_empty() {
        client
            .delete_item()
            .table_name(table)
            .key("tenantKey", key)
            .send()
            .await
            .map_err(|e| aws("DeleteItem", e))?;
    } else {
        client
            .put_item()
            .table_name(table)
            .item("tenantKey", key)
            .item("origins", AttributeValue::Ss(origins.clone()))
            .send()
            .await
            .map_err(|e| aws("PutItem", e))?;
    }
    Ok(origins.len())
}

/// After a write that changed a record: [`refresh_allowed_origins`], and the line that says
/// what the table now allows, after `text` (what the write printed).
async fn after_write(clients: &Clients, table: &str, text: String) -> Result<String, CliError> {
    match refresh_allowed_origins(&clients.dynamodb, table).await {
        Ok(n) => Ok(format!("{text}\n{}", origins_line(table, n))),
        Err(e) => Err(CliError::Aws(format!(
            "{text}\nthe record was written, but {ALLOWED_ORIGINS_ITEM} (what browsers' \
             preflights are answered from) was not rewritten: {e} (the next add, set-policy or \
             remove rewrites it)"
        ))),
    }
}

fn origins_line(table: &str, n: usize) -> String {
    let count = match n {
        0 => "no web origin".to_string(),
        1 => "1 web origin".to_string(),
        n => format!("{n} web origins"),
    };
    format!("{table} now lets browsers call from {count} in all ({ALLOWED_ORIGINS_ITEM})")
}

/// A record as the functions would read it, as JSON (`show`, and what `add` prints).
fn describe(
    key: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<serde_json::Value, CliError> {
    let t = tenant_from_item(key, item)
        .map_err(|e| CliError::Invalid(format!("the record would not be usable: {e}")))?;
    Ok(serde_json::json!({
        "tenant": key,
        "userPoolId": t.user_pool_id,
        "appClientId": t.app_client_id,
        "adminGroup": t.admin_group,
        "apiKeyIds": t.api_key_ids,
        "maxPasswordAttempts": t.lockout.max_password_attempts,
        "maxOtpAttempts": t.lockout.max_otp_attempts,
        "lockoutDurationSeconds": t.lockout.lockout_duration.as_secs(),
        "hideAccountState": t.hide_account_state,
        "totpIssuer": t.authenticator_issuer(),
        "emailFrom": t.email_from,
        "passkeyRegistrationUrl": t.passkey_registration_url,
        "authDomain": t.federation.as_ref().map(|f| &f.domain),
        "idpCallbackUrl": t.federation.as_ref().map(|f| &f.callback_url),
        "identityProviders": t.federation.as_ref().map(|f| &f.providers),
        "idpRedirectUrls": t.federation.as_ref().map(|f| &f.redirect_urls),
        "allowedOrigins": t.allowed_origins,
        "issuer": t.issuer,
        "jwksUrl": t.jwks_url,
    }))
}

/// Runs one command; the text to print on success.
pub async fn run(cli: Cli, clients: &Clients) -> Result<String, CliError> {
    match cli.command {
        Command::Add(add) => add_tenant(add, clients).await,
        Command::List(table) => list(table, clients).await,
        Command::Show(key) => {
            let (table, k) = (key.table.name()?, key.key()?);
            let item = get(clients, &table, &k).await?;
            Ok(serde_json::to_string_pretty(&describe(&k, &item)?).unwrap_or_default())
        }
        Command::SetPolicy(set) => set_policy(set, clients).await,
        Command::Remove(remove) => remove_tenant(remove, clients).await,
        Command::ReplayAudit(replay) => audit::replay(replay, clients).await,
    }
}

async fn remove_tenant(remove: Remove, clients: &Clients) -> Result<String, CliError> {
    let (table, k) = (remove.key.table.name()?, remove.key.key()?);
    if !remove.yes {
        return Err(CliError::Invalid(format!(
            "removing {k} refuses its callers from then on: add --yes to do it"
        )));
    }
    let out = clients
        .dynamodb
        .delete_item()
        .table_name(&table)
        .key("tenantKey", AttributeValue::S(k.clone()))
        .condition_expression("attribute_exists(tenantKey)")
        .send()
        .await;
    match out {
        Ok(_) => {}
        Err(e) if is_condition_failure(&e) => return Err(CliError::NotFound(k)),
        Err(e) => return Err(aws("DeleteItem", e)),
    }
    after_write(clients, &table, format!("removed {k}")).await
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

async fn get(
    clients: &Clients,
    table: &str,
    key: &str,
) -> Result<HashMap<String, AttributeValue>, CliError> {
    let out = clients
        .dynamodb
        .get_item()
        .table_name(table)
        .key("tenantKey", AttributeValue::S(key.into()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| aws("GetItem", e))?;
    out.item.ok_or_else(|| CliError::NotFound(key.into()))
}

async fn add_tenant(add: Add, clients: &Clients) -> Result<String, CliError> {
    let (table, key) = (add.key.table.name()?, add.key.key()?);
    checks::validate_add(&add)?;
    checks::refuse_loopback_origins_in_prod(
        add.key.table.stage.as_deref(),
        &add.policy.allowed_origins,
    )?;
    if !add.no_verify {
        let described = clients
            .cognito
            .describe_user_pool_client()
            .user_pool_id(&add.user_pool_id)
            .client_id(&add.app_client_id)
            .send()
            .await
            .map_err(|e| {
                aws(
                    "the user pool or app client could not be found (DescribeUserPoolClient; \
                     --no-verify skips this)",
                    e,
                )
            })?;
        checks::client_serves_federation(described.user_pool_client(), &add.policy)?;
        let pool = checks::describe_pool(clients, &add.user_pool_id).await?;
        checks::pool_keeps_tokens_to_the_api(
            &add.user_pool_id,
            pool.as_ref(),
            described.user_pool_client(),
        )?;
        checks::domain_is_the_pools(&add.user_pool_id, pool.as_ref(), &add.policy)?;
    }
    let item = record(&add, &key);
    // what the functions will read, checked before anything is written
    let described = describe(&key, &item)?;
    checks::ensure_pool_free(clients, &table, &key, &add.user_pool_id).await?;
    let mut put = clients
        .dynamodb
        .put_item()
        .table_name(&table)
        .set_item(Some(item));
    if !add.replace {
        put = put.condition_expression("attribute_not_exists(tenantKey)");
    }
    match put.send().await {
        Ok(_) => {}
        Err(e) if is_condition_failure(&e) => return Err(CliError::Exists(key)),
        Err(e) => return Err(aws("PutItem", e)),
    }
    let mut text = serde_json::to_string_pretty(&described).unwrap_or_default();
    if add.api_key_ids.is_empty() {
        text.push_str("\nnote: no --api-key-id: behind API Gateway this tenant admits no request");
    }
    after_write(clients, &table, text).await
}

async fn set_policy(set: SetPolicy, clients: &Clients) -> Result<String, CliError> {
    let (table, key) = (set.key.table.name()?, set.key.key()?);
    checks::validate_policy(&set.policy)?;
    checks::refuse_loopback_origins_in_prod(
        set.key.table.stage.as_deref(),
        &set.policy.allowed_origins,
    )?;
    let update = policy_update(&set)?;
    let federating = set.policy.idp_callback_url.is_some()
        || set.policy.auth_domain.is_some()
        || !set.policy.identity_providers.is_empty();
    if federating {
        // the app client must take what the record will send it to
        let item = get(clients, &table, &key).await?;
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let described = clients
            .cognito
            .describe_user_pool_client()
            .user_pool_id(text("userPoolId"))
            .client_id(text("appClientId"))
            .send()
            .await
            .map_err(|e| aws("DescribeUserPoolClient", e))?;
        checks::client_serves_federation(described.user_pool_client(), &set.policy)?;
        let pool = checks::describe_pool(clients, &text("userPoolId")).await?;
        checks::domain_is_the_pools(&text("userPoolId"), pool.as_ref(), &set.policy)?;
    }
    let out = clients
        .dynamodb
        .update_item()
        .table_name(&table)
        .key("tenantKey", AttributeValue::S(key.clone()))
        .update_expression(update.expression)
        .condition_expression("attribute_exists(tenantKey)")
        .set_expression_attribute_names(Some(update.names))
        // DynamoDB refuses an empty map (a REMOVE alone has no values)
        .set_expression_attribute_values(Some(update.values).filter(|v| !v.is_empty()))
        .send()
        .await;
    match out {
        Ok(_) => {}
        Err(e) if is_condition_failure(&e) => return Err(CliError::NotFound(key)),
        Err(e) => return Err(aws("UpdateItem", e)),
    }
    let item = get(clients, &table, &key).await?;
    let text = serde_json::to_string_pretty(&describe(&key, &item)?).unwrap_or_default();
    after_write(clients, &table, text).await
}

async fn list(table: Table, clients: &Clients) -> Result<String, CliError> {
    let table = table.name()?;
    let mut lines = vec![];
    let mut start = None;
    loop {
        let out = clients
            .dynamodb
            .scan()
            .table_name(&table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| aws("Scan", e))?;
        for item in out.items() {
            let key = match item.get("tenantKey").and_then(|v| v.as_s().ok()) {
                Some(k) if is_record_key(k) => k.clone(),
                _ => continue,
            };
            lines.push(match describe(&key, item) {
                Ok(d) => format!(
                    "{key}\tpool {}\tclient {}\tkeys {}\tlockout {}/{}s\thide {}\torigins {}",
                    d["userPoolId"].as_str().unwrap_or_default(),
                    d["appClientId"].as_str().unwrap_or_default(),
                    d["apiKeyIds"].as_array().map_or(0, Vec::len),
                    d["maxPasswordAttempts"],
                    d["lockoutDurationSeconds"],
                    d["hideAccountState"],
                    d["allowedOrigins"].as_array().map_or(0, Vec::len),
                ),
                Err(e) => format!("{key}\tBROKEN: {e}"),
            });
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    lines.sort();
    lines.push(format!("{} tenants in {table}", lines.len()));
    Ok(lines.join("\n"))
}
