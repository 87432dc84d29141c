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
    parameters: Option<&std::collections::HashMap<String, String>>,
) -> Result<AuthResult, DirectoryError> {
    // a WEB_AUTHN challenge carries the request options as JSON text
    let options = parameters
        .and_then(|p| p.get("CREDENTIAL_REQUEST_OPTIONS"))
        .map(|text| {
            serde_json::from_str(text).map_err(|e| {
                DirectoryError::Internal(format!("Cognito's credential request options: {e}"))
            })
        })
        .transpose()?;
    // `MFA_SETUP`'s session is a credential of its own: Cognito's AssociateSoftwareToken and
    // VerifySoftwareToken take it in place of an access token, with no client secret, so its
    // holder could enrol an authenticator app of theirs directly at Cognito (no recent sign-in,
    // no audit entry) and answer the next sign-in's code with it. The API does not answer that
    // challenge, so its session never leaves the directory.
    let session = match challenge {
        Some(ChallengeNameType::MfaSetup) => None,
        _ => session,
    };
    Ok(AuthResult {
        challenge_name: challenge.map(|c| c.as_str().to_string()),
        session: session.map(str::to_string),
        authentication_result: result.map(tokens).transpose()?,
        credential_request_options: options,
    })
}

pub(super) fn from_initiate(out: InitiateAuthOutput) -> Result<AuthResult, DirectoryError> {
    auth_result(
        out.challenge_name(),
        out.session(),
        out.authentication_result(),
        out.challenge_parameters(),
    )
}

pub(super) fn from_respond(
    out: RespondToAuthChallengeOutput,
) -> Result<AuthResult, DirectoryError> {
    auth_result(
        out.challenge_name(),
        out.session(),
        out.authentication_result(),
        out.challenge_parameters(),
    )
}

/// JSON as the SDK's `Document` (WebAuthn options and credentials travel as documents).
pub(super) fn to_document(value: &serde_json::Value) -> aws_smithy_types::Document {
    use aws_smithy_types::{Document, Number};
    match value {
        serde_json::Value::Null => Document::Null,
        serde_json::Value::Bool(b) => Document::Bool(*b),
        serde_json::Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap_or_default()),
        }),
        serde_json::Value::String(s) => Document::String(s.clone()),
        serde_json::Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        serde_json::Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect(),
        ),
    }
}

/// The SDK's `Document` as JSON.
pub(super) fn from_document(document: &aws_smithy_types::Document) -> serde_json::Value {
    use aws_smithy_types::{Document, Number};
    match document {
        Document::Null => serde_json::Value::Null,
        Document::Bool(b) => serde_json::Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => serde_json::Value::from(*u),
        Document::Number(Number::NegInt(i)) => serde_json::Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Value::from(*f),
        Document::String(s) => serde_json::Value::String(s.clone()),
        Document::Array(items) => items.iter().map(from_document).collect(),
        Document::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), from_document(v)))
                .collect(),
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mfa_setup_challenge_is_named_without_its_session_and_others_keep_theirs() {
        let setup = auth_result(Some(&ChallengeNameType::MfaSetup), Some("s"), None, None)
            .expect("a challenge converts");
        assert_eq!(setup.challenge_name.as_deref(), Some("MFA_SETUP"));
        assert_eq!(setup.session, None);
        assert!(setup.authentication_result.is_none());
        for kept in [
            ChallengeNameType::SoftwareTokenMfa,
            ChallengeNameType::SmsMfa,
            ChallengeNameType::EmailOtp,
            ChallengeNameType::SelectMfaType,
            ChallengeNameType::NewPasswordRequired,
            ChallengeNameType::CustomChallenge,
        ] {
            let r = auth_result(Some(&kept), Some("s"), None, None).expect("a challenge converts");
            assert_eq!(r.session.as_deref(), Some("s"), "{kept:?}");
        }
    }
}
