"""Scans log files for secrets: fails if any password, token, session, code or client secret
the test command's requests carried shows up in a log line.

    python3 infra/local/secrets_scan.py --min-requests N [--tenant FILE] LOG...

What counts as a secret:
- any JWT (three base64url parts, the first a JSON header: `eyJ...`);
- any password the end-to-end tests make (`stack::random_password`: `Pw-<18>-7a`);
- the demo tenant's passwords (`--tenant`, written by bootstrap-local);
- every password, token, session and code in the sample events (`events/`), 8 characters
  or longer;
- in a JSON log line, any field whose name says password, secret, token, session,
  authorization or code (our logs have none: the scan would catch one that slipped in).

`--min-requests` makes the scan mean something: the logs must hold at least that many request
lines (`"activityID"`), or the scan fails as having looked at nothing.
"""

import argparse
import glob
import json
import os
import re
import sys

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
E2E_PASSWORD = re.compile(r"Pw-[A-Za-z0-9]{18}-7a")
SECRET_FIELD = re.compile(r"(?i)(password|secret|token|session|authorization|^code$|confirmationcode)")
SECRET_KEYS = {"password", "newPassword", "previousPassword", "proposedPassword", "refreshToken",
               "session", "confirmationCode", "temporaryPassword", "code"}


def event_secrets(root):
    found = set()
    for path in glob.glob(os.path.join(root, "events", "**", "*.json"), recursive=True):
        try:
            event = json.load(open(path))
        except (OSError, ValueError):
            continue
        if not isinstance(event, dict):
            continue
        auth = (event.get("headers") or {}).get("authorization", "")
        if auth.lower().startswith("bearer ") and not auth.endswith(">"):
            found.add(auth[7:])
        try:
            body = json.loads(event.get("body") or "null")
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key, value in body.items():
                if key in SECRET_KEYS and isinstance(value, str):
                    found.add(value)
    return {s for s in found if len(s) >= 8 and not s.startswith("<")}


def secret_fields(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else key
            if SECRET_FIELD.search(key):
                yield here
            yield from secret_fields(inner, here)
    elif isinstance(value, list):
        for inner in value:
            yield from secret_fields(inner, path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-requests", type=int, default=1)
    parser.add_argument("--tenant")
    parser.add_argument("logs", nargs="+")
    args = parser.parse_args()

    root = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    literals = event_secrets(root)
    if args.tenant:
        tenant = json.load(open(args.tenant))
        literals |= {tenant[k] for k in ("adminPassword", "demoPassword") if tenant.get(k)}

    missing = [p for p in args.logs if not os.path.isfile(p)]
    if missing:
        sys.exit(f"error: no log at {', '.join(missing)}: the logs were not captured")

    hits, lines, requests = [], 0, 0
    for path in args.logs:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                lines += 1
                requests += '"activityID"' in line
                where = f"{path}:{number}"
                for pattern, what in ((JWT, "a JWT"), (E2E_PASSWORD, "a test password")):
                    if pattern.search(line):
                        hits.append(f"{where}: {what}")
                for secret in literals:
                    if secret in line:
                        hits.append(f"{where}: a secret from events/ or the tenant ({secret[:3]}…)")
                if line.startswith("{"):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    for field in secret_fields(record):
                        hits.append(f"{where}: a field named {field}")

    print(f"secrets scan: {len(args.logs)} files, {lines} lines, {requests} request lines, "
          f"{len(literals)} known secrets, {len(hits)} findings")
    for hit in hits[:50]:
        print(f"  {hit}")
    if hits:
        sys.exit(1)
    if requests < args.min_requests:
        print(f"error: only {requests} request lines, expected at least {args.min_requests}: "
              "the logs were not captured")
        sys.exit(1)


if __name__ == "__main__":
    main()
