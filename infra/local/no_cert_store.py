#!/usr/bin/env python3
"""Starts each function as Lambda does (a cleared environment with only Lambda's variables and
the stack's) under strace, against a minimal Runtime API on loopback, and fails if any file
under the system's certificate directories is opened or looked at before the function first
asks for an event. The SDK clients' trust is compiled in (shared::https); reading the store
would cost every cold start milliseconds.

    no_cert_store.py <directory of the function binaries> <function> [<function> ...]
"""

import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading

CERT_DIRS = (
    "/etc/ssl",
    "/etc/pki",
    "/usr/lib/ssl",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
    "/etc/ca-certificates",
)
# the calls that name a path: open, openat, stat and friends, access, readlink, opendir
PATH_CALL = re.compile(r'^\d+\s+(?:\S+\s+)?(\w+)\((?:AT_FDCWD|\d+), "([^"]*)"|^\d+\s+(?:\S+\s+)?(\w+)\("([^"]*)"')


def lambda_env(function, runtime_api):
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "trace",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "bootstrap",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "TENANTS_TABLE": "trace-tenants",
        "ACCOUNT_STATE_TABLE": "trace-account-state",
        "AUDIT_TABLE": "trace-audit",
        "RUST_LOG": "info",
    }


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """Answers nothing: the first GET of the next event is the end of init."""

    polled = threading.Event()

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            RuntimeApi.polled.set()
        # hold the request until the process is stopped
        RuntimeApi.stop.wait(10)

    def log_message(self, *args):
        pass


def trace(binary, function):
    RuntimeApi.polled = threading.Event()
    RuntimeApi.stop = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime_api = f"127.0.0.1:{server.server_address[1]}"
    with tempfile.NamedTemporaryFile(prefix=f"strace-{function}-", suffix=".log", delete=False) as f:
        log = f.name
    child = subprocess.Popen(
        ["strace", "-f", "-qq", "-e", "trace=%file", "-o", log, binary],
        env=lambda_env(function, runtime_api),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    polled = RuntimeApi.polled.wait(30)
    child.terminate()
    RuntimeApi.stop.set()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    server.shutdown()
    with open(log) as f:
        lines = f.readlines()
    os.unlink(log)
    return polled, lines


def main():
    directory, functions = sys.argv[1], sys.argv[2:]
    failed = []
    for function in functions:
        polled, lines = trace(os.path.join(directory, function), function)
        paths = []
        for line in lines:
            m = PATH_CALL.match(line)
            if m:
                paths.append(m.group(2) or m.group(4) or "")
        if not polled:
            failed.append(f"{function}: never polled for an event (strace log: {len(lines)} lines)")
            continue
        # strace must have seen the process at all: the dynamic loader opens libc
        if not any("libc" in p for p in paths):
            failed.append(f"{function}: strace saw no file calls; the check proves nothing")
            continue
        stores = sorted({p for p in paths if p.startswith(CERT_DIRS)})
        if stores:
            failed.append(f"{function}: read the certificate store at start: {', '.join(stores[:5])}")
        else:
            print(f"{function}: {len(paths)} file calls before the first poll, none under the certificate directories")
    for f in failed:
        print(f"error: {f}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
