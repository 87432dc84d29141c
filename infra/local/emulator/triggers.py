"""Lambda triggers (moto stores a pool's `LambdaConfig` and never calls it): Pre Authentication,
custom authentication, pre token generation, and the `ClientMetadata` they are handed.

With `--lambda-endpoint URL` the emulator invokes them as Cognito does, by Lambda's Invoke API
(`POST URL/2015-03-31/functions/<name>/invocations`, the name taken from the ARN), which
`cargo lambda watch` serves: the event carries Cognito's common fields (`version`,
`triggerSource`, `region`, `userPoolId`, `userName`, `callerContext.clientId`,
`request.userAttributes` with `sub` and `cognito:user_status`). A function error is
`UserLambdaValidationException` `"<Trigger> failed with error <message>."`, as on Cognito; a
trigger set with no endpoint, or one that cannot be reached, `UnexpectedLambdaException` (closed,
never skipped). While a trigger runs, the one-request-at-a-time lock is let go: the function
calls back into this emulator (DynamoDB), and Cognito's own trigger calls are atomic with nothing
either.

**Pre Authentication** runs before the password or passkey is looked at, for an existing user,
on `InitiateAuth` (`USER_PASSWORD_AUTH`, `USER_SRP_AUTH`, `CUSTOM_AUTH`, `USER_AUTH`) and
`AdminInitiateAuth` (`ADMIN_USER_PASSWORD_AUTH`, `ADMIN_NO_SRP_AUTH`), never on a refresh, and
only after the client's secret hash is proven (else its refusal would tell a stranger the lock
state). It is not run for a federated sign-in: Cognito runs it for native users' sign-ins only.

**Custom authentication** (`CUSTOM_AUTH`, which moto lacks): needs `ALLOW_CUSTOM_AUTH` on the
client; DefineAuthChallenge decides (its `session` the answers so far), CreateAuthChallenge makes
a `CUSTOM_CHALLENGE` (public parameters plus `USERNAME`; private ones kept for the verify
trigger), `RespondToAuthChallenge` `ANSWER` goes to VerifyAuthChallengeResponse and back to
DefineAuthChallenge: tokens, `NotAuthorizedException` on `failAuthentication`, or a further
challenge. A session answers once and holds three minutes.

**`ClientMetadata` to the triggers** (moto drops it). The request's `ClientMetadata` reaches the
triggers the API reference lists for its operation: `InitiateAuth` and `AdminInitiateAuth` hand
it to Pre Authentication only (as `validationData`, as the trigger's reference says);
`RespondToAuthChallenge` to define, create and verify auth challenge and to pre token generation.
Every other trigger gets `{}`.

**Pre token generation** (moto lacks it). A pool whose `LambdaConfig` has
`PreTokenGenerationConfig` (`LambdaVersion` `V2_0`; any other version is refused, and the V1
`PreTokenGeneration` ARN alone runs nothing) invokes it once per token issue, before the tokens
are signed: `TokenGeneration_Authentication` for a sign-in (any flow),
`TokenGeneration_NewPasswordChallenge` after `NEW_PASSWORD_REQUIRED`,
`TokenGeneration_RefreshTokens` for a refresh (`REFRESH_TOKEN_AUTH`, the token endpoint's
`refresh_token` grant), `TokenGeneration_HostedAuth` at a pool domain's token endpoint. A
refresh's tokens keep their session's `auth_time`, the time the user signed in, as Cognito's do
(moto stamps each token with the time it was made). The event is version 2 with
`groupConfiguration`, `scopes` (the access token's) and `clientMetadata`; the answer's
`claimsAndScopeOverrideDetails` is applied: for the access token `scopesToSuppress`,
`scopesToAdd`, `claimsToAddOrOverride`, `claimsToSuppress`, for the ID token its two claim lists,
and `groupOverrideDetails.groupsToOverride`. Claims Cognito reserves (`sub`, `iss`, `token_use`,
`scope`, `auth_time`, `exp`, `jti`, `origin_jti`, ...) are left as they are: Cognito does not let
a trigger change them.

Not as Cognito: only these triggers are invoked (no pre sign-up, post confirmation, post
authentication, user migration or message triggers); a custom sign-in asks `CUSTOM_CHALLENGE`
only. moto's own `USER_PASSWORD_AUTH` and `ADMIN_USER_PASSWORD_AUTH` (ones that ask no second
factor) issue their tokens without `_log_user_in`; the sign-in step says
`TokenGeneration_Authentication` around them, so their event is a sign-in's too.

Its `initiate_auth`, `admin_initiate_auth` and `respond_to_auth_challenge` are the outermost
steps of the sign-in chain (`SIGN_IN`): Pre Authentication must run before `passkeys` and
`factors` look at the password or passkey.
"""
import json
import time as clock
import urllib.error
import urllib.request
import uuid

