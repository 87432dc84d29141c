"""What Cognito sent a person, readable: the codes of its own messages (a password reset's, a new
address's verification, a sign-in's SMS or email code), as the person's mailbox or phone would
get them.

Cognito delivers these codes by email or SMS; moto and the modules here hand them back in a
response header of the call that caused them instead (`x-moto-forgot-password-confirmation-code`,
`contact`'s `x-moto-attribute-verification-code`, `factors`' `x-moto-mfa-code`), which only the
caller of the SDK sees: a function, not the person using the app. The server hands each answer's
headers here (`record`), and `GET /_emulator/cognito/messages?username=<name>` answers what was
sent to that user, oldest first: `[{username, purpose, attribute, code, at}]` (`purpose`:
`forgot-password`, `verify-attribute` or `sign-in`; `attribute`: `email`, `phone_number`, or the
sign-in's challenge). The browser stage reads a person's codes there.

Not as Cognito: nothing is delivered; the username is the one the request named (an alias as
typed, or the owner of the access token), lower-cased; the newest 10,000 are kept, for as long
as the process lives.
"""
import json
import threading
import time
from urllib.parse import parse_qs

from moto.cognitoidp.models import cognitoidp_backends

MESSAGES_PATH = "/_emulator/cognito/messages"

_SENT = []
_LOCK = threading.Lock()
# the newest this many: a long run of the local stack does not grow without end
KEPT = 10_000


def _owner_of(access_token):
    for regions in cognitoidp_backends.values():
        for backend in regions.values():
            for pool in backend.user_pools.values():
                if access_token in pool.access_tokens:
                    return pool.access_tokens[access_token][1]
    return None


def _username(body):
    name = (body.get("Username")
            or (body.get("AuthParameters") or {}).get("USERNAME")
            or (body.get("ChallengeResponses") or {}).get("USERNAME"))
    if not name and body.get("AccessToken"):
        name = _owner_of(body["AccessToken"])
    return (name or "").lower()


def record(body, headers, answer):
    """Keeps the codes an answer's `headers` (lower-cased names) carry, for the user `body`
    (the request's JSON) names; `answer` is the answer's body (a reset's names the attribute
    its code went to). Called by the server under its lock, after moto answered."""
    found = []
    code = headers.get("x-moto-forgot-password-confirmation-code")
    if code:
        try:
            details = json.loads(b"".join(answer) or b"{}").get("CodeDeliveryDetails") or {}
        except ValueError:
            details = {}
        found.append(("forgot-password", details.get("AttributeName") or "email", code))
    for header, purpose in (("x-moto-attribute-verification-code", "verify-attribute"),
                            ("x-moto-mfa-code", "sign-in")):
        for pair in filter(None, (headers.get(header) or "").split(",")):
            attribute, _, value = pair.partition("=")
            found.append((purpose, attribute, value))
    if not found:
        return
    username = _username(body)
    at = time.time()
    with _LOCK:
        _SENT.extend({"username": username, "purpose": p, "attribute": a, "code": c, "at": at}
                     for p, a, c in found)
        del _SENT[:-KEPT]


def messages(environ, start_response):
    """The WSGI handler of `MESSAGES_PATH`."""
    wanted = (parse_qs(environ.get("QUERY_STRING") or "").get("username") or [""])[0].lower()
    with _LOCK:
        out = [m for m in _SENT if not wanted or m["username"] == wanted]
    start_response("200 OK", [("content-type", "application/json")])
    return [json.dumps(out).encode()]


def install(settings):
    """Patches nothing: answers the route the server serves the messages at."""
    return MESSAGES_PATH, messages
