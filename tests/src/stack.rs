//! Provisioning on the emulator, through the real SDKs: pools configured as the templates
//! configure them, tenants, users, and the calls the end-to-end tests share. Test support, not
//! product code; one fixture per function, so it is long rather than deep.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, AttributeType, EmailConfigurationType, EmailSendingAccountType,
    ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType, UserPoolMfaType,
    UserPoolPolicyType, UsernameConfigurationType,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use lambda_http::{Body, Request};
use serde_json::Value;
use shared::{AwsApp, config::Config};

/// The sender of every local tenant's mail (SES, `example.com` verified on the emulator).
pub const MAIL_FROM: &str = "Example <no-reply@example.com>";

/// The password policy of every pool the stack creates (Cognito's, minus the symbol rule).
pub const MIN_PASSWORD_LENGTH: i32 = 10;

/// A unique suffix for names, so tests never share a pool, tenant or user.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A random password that satisfies the stack's policy (letters, digits, upper and lower case).
pub fn random_password() -> String {
    let mut bytes = [0u8; 18];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let body: String = bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect();
    format!("Pw-{body}-7a")
}

/// The pool's Lambda triggers, as the templates set them, where the local stack serves them
/// (`LAMBDA_ENDPOINT_URL`, set by the test and run commands, which start the emulator with
/// `--lambda-endpoint`): the Pre Authentication trigger, the custom sign-in's three and the
/// pre token generation trigger (event `V2_0`), which takes the self-service scope out of
/// every access token but the API's own session's. Without it (the benchmark) pools have
/// none, as moto's own pools never run any.
pub fn local_triggers() -> Option<aws_sdk_cognitoidentityprovider::types::LambdaConfigType> {
    use aws_sdk_cognitoidentityprovider::types::{
        LambdaConfigType, PreTokenGenerationLambdaVersionType, PreTokenGenerationVersionConfigType,
    };
    std::env::var_os("LAMBDA_ENDPOINT_URL")?;
    let arn = |name: &str| format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    let pre_token = PreTokenGenerationVersionConfigType::builder()
        .lambda_version(PreTokenGenerationLambdaVersionType::V20)
        .lambda_arn(arn("custom-auth"))
        .build()
        .expect("a pre token generation config");
    Some(
        LambdaConfigType::builder()
            .pre_authentication(arn("pre-authentication"))
            .define_auth_challenge(arn("custom-auth"))
            .create_auth_challenge(arn("custom-auth"))
            .verify_auth_challenge_response(arn("custom-auth"))
            .pre_token_generation_config(pre_token)
            .build(),
    )
}

/// The name of the local OpenID Connect provider in every local pool that has one.
pub const LOCAL_IDP: &str = "LocalOIDC";
/// The local provider's client credentials (the mock takes any).
pub const LOCAL_IDP_CLIENT_ID: &str = "account-api-local";
const LOCAL_IDP_CLIENT_SECRET: &str = "account-api-local-secret";
/// The tenant app's pages an identity provider's sign-in comes back to (registered; the
/// sample events name them).
pub const IDP_SUCCESS_URL: &str = "http://localhost:8080/idp/done";
pub const IDP_FAILURE_URL: &str = "http://localhost:8080/idp/failed";

/// The tenant app's pages, also registered where the test command serves them: the browser
/// stage's page (`IDP_APP_ORIGIN`, `http://localhost:<port>`), which a person's browser is
/// really sent back to, and the example app's on every origin the tenants list.
fn idp_redirect_urls() -> Vec<String> {
    let mut urls = vec![IDP_SUCCESS_URL.to_string(), IDP_FAILURE_URL.to_string()];
    if let Some(origin) = std::env::var("IDP_APP_ORIGIN")
        .ok()
        .filter(|o| !o.is_empty())
    {
        let origin = origin.trim_end_matches('/');
        urls.push(format!("{origin}/idp/done"));
        urls.push(format!("{origin}/idp/failed"));
    }
    // the example app's, where the browser stage and the run command serve it
    for origin in allowed_origins() {
        urls.push(format!("{origin}/app/idp/done"));
        urls.push(format!("{origin}/app/idp/failed"));
    }
    urls
}

