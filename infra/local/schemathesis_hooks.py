"""Schemathesis hooks for infra/local/contract.py."""
import os

import schemathesis

@schemathesis.hook
def filter_body(ctx, body):
    # cargo lambda watch answers a body that is not UTF-8 with its own 500 before any function
    # sees it (API Gateway base64-encodes such bodies); the handler tests cover them instead
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


@schemathesis.hook
def filter_case(ctx, case):
    # likewise a header value beyond ASCII (an Idempotency-Key sent as latin-1 bytes): cargo
    # lambda watch cannot put it in the event and answers its own 500; API Gateway hands it
    # over, and the API refuses it with 400 (tests/tests/idempotency.rs)
    for value in (case.headers or {}).values():
        if isinstance(value, str) and not value.isascii():
            return False
    return True


# what a client sends that must never come back in an answer, success or problem
SECRET_FIELDS = {
    "password", "newPassword", "previousPassword", "proposedPassword", "temporaryPassword",
    "refreshToken", "session", "confirmationCode",
}


def _secrets(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in SECRET_FIELDS and isinstance(inner, str):
                yield inner
            else:
                yield from _secrets(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _secrets(inner)


_CONTRACT = []


def _contract_text():
    if not _CONTRACT:
        with open(os.path.join(os.path.dirname(__file__), "..", "openapi.yaml")) as f:
            _CONTRACT.append(f.read())
    return _CONTRACT[0]


@schemathesis.check
def no_secret_in_answer(ctx, response, case):
    """No password, token, session or code from the request, nor the bearer token, is echoed
    in the answer. Values shorter than 8 characters or with fewer than 4 distinct characters
    are skipped: they can occur in an answer by chance (an activity id, a timestamp)."""
    sent = list(_secrets(case.body))
    bearer = os.environ.get("CONTRACT_BEARER_TOKEN")
    if bearer:
        sent.append(bearer)
    text = response.text or ""
    # a generated value that is one of the API's own words (a path such as
    # /change-temporary-password, a field or slug of the contract) proves no echo when the
    # answer names the route or the field
    vocabulary = _contract_text() + case.formatted_path
    for secret in sent:
        if secret in vocabulary:
            continue
        if len(secret) >= 8 and len(set(secret)) >= 4 and secret in text:
            raise AssertionError("the answer echoes a secret the request carried")


# Refusals of schema-valid data that the schema cannot state, each with why. Anything else
# answered 400 invalid-request to data the contract allows is a contract bug: either the schema
# is looser than the function, or the function refuses what it documents.
SEMANTIC_REFUSALS = {
    # "at most one filter": OpenAPI cannot say that query parameters exclude each other
    ("GET", "/users"): ("give at most one of", "`paginationToken` is not a token this API returned"),
    # a cursor or pagination token is only valid if this API returned it
    ("GET", "/users/{userID}/events"): ("`cursor` is not a cursor this API returned",),
    # a lock's end must lie in the future: a date-time's schema cannot say "after now"
    ("PUT", "/users/{userID}/lock"): ("`lockedUntil` must be an RFC 3339 timestamp in the future",),
    # an import's password and a temporary password exclude each other
    ("POST", "/users"): ("give either `temporaryPassword` or `password`",),
    # a password goes with method PASSWORD (the default) and never with PASSKEY
    ("POST", "/user-authentication"): ("`password` is required", "a passkey sign-in takes no `password`"),
    # WEB_AUTHN and U2F are answered with `credential`, every other challenge with `code`
    ("POST", "/respond-to-auth-challenge"): (
        "answer WEB_AUTHN with `credential`",
        "answer U2F with `credential`",
        "answer this challenge with `code` alone",
        "`credential` is too large",
        # rawId must equal id: a schema cannot compare two fields
        "`credential` is not an AuthenticationResponseJSON",
    ),
    # a registration's credential verifies only as the browser's answer to this pool's own
    # challenge, which generated data cannot be; its size limit is the API's, not the schema's
    ("POST", "/users/{userID}/passkeys/verify"): (
        "the credential did not verify against this pool's relying party and challenge",
    ),
    # the same for a security key's registration, which the API verifies itself against the
    # challenge of the registration under way (the pool's passkey relying party)
    ("POST", "/users/{userID}/u2f/verify"): (
        "the credential did not verify against this pool's relying party and challenge",
    ),
    # the providers a tenant offers are its registry's, not the contract's
    ("POST", "/idp-intents"): ("`idpName` names no identity provider of this tenant",),
    ("POST", "/users/{userID}/idp-links"): (
        "`idpName` names no identity provider of this tenant",
        # required of a user linking to their own account, not of an admin: fields that depend
        # on who calls
        "linking an identity to one's own account takes the intent that found it",
    ),
    ("POST", "/passkey-registration/verify"): (
        "the credential did not verify against this pool's relying party and challenge",
        "`credential` is not a RegistrationResponseJSON (or is too large)",
    ),
}


@schemathesis.check
def schema_valid_data_is_accepted(ctx, response, case):
    """In the positive pass (data the contract allows), no answer is 400 invalid-request,
    except for the refusals the schema cannot state (SEMANTIC_REFUSALS)."""
    if response.status_code != 400:
        return
    try:
        problem = response.json().get("error") or {}
    except ValueError:
        return
    if problem.get("type") != "/problems/invalid-request":
        return
    detail = problem.get("detail", "")
    allowed = SEMANTIC_REFUSALS.get((case.method.upper(), case.path), ())
    if any(reason in detail for reason in allowed):
        return
    raise AssertionError(f"schema-valid data refused as invalid-request: {detail}")