from moto.cognitoidp import models
from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotFoundError,
)

from .common import CONTEXT, CognitoError, patch, unlocked

SESSION_VALID_FOR = 3 * 60
PASSWORD_FLOWS = ("USER_PASSWORD_AUTH", "USER_SRP_AUTH", "CUSTOM_AUTH", "USER_AUTH")
ADMIN_PASSWORD_FLOWS = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH")

# The triggers each operation hands its `ClientMetadata` to, as the API reference lists them
# (InitiateAuth: "only the following triggers: Pre signup, Pre authentication, User migration";
# RespondToAuthChallenge: "post authentication, pre token generation, define auth challenge,
# create auth challenge, and verify auth challenge"). Pre authentication receives it as
# `validationData`.
METADATA_TRIGGERS = {
    "InitiateAuth": {"PreAuthentication"},
    "AdminInitiateAuth": {"PreAuthentication"},
    "RespondToAuthChallenge": {"PreTokenGeneration", "DefineAuthChallenge", "CreateAuthChallenge",
                               "VerifyAuthChallengeResponse"},
    "AdminRespondToAuthChallenge": {"PreTokenGeneration", "DefineAuthChallenge", "CreateAuthChallenge",
                                    "VerifyAuthChallengeResponse"},
}

# Claims a pre token generation trigger cannot add, change or suppress (Cognito ignores them).
RESERVED_CLAIMS = {
    "sub", "iss", "aud", "token_use", "client_id", "cognito:username", "username", "identities",
    "device_key", "event_id", "acr", "amr", "auth_time", "exp", "iat", "nbf", "jti", "origin_jti",
    "nonce", "azp", "at_hash", "version", "scope",
}

# where the functions are served, "" for nowhere (set by install())
endpoint = ""
# session -> {"username", "pool_id", "client_id", "history", "private", "metadata", "expires"}
custom_sessions = {}
# when each session (by its origin_jti) began: a refresh's tokens keep it, as Cognito's do
# (moto stamps every token with the time it was made)
began = {}

# moto's, set by install()
original_log_in = None
original_jwt = None


def metadata_for(trigger):
    """The `ClientMetadata` of the request being handled, where its operation passes it to `trigger`."""
    if trigger in METADATA_TRIGGERS.get(getattr(CONTEXT, "operation", None), ()):
        metadata = getattr(CONTEXT, "metadata", None)
        return dict(metadata) if isinstance(metadata, dict) else {}
    return {}


def invoke(user_pool, trigger, source, user, client_id, request, version="1"):
    """The trigger's answer (`response`), or Cognito's error when the function fails."""
    config = user_pool.extended_config.get("LambdaConfig") or {}
    arn = config.get(trigger)
    if trigger == "PreTokenGeneration":
        # a V2_0 event needs `PreTokenGenerationConfig` (the V1_0 `PreTokenGeneration` ARN
        # alone customises the ID token only, which nothing here emulates)
        versioned = config.get("PreTokenGenerationConfig") or {}
        arn = versioned.get("LambdaArn")
        if arn and versioned.get("LambdaVersion") != "V2_0":
            raise CognitoError("InvalidParameterException", "only a V2_0 pre token generation trigger is emulated")
    if not arn:
        return None
    if not endpoint:
        raise CognitoError("UnexpectedLambdaException",
                           f"{trigger} is set but this emulator was started without --lambda-endpoint")
    name = arn.split(":function:", 1)[-1].split(":", 1)[0]
    attributes = {a["Name"]: a["Value"] for a in user.attributes}
    attributes.setdefault("sub", user.id)
    attributes["cognito:user_status"] = user.status
    event = {
        "version": version, "triggerSource": source, "region": user_pool.region,
        "userPoolId": user_pool.id, "userName": user.username,
        "callerContext": {"awsSdkVersion": "aws-sdk-emulator", "clientId": client_id},
        "request": {"userAttributes": attributes, **request}, "response": {},
    }
    call = urllib.request.Request(
        f"{endpoint}/2015-03-31/functions/{name}/invocations",
        data=json.dumps(event).encode(), method="POST",
        headers={"content-type": "application/json"},
    )
    # The function may call back into this emulator (DynamoDB): let other requests in while
    # it runs. Cognito's own trigger calls are not atomic with anything either.
    with unlocked():
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:
                failed = answer.headers.get("X-Amz-Function-Error")
                body = answer.read()
        except urllib.error.HTTPError as e:
            failed, body = "Unhandled", e.read()
        except OSError as e:
            raise CognitoError("UnexpectedLambdaException", f"{trigger} could not be invoked: {e}")
    try:
        out = json.loads(body or b"null")
    except ValueError:
        out = None
    if failed or not isinstance(out, dict) or "errorMessage" in out or "errorType" in out:
        message = out.get("errorMessage", "") if isinstance(out, dict) else ""
        raise CognitoError("UserLambdaValidationException", f"{trigger} failed with error {message}.")
    return out.get("response") or {}


