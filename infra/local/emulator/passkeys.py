"""Passkeys (`StartWebAuthnRegistration`, `CompleteWebAuthnRegistration`,
`ListWebAuthnCredentials`, `DeleteWebAuthnCredential`, which moto lacks, and the `USER_AUTH`
flow's `WEB_AUTHN` challenge), verified by the `webauthn` library (Duo Labs).

The relying party is the pool's `WebAuthnConfiguration` (`SetUserPoolMfaConfig`; without it
`WebAuthnConfigurationMissingException`); `GetUserPoolMfaConfig` answers it too (moto leaves it
out). Registration options and request options are made, and attestations and assertions
verified, by `webauthn`: a wrong challenge, relying party, origin, signature or counter is
refused. The origin must be the relying party's host or a subdomain over https, or
`http://localhost` for a `localhost` relying party (`WebAuthnOriginNotAllowedException`); a
registration that does not verify is `InvalidParameterException` (RP ID hash:
`WebAuthnRelyingPartyMismatchException`, challenge: `WebAuthnChallengeNotFoundException`), an
assertion that does not verify `NotAuthorizedException`. `InitiateAuth` `USER_AUTH` with
`PREFERRED_CHALLENGE=WEB_AUTHN` answers `WEB_AUTHN` with `CREDENTIAL_REQUEST_OPTIONS` for a user
with passkeys, and `SELECT_CHALLENGE` (password) for one without or an unknown user, alike. A
challenge is answered once; options hold five minutes. As on Cognito, passkeys need `WEB_AUTHN`
among the pool's `SignInPolicy.AllowedFirstAuthFactors` (the default allows the password alone)
and `ALLOW_USER_AUTH` among the app client's flows; a user disabled between the challenge and the
answer is refused.

Not as Cognito: `USER_AUTH` signs in with a passkey only; any other preferred challenge, or
none, is answered `SELECT_CHALLENGE` (`PASSWORD`, `PASSWORD_SRP`), whose session answers nothing
(a password signs in by `USER_PASSWORD_AUTH`); every credential's `FriendlyCredentialName` is
`passkey`.

Its `initiate_auth` and `respond_to_auth_challenge` are steps of the sign-in chain (`SIGN_IN`,
installed by the package): under `triggers` (Pre Authentication runs for `USER_AUTH` before a
passkey is asked for), beside `factors` (other flows, other challenges).
"""
import base64
import json
import time as clock
import uuid
from urllib.parse import urlsplit

import webauthn
from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
)
from moto.core.responses import ActionResult
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .common import CognitoError, b64url, patch, user_of_token

OPTIONS_VALID_FOR = 5 * 60
# session -> {"challenge", "expires", "username", "pool_id"}
sign_ins = {}

# moto's, set by install()
original_set_mfa_config = None
original_get_mfa_config = None


def config(user_pool):
    """The pool's WebAuthn settings, as SetUserPoolMfaConfig set them."""
    found = user_pool.extended_config.get("WebAuthnConfiguration") or {}
    if not found.get("RelyingPartyId"):
        raise CognitoError("WebAuthnConfigurationMissingException", "The user pool has no WebAuthn relying party.")
    # Cognito's default sign-in policy allows the password alone
    allowed = ((user_pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}).get(
        "AllowedFirstAuthFactors") or ["PASSWORD"]
    if "WEB_AUTHN" not in allowed:
        raise CognitoError("WebAuthnNotEnabledException", "Passkeys are not an allowed first factor of the user pool.")
    return found["RelyingPartyId"], found.get("UserVerification") or "preferred"


def origin_of(credential, rp_id):
    """The credential's origin, if the relying party may be asked from it: the RP ID's own
    host or a subdomain over https, or plain http on localhost."""
    try:
        client_data = credential["response"]["clientDataJSON"]
        origin = json.loads(base64.urlsafe_b64decode(client_data + "=" * (-len(client_data) % 4)))["origin"]
    except Exception:
        raise InvalidParameterException("the credential is not a WebAuthn response")
    parts = urlsplit(origin)
    host = parts.hostname or ""
    same_site = host == rp_id or host.endswith("." + rp_id)
    if not same_site or not (parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")):
        raise CognitoError("WebAuthnOriginNotAllowedException", "The origin is not allowed for the relying party.")
    return origin


def refusal(error, registering):
    text = str(error)
    if "RP ID hash" in text:
        return CognitoError("WebAuthnRelyingPartyMismatchException", "The relying party does not match.")
    if "challenge" in text:
        return CognitoError("WebAuthnChallengeNotFoundException", "The challenge was not found.")
    if registering:
        return InvalidParameterException(f"the credential did not verify: {text}")
    return NotAuthorizedError("Incorrect username or password.")


# -- registration and the user's credentials ---------------------------------------------------------

def start_web_authn_registration(self, access_token):
    user = user_of_token(self, access_token)
    user_pool = next(p for p in self.user_pools.values() if access_token in p.access_tokens)
    rp_id, verification = config(user_pool)
    held = getattr(user, "passkeys", [])
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_id,
        user_name=user.username,
        user_id=user.id.encode(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement(verification),
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c["raw_id"]) for c in held],
    )
    user.passkey_registration = {"challenge": options.challenge, "expires": clock.time() + OPTIONS_VALID_FOR}
    return {"CredentialCreationOptions": json.loads(webauthn.options_to_json(options))}


