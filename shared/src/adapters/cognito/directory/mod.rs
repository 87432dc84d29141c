//! The `Directory` port's operations on Cognito.

mod contacts;
mod factors;
mod identity_links;
mod passkeys;
mod passwords;
mod sign_in;
mod users;

use aws_sdk_cognitoidentityprovider::operation::admin_link_provider_for_user::AdminLinkProviderForUserError;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ChallengeNameType, EmailMfaSettingsType, MessageActionType,
    ProviderUserIdentifierType, SmsMfaSettingsType, SoftwareTokenMfaSettingsType,
    VerifySoftwareTokenResponseType,
};

use crate::{
    domain::directory::{
        AuthResult, Challenge, CodeDelivery, Contact, DirectoryError, DirectoryUser, Factor,
        MfaMode, NewUser, Passkey, PasswordPolicy, RelyingParty, Tokens, UserPage,
        canonical_by_lookup,
    },
    domain::lock::API_SESSION,
    domain::tenant::Federation,
    domain::tenant::Tenant,
    domain::user_id::UserId,
    url,
};

use super::{client::CognitoDirectory, convert::*, errors::classify};

/// A Cognito `sub`: a UUID, 8-4-4-4-12 hexadecimal digits.
fn looks_like_sub(name: &str) -> bool {
    let groups: Vec<&str> = name.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The token endpoint's answer: the tokens, or why not. A 400 with `invalid_grant` is a code
/// the pool refuses; `invalid_client` a tenant whose secret or callback URL does not match
/// the app client (a configuration fault); 5xx the endpoint failing.
async fn token_answer(response: reqwest::Response) -> Result<Tokens, DirectoryError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
        id_token: Option<String>,
        refresh_token: Option<String>,
        expires_in: Option<i32>,
        token_type: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: String,
    }
    const LIMIT: usize = 64 * 1024;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| DirectoryError::Unavailable(format!("the pool's token endpoint: {e}")))?;
    if body.len() > LIMIT {
        return Err(DirectoryError::Internal(
            "the token endpoint's answer is too large".into(),
        ));
    }
    if status.is_server_error() {
        return Err(DirectoryError::Unavailable(format!(
            "the pool's token endpoint answered {status}"
        )));
    }
    if !status.is_success() {
        let error = serde_json::from_slice::<Refusal>(&body).map(|r| r.error);
        return Err(match error.as_deref() {
            Ok("invalid_grant") => DirectoryError::NotAuthorized,
            Ok(other) => DirectoryError::Internal(format!(
                "the pool's token endpoint refused the exchange: {other}"
            )),
            Err(_) => {
                DirectoryError::Internal(format!("the pool's token endpoint answered {status}"))
            }
        });
    }
    let answer: Answer = serde_json::from_slice(&body).map_err(|_| {
        DirectoryError::Internal("the token endpoint's answer is not tokens".into())
    })?;
    Ok(Tokens {
        access_token: answer.access_token,
        id_token: answer.id_token,
        refresh_token: answer.refresh_token,
        expires_in: answer.expires_in.unwrap_or(3600),
        token_type: answer.token_type.unwrap_or_else(|| "Bearer".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::looks_like_sub;

    #[test]
    fn a_sub_is_told_from_a_username() {
        assert!(looks_like_sub("0c5a2f4e-9b1d-4e7a-8f3c-2d6b1a9e4c70"));
        for name in [
            "admin",
            "0c5a2f4e9b1d4e7a8f3c2d6b1a9e4c70",
            "0c5a2f4e-9b1d-4e7a-8f3c-2d6b1a9e4c7",
            "0c5a2f4e-9b1d-4e7a-8f3c-2d6b1a9e4c7g",
            "jane@example.com",
        ] {
            assert!(!looks_like_sub(name), "{name}");
        }
    }
}
