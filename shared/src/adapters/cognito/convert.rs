//! Cognito's shapes, read as the domain's.

use aws_sdk_cognitoidentityprovider::{
    operation::{
        initiate_auth::InitiateAuthOutput, respond_to_auth_challenge::RespondToAuthChallengeOutput,
    },
    types::{AttributeType, AuthenticationResultType, ChallengeNameType, CodeDeliveryDetailsType},
};

use crate::domain::directory::{AuthResult, CodeDelivery, DirectoryError, DirectoryUser, Tokens};

pub(super) fn tokens(r: &AuthenticationResultType) -> Result<Tokens, DirectoryError> {
    Ok(Tokens {
        access_token: r
            .access_token()
            .ok_or_else(|| DirectoryError::Internal("Cognito returned no access token".into()))?
            .to_string(),
        id_token: r.id_token().map(str::to_string),
        refresh_token: r.refresh_token().map(str::to_string),
        expires_in: r.expires_in(),
        token_type: r.token_type().unwrap_or("Bearer").to_string(),
    })
}

pub(super) fn auth_result(
    challenge: Option<&ChallengeNameType>,
    session: Option<&str>,
    result: Option<&AuthenticationResultType>,
) -> Result<AuthResult, DirectoryError> {
    Ok(AuthResult {
        challenge_name: challenge.map(|c| c.as_str().to_string()),
        session: session.map(str::to_string),
        authentication_result: result.map(tokens).transpose()?,
    })
}

pub(super) fn from_initiate(out: InitiateAuthOutput) -> Result<AuthResult, DirectoryError> {
    auth_result(
        out.challenge_name(),
        out.session(),
        out.authentication_result(),
    )
}

pub(super) fn from_respond(
    out: RespondToAuthChallengeOutput,
) -> Result<AuthResult, DirectoryError> {
    auth_result(
        out.challenge_name(),
        out.session(),
        out.authentication_result(),
    )
}

pub(super) fn delivery(details: Option<&CodeDeliveryDetailsType>) -> CodeDelivery {
    CodeDelivery {
        destination: details.and_then(|d| d.destination()).map(str::to_string),
        delivery_medium: details
            .and_then(|d| d.delivery_medium())
            .map(|m| m.as_str().to_string()),
        attribute_name: details.and_then(|d| d.attribute_name()).map(str::to_string),
    }
}

pub(super) fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| std::time::SystemTime::try_from(*t).ok())
        .map(crate::time::rfc3339)
}

/// A user from the parts `AdminGetUser`, `AdminCreateUser` and `ListUsers` all return.
pub(super) fn directory_user(
    username: &str,
    attributes: &[AttributeType],
    status: Option<&aws_sdk_cognitoidentityprovider::types::UserStatusType>,
    enabled: bool,
    created: Option<&aws_smithy_types::DateTime>,
    updated: Option<&aws_smithy_types::DateTime>,
) -> DirectoryUser {
    let attributes: std::collections::BTreeMap<String, String> = attributes
        .iter()
        .filter_map(|a| a.value().map(|v| (a.name().to_string(), v.to_string())))
        .collect();
    DirectoryUser {
        username: username.to_string(),
        sub: attributes.get("sub").cloned(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        enabled,
        attributes,
        created_at: rfc3339(created),
        updated_at: rfc3339(updated),
        factors: vec![],
        preferred_factor: None,
    }
}
