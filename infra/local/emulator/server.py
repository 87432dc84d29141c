"""The emulator's WSGI app, command line and `main()`: moto's app behind one lock (see the
package's first note), the installs' own paths (`mail`, `federation`) before it, each request's
context (`common.CONTEXT`) set, and the self-service scope (`scope`) checked before moto sees a
request.
"""
import argparse
import io
import json
import os
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

from . import SUMMARY, install, outbox
from .common import CONTEXT, SERIAL, Settings
from .scope import scope_refusal


def read_request(environ):
    """The operation and JSON body of an AWS JSON request, the body put back for moto to read."""
    operation = (environ.get("HTTP_X_AMZ_TARGET") or "").rsplit(".", 1)[-1] or None
    if operation is None:
        return None, None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    return operation, body


def app_of(routes, timing):
    """The WSGI app: `routes` (`install()`'s) served as they are, anything else by moto, one
    request at a time."""
    app = DomainDispatcherApplication(create_backend_app)
    lock = SERIAL

    def one_at_a_time(environ, start_response):
        path = environ.get("PATH_INFO") or ""
        for prefix, handler in routes:
            if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
                # the handler takes the lock itself (federation lets go of it while it calls
                # the IdP); no operation of moto's is under way
                CONTEXT.operation = CONTEXT.metadata = CONTEXT.challenge = CONTEXT.source = CONTEXT.override = None
                return handler(environ, start_response)
        operation, body = read_request(environ)
        body = body if isinstance(body, dict) else {}
        CONTEXT.operation, CONTEXT.metadata = operation, body.get("ClientMetadata")
        CONTEXT.challenge, CONTEXT.source, CONTEXT.override = body.get("ChallengeName"), None, None
        refusal = scope_refusal(operation, body)
        if refusal is not None:
            start_response("400 Bad Request", [("content-type", "application/x-amz-json-1.1"),
                                               ("x-amzn-ErrorType", "NotAuthorizedException")])
            return [refusal.encode()]
        headers = {}

        def keeping_headers(status, response_headers, exc_info=None):
            headers.update((k.lower(), v) for k, v in response_headers)
            return start_response(status, response_headers, exc_info)

        with lock:
            # the whole response is produced inside the lock
            start = time.time_ns()
            answer = list(app(environ, keeping_headers))
            # the codes Cognito would have sent the person (`outbox`)
            outbox.record(body, headers, answer)
            if timing:
                operation = environ.get("HTTP_X_AMZ_TARGET", "-").rsplit(".", 1)[-1]
                timing.write(f"{start} {time.time_ns()} {operation}\n")
            return answer

    return one_at_a_time


def main(argv=None):
    parser = argparse.ArgumentParser(description=SUMMARY)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--timing-log")
    parser.add_argument("--lambda-endpoint", help="where the pools' Lambda triggers are served "
                        "(Lambda's Invoke API, e.g. `cargo lambda watch`)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    routes = install(Settings(lambda_endpoint=(args.lambda_endpoint or "").rstrip("/"),
                              base_url=f"http://{args.host}:{args.port}"))
    timing = open(args.timing_log, "a", buffering=1) if args.timing_log else None
    run_simple(
        args.host,
        args.port,
        app_of(routes, timing),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
