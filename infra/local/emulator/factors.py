"""Second factors: TOTP with a secret per user, codes by SMS and email at sign-in.

`AssociateSoftwareToken` makes a random secret per user (moto gives every user one fixed secret);
`VerifySoftwareToken` checks a code against it (RFC 6238, the current 30-second step and one
either side, with moto's own TOTP helper on `cryptography`), a wrong code is
`EnableSoftwareTokenMFAException` as on Cognito, and only then may TOTP be turned on
(`InvalidParameterException` before). `AdminSetUserMFAPreference` also takes `EmailMfaSettings`
(moto ignores it), turned on only where the pool sends email through SES (`EmailSendingAccount
DEVELOPER`), and SMS codes only where it has an `SmsConfiguration`, as Cognito requires;
`AdminGetUser` lists `EMAIL_OTP`.

After a right password in a pool whose `MfaConfiguration` is not `OFF`, `InitiateAuth`
(`USER_PASSWORD_AUTH`) asks for the preferred factor, the only one, or `SELECT_MFA_TYPE` between
several, as Cognito does (moto asks only for a preferred TOTP or SMS, and never for email).
`RespondToAuthChallenge` checks the answer: the TOTP code against the user's secret, an SMS or
email code against the one made for that session (six digits, three minutes), a wrong one
`CodeMismatchException`; moto accepts any SMS code. An answer whose `USERNAME` is not the
session's user is `NotAuthorizedException` before any code is checked (Cognito does not document
its order; this is the safe reading the product must not depend on). The SMS and email codes are
returned in the `x-moto-mfa-code` response header (`SMS_MFA=123456`), as moto does for
forgot-password codes: the tests read them there. In a pool that requires a factor
(`MfaConfiguration ON`), a user without one gets `MFA_SETUP` (moto issues tokens).
`SetUserPoolMfaConfig` changes what `DescribeUserPool` says (moto kept the creation's value).
(`GetUserPoolMfaConfig` answering the pool's `WebAuthnConfiguration` is `passkeys`'.)

Its `initiate_auth` and `respond_to_auth_challenge` are steps of the sign-in chain
(`SIGN_IN`, installed by the package after every module): under `triggers` (Pre Authentication
runs before the password is looked at here) and beside `passkeys` (other flows, other
challenges).
"""
import base64
import json
import random
import secrets
import time as clock
import uuid

from cryptography.hazmat.primitives.twofactor import InvalidToken
from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
)
from moto.cognitoidp.utils import check_secret_hash, cognito_totp, verify_totp
from moto.core.responses import ActionResult, EmptyResult

from .common import CognitoError, patch, user_of_token

FACTORS = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
CODE_VALID_FOR = 3 * 60
# session -> {"challenge", "code", "expires", "username", "pool_id"}
challenges = {}

# moto's, set by install()
original_to_json = None
original_mfa_config = None


def enabled(user):
    on = []
    if user.software_token_mfa_enabled:
        on.append("SOFTWARE_TOKEN_MFA")
    if user.sms_mfa_enabled:
        on.append("SMS_MFA")
    if getattr(user, "email_mfa_enabled", False):
        on.append("EMAIL_OTP")
    return on


def totp_ok(secret, code):
    if not secret or not code or not code.isdigit() or len(code) != 6:
        return False
    try:
        # the current 30-second step and one either side, as authenticator clocks drift
        verify_totp(cognito_totp(secret), code.encode(), valid_window=1)
        return True
    except InvalidToken:
        return False


def new_secret():
    return base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")


def user_of(backend, access_token, session):
    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError("Invalid session for the user.")
        username, user_pool = backend.sessions[session]
        return backend.admin_get_user(user_pool.id, username)
    return user_of_token(backend, access_token)


# -- TOTP set-up and the users' factors -------------------------------------------------------------

def associate_software_token(self, access_token, session):
    user = user_of(self, access_token, session)
    user.pending_totp_secret = new_secret()
    result = {"SecretCode": user.pending_totp_secret}
    if session:
        result["Session"] = session
    return result