def complete_web_authn_registration(self, access_token, credential):
    user = user_of_token(self, access_token)
    user_pool = next(p for p in self.user_pools.values() if access_token in p.access_tokens)
    rp_id, verification = config(user_pool)
    pending = getattr(user, "passkey_registration", None)
    if not pending or clock.time() > pending["expires"]:
        raise CognitoError("WebAuthnChallengeNotFoundException", "The challenge was not found.")
    origin = origin_of(credential, rp_id)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=pending["challenge"],
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=verification == "required",
        )
    except InvalidRegistrationResponse as e:
        raise refusal(e, True)
    user.passkey_registration = None
    held = getattr(user, "passkeys", [])
    if any(c["raw_id"] == verified.credential_id for c in held):
        raise InvalidParameterException("the credential is registered already")
    held.append({
        "raw_id": verified.credential_id,
        "public_key": verified.credential_public_key,
        "sign_count": verified.sign_count,
        "rp_id": rp_id,
        "created": clock.time(),
        "attachment": credential.get("authenticatorAttachment"),
        "transports": (credential.get("response") or {}).get("transports") or [],
    })
    user.passkeys = held
    return {}


def list_web_authn_credentials(self, access_token):
    user = user_of_token(self, access_token)
    return {"Credentials": [
        {
            "CredentialId": b64url(c["raw_id"]),
            "FriendlyCredentialName": "passkey",
            "RelyingPartyId": c["rp_id"],
            "AuthenticatorAttachment": c["attachment"],
            "AuthenticatorTransports": c["transports"],
            "CreatedAt": c["created"],
        }
        for c in getattr(user, "passkeys", [])
    ]}


def delete_web_authn_credential(self, access_token, credential_id):
    user = user_of_token(self, access_token)
    held = getattr(user, "passkeys", [])
    kept = [c for c in held if b64url(c["raw_id"]) != credential_id]
    if len(kept) == len(held):
        raise ResourceNotFoundError("no such credential")
    user.passkeys = kept
    return {}


def get_user_pool_mfa_config(self, user_pool_id):
    # the pool's WebAuthnConfiguration too, as Cognito answers it (moto leaves it out)
    answer = dict(original_get_mfa_config(self, user_pool_id))
    web_authn = self.describe_user_pool(user_pool_id).extended_config.get("WebAuthnConfiguration")
    if web_authn:
        answer["WebAuthnConfiguration"] = dict(web_authn)
    return answer


# -- sign-in: USER_AUTH and its WEB_AUTHN challenge -----------------------------------------------

