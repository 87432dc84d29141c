"""Smoke test: every sample event in events/, invoked with `cargo lambda invoke` against
`cargo lambda watch` on the local stack, answers what events/expected.json says.

  python3 infra/local/smoke.py <watch port> <demo tenant json>

Run by infra/local/test.sh, which starts the emulator, the demo tenant and the watch. Events
whose bearer token is `<admin access token>` run as the demo tenant's admin: the smoke test
signs in first (through the auth function) and fills the token in.
"""
import json
import os
import subprocess
import sys
import tempfile

port, tenant_file = sys.argv[1], sys.argv[2]
PLACEHOLDER = "<admin access token>"


def invoke(function, data_file):
    return subprocess.run(
        ["cargo", "lambda", "invoke", function, "--invoke-address", "127.0.0.1",
         "--invoke-port", port, "--data-file", data_file, "--output-format", "json"],
        capture_output=True, text=True, timeout=300,
    )


def admin_token():
    tenant = json.load(open(tenant_file))
    event = json.load(open("events/auth/user-authentication.json"))
    event["body"] = json.dumps({"userID": tenant["adminUserID"], "password": tenant["adminPassword"]})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(event, f)
    try:
        out = invoke("auth", f.name)
    finally:
        os.unlink(f.name)
    answer = json.loads(json.loads(out.stdout)["body"])
    return answer["data"]["authenticationResult"]["accessToken"]


token = admin_token()
manifest = json.load(open("events/expected.json"))["events"]
on_disk = sorted(
    os.path.relpath(os.path.join(d, f), "events")
    for d, _, files in os.walk("events")
    for f in files
    if f.endswith(".json") and f != "expected.json"
)
unlisted = [e for e in on_disk if e not in manifest]
missing = [e for e in manifest if e not in on_disk]
failures = []
if unlisted or missing:
    failures.append(f"events/expected.json is out of date: unlisted {unlisted}, missing {missing}")

ran = skipped = 0
for event, want in manifest.items():
    if "skip" in want or event in missing:
        skipped += 1
        continue
    function = event.split("/")[0]
    text = open(f"events/{event}").read()
    if PLACEHOLDER in text:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(text.replace(PLACEHOLDER, token))
        try:
            out = invoke(function, f.name)
        finally:
            os.unlink(f.name)
    else:
        out = invoke(function, f"events/{event}")
    ran += 1
    if "trigger" in want:
        got = "allow" if out.returncode == 0 else "deny"
        if got != want["trigger"]:
            failures.append(f"{event}: trigger said {got}, expected {want['trigger']}: {out.stdout[-300:]} {out.stderr[-300:]}")
        elif "response" in want:
            # what the trigger answered Cognito: these fields, these values
            try:
                answered = json.loads(out.stdout).get("response") or {}
            except ValueError:
                answered = {}
            wrong = {k: answered.get(k) for k, v in want["response"].items() if answered.get(k) != v}
            if wrong:
                failures.append(f"{event}: the trigger answered {wrong}, expected {want['response']}")
        continue
    try:
        status = json.loads(out.stdout)["statusCode"]
    except (ValueError, KeyError):
        failures.append(f"{event}: no HTTP answer: {out.stdout[-300:]} {out.stderr[-300:]}")
        continue
    if status != want["status"]:
        failures.append(f"{event}: {status}, expected {want['status']}: {out.stdout[-300:]}")

# Every path's browser preflight through the watch's router, as API Gateway routes them: the
# path's function answers a listed origin (the browser stage's page) and refuses another.
import tomllib
import urllib.error
import urllib.request

listed = os.environ.get("IDP_APP_ORIGIN", "")
router = tomllib.load(open("Cargo.toml", "rb"))["workspace"]["metadata"]["lambda"]["watch"]["router"]
preflights = 0
for path, entries in router.items():
    if not listed:
        failures.append("IDP_APP_ORIGIN is not set: no origin to send preflights from")
        break
    methods = [e["method"] for e in entries if e["method"] != "OPTIONS"]
    concrete = "/".join("x" if seg.startswith("{") else seg for seg in path.split("/"))
    for origin, allowed in ((listed, True), ("https://evil.example.com", False)):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{concrete}", method="OPTIONS", headers={
            "origin": origin, "access-control-request-method": methods[0],
            "access-control-request-headers": "content-type,vbasoftware-client-id"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, got = r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            status, got = e.code, dict(e.headers)
        got = {k.lower(): v for k, v in got.items()}
        preflights += 1
        if allowed and (status != 200 or got.get("access-control-allow-origin") != origin
                        or sorted(got.get("access-control-allow-methods", "").split(", ")) != sorted(methods)):
            failures.append(f"OPTIONS {path} from {origin}: {status} {got}")
        if not allowed and (status != 403 or "access-control-allow-origin" in got):
            failures.append(f"OPTIONS {path} from {origin}: {status} {got}")
        if got.get("access-control-allow-credentials") or got.get("access-control-allow-origin") == "*":
            failures.append(f"OPTIONS {path}: credentials or a wildcard: {got}")
print(f"smoke: {preflights} preflights through the router ({len(router)} paths, a listed and an unlisted origin)")

for f in failures:
    print(f"smoke: {f}", file=sys.stderr)
event_failures = sum(1 for f in failures if not f.startswith("events/expected.json"))
print(f"smoke: {ran - event_failures} passed, {len(failures)} failed, {skipped} skipped")
sys.exit(1 if failures else 0)