/// The web origins every local tenant lets call the API from a browser: the browser stage's
/// page (`IDP_APP_ORIGIN`) and the run command's pages (`WEB_ORIGINS`, space-separated: its
/// API reference and example app).
pub fn allowed_origins() -> Vec<String> {
    let mut origins: Vec<String> = ["IDP_APP_ORIGIN", "WEB_ORIGINS"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .flat_map(|v| {
            v.split_whitespace()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// The local OpenID Connect provider's issuer (`OIDC_ISSUER_URL`, set by the test and run
/// commands, which start it); without it (the benchmark) pools have no identity provider.
pub fn local_oidc_issuer() -> Option<String> {
    std::env::var("OIDC_ISSUER_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Where the pool domain sends a browser back to this API (`API_URL`, else the run
/// command's default address).
pub fn idp_callback_url() -> String {
    let api = std::env::var("API_URL").unwrap_or_else(|_| "http://127.0.0.1:9000".into());
    format!("{}/idp-intents/callback", api.trim_end_matches('/'))
}

/// Clients on the emulator, from the same environment the functions use.
pub struct Stack {
    pub config: Config,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ses: aws_sdk_sesv2::Client,
    /// The emulator's base URL (`AWS_ENDPOINT_URL`).
    pub endpoint: String,
}

/// A tenant provisioned on the emulator.
#[derive(Debug, Clone)]
pub struct TenantFixture {
    pub client_id: String,
    pub client_code: String,
    pub database: String,
    pub user_pool_id: String,
    pub app_client_id: String,
}

/// With `E2E_LOG_DIR` set (the test command sets it), the functions' log lines of this test
/// process go, through the production subscriber, to a file there, which the test command
/// scans for secrets once every test has run. A test binary that installs its own subscriber
/// first (logs.rs) keeps it.
fn log_to_file() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Some(dir) = std::env::var_os("E2E_LOG_DIR") else {
            return;
        };
        let binary = std::env::args()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "tests".into());
        let path = std::path::Path::new(&dir).join(format!("{binary}-{}.log", std::process::id()));
        if let Ok(file) = std::fs::File::create(path) {
            let _ = tracing::subscriber::set_global_default(shared::telemetry::subscriber(
                std::sync::Mutex::new(file),
            ));
        }
    });
}

impl Stack {
    /// Connects to the emulator named by `AWS_ENDPOINT_URL`; panics with the way to fix it.
    pub async fn connect() -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            !endpoint.is_empty(),
            "AWS_ENDPOINT_URL is not set: run the end-to-end tests with infra/local/test.sh, \
             which starts the emulator and sets the environment"
        );
        log_to_file();
        let config = Config::from_env().expect("TENANTS_TABLE and ACCOUNT_STATE_TABLE are set");
        let sdk = shared::aws::sdk_config(&config).expect("the SDK configuration");
        Self {
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            ses: aws_sdk_sesv2::Client::new(&sdk),
            config,
            endpoint,
        }
    }

    /// The functions' production wiring, on the emulator.
    pub async fn app(&self) -> AwsApp {
        AwsApp::from_config(self.config.clone()).expect("the app builds")
    }

    /// The app, except that its Cognito client fails `operation` as an unreachable service
    /// would (`loopback::Unreachable`): for a change whose Cognito step fails after the rest.
    pub async fn app_where_cognito_cannot(&self, operation: &'static str) -> AwsApp {
        let sdk = shared::aws::sdk_config(&self.config).expect("the SDK configuration");
        let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                .interceptor(crate::loopback::Unreachable(operation))
                .build(),
        );
        AwsApp {
            directory: shared::adapters::cognito::CognitoDirectory::new(cognito),
            ..self.app().await
        }
    }

    /// The mail SES sent on the emulator, oldest first: `{from, to, subject, body}` each.
    pub async fn sent_mail(&self) -> Vec<Value> {
        let url = format!("{}/_emulator/ses/sent", self.endpoint.trim_end_matches('/'));
        reqwest::get(url)
            .await
            .expect("the emulator's sent mail")
            .json()
            .await
            .expect("the emulator's sent mail, as JSON")
    }

    /// Creates the tables if they do not exist yet (the same keys as `infra/`'s definitions),
    /// and verifies the local tenants' mail domain in SES.
    pub async fn ensure_tables(&self) {
        if let Err(e) = self
            .ses
            .create_email_identity()
            .email_identity("example.com")
            .send()
            .await
        {
            let e = aws_sdk_sesv2::Error::from(e);
            assert!(
                matches!(e, aws_sdk_sesv2::Error::AlreadyExistsException(_)),
                "cannot verify example.com in SES: {e:?}"
            );
        }
        let tables = [
            (&self.config.tenants_table, "tenantKey", None),
            (&self.config.account_state_table, "pk", None),
            (&self.config.audit_table, "pk", Some("sk")),
        ];
        for (table, hash, range) in tables {
            let attribute = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition")
            };
            let key = |name: &str, kind: KeyType| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .expect("key schema")
            };
            let mut req = self
                .dynamodb
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attribute(hash))
                .key_schema(key(hash, KeyType::Hash));
            if let Some(range) = range {
                req = req
                    .attribute_definitions(attribute(range))
                    .key_schema(key(range, KeyType::Range));
            }
            if let Err(e) = req.send().await {
                let in_use = e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception());
                assert!(in_use, "cannot create table {table}: {e:?}");
            }
        }
    }

    /// A user pool (case-insensitive usernames, the stack's password policy), an app client
    /// with a secret, the `admins` group, and the tenant's registry record.
    pub async fn create_tenant(
        &self,
        client_id: &str,
        client_code: &str,
        database: &str,
    ) -> TenantFixture {
        self.create_tenant_with_aliases(client_id, client_code, database, &[])
            .await
    }

    /// A fresh tenant whose pool lets users sign in with these alias attributes too.
    pub async fn fresh_tenant_with_aliases(&self, aliases: &[AliasAttributeType]) -> TenantFixture {
        self.create_tenant_with_aliases(&unique("client"), "CODE", "main", aliases)
            .await
    }

    async fn create_tenant_with_aliases(
        &self,
        client_id: &str,
        client_code: &str,
        database: &str,
        aliases: &[AliasAttributeType],
    ) -> TenantFixture {
        self.ensure_tables().await;
        let pool = self
            .cognito
            .create_user_pool()
            .pool_name(unique("pool"))
            .set_alias_attributes((!aliases.is_empty()).then(|| aliases.to_vec()))
            // as the templates make a pool: second factors optional; email sent through SES,
            // so that one-time codes by email may be turned on (nothing is sent locally)
            .mfa_configuration(UserPoolMfaType::Optional)
            .email_configuration(
                EmailConfigurationType::builder()
                    .email_sending_account(EmailSendingAccountType::Developer)
                    .source_arn("arn:aws:ses:us-east-1:000000000000:identity/example.com")
                    .from("Example <no-reply@example.com>")
                    .build(),
            )
            // as the templates with SMS: email and phone verified by a code, and a new address
            // held until its code is verified (the old one stays in use meanwhile)
            .auto_verified_attributes(
                aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
            )
            .auto_verified_attributes(
                aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::PhoneNumber,
            )
            .user_attribute_update_settings(
                aws_sdk_cognitoidentityprovider::types::UserAttributeUpdateSettingsType::builder()
                    .attributes_require_verification_before_update(
                        aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
                    )
                    .attributes_require_verification_before_update(
                        aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::PhoneNumber,
                    )
                    .build(),
            )
            // and SMS through SNS (a template's SmsCodes=on), so codes by SMS may be turned on
            .sms_configuration(
                aws_sdk_cognitoidentityprovider::types::SmsConfigurationType::builder()
                    .sns_caller_arn("arn:aws:iam::000000000000:role/account-api-local-sms")
                    .external_id("account-api-local-sms")
                    .build(),
            )
            .username_configuration(
                UsernameConfigurationType::builder()
                    .case_sensitive(false)
                    .build()
                    .expect("username configuration"),
            )
            .policies(
                UserPoolPolicyType::builder()
                    .sign_in_policy(
                        aws_sdk_cognitoidentityprovider::types::SignInPolicyType::builder()
                            .allowed_first_auth_factors(
                                aws_sdk_cognitoidentityprovider::types::AuthFactorType::Password,
                            )
                            .allowed_first_auth_factors(
                                aws_sdk_cognitoidentityprovider::types::AuthFactorType::WebAuthn,
                            )
                            .build(),
                    )
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(MIN_PASSWORD_LENGTH)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(false)
                            .build(),
                    )
                    .build(),
            )
            .set_lambda_config(local_triggers())
            // pre token generation V2_0 is an Essentials feature: every template's pools
            .user_pool_tier(aws_sdk_cognitoidentityprovider::types::UserPoolTierType::Essentials)
            .send()
            .await
            .expect("create user pool");
        let user_pool_id = pool
            .user_pool()
            .and_then(|p| p.id())
            .expect("pool id")
            .to_string();
        // passkeys with `localhost` as the relying party (a template's PasskeyRelyingPartyId),
        // so that a page served on http://localhost may register and use them
        self.cognito
            .set_user_pool_mfa_config()
            .user_pool_id(&user_pool_id)
            .mfa_configuration(UserPoolMfaType::Optional)
            .software_token_mfa_configuration(
                aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaConfigType::builder()
                    .enabled(true)
                    .build(),
            )
            .web_authn_configuration(
                aws_sdk_cognitoidentityprovider::types::WebAuthnConfigurationType::builder()
                    .relying_party_id("localhost")
                    .user_verification(
                        aws_sdk_cognitoidentityprovider::types::UserVerificationType::Required,
                    )
                    .build(),
            )
            .send()
            .await
            .expect("the pool's passkey configuration");
        // sign-in with the local OpenID Connect provider, as a tenant stack with a provider:
        // the pool's domain, the provider, the app client's code flow back to the API
        let federation = match local_oidc_issuer() {
            Some(issuer) => Some(self.federate(&user_pool_id, &issuer).await),
            None => None,
        };
        let oauth = federation.is_some();
        let client = self
            .cognito
            .create_user_pool_client()
            .user_pool_id(&user_pool_id)
            .client_name("account-api")
            .generate_secret(true)
            .set_supported_identity_providers(oauth.then(|| vec![LOCAL_IDP.to_string()]))
            .set_callback_urls(oauth.then(|| vec![idp_callback_url()]))
            .set_allowed_o_auth_flows(
                oauth.then(|| vec![aws_sdk_cognitoidentityprovider::types::OAuthFlowType::Code]),
            )
            .set_allowed_o_auth_flows_user_pool_client(oauth.then_some(true))
            .set_allowed_o_auth_scopes(oauth.then(|| {
                shared::domain::tenant::SCOPES
                    .split(' ')
                    .map(str::to_string)
                    .collect()
            }))
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            // passkeys (Cognito's choice-based sign-in), as a template with PasskeyRelyingPartyId
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
            // the custom sign-in of the API's own sessions as a user and of a passkey
            // registration code (every template)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
            // as every template's client: an unknown user signs in as a wrong password does
            .prevent_user_existence_errors(
                aws_sdk_cognitoidentityprovider::types::PreventUserExistenceErrorTypes::Enabled,
            )
            .send()
            .await
            .expect("create user pool client");
        let app_client_id = client
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("client id")
            .to_string();
        self.cognito
            .create_group()
            .user_pool_id(&user_pool_id)
            .group_name("admins")
            .send()
            .await
            .expect("create admins group");
        let mut record = self
            .dynamodb
            .put_item()
            .table_name(&self.config.tenants_table);
        if let Some(domain) = &federation {
            record = record
                .item("authDomain", AttributeValue::S(domain.clone()))
                .item("idpCallbackUrl", AttributeValue::S(idp_callback_url()))
                .item(
                    "identityProviders",
                    AttributeValue::Ss(vec![LOCAL_IDP.into()]),
                )
                .item("idpRedirectUrls", AttributeValue::Ss(idp_redirect_urls()));
        }
        let origins = allowed_origins();
        if !origins.is_empty() {
            record = record.item("allowedOrigins", AttributeValue::Ss(origins.clone()));
            // what preflights are answered from (the tenants command writes it as the union
            // of every record's; a test stack's tenants all list the same origins)
            self.dynamodb
                .update_item()
                .table_name(&self.config.tenants_table)
                .key(
                    "tenantKey",
                    AttributeValue::S(shared::adapters::dynamodb::ALLOWED_ORIGINS_ITEM.into()),
                )
                .update_expression("ADD origins :o")
                .expression_attribute_values(":o", AttributeValue::Ss(origins))
                .send()
                .await
                .expect("list the allowed origins");
        }
        record
            .item(
                "tenantKey",
                AttributeValue::S(format!("{client_id}#{client_code}#{database}")),
            )
            .item("userPoolId", AttributeValue::S(user_pool_id.clone()))
            .item("appClientId", AttributeValue::S(app_client_id.clone()))
            .item("adminGroup", AttributeValue::S("admins".into()))
            // mail the API sends itself (passkey registration codes) goes out as the pool's
            .item("emailFrom", AttributeValue::S(MAIL_FROM.into()))
            .item(
                "jwksUrl",
                AttributeValue::S(format!(
                    "{}/{user_pool_id}/.well-known/jwks.json",
                    self.endpoint.trim_end_matches('/')
                )),
            )
            .send()
            .await
            .expect("register tenant");
        TenantFixture {
            client_id: client_id.into(),
            client_code: client_code.into(),
            database: database.into(),
            user_pool_id,
            app_client_id,
        }
    }

    /// Gives the pool a domain and the local OpenID Connect provider; answers the domain's base
    /// URL (the emulator serves a pool's domain under `/_domains/<prefix>`).
    async fn federate(&self, user_pool_id: &str, issuer: &str) -> String {
        let prefix = unique("auth").to_ascii_lowercase();
        self.cognito
            .create_user_pool_domain()
            .user_pool_id(user_pool_id)
            .domain(&prefix)
            .send()
            .await
            .expect("the pool's domain");
        self.cognito
            .create_identity_provider()
            .user_pool_id(user_pool_id)
            .provider_name(LOCAL_IDP)
            .provider_type(aws_sdk_cognitoidentityprovider::types::IdentityProviderTypeType::Oidc)
            .provider_details("client_id", LOCAL_IDP_CLIENT_ID)
            .provider_details("client_secret", LOCAL_IDP_CLIENT_SECRET)
            .provider_details("authorize_scopes", "openid email profile")
            .provider_details("oidc_issuer", issuer)
            .provider_details("attributes_request_method", "GET")
            .attribute_mapping("email", "email")
            .attribute_mapping("email_verified", "email_verified")
            .attribute_mapping("name", "name")
            .attribute_mapping("username", "sub")
            .send()
            .await
            .expect("the pool's identity provider");
        format!("{}/_domains/{prefix}", self.endpoint.trim_end_matches('/'))
    }

    /// A fresh tenant whose pool holds a new email address until it is verified
    /// (`AttributesRequireVerificationBeforeUpdate`, as the templates set it): every local pool
    /// does now; the name says what a test relies on.
    pub async fn fresh_tenant_holding_new_emails(&self) -> TenantFixture {
        self.fresh_tenant().await
    }

    /// A tenant with unique headers, for one test.
    pub async fn fresh_tenant(&self) -> TenantFixture {
        self.create_tenant(&unique("client"), "CODE", "main").await
    }

    /// Removes the tenant's registry record (its pool and app client stay), so that another
    /// record may name them.
    pub async fn remove_tenant_record(&self, t: &TenantFixture) {
        self.dynamodb
            .delete_item()
            .table_name(&self.config.tenants_table)
            .key(
                "tenantKey",
                AttributeValue::S(format!("{}#{}#{}", t.client_id, t.client_code, t.database)),
            )
            .send()
            .await
            .expect("delete tenant");
    }

    /// Sets an attribute of the tenant's registry record (a policy, say).
    pub async fn set_tenant_attribute(&self, t: &TenantFixture, name: &str, value: AttributeValue) {
        self.dynamodb
            .update_item()
            .table_name(&self.config.tenants_table)
            .key(
                "tenantKey",
                AttributeValue::S(format!("{}#{}#{}", t.client_id, t.client_code, t.database)),
            )
            .update_expression("SET #n = :v")
            .expression_attribute_names("#n", name)
            .expression_attribute_values(":v", value)
            .send()
            .await
            .expect("update tenant");
    }

    /// A user with a temporary password (`FORCE_CHANGE_PASSWORD`), no invitation sent.
    pub async fn create_user_with_temporary_password(
        &self,
        t: &TenantFixture,
        user: &str,
        password: &str,
    ) {
        self.cognito
            .admin_create_user()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .temporary_password(password)
            .message_action(MessageActionType::Suppress)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(format!("{user}@example.com"))
                    .build()
                    .expect("attribute"),
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("admin create user");
    }

    /// A confirmed user with a permanent password.
    pub async fn create_user(&self, t: &TenantFixture, user: &str, password: &str) {
        self.create_user_with_temporary_password(t, user, password)
            .await;
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .password(password)
            .permanent(true)
            .send()
            .await
            .expect("admin set user password");
    }

    pub async fn add_to_group(&self, t: &TenantFixture, user: &str, group: &str) {
        self.cognito
            .admin_add_user_to_group()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .group_name(group)
            .send()
            .await
            .expect("admin add user to group");
    }

    /// An admin of the tenant (in its `admins` group) and a fresh access token of theirs,
    /// obtained through the auth function like any client would.
    pub async fn admin_token(&self, t: &TenantFixture, app: &AwsApp) -> (String, String) {
        let admin = unique("admin");
        let password = random_password();
        self.create_user(t, &admin, &password).await;
        self.add_to_group(t, &admin, "admins").await;
        (admin.clone(), self.sign_in(t, app, &admin, &password).await)
    }

    /// Signs in through the auth function and returns the access token.
    pub async fn sign_in(
        &self,
        t: &TenantFixture,
        app: &AwsApp,
        user: &str,
        password: &str,
    ) -> String {
        let a = sign_in(app, t, user, password).await;
        assert_eq!(a.status, 200, "sign-in of {user}: {}", a.body);
        a.data()["authenticationResult"]["accessToken"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    /// The user's attributes as Cognito holds them (`sub`, `email`, `email_verified`, …).
    pub async fn user_attributes(
        &self,
        t: &TenantFixture,
        user: &str,
    ) -> std::collections::HashMap<String, String> {
        self.cognito
            .admin_get_user()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .send()
            .await
            .expect("admin get user")
            .user_attributes()
            .iter()
            .map(|a| {
                (
                    a.name().to_string(),
                    a.value().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub async fn disable_user(&self, t: &TenantFixture, user: &str) {
        self.cognito
            .admin_disable_user()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .send()
            .await
            .expect("admin disable user");
    }

    /// The app client's secret, for calls that go to Cognito directly (not through the API).
    pub async fn client_secret(&self, t: &TenantFixture) -> String {
        self.cognito
            .describe_user_pool_client()
            .user_pool_id(&t.user_pool_id)
            .client_id(&t.app_client_id)
            .send()
            .await
            .expect("describe user pool client")
            .user_pool_client()
            .and_then(|c| c.client_secret())
            .expect("the app client has a secret")
            .to_string()
    }

    /// The account-state table's item under `pk` (`pool#user`, `<purpose>#pool#user`), read
    /// consistently.
    pub async fn state_item(
        &self,
        pk: String,
    ) -> Option<std::collections::HashMap<String, AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(&self.config.account_state_table)
            .key("pk", AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .expect("get an account-state item")
            .item
    }

    /// Writes a lock item the way the lock store reads it.
    pub async fn put_lock(
        &self,
        t: &TenantFixture,
        user: &str,
        source: &str,
        locked_until: Option<u64>,
    ) {
        let mut req = self
            .dynamodb
            .put_item()
            .table_name(&self.config.account_state_table)
            .item(
                "pk",
                AttributeValue::S(format!("{}#{user}", t.user_pool_id)),
            )
            .item("lockSource", AttributeValue::S(source.into()))
            .item("lockedAt", AttributeValue::S("2026-11-23T00:00:00Z".into()))
            .item("lockedBy", AttributeValue::S("test".into()));
        if let Some(until) = locked_until {
            req = req.item("lockedUntil", AttributeValue::N(until.to_string()));
        }
        req.send().await.expect("put lock");
    }
}

/// An API Gateway (REST, v1) request for `path` with the tenant's headers and a JSON body,
/// parsed by `lambda_http` exactly as the deployed function receives it.
pub fn api_request(
    t: &TenantFixture,
    method: &str,
    path: &str,
    body: &Value,
    bearer: Option<&str>,
) -> Request {
    api_request_with_headers(method, path, body, &tenant_headers(t, bearer))
}

pub fn tenant_headers(t: &TenantFixture, bearer: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("vbasoftware-client-id".to_string(), t.client_id.clone()),
        ("vbasoftware-client-code".to_string(), t.client_code.clone()),
        ("vbasoftware-database".to_string(), t.database.clone()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    if let Some(token) = bearer {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    headers
}

pub use shared::testing::{
    Answer, api_event, api_request as api_request_with_headers, demo_headers,
};

/// `method path` with `body` and the bearer `token` through the group `G`, as its Lambda serves
/// it.
pub async fn call<G: shared::Group>(
    app: &AwsApp,
    t: &TenantFixture,
    method: &str,
    path: &str,
    body: Value,
    token: &str,
) -> Answer {
    Answer::from(
        app.handle::<G>(api_request(t, method, path, &body, Some(token)))
            .await,
    )
}

/// A public route (`POST`, no bearer token) through group `G`, as a client calls it.
pub async fn public<G: shared::Group>(
    app: &shared::AwsApp,
    t: &TenantFixture,
    path: &str,
    body: Value,
) -> Answer {
    Answer::from(
        app.handle::<G>(api_request(t, "POST", path, &body, None))
            .await,
    )
}

/// The user's audit trail (newest first) as `(action, outcome)` pairs, read by an admin.
pub async fn trail(
    app: &shared::AwsApp,
    t: &TenantFixture,
    user: &str,
    admin: &str,
) -> Vec<(String, String)> {
    let path = format!("/users/{user}/events?limit=100");
    let events = call::<users::Group>(app, t, "GET", &path, Value::Null, admin).await;
    assert_eq!(events.status, 200, "{}", events.body);
    events.data()["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().expect("a string").to_string();
            (field("action"), field("outcome"))
        })
        .collect()
}

/// The Pre Authentication trigger's sample event (`events/pre-authentication/sign-in.json`)
/// for `user` of the tenant's pool, as Cognito hands it over.
pub fn trigger_event(
    t: &TenantFixture,
    user: &str,
) -> lambda_runtime::LambdaEvent<
    aws_lambda_events::event::cognito::CognitoEventUserPoolsPreAuthentication,
> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/pre-authentication/sign-in.json"
    ))
    .expect("the trigger's sample event");
    let mut event: aws_lambda_events::event::cognito::CognitoEventUserPoolsPreAuthentication =
        serde_json::from_str(&text).expect("a Pre Authentication event");
    event.cognito_event_user_pools_header.user_pool_id = Some(t.user_pool_id.clone());
    event.cognito_event_user_pools_header.user_name = Some(user.to_string());
    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default())
}

/// `req` through the handler of `function` (`auth`, `password`, `admin`, `lock`, `users`).
pub async fn dispatch<P: shared::Ports>(
    app: &shared::App<P>,
    function: &str,
    req: Request,
) -> lambda_http::Response<Body> {
    match function {
        "auth" => app.handle::<auth::Group>(req).await,
        "password" => app.handle::<password::Group>(req).await,
        "admin" => app.handle::<admin::Group>(req).await,
        "lock" => app.handle::<lock::Group>(req).await,
        "users" => app.handle::<users::Group>(req).await,
        other => panic!("no function {other}"),
    }
}

/// `POST /user-authentication` through the auth function, as a client would.
pub async fn sign_in<P: shared::Ports>(
    app: &shared::App<P>,
    t: &TenantFixture,
    user: &str,
    password: &str,
) -> Answer {
    let body = serde_json::json!({"userID": user, "password": password});
    Answer::from(
        app.handle::<auth::Group>(api_request(t, "POST", "/user-authentication", &body, None))
            .await,
    )
}

/// Watches the SDK clients the functions use: counts the calls of each operation, and
/// catches the password-reset codes the emulator returns to its caller in a response header
/// (`x-moto-forgot-password-confirmation-code`). Only tests read either: the product never
/// depends on them.
#[derive(Debug, Default, Clone)]
pub struct SdkProbe {
    codes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Contact verification codes (the emulator's extension), as `attribute=code`.
    contact_codes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    calls: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    spans: std::sync::Arc<std::sync::Mutex<Vec<Span>>>,
    writes: std::sync::Arc<std::sync::Mutex<Vec<Write>>>,
}

/// One DynamoDB write (`PutItem`, `UpdateItem`, `DeleteItem`): its table and item key (`pk`),
/// as the request named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub operation: String,
    pub table: String,
    pub key: String,
}

/// One SDK operation, from the start of its execution to its end (retries included).
#[derive(Debug, Clone)]
pub struct Span {
    pub operation: String,
    pub start: Instant,
    pub end: Instant,
}

/// When an operation started, kept in its own config bag until it ends.
#[derive(Debug)]
struct Started(Instant);

impl aws_smithy_types::config_bag::Storable for Started {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl SdkProbe {
    /// The last reset code the emulator handed out.
    pub fn last_code(&self) -> Option<String> {
        self.codes.lock().ok().and_then(|c| c.last().cloned())
    }

    /// The last verification code the emulator made for `attribute` (`email`, `phone_number`).
    pub fn last_contact_code(&self, attribute: &str) -> Option<String> {
        let prefix = format!("{attribute}=");
        self.contact_codes.lock().ok().and_then(|c| {
            c.iter()
                .rev()
                .flat_map(|h| h.split(','))
                .find_map(|pair| pair.strip_prefix(&prefix).map(str::to_string))
        })
    }

    /// The last sign-in code the emulator sent for `challenge` (`SMS_MFA`, `EMAIL_OTP`).
    pub fn last_mfa_code(&self, challenge: &str) -> Option<String> {
        self.last_contact_code(challenge)
    }

    /// How many times `operation` (e.g. `InitiateAuth`) was called.
    pub fn calls(&self, operation: &str) -> usize {
        self.calls
            .lock()
            .ok()
            .and_then(|c| c.get(operation).copied())
            .unwrap_or(0)
    }

    /// Every operation so far, in the order they ended; then starts afresh.
    pub fn take_spans(&self) -> Vec<Span> {
        self.spans
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }

    /// Every DynamoDB write so far; then starts afresh.
    pub fn take_writes(&self) -> Vec<Write> {
        self.writes
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// Every call so far, as `operation` → count; then starts counting afresh.
    pub fn take(&self) -> std::collections::BTreeMap<String, usize> {
        self.calls
            .lock()
            .map(|mut c| c.drain().collect())
            .unwrap_or_default()
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for SdkProbe {
    fn name(&self) -> &'static str {
        "SdkProbe"
    }

    fn read_before_execution(
        &self,
        _: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        _: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<
            '_,
        >,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(Started(at)) = cfg.load::<Started>()
            && let Ok(mut spans) = self.spans.lock()
        {
            let operation = cfg
                .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
                .map(|m| m.name().to_string())
                .unwrap_or_default();
            spans.push(Span {
                operation,
                start: *at,
                end: Instant::now(),
            });
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let Some(meta) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
        else {
            return Ok(());
        };
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(meta.name().to_string()).or_default() += 1;
        }
        let body = || -> Value {
            context
                .request()
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default()
        };
        let write = |operation: &str, body: &Value| Write {
            operation: operation.to_string(),
            table: body["TableName"].as_str().unwrap_or_default().to_string(),
            key: body["Key"]["pk"]["S"]
                .as_str()
                .or_else(|| body["Item"]["pk"]["S"].as_str())
                .unwrap_or_default()
                .to_string(),
        };
        let mut written = vec![];
        if ["PutItem", "UpdateItem", "DeleteItem"].contains(&meta.name()) {
            written.push(write(meta.name(), &body()));
        }
        // a transaction's writes, each as the operation IAM authorizes it by
        if meta.name() == "TransactWriteItems" {
            for item in body()["TransactItems"].as_array().into_iter().flatten() {
                for (kind, operation) in [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                ] {
                    if item.get(kind).is_some() {
                        written.push(write(operation, &item[kind]));
                    }
                }
            }
        }
        if let Ok(mut writes) = self.writes.lock() {
            writes.extend(written);
        }
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(code) = context
            .response()
            .headers()
            .get("x-moto-forgot-password-confirmation-code")
            && let Ok(mut codes) = self.codes.lock()
        {
            codes.push(code.to_string());
        }
        for header in ["x-moto-attribute-verification-code", "x-moto-mfa-code"] {
            if let Some(code) = context.response().headers().get(header)
                && let Ok(mut codes) = self.contact_codes.lock()
            {
                codes.push(code.to_string());
            }
        }
        Ok(())
    }
}

impl Stack {
    /// The production wiring, with one probe on both SDK clients the functions use.
    pub async fn probed_app(&self) -> (AwsApp, SdkProbe) {
        let probe = SdkProbe::default();
        let sdk = shared::aws::sdk_config(&self.config).expect("the SDK configuration");
        let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                .interceptor(probe.clone())
                .build(),
        );
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(probe.clone())
                .build(),
        );
        let ses = aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(&sdk)
                .interceptor(probe.clone())
                .build(),
        );
        let c = &self.config;
        let app = shared::App {
            directory: shared::adapters::cognito::CognitoDirectory::new(cognito),
            tenants: shared::domain::tenant::CachedTenants::new(
                shared::adapters::dynamodb::DynamoTenants::new(dynamodb.clone(), &c.tenants_table),
                c.tenant_cache_ttl,
            ),
            locks: shared::adapters::dynamodb::DynamoLocks::new(
                dynamodb.clone(),
                &c.account_state_table,
            )
            .with_audit(shared::adapters::dynamodb::AuditTable::of(c)),
            audit: shared::adapters::dynamodb::DynamoAudit::new(
                dynamodb,
                &c.audit_table,
                c.audit_retention,
            ),
            mail: shared::adapters::ses::SesMailer::new(ses),
            ..self.app().await
        };
        (app, probe)
    }
}
