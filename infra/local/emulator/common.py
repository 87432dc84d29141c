"""What several capability modules share: the one-request-at-a-time lock, the request's context,
the user an access token names, Cognito's error shape, and `patch`, which every module installs
through.

`patch` refuses a second patch of the same moto method: each method the package changes is
changed by one module only, so the order the modules install in cannot change what a request
meets. The one method changed by several capabilities, the sign-in, is built once as an
explicit chain (`emulator.SIGN_IN_CHAIN`), not wrapped by each of them in turn.
"""
import base64
import contextlib
import threading
from dataclasses import dataclass

from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.core.exceptions import JsonRESTError

# One request at a time (see the package's first note); a Lambda trigger's call, and a call to
# a federated sign-in's IdP, let go of it.
SERIAL = threading.Lock()

# What the request being handled on this thread asked (werkzeug gives each request a thread of
# its own): its operation, its `ClientMetadata`, the challenge it answers, and which kind of
# token generation is under way (for the pre token generation trigger). Set by the server for
# each request; read by `triggers` and `federation`.
CONTEXT = threading.local()


@dataclass(frozen=True)
class Settings:
    """What the command line tells the capabilities."""

    # where the pools' Lambda triggers are served (Lambda's Invoke API), "" for nowhere
    lambda_endpoint: str = ""
    # this emulator's own base URL, http://<host>:<port> (a pool domain's redirect URI is under it)
    base_url: str = ""


class CognitoError(JsonRESTError):
    """A Cognito error by its code and message, for the errors moto has no class of."""

    def __init__(self, code, message):
        super().__init__(code, message)


@contextlib.contextmanager
def unlocked():
    """The one-request-at-a-time lock let go of while a call leaves this emulator (a Lambda
    trigger, which may call back into it; a federated sign-in's IdP). Cognito's own calls are
    not atomic with anything either; moto's models must be looked up again afterwards."""
    SERIAL.release()
    try:
        yield
    finally:
        SERIAL.acquire()


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def user_of_token(backend, access_token):
    """The user an access token was issued to, as Cognito's token-authorised operations find it."""
    for user_pool in backend.user_pools.values():
        if access_token in user_pool.access_tokens:
            _, username = user_pool.access_tokens[access_token]
            return backend.admin_get_user(user_pool.id, username)
    raise NotAuthorizedError("Invalid token")


# (class, method name) -> the module that patched it
_PATCHED = {}


def patch(owner, name, by):
    """Puts `by` in place of `owner.<name>` and answers what was there (moto's own, for a
    wrapper to call). A method patched already is refused: no two modules may change one
    method, so that none depends on installing before or after another."""
    module = getattr(by, "__module__", None) or "?"
    if (owner, name) in _PATCHED:
        raise RuntimeError(f"{owner.__name__}.{name} is patched by {_PATCHED[owner, name]} already "
                           f"({module} patches it too): chain the two explicitly")
    _PATCHED[owner, name] = module
    original = getattr(owner, name, None)
    setattr(owner, name, by)
    return original