def pool_and_client(backend, client_id):
    for user_pool in backend.user_pools.values():
        if client_id in user_pool.clients:
            return user_pool, user_pool.clients[client_id]
    raise ResourceNotFoundError(client_id)


def client_proven(client, username, secret_hash):
    if client.generate_secret and not models.check_secret_hash(client.secret, client.id, username or "", secret_hash):
        raise NotAuthorizedError("Unable to verify secret hash for client")


# -- Pre Authentication and custom authentication ------------------------------------------------

def pre_authentication(user_pool, client, user):
    invoke(user_pool, "PreAuthentication", "PreAuthentication_Authentication", user, client.id,
           {"validationData": metadata_for("PreAuthentication")})


def define(user_pool, client, user, history):
    answer = invoke(user_pool, "DefineAuthChallenge", "DefineAuthChallenge_Authentication", user, client.id,
                    {"session": history, "clientMetadata": metadata_for("DefineAuthChallenge")})
    if answer is None:
        raise InvalidParameterException("Custom auth lambda trigger is not configured for the user pool.")
    return answer


def next_step(backend, user_pool, client, user, history):
    """What DefineAuthChallenge decided: tokens, a refusal, or a new custom challenge."""
    decided = define(user_pool, client, user, history)
    if decided.get("failAuthentication"):
        raise NotAuthorizedError("Incorrect username or password.")
    if decided.get("issueTokens"):
        return backend._log_user_in(user_pool, client, user.username)
    if decided.get("challengeName") != "CUSTOM_CHALLENGE":
        raise InvalidParameterException("only CUSTOM_CHALLENGE is emulated in a custom sign-in")
    made = invoke(user_pool, "CreateAuthChallenge", "CreateAuthChallenge_Authentication", user, client.id,
                  {"challengeName": "CUSTOM_CHALLENGE", "session": history,
                   "clientMetadata": metadata_for("CreateAuthChallenge")}) or {}
    session = str(uuid.uuid4())
    custom_sessions[session] = {
        "username": user.username, "pool_id": user_pool.id, "client_id": client.id, "history": history,
        "private": made.get("privateChallengeParameters") or {},
        "metadata": made.get("challengeMetadata"), "expires": clock.time() + SESSION_VALID_FOR,
    }
    public = dict(made.get("publicChallengeParameters") or {})
    public["USERNAME"] = user.username
    return {"ChallengeName": "CUSTOM_CHALLENGE", "Session": session, "ChallengeParameters": public}


def initiate_auth(inner, self, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: Pre Authentication first; CUSTOM_AUTH whole."""
    if auth_flow not in PASSWORD_FLOWS:
        return inner(self, client_id, auth_flow, auth_parameters)
    user_pool, client = pool_and_client(self, client_id)
    name = auth_parameters.get("USERNAME") or ""
    user = user_pool._get_user(name)
    if auth_flow == "CUSTOM_AUTH":
        if "ALLOW_CUSTOM_AUTH" not in (client.extended_config.get("ExplicitAuthFlows") or []):
            raise InvalidParameterException("CUSTOM_AUTH flow not enabled for this client")
        client_proven(client, name, auth_parameters.get("SECRET_HASH"))
        if user is None:
            raise UserNotFoundError("User does not exist.")
        if not user.enabled:
            raise NotAuthorizedError("User is disabled.")
        pre_authentication(user_pool, client, user)
        return next_step(self, user_pool, client, user, [])
    if user is not None:
        client_proven(client, name, auth_parameters.get("SECRET_HASH"))
        pre_authentication(user_pool, client, user)
    return signing_in(lambda: inner(self, client_id, auth_flow, auth_parameters))


def signing_in(call):
    """`call`, with any tokens it issues told apart as a sign-in's (moto's password flows issue
    theirs without `_log_user_in`)."""
    before = getattr(CONTEXT, "source", None)
    CONTEXT.source = before or "TokenGeneration_Authentication"
    try:
        return call()
    finally:
        CONTEXT.source = before


def admin_initiate_auth(inner, self, user_pool_id, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: Pre Authentication first."""
    if auth_flow in ADMIN_PASSWORD_FLOWS:
        user_pool = self.describe_user_pool(user_pool_id)
        client = user_pool.clients.get(client_id)
        user = user_pool._get_user(auth_parameters.get("USERNAME") or "")
        if client is not None and user is not None:
            pre_authentication(user_pool, client, user)
        return signing_in(lambda: inner(self, user_pool_id, client_id, auth_flow, auth_parameters))
    return inner(self, user_pool_id, client_id, auth_flow, auth_parameters)


