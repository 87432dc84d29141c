"""The self-service scope (moto ignores scopes): a filter the server applies to each request
before moto sees it; it patches nothing, so it is not among the installs.

Every operation Cognito authorises with the user's access token alone (`GetUser`,
`UpdateUserAttributes`, `DeleteUserAttributes`, `GetUserAttributeVerificationCode`,
`VerifyUserAttribute`, `ChangePassword`, `DeleteUser`, `GlobalSignOut`, `AssociateSoftwareToken`
and `VerifySoftwareToken` with a token, `SetUserMFAPreference`, `SetUserSettings`, the WebAuthn
operations, the device operations, `GetUserAuthFactors`) refuses a token whose `scope` claim lacks
`aws.cognito.signin.user.admin` with `NotAuthorizedException` before anything else, as the API
reference requires of each ("It must include the scope aws.cognito.signin.user.admin").

Not as Cognito: the message, "Access Token does not have required scopes", is what Cognito
answers in practice; its documentation names none. The scope is read from the token's payload
before the token is looked up, so an unknown token without the scope is refused for its scope,
not as invalid (a token that is not a JWT gets moto's own refusal).
"""
import base64
import json

# The operations Cognito authorises with the user's access token alone, each of which needs the
# token's `aws.cognito.signin.user.admin` scope (API reference: "It must include the scope
# aws.cognito.signin.user.admin").
SELF_SERVICE = {
    "GetUser", "UpdateUserAttributes", "DeleteUserAttributes", "GetUserAttributeVerificationCode",
    "VerifyUserAttribute", "ChangePassword", "DeleteUser", "GlobalSignOut", "AssociateSoftwareToken",
    "VerifySoftwareToken", "SetUserMFAPreference", "SetUserSettings", "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration", "ListWebAuthnCredentials", "DeleteWebAuthnCredential",
    "ListDevices", "GetDevice", "ForgetDevice", "UpdateDeviceStatus", "ConfirmDevice", "GetUserAuthFactors",
}
ADMIN_SCOPE = "aws.cognito.signin.user.admin"


def scope_refusal(operation, body):
    """Cognito's refusal of an access token without the self-service scope, or None."""
    token = body.get("AccessToken") if isinstance(body, dict) else None
    if operation not in SELF_SERVICE or not isinstance(token, str):
        return None
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None  # not a JWT: moto's own refusal follows
    if ADMIN_SCOPE in str(claims.get("scope") or "").split():
        return None
    return json.dumps({"__type": "NotAuthorizedException", "message": "Access Token does not have required scopes"})
