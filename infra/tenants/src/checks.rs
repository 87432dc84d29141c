//! What the command checks before it writes: its arguments (ids, a policy, URLs, web origins),
//! and the pool and app client a tenant names, as Cognito describes them: tokens that stay
//! with the API, a client that hides user existence, a domain and callback that are the
//! pool's.

use aws_sdk_cognitoidentityprovider::types::UserPoolType;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::{Add, CliError, Clients, Policy, aws};

/// An issuer as the key URI format allows it: not empty, no colon (it separates the issuer
/// from the account in the label), no control characters, at most 64 characters.
pub(crate) fn validate_policy(policy: &Policy) -> Result<(), CliError> {
    if let Some(issuer) = &policy.totp_issuer {
        let ok = !issuer.trim().is_empty()
            && issuer.chars().count() <= 64
            && !issuer.chars().any(|c| c == ':' || c.is_control());
        if !ok {
            return Err(CliError::Invalid(
                "--totp-issuer must be 1-64 characters without a colon".into(),
            ));
        }
    }
    if let Some(from) = &policy.email_from {
        let address = from
            .rsplit_once('<')
            .map_or(from.as_str(), |(_, a)| a.trim_end_matches('>'));
        // ASCII: SES takes a display name beyond it only RFC 2047-encoded
        let ok = from.len() <= 256
            && from.is_ascii()
            && (!from.contains('<') || from.ends_with('>'))
            && !from
                .chars()
                .any(|c| c.is_control() || matches!(c, ',' | ';' | '"'))
            && address.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !address.contains(char::is_whitespace)
            });
        if !ok {
            return Err(CliError::Invalid(
                "--email-from must be an email address, or `Name <address>`".into(),
            ));
        }
    }
    if policy.auth_domain.is_some() != policy.idp_callback_url.is_some() {
        return Err(CliError::Invalid(
            "--auth-domain and --idp-callback-url go together".into(),
        ));
    }
    let urls = [&policy.auth_domain, &policy.idp_callback_url]
        .into_iter()
        .flatten()
        .chain(&policy.idp_redirect_urls);
    for url in urls {
        if !shared::domain::tenant::url_allowed(url) || url.len() > 2048 || url.contains('@') {
            return Err(CliError::Invalid(format!(
                "{url:?} must be an https URL (or http to localhost) without user info"
            )));
        }
    }
    if let Some(bad) = policy
        .identity_providers
        .iter()
        .find(|p| !valid_id(p, 32, &['-', '_']))
    {
        return Err(CliError::Invalid(format!(
            "--identity-provider {bad:?} is not a provider name"
        )));
    }
    if let Some(bad) = policy
        .allowed_origins
        .iter()
        .find(|o| !shared::domain::tenant::origin_allowed(o))
    {
        return Err(CliError::Invalid(format!(
            "--allowed-origin {bad:?} is not a web origin as a browser sends it: give \
             https://app.example.com (a port only if it is not 443), no path, no trailing \
             slash, lower case, no wildcard; http only to localhost, 127.0.0.1 or [::1]"
        )));
    }
    if let Some(url) = &policy.passkey_registration_url {
        // https to any host, or plain http to this machine only; no user info before the host
        // (`https://trusted@elsewhere`)
        let host_of = |rest: &str| {
            rest.split(['/', '?', '#'])
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let local = |host: &str| {
            let name = host.rsplit_once(':').map_or(host, |(n, port)| {
                if port.bytes().all(|b| b.is_ascii_digit()) {
                    n
                } else {
                    host
                }
            });
            name == "localhost" || name == "127.0.0.1"
        };
        let host = match url.split_once("://") {
            Some(("https", rest)) => Some(host_of(rest)),
            Some(("http", rest)) => Some(host_of(rest)).filter(|h| local(h)),
            _ => None,
        };
        let ok = host.is_some_and(|h| !h.is_empty() && !h.contains('@'))
            && url.contains("{code}")
            && url.len() <= 2048
            && !url.chars().any(|c| c.is_control() || c.is_whitespace());
        if !ok {
            return Err(CliError::Invalid(
                "--passkey-registration-url must be an https URL (or http://localhost) with \
                 `{code}` in it"
                    .into(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn valid_id(value: &str, max: usize, extra: &[char]) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

pub(crate) fn validate_add(add: &Add) -> Result<(), CliError> {
    let pool_ok = add
        .user_pool_id
        .split_once('_')
        .is_some_and(|(region, id)| valid_id(region, 32, &['-']) && valid_id(id, 64, &[]));
    if !pool_ok {
        return Err(CliError::Invalid(format!(
            "--user-pool-id {:?} is not a user pool id (<region>_<id>, e.g. eu-west-1_AbC123)",
            add.user_pool_id
        )));
    }
    if !valid_id(&add.app_client_id, 128, &[]) {
        return Err(CliError::Invalid(
            "--app-client-id must be letters and digits".into(),
        ));
    }
    if let Some(bad) = add
        .api_key_ids
        .iter()
        .find(|k| !valid_id(k, 128, &['-', '_']))
    {
        return Err(CliError::Invalid(format!(
            "--api-key-id {bad:?} is not an API key id"
        )));
    }
    if !valid_id(&add.admin_group, 128, &['-', '_', '.', '+', '@']) {
        return Err(CliError::Invalid(
            "--admin-group is not a group name".into(),
        ));
    }
    validate_policy(&add.policy)
}

/// Refuses a loopback origin (`http://localhost:3000`) for the prod stage: any program on a
/// user's machine could serve a page there. Other stages take them, for a developer's app run
/// locally against dev or staging.
pub(crate) fn refuse_loopback_origins_in_prod(
    stage: Option<&str>,
    origins: &[String],
) -> Result<(), CliError> {
    if stage != Some("prod") {
        return Ok(());
    }
    match origins.iter().find(|o| o.starts_with("http://")) {
        Some(local) => Err(CliError::Invalid(format!(
            "--allowed-origin {local:?} is a page on the user's own machine: prod takes https origins only"
        ))),
        None => Ok(()),
    }
}

/// Refuses an `--auth-domain` that is not the pool's own (its prefix domain, its custom domain,
/// or the local emulator's path for it): the API sends the app client's secret there.
/// Refuses a pool whose tokens would reach Cognito's self-service operations around the API:
/// one without a pre token generation trigger of event version `V2_0` (which takes
/// `aws.cognito.signin.user.admin` out of every token the API hands out), or whose app client
/// does not allow the custom sign-in the API's own sessions need (`ALLOW_CUSTOM_AUTH`); a pool
/// whose locks would not hold for a sign-in made around the API (no pre authentication
/// trigger), or whose app client has no secret (anyone with its id, which every access token
/// names, could sign in at Cognito directly: no lockout budget, no security-key step, a
/// refresh without the API); and a client that tells an unknown user from a wrong password
/// (`PreventUserExistenceErrors` not `ENABLED`). The templates configure all of them; a pool
/// made by hand may not.
pub(crate) fn pool_keeps_tokens_to_the_api(
    pool_id: &str,
    pool: Option<&UserPoolType>,
    client: Option<&aws_sdk_cognitoidentityprovider::types::UserPoolClientType>,
) -> Result<(), CliError> {
    let triggers = pool.and_then(|p| p.lambda_config());
    let trigger = triggers.and_then(|l| l.pre_token_generation_config());
    let v2 = trigger
        .is_some_and(|t| t.lambda_version().as_str() == "V2_0" && !t.lambda_arn().is_empty());
    if !v2 {
        return Err(CliError::Invalid(format!(
            "the user pool {pool_id} has no pre token generation trigger of event version V2_0 \
             (PreTokenGenerationConfig, the stage's custom-auth function): its tokens would \
             reach Cognito's self-service operations around the API (deploy it from \
             infra/tenant.yaml)"
        )));
    }
    let pre_authentication = triggers
        .and_then(|l| l.pre_authentication())
        .is_some_and(|arn| !arn.is_empty());
    if !pre_authentication {
        return Err(CliError::Invalid(format!(
            "the user pool {pool_id} has no pre authentication trigger (the stage's \
             pre-authentication function): a locked account could still sign in at Cognito \
             around the API (deploy it from infra/tenant.yaml)"
        )));
    }
    let secret = client.is_some_and(|c| c.client_secret().is_some_and(|s| !s.is_empty()));
    if !secret {
        return Err(CliError::Invalid(
            "the app client has no client secret: anyone with its id (every access token names \
             it) could sign in and refresh at Cognito around the API, without its lockout \
             budget or security-key step (create the client with GenerateSecret, as \
             infra/tenant.yaml does)"
                .into(),
        ));
    }
    let custom = client.is_some_and(|c| {
        c.explicit_auth_flows()
            .iter()
            .any(|f| f.as_str() == "ALLOW_CUSTOM_AUTH")
    });
    if !custom {
        return Err(CliError::Invalid(
            "the app client does not allow ALLOW_CUSTOM_AUTH, which the API's own sessions as a \
             user need (factor, contact and passkey changes)"
                .into(),
        ));
    }
    let hidden = client.is_some_and(|c| {
        c.prevent_user_existence_errors()
            .is_some_and(|p| p.as_str() == "ENABLED")
    });
    if !hidden {
        return Err(CliError::Invalid(
            "the app client does not set PreventUserExistenceErrors to ENABLED: Cognito would \
             tell an unknown user's sign-in from a wrong password (UserNotFoundException), \
             which the API's answers never do"
                .into(),
        ));
    }
    Ok(())
}

/// The pool's configuration (`DescribeUserPool`), read once per command.
pub(crate) async fn describe_pool(
    clients: &Clients,
    pool_id: &str,
) -> Result<Option<UserPoolType>, CliError> {
    Ok(clients
        .cognito
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await
        .map_err(|e| aws("DescribeUserPool", e))?
        .user_pool)
}

pub(crate) fn domain_is_the_pools(
    pool_id: &str,
    pool: Option<&UserPoolType>,
    policy: &Policy,
) -> Result<(), CliError> {
    let Some(url) = &policy.auth_domain else {
        return Ok(());
    };
    let rest = url
        .split_once("://")
        .map_or("", |(_, r)| r)
        .trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or_default();
    let region = pool_id.split_once('_').map_or("", |(r, _)| r);
    let ours = pool.and_then(|p| p.domain()).is_some_and(|d| {
        host == format!("{d}.auth.{region}.amazoncognito.com")
            || rest.ends_with(&format!("/_domains/{d}"))
    }) || pool
        .and_then(|p| p.custom_domain())
        .is_some_and(|d| host == d);
    if ours {
        Ok(())
    } else {
        Err(CliError::Invalid(format!(
            "--auth-domain {url} is not the user pool's domain (DescribeUserPool)"
        )))
    }
}

/// Refuses federation settings the tenant's app client would refuse at sign-in: a callback URL
/// it does not list (Cognito's `redirect_mismatch`), a provider it does not support, no code
/// flow, or fewer scopes than an intent asks for.
pub(crate) fn client_serves_federation(
    client: Option<&aws_sdk_cognitoidentityprovider::types::UserPoolClientType>,
    policy: &Policy,
) -> Result<(), CliError> {
    if policy.idp_callback_url.is_none() && policy.identity_providers.is_empty() {
        return Ok(());
    }
    let refuse = |what: String| Err(CliError::Invalid(format!("the app client {what}")));
    let Some(client) = client else {
        return refuse("was not described".into());
    };
    if let Some(url) = &policy.idp_callback_url
        && !client.callback_urls().iter().any(|u| u == url)
    {
        return refuse(format!("does not list {url} among its callback URLs"));
    }
    if let Some(p) = policy.identity_providers.iter().find(|p| {
        !client
            .supported_identity_providers()
            .iter()
            .any(|s| s == *p)
    }) {
        return refuse(format!("does not support the identity provider {p}"));
    }
    let code = aws_sdk_cognitoidentityprovider::types::OAuthFlowType::Code;
    if !client
        .allowed_o_auth_flows_user_pool_client()
        .unwrap_or(false)
        || !client.allowed_o_auth_flows().contains(&code)
    {
        return refuse("does not allow the authorization code flow".into());
    }
    // the pool's own password and recovery pages would bypass the API's lockout and audit
    if client
        .supported_identity_providers()
        .iter()
        .any(|p| p == "COGNITO")
    {
        return refuse(
            "supports COGNITO: its pool domain's own sign-in and recovery pages would bypass the \
             API's lockout, audit and recovery rules (list the identity providers only)"
                .into(),
        );
    }
    if let Some(scope) = shared::domain::tenant::SCOPES
        .split(' ')
        .find(|s| !client.allowed_o_auth_scopes().iter().any(|a| a == s))
    {
        return refuse(format!("does not allow the scope {scope}"));
    }
    Ok(())
}

/// Refuses a pool another tenant record already uses: the two tenants would share their
/// users' locks, lockout budgets and audit trails (all kept by pool), and on one app client
/// take each other's tokens. Replacing the same record is no clash.
pub(crate) async fn ensure_pool_free(
    clients: &Clients,
    table: &str,
    key: &str,
    pool: &str,
) -> Result<(), CliError> {
    let mut start = None;
    loop {
        let out = clients
            .dynamodb
            .scan()
            .table_name(table)
            .filter_expression("userPoolId = :pool AND tenantKey <> :key")
            .expression_attribute_values(":pool", AttributeValue::S(pool.to_string()))
            .expression_attribute_values(":key", AttributeValue::S(key.to_string()))
            .projection_expression("tenantKey")
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| aws("Scan", e))?;
        if let Some(other) = out
            .items()
            .iter()
            .filter_map(|i| i.get("tenantKey").and_then(|v| v.as_s().ok()))
            .find(|k| crate::is_record_key(k))
        {
            return Err(CliError::Invalid(format!(
                "user pool {pool} already serves tenant {other}: two tenants on one pool share \
                 their users' locks, lockout budgets and audit trails (all kept by pool), and \
                 on one app client take each other's tokens (give each tenant its own pool, or \
                 remove {other} first)"
            )));
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(());
        }
    }
}