def initiate_auth(inner, self, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: USER_AUTH, answered WEB_AUTHN or SELECT_CHALLENGE."""
    if auth_flow != "USER_AUTH":
        return inner(self, client_id, auth_flow, auth_parameters)
    user_pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
    if user_pool is None:
        raise ResourceNotFoundError(client_id)
    client = user_pool.clients[client_id]
    if "ALLOW_USER_AUTH" not in (client.extended_config.get("ExplicitAuthFlows") or []):
        raise InvalidParameterException("USER_AUTH flow not enabled for this client")
    name = auth_parameters.get("USERNAME") or ""
    if client.generate_secret and not models.check_secret_hash(
        client.secret, client.id, name, auth_parameters.get("SECRET_HASH")
    ):
        raise NotAuthorizedError("Unable to verify secret hash for client")
    rp_id, verification = config(user_pool)
    user = user_pool._get_user(name)
    held = getattr(user, "passkeys", []) if user is not None and user.enabled else []
    session = str(uuid.uuid4())
    if auth_parameters.get("PREFERRED_CHALLENGE") != "WEB_AUTHN" or not held:
        # no passkey to ask for: the choice of what else the user may do, the same for an
        # unknown user (PreventUserExistenceErrors)
        return {"ChallengeName": "SELECT_CHALLENGE", "Session": session,
                "AvailableChallenges": ["PASSWORD", "PASSWORD_SRP"], "ChallengeParameters": {}}
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c["raw_id"]) for c in held],
        user_verification=UserVerificationRequirement(verification),
    )
    sign_ins[session] = {"challenge": options.challenge, "expires": clock.time() + OPTIONS_VALID_FOR,
                         "username": user.username, "pool_id": user_pool.id}
    self.sessions[session] = (user.username, user_pool)
    return {"ChallengeName": "WEB_AUTHN", "Session": session,
            "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": webauthn.options_to_json(options)}}


def respond_to_auth_challenge(inner, self, session, client_id, challenge_name, answers):
    """Sign-in chain step: the answer to WEB_AUTHN, an assertion verified."""
    if challenge_name != "WEB_AUTHN":
        return inner(self, session, client_id, challenge_name, answers)
    entry = sign_ins.get(session)
    if session not in self.sessions or entry is None or clock.time() > entry["expires"]:
        raise NotAuthorizedError("Invalid session for the user.")
    username, user_pool = self.sessions[session]
    client = user_pool.clients.get(client_id)
    if not client:
        raise ResourceNotFoundError(client_id)
    if client.generate_secret and not models.check_secret_hash(
        client.secret, client.id, answers.get("USERNAME"), answers.get("SECRET_HASH")
    ):
        raise NotAuthorizedError("Unable to verify secret hash for client")
    named = user_pool._get_user(answers.get("USERNAME") or "")
    if named is None or named.username != username:
        raise NotAuthorizedError("Invalid session for the user.")
    if not named.enabled:
        raise NotAuthorizedError("User is disabled.")
    rp_id, verification = config(user_pool)
    try:
        credential = json.loads(answers.get("CREDENTIAL") or "")
    except ValueError:
        raise InvalidParameterException("CREDENTIAL is not JSON")
    held = {b64url(c["raw_id"]): c for c in getattr(named, "passkeys", [])}
    stored = held.get(credential.get("id", ""))
    if stored is None:
        raise NotAuthorizedError("Incorrect username or password.")
    origin = origin_of(credential, rp_id)
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=entry["challenge"],
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=stored["public_key"],
            credential_current_sign_count=stored["sign_count"],
            require_user_verification=verification == "required",
        )
    except InvalidAuthenticationResponse as e:
        raise refusal(e, False)
    stored["sign_count"] = verified.new_sign_count
    del sign_ins[session]
    del self.sessions[session]
    return self._log_user_in(user_pool, client, username)


SIGN_IN = {"initiate_auth": initiate_auth, "respond_to_auth_challenge": respond_to_auth_challenge}


# -- the responses ---------------------------------------------------------------------------------

def backend_of_token(response):
    token = response._get_param("AccessToken")
    if any(token in p.access_tokens for p in response.backend.user_pools.values()):
        return response.backend
    raise NotAuthorizedError("Invalid token")


def respond_start(self):
    return ActionResult(backend_of_token(self).start_web_authn_registration(self._get_param("AccessToken")))


def respond_complete(self):
    backend = backend_of_token(self)
    return ActionResult(backend.complete_web_authn_registration(self._get_param("AccessToken"), self._get_param("Credential")))


def respond_list(self):
    return ActionResult(backend_of_token(self).list_web_authn_credentials(self._get_param("AccessToken")))


def respond_delete(self):
    backend = backend_of_token(self)
    return ActionResult(backend.delete_web_authn_credential(self._get_param("AccessToken"), self._get_param("CredentialId")))


def respond_mfa_config(self):
    web_authn = self._get_param("WebAuthnConfiguration")
    result = original_set_mfa_config(self)
    if web_authn is not None:
        user_pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
        user_pool.extended_config["WebAuthnConfiguration"] = {
            "RelyingPartyId": web_authn.get("RelyingPartyId"),
            "UserVerification": web_authn.get("UserVerification") or "preferred",
        }
    return result


def install(settings):
    """Everything but the sign-in steps (`SIGN_IN`), which the package chains."""
    global original_set_mfa_config, original_get_mfa_config
    backend, response = models.CognitoIdpBackend, responses.CognitoIdpResponse
    patch(backend, "start_web_authn_registration", start_web_authn_registration)
    patch(backend, "complete_web_authn_registration", complete_web_authn_registration)
    patch(backend, "list_web_authn_credentials", list_web_authn_credentials)
    patch(backend, "delete_web_authn_credential", delete_web_authn_credential)
    original_get_mfa_config = patch(backend, "get_user_pool_mfa_config", get_user_pool_mfa_config)
    patch(response, "start_web_authn_registration", respond_start)
    patch(response, "complete_web_authn_registration", respond_complete)
    patch(response, "list_web_authn_credentials", respond_list)
    patch(response, "delete_web_authn_credential", respond_delete)
    # moto's response (it calls the backend's SetUserPoolMfaConfig, `factors`', at call time)
    original_set_mfa_config = patch(response, "set_user_pool_mfa_config", respond_mfa_config)
