"""The local AWS emulator: moto's server, with each request handled to completion before the next.

moto's server is threaded, and its DynamoDB backend checks a ConditionExpression and applies the
update in two steps without a lock, so two concurrent conditional writes can both pass. Real
DynamoDB applies conditional writes to an item atomically, and the lockout policy relies on it.
Handling one request at a time gives the emulator that guarantee; connections stay concurrent.

  python infra/local/emulator.py --host 127.0.0.1 --port 5000 [--timing-log FILE]

With --timing-log, each request appends `<start> <end> <operation>` (wall-clock nanoseconds,
the X-Amz-Target operation) to FILE: the benchmark reads how long the emulator itself took.

Extensions to moto, each making it behave as Cognito documents:

- **Usernames by alias and by `sub`.** Cognito's admin operations take, for `Username`, the
  username, any of the user's alias attributes (`AliasAttributes`: a verified `email` or
  `phone_number`, a `preferred_username`), or the user's `sub`; moto knows only
  `UsernameAttributes`. Here every user lookup also resolves an alias (case-insensitively, a
  contact only once verified) and a `sub`. moto uses the same lookup for sign-ins, where Cognito
  takes an alias but not a `sub`: the product always signs in with the resolved username.
- **Contact verification** (`GetUserAttributeVerificationCode`, `VerifyUserAttribute`, which
  moto lacks). Where the pool lists an attribute in
  `UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`, a new unverified
  `email` or `phone_number` set by `AdminUpdateUserAttributes` stays pending and the old one
  stays in use until the code is verified; elsewhere the new value takes effect unverified.
  Either way a code is made (six digits, valid 24 hours, five wrong tries allowed, as Cognito
  documents) and, as moto does for forgot-password codes, returned to the caller in the
  `x-moto-attribute-verification-code` response header: the tests read it there. A wrong code
  is `CodeMismatchException`, an expired one `ExpiredCodeException`, a sixth wrong try
  `LimitExceededException`.
"""
import argparse
import os
import threading
import time

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler


def resolve_aliases_and_sub():
    """Extends moto's user lookup (`CognitoIdpUserPool._get_user`) as the module notes say."""
    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.cognitoidp.utils import flatten_attrs

    verified_by = {"email": "email_verified", "phone_number": "phone_number_verified"}
    by_username = CognitoIdpUserPool._get_user

    def get_user(self, username):
        user = by_username(self, username)
        if user is not None or not username:
            return user
        wanted = username.lower()
        aliases = self.extended_config.get("AliasAttributes") or []
        for candidate in self.users.values():
            attrs = flatten_attrs(candidate.attributes)
            for alias in aliases:
                value = attrs.get(alias)
                proof = verified_by.get(alias)
                if value and value.lower() == wanted and (not proof or attrs.get(proof) == "true"):
                    return candidate
        for candidate in self.users.values():
            if candidate.id == username:
                return candidate
        return None

    CognitoIdpUserPool._get_user = get_user


def contact_verification():
    """Adds the contact-verification operations, as the module notes say."""
    import random
    import time as clock

    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import (
        CodeMismatchException,
        ExpiredCodeException,
        InvalidParameterException,
        NotAuthorizedError,
    )
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult

    class LimitExceededException(JsonRESTError):
        def __init__(self):
            super().__init__("LimitExceededException", "Attempt limit exceeded, please try after some time.")

    CONTACTS = {"email": ("email_verified", "EMAIL"), "phone_number": ("phone_number_verified", "SMS")}
    VALID_FOR = 24 * 3600
    TRIES = 5

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

    original_update = models.CognitoIdpBackend.admin_update_user_attributes

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

    def user_of_token(backend, access_token):
        for user_pool in backend.user_pools.values():
            if access_token in user_pool.access_tokens:
                _, username = user_pool.access_tokens[access_token]
                return backend.admin_get_user(user_pool.id, username)
        raise NotAuthorizedError("Invalid token")

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

    models.CognitoIdpBackend.admin_update_user_attributes = admin_update_user_attributes
    models.CognitoIdpBackend.get_user_attribute_verification_code = get_user_attribute_verification_code
    models.CognitoIdpBackend.verify_user_attribute = verify_user_attribute

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

    responses.CognitoIdpResponse.admin_update_user_attributes = respond_update
    responses.CognitoIdpResponse.get_user_attribute_verification_code = respond_code
    responses.CognitoIdpResponse.verify_user_attribute = respond_verify


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--timing-log")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    resolve_aliases_and_sub()
    contact_verification()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    timing = open(args.timing_log, "a", buffering=1) if args.timing_log else None

    def one_at_a_time(environ, start_response):
        with lock:
            # the whole response is produced inside the lock
            start = time.time_ns()
            body = list(app(environ, start_response))
            if timing:
                operation = environ.get("HTTP_X_AMZ_TARGET", "-").rsplit(".", 1)[-1]
                timing.write(f"{start} {time.time_ns()} {operation}\n")
            return body

    run_simple(
        args.host,
        args.port,
        one_at_a_time,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
