"""Contact verification (`GetUserAttributeVerificationCode`, `VerifyUserAttribute`, which moto
lacks), and `AdminUpdateUserAttributes` holding a new contact until it is verified.

Where the pool lists an attribute in
`UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`, a new unverified `email`
or `phone_number` set by `AdminUpdateUserAttributes` stays pending and the old one stays in use
until the code is verified; elsewhere the new value takes effect unverified. Either way a code is
made (six digits, valid 24 hours, five wrong tries allowed, as Cognito documents) and, as moto
does for forgot-password codes, returned to the caller in the
`x-moto-attribute-verification-code` response header (`email=123456`): the tests read it there. A
wrong code is `CodeMismatchException`, an expired one `ExpiredCodeException`, a sixth wrong try
`LimitExceededException`.

Not as Cognito: the code is not sent to the contact (no mail, no SMS); the header is the only
way to it.
"""
import random
import time as clock

from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
)
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult

from .common import patch, user_of_token


class LimitExceededException(JsonRESTError):
    def __init__(self):
        super().__init__("LimitExceededException", "Attempt limit exceeded, please try after some time.")


CONTACTS = {"email": ("email_verified", "EMAIL"), "phone_number": ("phone_number_verified", "SMS")}
VALID_FOR = 24 * 3600
TRIES = 5

# moto's AdminUpdateUserAttributes (set by install())
original_update = None


def new_code(user, attribute, value):
    code = f"{random.randint(0, 999999):06d}"
    pending = getattr(user, "contact_codes", {})
    pending[attribute] = {"code": code, "value": value, "expires": clock.time() + VALID_FOR, "tries": 0}
    user.contact_codes = pending
    return code


def mask(attribute, value):
    if attribute == "email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain[:1]}***"
    return f"+*******{value[-4:]}"


# -- the backend ---------------------------------------------------------------------------------

def admin_update_user_attributes(self, user_pool_id, username, attributes):
    user_pool = self.describe_user_pool(user_pool_id)
    user = self.admin_get_user(user_pool_id, username)
    settings = user_pool.extended_config.get("UserAttributeUpdateSettings") or {}
    held = set(settings.get("AttributesRequireVerificationBeforeUpdate") or [])
    given = {a["Name"]: a.get("Value", "") for a in attributes}
    codes = {}
    kept = []
    for attribute, (verified, _) in CONTACTS.items():
        if attribute not in given or given.get(verified) == "true":
            continue
        value = given[attribute]
        if value == user.attribute_lookup.get(attribute) and user.attribute_lookup.get(verified) == "true":
            continue
        codes[attribute] = new_code(user, attribute, value)
        if attribute in held and user.attribute_lookup.get(attribute):
            # the old value stays in use until the new one is verified
            kept.append(attribute)
        else:
            given[verified] = "false"
    update = [{"Name": k, "Value": v} for k, v in given.items() if k not in kept]
    original_update(self, user_pool_id, username, update)
    return codes


def get_user_attribute_verification_code(self, access_token, attribute):
    if attribute not in CONTACTS:
        raise InvalidParameterException(f"{attribute} cannot be verified")
    user = user_of_token(self, access_token)
    pending = getattr(user, "contact_codes", {}).get(attribute)
    value = pending["value"] if pending else user.attribute_lookup.get(attribute)
    if not value:
        raise InvalidParameterException(f"the user has no {attribute}")
    code = new_code(user, attribute, value)
    details = {"Destination": mask(attribute, value), "DeliveryMedium": CONTACTS[attribute][1], "AttributeName": attribute}
    return code, {"CodeDeliveryDetails": details}


def verify_user_attribute(self, access_token, attribute, code):
    user = user_of_token(self, access_token)
    pending = getattr(user, "contact_codes", {}).get(attribute)
    if pending is None:
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if pending["tries"] >= TRIES:
        raise LimitExceededException()
    if clock.time() > pending["expires"]:
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    if code != pending["code"]:
        pending["tries"] += 1
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    del user.contact_codes[attribute]
    user.update_attributes([
        {"Name": attribute, "Value": pending["value"]},
        {"Name": CONTACTS[attribute][0], "Value": "true"},
    ])


# -- the responses: the codes in a header ----------------------------------------------------------

def respond_update(self):
    codes = self.backend.admin_update_user_attributes(
        self._get_param("UserPoolId"), self._get_param("Username"), self._get_param("UserAttributes")
    )
    if codes:
        self.response_headers["x-moto-attribute-verification-code"] = ",".join(f"{k}={v}" for k, v in codes.items())
    return ActionResult({})


def respond_code(self):
    code, result = self.backend.get_user_attribute_verification_code(
        self._get_param("AccessToken"), self._get_param("AttributeName")
    )
    self.response_headers["x-moto-attribute-verification-code"] = f"{self._get_param('AttributeName')}={code}"
    return ActionResult(result)


def respond_verify(self):
    self.backend.verify_user_attribute(
        self._get_param("AccessToken"), self._get_param("AttributeName"), self._get_param("Code")
    )
    return ActionResult({})


def install(settings):
    global original_update
    backend, response = models.CognitoIdpBackend, responses.CognitoIdpResponse
    original_update = patch(backend, "admin_update_user_attributes", admin_update_user_attributes)
    patch(backend, "get_user_attribute_verification_code", get_user_attribute_verification_code)
    patch(backend, "verify_user_attribute", verify_user_attribute)
    patch(response, "admin_update_user_attributes", respond_update)
    patch(response, "get_user_attribute_verification_code", respond_code)
    patch(response, "verify_user_attribute", respond_verify)