def respond_to_auth_challenge(inner, self, session, client_id, challenge_name, answers):
    """Sign-in chain step: the answer to a CUSTOM_CHALLENGE."""
    if challenge_name != "CUSTOM_CHALLENGE":
        return inner(self, session, client_id, challenge_name, answers)
    # a session answers one challenge, right or wrong
    entry = custom_sessions.pop(session, None)
    if entry is None or entry["client_id"] != client_id:
        raise NotAuthorizedError("Invalid session for the user.")
    if clock.time() > entry["expires"]:
        raise NotAuthorizedError("Invalid session for the user, session is expired.")
    user_pool, client = pool_and_client(self, client_id)
    client_proven(client, answers.get("USERNAME"), answers.get("SECRET_HASH"))
    user = user_pool._get_user(answers.get("USERNAME") or "")
    if user is None or user.username != entry["username"]:
        raise NotAuthorizedError("Invalid session for the user.")
    if not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    verdict = invoke(user_pool, "VerifyAuthChallengeResponse", "VerifyAuthChallengeResponse_Authentication",
                     user, client.id, {"privateChallengeParameters": entry["private"],
                                       "challengeAnswer": answers.get("ANSWER") or "",
                                       "clientMetadata": metadata_for("VerifyAuthChallengeResponse")})
    if verdict is None:
        raise InvalidParameterException("Custom auth lambda trigger is not configured for the user pool.")
    history = entry["history"] + [{"challengeName": "CUSTOM_CHALLENGE",
                                   "challengeResult": verdict.get("answerCorrect") is True,
                                   "challengeMetadata": entry["metadata"]}]
    return next_step(self, user_pool, client, user, history)


SIGN_IN = {"initiate_auth": initiate_auth, "admin_initiate_auth": admin_initiate_auth,
           "respond_to_auth_challenge": respond_to_auth_challenge}


# -- pre token generation (V2_0) -------------------------------------------------------------------

def log_user_in(self, user_pool, client, username):
    # a sign-in's tokens (a refresh's come from create_tokens_from_refresh_token alone)
    before = getattr(CONTEXT, "source", None)
    CONTEXT.source = before or (
        "TokenGeneration_NewPasswordChallenge" if getattr(CONTEXT, "challenge", None) == "NEW_PASSWORD_REQUIRED"
        else "TokenGeneration_Authentication")
    try:
        return original_log_in(self, user_pool, client, username)
    finally:
        CONTEXT.source = before


def create_jwt(self, client_id, username, token_use, expires_in=60 * 60, extra_data=None):
    extra = dict(extra_data or {})
    origin = extra.get("origin_jti")
    if origin is not None:
        extra["auth_time"] = began.setdefault(origin, int(clock.time()))
    if token_use == "access":
        CONTEXT.override = customise(self, client_id, username, extra)
        details = CONTEXT.override.get("accessTokenGeneration") or {}
        scopes = [s for s in (extra.get("scope") or "").split() if s not in (details.get("scopesToSuppress") or [])]
        scopes += [s for s in (details.get("scopesToAdd") or []) if s not in scopes]
        extra["scope"] = " ".join(scopes)
        groups = (CONTEXT.override.get("groupOverrideDetails") or {}).get("groupsToOverride")
        if isinstance(groups, list):
            extra["cognito:groups"] = groups
    else:
        details = (getattr(CONTEXT, "override", None) or {}).get("idTokenGeneration") or {}
    for name in details.get("claimsToSuppress") or []:
        if name not in RESERVED_CLAIMS:
            extra.pop(name, None)
    for name, value in (details.get("claimsToAddOrOverride") or {}).items():
        if name not in RESERVED_CLAIMS:
            extra[name] = value
    return original_jwt(self, client_id, username, token_use, expires_in, extra)


def customise(user_pool, client_id, username, extra):
    """The pool's pre token generation answer (`claimsAndScopeOverrideDetails`), or {}."""
    user = user_pool._get_user(username)
    source = getattr(CONTEXT, "source", None) or "TokenGeneration_RefreshTokens"
    groups = [g.group_name for g in user.groups] if user is not None else []
    answer = invoke(user_pool, "PreTokenGeneration", source, user, client_id, {
        "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": None},
        "scopes": (extra.get("scope") or "").split(),
        "clientMetadata": metadata_for("PreTokenGeneration"),
    }, version="2") if user is not None else None
    details = (answer or {}).get("claimsAndScopeOverrideDetails") or {}
    return details if isinstance(details, dict) else {}


def install(settings):
    """Pre token generation; the sign-in steps (`SIGN_IN`) are chained by the package."""
    global endpoint, original_log_in, original_jwt
    endpoint = settings.lambda_endpoint
    original_log_in = patch(models.CognitoIdpBackend, "_log_user_in", log_user_in)
    original_jwt = patch(models.CognitoIdpUserPool, "create_jwt", create_jwt)
