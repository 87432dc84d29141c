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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--timing-log")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    resolve_aliases_and_sub()

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
