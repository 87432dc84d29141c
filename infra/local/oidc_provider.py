"""A local OpenID Connect provider: a tenant's IdP for the emulator's federated sign-ins.

  python infra/local/oidc_provider.py --port 5002

Serves `oidc-provider-mock` on 127.0.0.1 only. Its issuer is `http://127.0.0.1:<port>`: the
provider writes `iss` from the Host header it is called with, so it is always called as
127.0.0.1 (register that issuer as the identity provider's `oidc_issuer`). Any client id and
secret are accepted, and an authorization request must carry a `nonce` (the emulator sends one).

A test plays the person without a browser:
  - `PUT {issuer}/users/<sub>` with a JSON object of claims (`email`, `email_verified`,
    `name`, ...) first, if the person needs more than `{"email": <sub>}`;
  - `POST {issuer}/oauth2/authorize?<the query the emulator redirected to>` with the form
    `sub=<sub>`: the answer is a 302 to the emulator's `/oauth2/idpresponse` with a code;
    the form `action=deny` instead answers `error=access_denied` (with the request's `state`,
    which the mock leaves out and this script adds back, as RFC 6749 4.1.2.1 requires).
"""
import argparse
import os
import warnings
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

# the provider is plain http on the loopback interface: authlib refuses that unless told
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
import authlib.deprecate

# the mock imports authlib's deprecated modules: their warnings (which authlib turns on for
# itself) are only noise in the log
warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)

import oidc_provider_mock
from werkzeug.serving import make_server


def state_on_errors(app):
    """The mock's error redirect from its authorization endpoint (a denial) carries no `state`:
    the request's is added, so that the relying party can tell which sign-in was refused."""

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != "/oauth2/authorize":
            return app(environ, start_response)
        state = parse_qs(environ.get("QUERY_STRING", "")).get("state")

        def start(status, headers, exc_info=None):
            if state and status.startswith("302"):
                for i, (name, value) in enumerate(headers):
                    parts = urlsplit(value)
                    query = parse_qs(parts.query)
                    if name.lower() == "location" and "error" in query and "state" not in query:
                        extra = urlencode({"state": state[0]})
                        headers[i] = (name, urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra)))
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wsgi


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5002)
    args = parser.parse_args()
    app = oidc_provider_mock.app(require_client_registration=False, require_nonce=True)
    server = make_server("127.0.0.1", args.port, state_on_errors(app), threaded=True)
    print(f"OpenID Connect provider: issuer http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