def verify_software_token(self, access_token, session, user_code, friendly_device_name):
    user = user_of(self, access_token, session)
    secret = getattr(user, "pending_totp_secret", None)
    if not secret:
        raise CognitoError("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the user.")
    if not totp_ok(secret, user_code):
        raise CognitoError("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
    user.totp_secret = secret
    user.pending_totp_secret = None
    user.token_verified = True
    result = {"Status": "SUCCESS"}
    if session:
        result["Session"] = session
    return result


def admin_set_user_mfa_preference(self, user_pool_id, username, totp, sms, email=None):
    user_pool = self.describe_user_pool(user_pool_id)
    user = self.admin_get_user(user_pool_id, username)
    settings = {"SOFTWARE_TOKEN_MFA": totp, "SMS_MFA": sms, "EMAIL_OTP": email}
    for factor, given in settings.items():
        if not given or not given.get("Enabled"):
            continue
        if factor == "SOFTWARE_TOKEN_MFA" and not user.token_verified:
            raise InvalidParameterException("User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA")
        if factor == "SMS_MFA" and not user_pool.extended_config.get("SmsConfiguration"):
            raise InvalidParameterException("SMS MFA needs the user pool's SMS configuration (SmsConfiguration)")
        if factor == "EMAIL_OTP":
            sending = (user_pool.extended_config.get("EmailConfiguration") or {}).get("EmailSendingAccount")
            if sending != "DEVELOPER":
                raise InvalidParameterException("Email MFA needs the user pool to send email through Amazon SES (EmailSendingAccount DEVELOPER)")
    for factor, given in settings.items():
        if not given:
            continue
        on = bool(given.get("Enabled"))
        if factor == "SOFTWARE_TOKEN_MFA":
            user.software_token_mfa_enabled = on
        elif factor == "SMS_MFA":
            user.sms_mfa_enabled = on
        else:
            user.email_mfa_enabled = on
        if on and given.get("PreferredMfa"):
            user.preferred_mfa_setting = factor
        elif user.preferred_mfa_setting == factor:
            user.preferred_mfa_setting = ""


def to_json(self, extended=False, attributes_key="Attributes", attributes_to_get=None):
    out = original_to_json(self, extended, attributes_key, attributes_to_get)
    if extended and getattr(self, "email_mfa_enabled", False):
        out["UserMFASettingList"] = out.get("UserMFASettingList", []) + ["EMAIL_OTP"]
    if extended and not out.get("PreferredMfaSetting"):
        out.pop("PreferredMfaSetting", None)
    return out


def set_user_pool_mfa_config(self, user_pool_id, sms_config, token_config, mfa_config):
    result = original_mfa_config(self, user_pool_id, sms_config, token_config, mfa_config)
    # moto keeps the creation's MfaConfiguration in the settings DescribeUserPool answers with
    self.describe_user_pool(user_pool_id).extended_config["MfaConfiguration"] = mfa_config
    return result


# -- the sign-in's factor challenges -------------------------------------------------------------------

def mask(user, factor):
    attrs = user.attribute_lookup
    if factor == "SMS_MFA":
        return "SMS", "+*******" + (attrs.get("phone_number") or "")[-4:]
    local, _, domain = (attrs.get("email") or "").partition("@")
    return "EMAIL", f"{local[:1]}***@{domain[:1]}***"


def challenge(user_pool, user, username, factor, session=None):
    """The challenge Cognito asks `factor` with, its code made and kept under the session."""
    session = session or str(uuid.uuid4())
    entry = {"challenge": factor, "code": None, "username": username, "pool_id": user_pool.id,
             "expires": clock.time() + CODE_VALID_FOR}
    parameters = {"USER_ID_FOR_SRP": user.username}
    if factor in ("SMS_MFA", "EMAIL_OTP"):
        entry["code"] = f"{random.randint(0, 999999):06d}"
        medium, destination = mask(user, factor)
        parameters.update({"CODE_DELIVERY_DELIVERY_MEDIUM": medium, "CODE_DELIVERY_DESTINATION": destination})
    if factor == "SELECT_MFA_TYPE":
        parameters["MFAS_CAN_CHOOSE"] = json.dumps(enabled(user))
    challenges[session] = entry
    return {"ChallengeName": factor, "ChallengeParameters": parameters, "Session": session}


def asked_factor(user_pool, user):
    """Which factor Cognito asks a user for after the password, if any."""
    if user_pool.mfa_config == "OFF":
        return None
    on = enabled(user)
    if user.preferred_mfa_setting in on:
        return user.preferred_mfa_setting
    if len(on) == 1:
        return on[0]
    return "SELECT_MFA_TYPE" if on else None


def initiate_auth(inner, self, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: a right password (USER_PASSWORD_AUTH) meets the factor asked for."""
    if auth_flow == "USER_PASSWORD_AUTH":
        for user_pool in self.user_pools.values():
            if client_id not in user_pool.clients:
                continue
            user = user_pool._get_user(auth_parameters.get("USERNAME"))
            if (user is None or not user.enabled or user.password != auth_parameters.get("PASSWORD")
                    or user.status != models.UserStatus.CONFIRMED):
                break
            client = user_pool.clients[client_id]
            if client.generate_secret and not check_secret_hash(
                client.secret, client.id, auth_parameters.get("USERNAME"), auth_parameters.get("SECRET_HASH")
            ):
                raise NotAuthorizedError("Unable to verify secret hash for client")
            factor = asked_factor(user_pool, user)
            if factor is None and user_pool.mfa_config == "ON":
                # a pool that requires a factor makes a user without one set one up first
                session = str(uuid.uuid4())
                self.sessions[session] = (user.username, user_pool)
                can = ["SOFTWARE_TOKEN_MFA"] + (["SMS_MFA"] if user_pool.sms_mfa_config else [])
                return {"ChallengeName": "MFA_SETUP", "Session": session,
                        "ChallengeParameters": {"MFAS_CAN_SETUP": json.dumps(can)}}
            if factor:
                result = challenge(user_pool, user, user.username, factor)
                self.sessions[result["Session"]] = (user.username, user_pool)
                return result
            break
    return inner(self, client_id, auth_flow, auth_parameters)


def respond_to_auth_challenge(inner, self, session, client_id, challenge_name, answers):
    """Sign-in chain step: the answers to SELECT_MFA_TYPE and to a factor's challenge."""
    if challenge_name not in FACTORS + ("SELECT_MFA_TYPE",):
        return inner(self, session, client_id, challenge_name, answers)
    entry = challenges.get(session)
    if session not in self.sessions or entry is None:
        raise ResourceNotFoundError(session)
    username, user_pool = self.sessions[session]
    client = user_pool.clients.get(client_id)
    if not client:
        raise ResourceNotFoundError(client_id)
    if entry["challenge"] != challenge_name or clock.time() > entry["expires"]:
        raise NotAuthorizedError("Invalid session for the user.")
    if client.generate_secret and not check_secret_hash(
        client.secret, client.id, answers.get("USERNAME"), answers.get("SECRET_HASH")
    ):
        raise NotAuthorizedError("Unable to verify secret hash for client")
    # the session is one user's: an answer naming anybody else is refused before any code
    # is looked at
    named = user_pool._get_user(answers.get("USERNAME") or "")
    if named is None or named.username != self.admin_get_user(user_pool.id, username).username:
        raise NotAuthorizedError("Invalid session for the user.")
    user = self.admin_get_user(user_pool.id, username)
    if challenge_name == "SELECT_MFA_TYPE":
        chosen = answers.get("ANSWER")
        if chosen not in enabled(user):
            raise InvalidParameterException("The MFA type chosen is not set up for the user")
        del challenges[session]
        return challenge(user_pool, user, username, chosen, session)
    code = answers.get(f"{challenge_name}_CODE")
    if challenge_name == "SOFTWARE_TOKEN_MFA":
        right = totp_ok(getattr(user, "totp_secret", None), code)
    else:
        right = bool(code) and code == entry["code"]
    if not right:
        raise CodeMismatchException("Invalid code or auth state for the user.")
    del challenges[session]
    del self.sessions[session]
    return self._log_user_in(user_pool, client, username)


SIGN_IN = {"initiate_auth": initiate_auth, "respond_to_auth_challenge": respond_to_auth_challenge}


# -- the responses: the SMS and email codes in a header -------------------------------------------

def code_header(response, result):
    entry = challenges.get(result.get("Session") or "")
    if entry and entry.get("code"):
        response.response_headers["x-moto-mfa-code"] = f"{entry['challenge']}={entry['code']}"


def respond_initiate(self):
    result = self._get_region_agnostic_backend().initiate_auth(
        self._get_param("ClientId"), self._get_param("AuthFlow"), self._get_param("AuthParameters")
    )
    code_header(self, result)
    return ActionResult(result)


def respond_challenge(self):
    result = self._get_region_agnostic_backend().respond_to_auth_challenge(
        self._get_param("Session"), self._get_param("ClientId"), self._get_param("ChallengeName"),
        self._get_param("ChallengeResponses"),
    )
    code_header(self, result)
    return ActionResult(result)


def respond_mfa_preference(self):
    self.backend.admin_set_user_mfa_preference(
        self._get_param("UserPoolId"), self._get_param("Username"),
        self._get_param("SoftwareTokenMfaSettings"), self._get_param("SMSMfaSettings"),
        self._get_param("EmailMfaSettings"),
    )
    return EmptyResult()


def install(settings):
    """Everything but the sign-in steps (`SIGN_IN`), which the package chains."""
    global original_to_json, original_mfa_config
    backend, response = models.CognitoIdpBackend, responses.CognitoIdpResponse
    original_mfa_config = patch(backend, "set_user_pool_mfa_config", set_user_pool_mfa_config)
    patch(backend, "associate_software_token", associate_software_token)
    patch(backend, "verify_software_token", verify_software_token)
    patch(backend, "admin_set_user_mfa_preference", admin_set_user_mfa_preference)
    original_to_json = patch(models.CognitoIdpUser, "to_json", to_json)
    patch(response, "initiate_auth", respond_initiate)
    patch(response, "respond_to_auth_challenge", respond_challenge)
    patch(response, "admin_set_user_mfa_preference", respond_mfa_preference)
