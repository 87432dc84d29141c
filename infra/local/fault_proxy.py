"""A fault-injecting proxy between the functions and the emulator, for the test command's `fault`
stage: every Cognito and DynamoDB call (told apart by `X-Amz-Target`) passes through it, and at
set rates it is slowed, refused or lost:

- latency: the call waits 50-300 ms before it is passed on;
- reset: the connection is closed before the call reaches the emulator (nothing happened);
- throttle: the service's own throttling answer (DynamoDB `ThrottlingException`, Cognito
  `TooManyRequestsException`, HTTP 400), nothing happened;
- 5xx: the service's internal error (HTTP 500), nothing happened;
- lost: the call reaches the emulator and is applied, then the connection is closed before the
  answer: the caller cannot know it acted (the case a retry must not double).

Everything else (the emulator's own endpoints, a pool's signing keys) passes untouched. The
random choices come from --seed, so a run can be repeated. GET /_faults answers the counts of
calls and of each fault injected, as JSON. Listens on 127.0.0.1 only.

  python3 infra/local/fault_proxy.py --port P --upstream 127.0.0.1:U [--seed N] [--rate R]

--rate scales every fault's rate (default 1: 10 % latency, 2 % each of reset, throttle and
5xx, 2 % lost).
"""
import argparse
import http.client
import http.server
import json
import random
import socket
import sys
import threading
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--upstream", required=True, help="host:port of the emulator")
parser.add_argument("--seed", type=int, default=20261206)
parser.add_argument("--rate", type=float, default=1.0)
args = parser.parse_args()
up_host, up_port = args.upstream.rsplit(":", 1)

RATES = {"latency": 0.10, "reset": 0.02, "throttle": 0.02, "5xx": 0.02, "lost": 0.02}
RATES = {k: v * args.rate for k, v in RATES.items()}
rng = random.Random(args.seed)
lock = threading.Lock()
counts = {"calls": 0, "passed": 0, **{k: 0 for k in RATES}}

THROTTLE = {
    "DynamoDB": ("com.amazonaws.dynamodb.v20120810#ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "Cognito": ("TooManyRequestsException", "Too many requests"),
}
INTERNAL = {
    "DynamoDB": ("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    "Cognito": ("InternalErrorException", "Internal error"),
}


def service(headers):
    target = headers.get("x-amz-target", "")
    if target.startswith("DynamoDB_"):
        return "DynamoDB"
    if target.startswith("AWSCognitoIdentityProviderService."):
        return "Cognito"
    return None


def draw():
    """One call's faults: whether it waits, and which (if any) refusal or loss it meets."""
    with lock:
        counts["calls"] += 1
        slow = rng.random() < RATES["latency"]
        roll, fault, edge = rng.random(), None, 0.0
        for kind in ("reset", "throttle", "5xx", "lost"):
            edge += RATES[kind]
            if roll < edge:
                fault = kind
                break
        if slow:
            counts["latency"] += 1
        counts[fault or "passed"] += 1
        return (rng.uniform(0.05, 0.3) if slow else 0.0), fault


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _answer(self, status, body, content_type="application/x-amz-json-1.0"):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "GET" and self.path == "/_faults":
            with lock:
                return self._answer(200, dict(counts), "application/json")
        kind = service(self.headers)
        wait, fault = draw() if kind else (0.0, None)
        if wait:
            time.sleep(wait)
        if fault == "reset":
            return self._drop()
        if fault in ("throttle", "5xx"):
            name, message = (THROTTLE if fault == "throttle" else INTERNAL)[kind]
            return self._answer(400 if fault == "throttle" else 500, {"__type": name, "message": message})
        upstream = http.client.HTTPConnection(up_host, int(up_port), timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if fault == "lost":
            return self._drop()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
print(f"fault proxy on 127.0.0.1:{args.port} -> {args.upstream}, seed {args.seed}, rates {RATES}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
finally:
    print(json.dumps(counts), file=sys.stderr, flush=True)
