"""Helpers for infra/local/run.sh: warm the API with a real sign-in, and print how to call it.

  python3 infra/local/demo.py warm  .local/demo-tenant.json
  python3 infra/local/demo.py howto .local/demo-tenant.json
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request


def headers(t):
    return {
        "content-type": "application/json",
        "vbasoftware-client-id": t["clientId"],
        "vbasoftware-client-code": t["clientCode"],
        "vbasoftware-database": t["database"],
    }


def call(t, method, path, body=None, token=None):
    h = headers(t)
    if token:
        h["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(t["apiUrl"] + path, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.load(resp), resp.headers.get("x-activity-id")
    except urllib.error.HTTPError as e:
        return e.code, json.load(e), e.headers.get("x-activity-id")


def warm(t):
    deadline = time.time() + 180
    while True:
        try:
            status, body, activity = call(
                t, "POST", "/user-authentication",
                {"userID": t["adminUserID"], "password": t["adminPassword"]},
            )
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.time() > deadline:
                raise
            time.sleep(1)
    ok = (
        status == 200
        and body["data"]["authenticationResult"]["accessToken"]
        and body["debug"]["activityID"] == activity
    )
    print(f"==> sign-in as {t['adminUserID']}: HTTP {status}, activityID {activity}", file=sys.stderr)
    if not ok:
        print(json.dumps(body["error"], indent=2), file=sys.stderr)
        sys.exit(1)
    # start the other functions too, with the admin's token
    token = body["data"]["authenticationResult"]["accessToken"]
    for method, path, payload in [
        ("GET", f"/users/{t['demoUserID']}/lock", None),
        ("GET", f"/users/{t['demoUserID']}/events", None),
        ("POST", "/forgot-password", {"userID": "nobody-by-this-name"}),
        ("POST", f"/users/{t['demoUserID']}/admin-enable", None),
        ("GET", f"/users/{t['demoUserID']}", None),
    ]:
        status, body, activity = call(t, method, path, payload, token=token)
        print(f"==> {method} {path}: HTTP {status}", file=sys.stderr)
        if status != 200:
            print(json.dumps(body["error"], indent=2), file=sys.stderr)
            sys.exit(1)


def web_lines():
    """Where the run command serves the API reference (WEB_URL), and which origins may call the
    API from a browser (WEB_ORIGINS)."""
    url = os.environ.get("WEB_URL")
    if not url:
        return ""
    return (f"Example app   {url}/app/  (sign in as the demo user below; infra/web/src/app.ts)\n"
            f"API reference {url}/docs  (the contract: {url}/openapi.yaml)\n"
            f"Browser pages of {', '.join(os.environ.get('WEB_ORIGINS', '').split())} may call the API (the tenant's allowedOrigins).")


def web_check():
    """The run command's pages answer: the reference page names every operation of the contract."""
    import urllib.request
    url = os.environ["WEB_URL"]
    with urllib.request.urlopen(f"{url}/docs", timeout=30) as r:
        page = r.read().decode()
    with urllib.request.urlopen(f"{url}/openapi.yaml", timeout=30) as r:
        contract = r.read().decode()
    ids = [line.split(":", 1)[1].strip() for line in contract.splitlines() if line.strip().startswith("operationId:")]
    missing = [i for i in ids if f'"operationId": "{i}"' not in page]
    if not ids or missing:
        print(f"==> the reference page at {url}/docs lacks {missing or 'every operation'}", file=sys.stderr)
        sys.exit(1)
    # the example app: its page, and its module as tsc compiled it
    with urllib.request.urlopen(f"{url}/app/", timeout=30) as r:
        app = r.read().decode()
        csp = r.headers.get("content-security-policy", "")
    with urllib.request.urlopen(f"{url}/app/js/app.js", timeout=30) as r:
        module = r.read().decode()
    if 'id="password-form"' not in app or "connect-src" not in csp or "accountApi(" not in module:
        print(f"==> the example app at {url}/app/ is not served whole", file=sys.stderr)
        sys.exit(1)
    print(f"==> {url}/docs and {url}/openapi.yaml: HTTP 200, {len(ids)} operations; "
          f"{url}/app/: HTTP 200", file=sys.stderr)


def howto(t):
    h = " \\\n  ".join(f"-H '{k}: {v}'" for k, v in headers(t).items())
    body = json.dumps({"userID": t["adminUserID"], "password": t["adminPassword"]})
    print(
        f"""
The account API is running at {t['apiUrl']} (emulated AWS at {t['awsEndpoint']}).
{web_lines()}

Demo tenant   clientId={t['clientId']}  clientCode={t['clientCode']}  database={t['database']}
User pool     {t['userPoolId']}  (app client {t['appClientId']})
Admin         userID={t['adminUserID']}  password={t['adminPassword']}
Demo user     userID={t['demoUserID']}  password={t['demoPassword']}  (the sample events in events/ use it)
All of this is in .local/demo-tenant.json.

Sign in as the admin:

curl -s -X POST {t['apiUrl']}/user-authentication \\
  {h} \\
  -d '{body}'

Invoke one function with a sample event (in another terminal):

  PATH="$PWD/.venv/bin:$PATH" cargo lambda invoke auth \\
    --invoke-address 127.0.0.1 --invoke-port {t['apiUrl'].rsplit(':', 1)[1]} \\
    --data-file events/auth/user-authentication.json

Press Ctrl-C to stop the API and the emulator.
""",
        flush=True,
    )


if __name__ == "__main__":
    command, path = sys.argv[1], sys.argv[2]
    tenant = json.load(open(path))
    {"warm": warm, "howto": howto, "web": lambda _: web_check()}[command](tenant)
