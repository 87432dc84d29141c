"""A person's passkey ceremony in a real browser: headless Chromium (Debian's package) driven by
Playwright, with Chrome's virtual authenticator (DevTools' WebAuthn domain) in place of a
fingerprint reader. A small page, served on http://localhost (the relying party the local
pools name), calls the API on its own origin (http://127.0.0.1:<watch port>) as a web app
does, allowed by the tenant's `allowedOrigins` (CORS), through the typed client generated from
the contract (infra/web/src/stage.ts, compiled by tsc into WEB_JS), and signs a user in with
their password, registers a passkey through the API (navigator.credentials.create), then signs in
with it (navigator.credentials.get) and gets tokens; a second sign-in whose assertion the page
tampers with is refused. Then a person with a registration code: an admin has one mailed to
them (read back from the emulator's SES), they open the link (this page, with the user and the
code in its query) and register a passkey without their password, sign in with it, and are told
by mail. Then a person with a security key that cannot verify them (Chrome's virtual U2F key):
they register it after signing in with their password, then sign in with password and key;
the password alone gives no tokens, a tampered assertion is refused, and once an admin removes
the key its answer no longer signs in. Then a person signs in with the tenant's identity provider (the local OpenID Connect
provider): the page starts an intent and sends the browser to its authUrl, the person types
their subject on the provider's sign-in page and authorizes, the pool and the API's callback
send the browser back to the page, which retrieves the outcome: no account yet; once an admin
has linked the identity, the user's tokens, which read the user's profile; a person who
declines lands on the failure page with `idp-failed`. Last, the same page from an origin the
tenant does not list (http://127.0.0.1:<page port>) cannot call the API at all: the browser
refuses after the preflight. And the API reference page (DOCS_HTML, infra/build/docs.py), served
on the page's origin as a docs site would be: every operation of the contract is on it, and its
"Try it out" signs the user in through the API. Screenshots of the pages are kept.

  python3 infra/local/browser.py <watch port> <tenant description json> <output dir>

The page is served on IDP_APP_ORIGIN's port where it is set (the test command registers its
/idp/done and /idp/failed with the tenant), else on any free one; the provider is at
OIDC_ISSUER_URL.
"""
import http.server
import json
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request

watch_port, tenant_file, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
t = json.load(open(tenant_file))
api = f"http://127.0.0.1:{watch_port}"
headers = {
    "content-type": "application/json",
    "vbasoftware-client-id": t["clientId"],
    "vbasoftware-client-code": t["clientCode"],
    "vbasoftware-database": t["database"],
}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Account API sign-in</title>
<style>body{font-family:sans-serif;margin:2em} pre{background:#f4f4f4;padding:1em}</style></head>
<body><h1>Account API: passkeys, security keys and identity providers</h1><p id="state">loading</p><pre id="log"></pre>
<script>window.ACCOUNT_API = %(config)s;</script>
<script type="importmap">{"imports": {"openapi-fetch": "/web/openapi-fetch.mjs"}}</script>
<script type="module">
import "/web/js/stage.js";
document.getElementById("state").textContent = "ready";
</script>
</body></html>
"""


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402  (infra/local/web.py: the example app as the run command serves it)

if not os.environ.get("WEB_JS"):
    sys.exit("browser: WEB_JS is not set (the test command compiles the pages' modules there)")
APP = web.App(os.environ["WEB_JS"], {**t, "identityProviders": ["LocalOIDC"]}, api)


class Handler(http.server.BaseHTTPRequestHandler):
    """The page, at every path (the API is on its own origin: the page calls it with CORS), and
    the example app under /app/."""

    def log_message(self, *args):
        pass

    def module(self, path):
        """The typed client and the page's module (compiled by tsc into WEB_JS), and
        openapi-fetch as npm installed it."""
        if path == "/web/openapi-fetch.mjs":
            file = os.path.join("infra", "web", "node_modules", "openapi-fetch", "dist", "index.mjs")
        else:
            name = path[len("/web/js/"):]
            file = os.path.join(os.environ["WEB_JS"], name) if path.startswith("/web/js/") and name.replace("-", "").replace(".", "").isalnum() else ""
        if not file or not os.path.isfile(file):
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = open(file, "rb").read()
        self.send_response(200)
        self.send_header("content-type", "text/javascript; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] in ("/docs", "/docs/") and os.environ.get("DOCS_HTML"):
            body = open(os.environ["DOCS_HTML"], "rb").read()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        path = self.path.split("?")[0]
        if path.startswith("/web/"):
            return self.module(path)
        if path == "/app" or path.startswith("/app/"):
            found = APP.get(path)
            if found is None:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            return web.answer(self, *found, csp=APP.csp)
        config = {"api": api, "tenant": {"clientId": t["clientId"], "clientCode": t["clientCode"],
                                         "database": t["database"]}}
        body = (PAGE % {"config": json.dumps(config)}).encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def call(method, path, body=None, token=None):
    h = dict(headers)
    if token:
        h["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def sent_mail():
    with urllib.request.urlopen(t["awsEndpoint"].rstrip("/") + "/_emulator/ses/sent", timeout=30) as r:
        return json.load(r)


def mailed_code(address):
    """The registration code in the newest mail to `address` (the code's own line, or a link's)."""
    mail = [m for m in sent_mail() if address in m["to"] and "Register a passkey" in m["subject"]][-1]
    for line in mail["body"].splitlines():
        line = line.strip()
        if "code=" in line:
            return line.rsplit("code=", 1)[1]
        if len(line) == 43 and all(c.isalnum() or c in "-_" for c in line):
            return line
    raise AssertionError(f"no code in the mail: {mail['body']!r}")


def at_provider(page, origin, sub, authorize=True):
    """From the page, through the pool's domain to the provider's sign-in page, where the person
    types their subject and authorizes (or declines), and back to the app's page."""
    page.goto(origin + "/")
    started = page.evaluate("() => startIdpSignIn('LocalOIDC')")
    assert started == {"status": 200}, started
    page.wait_for_selector("input[name=sub]", timeout=15000)
    if authorize:
        page.fill("input[name=sub]", sub)
        page.click("button:has-text('Authorize')")
        page.wait_for_url(origin + "/idp/done?**", timeout=15000)
    else:
        page.click("button:has-text('Deny')")
        page.wait_for_url(origin + "/idp/failed?**", timeout=15000)
    return page.evaluate("() => finishIdpSignIn()")


def security_key(page, cdp, key, origin, user, password, admin_token):
    """A person registers a security key that cannot verify them (Chrome's virtual U2F key) after
    signing in with their password, then signs in with password and key; the password alone
    gives no tokens, a tampered assertion is refused, and once an admin removes the key its
    answer no longer signs in (and the password alone does again)."""
    page.goto(origin + "/")
    registered = page.evaluate("([u, p]) => registerKey(u, p)", [user, password])
    assert registered["status"] == 200 and registered["u2fID"], registered
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": key})["credentials"]
    assert len(held) == 1 and not held[0]["isResidentCredential"], held
    signed_in = page.evaluate("([u, p]) => signInWithKey(u, p, false)", [user, password])
    assert signed_in == {"status": 200, "challenge": "U2F", "signedIn": True, "problem": None}, signed_in
    page.screenshot(path=os.path.join(out_dir, "u2f-signed-in.png"))
    tampered = page.evaluate("([u, p]) => signInWithKey(u, p, true)", [user, password])
    assert tampered["status"] == 401 and tampered["problem"] == "/problems/invalid-credentials", tampered
    page.screenshot(path=os.path.join(out_dir, "u2f-tampered.png"))
    # the password alone: the challenge, no tokens
    status, body = call("POST", "/user-authentication", {"userID": user, "password": password})
    assert status == 200 and body["data"]["challengeName"] == "U2F", body
    assert body["data"]["authenticationResult"] is None, body
    # an admin removes the key while that challenge is open: the key's answer no longer signs in
    status, removed = call("DELETE", f"/users/{user}/u2f/{registered['u2fID']}", None, admin_token)
    assert status == 200 and removed["data"]["deleted"] is True, removed
    late = page.evaluate("([u, d]) => answerKey(u, d, false)", [user, body["data"]])
    assert late["status"] == 401 and late["problem"] == "/problems/invalid-credentials", late
    after = page.evaluate("([u, p]) => signInWithKey(u, p, false)", [user, password])
    assert after == {"status": 200, "passwordAlone": True}, after
    page.screenshot(path=os.path.join(out_dir, "u2f-removed.png"))
    return ("registered a U2F security key (no user verification) in Chromium, signed in with password "
            "then key; the password alone gave no tokens, a tampered assertion and a removed key's were refused")


def idp_sign_ins(page, origin, user, admin_token):
    issuer = os.environ["OIDC_ISSUER_URL"]
    sub = f"browser-idp-{os.getpid()}"
    email = f"{sub}@idp.example.com"
    claims = json.dumps({"email": email, "email_verified": True, "name": "Browser Person"}).encode()
    req = urllib.request.Request(f"{issuer}/users/{sub}", data=claims, method="PUT",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status < 300, r.status
    first = at_provider(page, origin, sub)
    assert first == {"status": 200, "userID": None, "email": email}, first
    page.screenshot(path=os.path.join(out_dir, "idp-no-account-yet.png"))
    status, body = call("POST", f"/users/{user}/idp-links", {"idpName": "LocalOIDC", "idpUserID": sub}, admin_token)
    assert status == 200, body
    again = at_provider(page, origin, sub)
    assert again == {"status": 200, "userID": user, "profile": 200}, again
    page.screenshot(path=os.path.join(out_dir, "idp-signed-in.png"))
    declined = at_provider(page, origin, sub, authorize=False)
    assert declined == {"error": "idp-failed"}, declined
    page.screenshot(path=os.path.join(out_dir, "idp-declined.png"))
    return (f"signed in with the identity provider in Chromium: no account yet, then (linked by an "
            f"admin) as {user}; a declined sign-in ended on the failure page")


def reference_page(page, origin, user, password):
    """The API reference as a reader meets it: every operation of the contract listed, nothing
    fetched from anywhere but the page and the API, and "Try it out" on the sign-in operation
    answering 200 through the API (CORS, the page's origin being the tenant's)."""
    if not os.environ.get("DOCS_HTML"):
        sys.exit("browser: DOCS_HTML is not set (the test command builds the reference page)")
    import yaml

    contract = yaml.safe_load(open("infra/openapi.yaml"))
    wanted = {op["operationId"] for item in contract["paths"].values() for m, op in item.items()
              if m in ("get", "put", "post", "delete", "patch")}
    elsewhere = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((origin, api, "data:")) else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{origin}/docs")
    page.wait_for_selector(".opblock", timeout=30000)
    shown = page.eval_on_selector_all(".opblock", "els => els.map(e => e.id)")
    shown = {i.rsplit("-", 1)[1] for i in shown if i.startswith("operations-")}
    assert wanted <= shown, f"not on the reference page: {sorted(wanted - shown)}"
    page.screenshot(path=os.path.join(out_dir, "docs.png"))
    # "Try it out" on POST /user-authentication, filled in as a reader would
    op = page.locator(".opblock[id$='-userAuthentication']").first
    op.locator(".opblock-summary").first.click()
    op.locator("button.try-out__btn").click()
    for name, value in headers.items():
        if name.startswith("vbasoftware-"):
            op.locator(f"tr[data-param-name='{name}'] input").fill(value)
    op.locator("textarea.body-param__text").fill(json.dumps({"userID": user, "password": password}))
    op.locator("button.execute").click()
    status = op.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=30000)
    got = status.inner_text().strip()
    status.scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(out_dir, "docs-try-it-out.png"))
    assert got == "200", f"Try it out answered {got!r}"
    assert not elsewhere, f"the reference page fetched from elsewhere: {elsewhere}"
    return (f"the API reference page lists all {len(wanted)} operations of the contract, fetches nothing "
            f"from elsewhere, and its Try it out signed {user} in through the API (HTTP {got})")


def cross_origin(page, origin, page_port, user, password):
    """The API from the tenant's listed origin and from another: the listed page reads every
    answer (a refusal too, with its activity id); the other cannot send the request at all,
    the browser stops it at the preflight, so the wrong password it carried spent nothing."""
    page.goto(origin)
    listed = page.evaluate("([u]) => reach(u, 'not-the-password')", [user])
    assert listed["read"] and listed["status"] == 401 and listed["activityID"], listed
    elsewhere = f"http://127.0.0.1:{page_port}"
    page.goto(elsewhere)
    # more wrong passwords than the tenant's budget (5): had one reached the API, the account
    # would be locked below
    for attempt in range(5):
        refused = page.evaluate("([u]) => reach(u, 'not-the-password')", [user])
        assert refused == {"read": False, "error": "TypeError: Failed to fetch"}, refused
    page.screenshot(path=os.path.join(out_dir, "cors-unlisted-origin.png"))
    # the listed page's one wrong password is all the account saw: it still signs in
    page.goto(origin)
    signed_in = page.evaluate("([u, p]) => reach(u, p)", [user, password])
    assert signed_in["read"] and signed_in["status"] == 200, signed_in
    status, body = call("POST", "/user-authentication", {"userID": user, "password": password})
    assert status == 200, body
    return (f"a page of {origin} (listed) read the API's answers, a refusal too; the same page from "
            f"{elsewhere} (not listed) could not call it: the browser stopped every request at the preflight")


def sent_codes(username, purpose, attribute=None):
    """The codes Cognito sent `username` for `purpose` (to `attribute`, when named), oldest
    first, as their mailbox or phone holds them (the emulator's `outbox`)."""
    url = f"{t['awsEndpoint'].rstrip('/')}/_emulator/cognito/messages?username={username}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return [m["code"] for m in json.load(r)
                if m["purpose"] == purpose and attribute in (None, m["attribute"])]


def authenticator_code(secret):
    """What the person's authenticator app shows for `secret` now (RFC 6238, as the apps do)."""
    import base64

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(time.time()).decode()


def example_app(page, cdp, origin, cognito, admin_token):
    """The example web app (infra/web/src/app.ts) as a person uses it, by what they see and
    click: a newcomer with a temporary password chooses their own, sets up an authenticator app
    from its QR code, changes their email with the code mailed to the new address and their
    phone number with the code sent to it, adds a passkey, signs out, signs in with password
    and authenticator code, then with the passkey; removes it, turns the app off, adds a
    security key and signs in with password and key;
    recovers a forgotten password with the mailed code; and signs in with the tenant's identity
    provider once an admin has linked it. A wrong password is told as such."""
    person = f"newcomer-{os.getpid()}"
    temporary, chosen, recovered = (f"Temp-Passw0rd-{os.getpid()}", f"Chosen-Passw0rd-{os.getpid()}",
                                    f"Recovered-Passw0rd-{os.getpid()}")
    cognito.admin_create_user(UserPoolId=t["userPoolId"], Username=person, MessageAction="SUPPRESS",
                              TemporaryPassword=temporary,
                              UserAttributes=[{"Name": "email", "Value": f"{person}@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
    shot = lambda name: page.screenshot(path=os.path.join(out_dir, name), full_page=True)  # noqa: E731

    def visible(view):
        try:
            page.wait_for_selector(f"#{view}:not([hidden])", timeout=15000)
        except Exception:
            print("\n".join(said), file=sys.stderr)
            print(f"waiting for {view}, the page said: {page.inner_text('body')[:2000]}", file=sys.stderr)
            shot(f"app-failed-{view}.png")
            raise
        if view == "account":
            # its profile, methods, passkeys and keys all read
            page.wait_for_selector("#account[data-loaded=true]", timeout=15000)

    def told():
        return page.inner_text("#notice")

    def sign_in(user, password):
        visible("sign-in")
        page.fill("#user-id", user)
        page.fill("#password", password)
        page.click("#password-form button[type=submit]")

    def sign_out():
        page.click("#sign-out")
        visible("sign-in")
        assert "signed out" in told(), told()

    # what the page's script said or threw, shown when a step fails
    said = []
    page.on("console", lambda m: said.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: said.append(f"page error: {e}"))
    page.set_viewport_size({"width": 900, "height": 900})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})["authenticatorId"]
    page.goto(origin + "/app/")
    page.wait_for_selector("body[data-ready=true]", timeout=15000)
    shot("app-sign-in.png")

    # a wrong password: told, not let in
    sign_in(person, "Not-the-passw0rd-1")
    page.wait_for_selector("#notice.error", timeout=15000)
    assert "do not match" in told(), told()
    shot("app-refused.png")

    # the temporary password, then their own
    sign_in(person, temporary)
    visible("new-password")
    page.fill("#new-password-value", chosen)
    page.click("#new-password-form button[type=submit]")
    visible("account")
    page.wait_for_selector("#profile dd", timeout=15000)
    assert person in page.inner_text("#profile"), page.inner_text("#profile")
    assert page.inner_text("#who") == person

    # an authenticator app, from the QR code the page shows
    page.click("#totp-start")
    visible("totp-setup")
    page.wait_for_function("() => document.getElementById('totp-qr').naturalWidth > 0", timeout=15000)
    secret = page.inner_text("#totp-secret").strip()
    assert len(secret) >= 16, secret
    shot("app-totp-qr.png")
    page.fill("#totp-code", authenticator_code(secret))
    page.click("#totp-verify-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('methods').textContent.includes('TOTP')", timeout=15000)

    # a new email address, verified with the code mailed to it
    new_email = f"{person}.new@example.com"
    page.fill("#new-email", new_email)
    page.click("#email-form button[type=submit]")
    visible("email-verify-form")
    assert "waits for its code" in page.inner_text("#profile"), page.inner_text("#profile")
    page.fill("#email-code", sent_codes(person, "verify-attribute", "email")[-1])
    page.click("#email-verify-form button[type=submit]")
    page.wait_for_function(f"() => document.getElementById('profile').textContent.includes('{new_email} (verified)')",
                           timeout=15000)

    # a new phone number, verified with the code sent to it by SMS
    phone = f"+1415555{os.getpid() % 10000:04d}"
    page.fill("#new-phone", phone)
    page.click("#phone-form button[type=submit]")
    visible("phone-verify-form")
    page.fill("#phone-code", sent_codes(person, "verify-attribute", "phone_number")[-1])
    page.click("#phone-verify-form button[type=submit]")
    page.wait_for_function(f"() => document.getElementById('profile').textContent.includes('{phone} (verified)')",
                           timeout=15000)

    # a passkey
    page.click("#passkey-add")
    page.wait_for_selector("#passkey-list li", timeout=15000)
    shot("app-account.png")
    sign_out()

    # password and the authenticator's code
    sign_in(person, chosen)
    visible("code")
    assert "authenticator app" in page.inner_text("#code-prompt")
    page.fill("#code-value", authenticator_code(secret))
    page.click("#code-form button[type=submit]")
    visible("account")
    shot("app-signed-in-with-totp.png")
    sign_out()

    # the passkey alone
    page.fill("#user-id", person)
    page.click("#passkey-sign-in")
    visible("account")
    page.wait_for_selector("#passkey-list li", timeout=15000)
    # removed, and the authenticator app turned off
    page.click("#passkey-list li button")
    page.wait_for_selector("#passkeys-none:not([hidden])", timeout=15000)
    page.click("#totp-off")
    page.wait_for_function("() => !document.getElementById('methods').textContent.includes('TOTP')", timeout=15000)

    # a security key in a drawer (a U2F key, which cannot verify its user)
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    key = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "u2f", "transport": "usb", "hasResidentKey": False,
        "hasUserVerification": False, "automaticPresenceSimulation": True,
    }})["authenticatorId"]
    page.fill("#key-name", "Drawer key")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#key-list li", timeout=15000)
    assert "Drawer key" in page.inner_text("#key-list")
    sign_out()
    sign_in(person, chosen)
    visible("key")
    shot("app-security-key.png")
    page.click("#use-key")
    visible("account")
    page.click("#key-list li button")
    page.wait_for_selector("#keys-none:not([hidden])", timeout=15000)
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": key})
    sign_out()

    # a forgotten password, reset with the mailed code
    page.click("#forgot-link")
    visible("forgot")
    page.fill("#forgot-user", person)
    page.click("#forgot-form button[type=submit]")
    visible("reset-form")
    page.fill("#reset-code", sent_codes(person, "forgot-password")[-1])
    page.fill("#reset-password", recovered)
    page.click("#reset-form button[type=submit]")
    visible("sign-in")
    assert "password is changed" in told(), told()
    shot("app-recovered.png")
    sign_in(person, recovered)
    visible("account")
    sign_out()

    # the tenant's identity provider, once an admin linked the person's identity there
    issuer = os.environ["OIDC_ISSUER_URL"]
    sub = f"app-idp-{os.getpid()}"
    claims = json.dumps({"email": f"{sub}@idp.example.com", "email_verified": True}).encode()
    req = urllib.request.Request(f"{issuer}/users/{sub}", data=claims, method="PUT",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status < 300, r.status
    status, body = call("POST", f"/users/{person}/idp-links", {"idpName": "LocalOIDC", "idpUserID": sub}, admin_token)
    assert status == 200, body
    page.click("#providers button")
    page.wait_for_selector("input[name=sub]", timeout=15000)
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")
    # back through the pool and the API's callback to /app/idp/done, which puts /app/ in the
    # address bar in place of the intent's token before anything else
    visible("account")
    assert page.inner_text("#who") == person, page.inner_text("#who")
    assert page.url == origin + "/app/", page.url
    methods = page.inner_text("#methods")
    assert "IDP" in methods and "PASSWORD" in methods, (methods, said)
    shot("app-identity-provider.png")
    sign_out()

    # what the API holds now: the new email, the recovered password, no factor left
    status, body = call("POST", "/user-authentication", {"userID": person, "password": recovered})
    assert status == 200 and body["data"]["authenticationResult"], body
    own = body["data"]["authenticationResult"]["accessToken"]
    status, body = call("GET", f"/users/{person}", None, own)
    assert status == 200 and body["data"]["email"] == new_email and body["data"]["emailVerified"], body
    return (f"the example app, clicked through in Chromium as {person}: a temporary password replaced, "
            f"an authenticator app set up from its QR code, the email and the phone number changed with "
            f"their codes, "
            f"a passkey added; signed in with password and app code, with the passkey, with password "
            f"and security key, after a reset with the mailed code, and with the identity provider; "
            f"a wrong password told; signed out each time")


def main():
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    # a user of the demo tenant with a permanent password, made in the pool directly (the
    # stages before may have done anything to the demo admin)
    import boto3

    cognito = boto3.client("cognito-idp", endpoint_url=t["awsEndpoint"], region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
    user, password = f"browser-{os.getpid()}", f"Browser-Passw0rd-{os.getpid()}"
    cognito.admin_create_user(UserPoolId=t["userPoolId"], Username=user, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=t["userPoolId"], Username=user, Password=password, Permanent=True)

    # an admin of the tenant, and a person an admin mails a registration code to
    admin, holder = f"browser-admin-{os.getpid()}", f"browser-holder-{os.getpid()}"
    holder_email = f"{holder}@example.com"
    # and a person with a security key in a drawer
    key_holder = f"browser-key-{os.getpid()}"
    for name, email in ((admin, f"{admin}@example.com"), (holder, holder_email),
                        (key_holder, f"{key_holder}@example.com")):
        cognito.admin_create_user(UserPoolId=t["userPoolId"], Username=name, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": email},
                                                  {"Name": "email_verified", "Value": "true"}])
        cognito.admin_set_user_password(UserPoolId=t["userPoolId"], Username=name, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=t["userPoolId"], Username=admin, GroupName="admins")
    status, body = call("POST", "/user-authentication", {"userID": admin, "password": password})
    assert status == 200, body
    admin_token = body["data"]["authenticationResult"]["accessToken"]
    status, body = call("POST", f"/users/{holder}/passkeys/registration-link", {}, admin_token)
    assert status == 201 and body["data"]["sentTo"] == holder_email and "code" not in body["data"], body

    from urllib.parse import urlsplit

    page_port = urlsplit(os.environ.get("IDP_APP_ORIGIN") or "http://localhost:0").port or 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://localhost:{server.server_address[1]}"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("browser: no chromium on PATH (Debian's package `chromium`)")
    os.makedirs(out_dir, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            cdp = page.context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }})["authenticatorId"]
            page.goto(origin)
            registered = page.evaluate("([u, p]) => register(u, p)", [user, password])
            assert registered["status"] == 200 and registered["credentialID"], registered
            held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
            assert len(held) == 1, held
            signed_in = page.evaluate("([u]) => signInWithPasskey(u, false)", [user])
            assert signed_in == {"status": 200, "signedIn": True, "problem": None}, signed_in
            page.screenshot(path=os.path.join(out_dir, "passkey-signed-in.png"))
            tampered = page.evaluate("([u]) => signInWithPasskey(u, true)", [user])
            assert tampered["status"] == 401 and tampered["problem"] == "/problems/invalid-credentials", tampered
            page.screenshot(path=os.path.join(out_dir, "passkey-tampered.png"))
            log = page.inner_text("#log")

            # a person with a mailed registration code opens its link, on a device of their own
            cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
            authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }})["authenticatorId"]
            link = f"{origin}/?user={holder}&code={mailed_code(holder_email)}"
            page.goto(link)
            by_code = page.evaluate("() => registerWithCode()")
            assert by_code["status"] == 200 and by_code["credentialID"], by_code
            holder_signed_in = page.evaluate("([u]) => signInWithPasskey(u, false)", [holder])
            assert holder_signed_in == {"status": 200, "signedIn": True, "problem": None}, holder_signed_in
            page.screenshot(path=os.path.join(out_dir, "passkey-registration-code.png"))
            log += "\n" + page.inner_text("#log")

            # a person with a security key in a drawer: a U2F key that cannot verify its user
            cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
            key = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "u2f", "transport": "usb", "hasResidentKey": False,
                "hasUserVerification": False, "automaticPresenceSimulation": True,
            }})["authenticatorId"]
            u2f = security_key(page, cdp, key, origin, key_holder, password, admin_token)
            log += "\n" + page.inner_text("#log")

            # a person signs in with the tenant's identity provider, as a person would
            idp = idp_sign_ins(page, origin, user, admin_token)
            log += "\n" + page.inner_text("#log")

            cors = cross_origin(page, origin, server.server_address[1], user, password)
            docs = reference_page(page, origin, user, password)
            app_page = browser.new_page()
            app_cdp = app_page.context.new_cdp_session(app_page)
            app_cdp.send("WebAuthn.enable")
            app = example_app(app_page, app_cdp, origin, cognito, admin_token)
            browser.close()
    finally:
        server.shutdown()
    # what the API recorded: a passkey for the user, listed with the user's own token
    status, body = call("POST", "/user-authentication", {"userID": user, "password": password})
    own = body["data"]["authenticationResult"]["accessToken"]
    status, body = call("GET", f"/users/{user}/passkeys", None, own)
    assert status == 200 and [k["credentialID"] for k in body["data"]["passkeys"]] == [registered["credentialID"]], body
    # the code is spent, and the person was told of their new passkey
    status, body = call("POST", "/passkey-registration", {"userID": holder, "code": mailed_code(holder_email)})
    assert status == 401, body
    assert any(holder_email in m["to"] and m["subject"] == "A passkey was added to your account"
               for m in sent_mail()), "no notice of the new passkey"
    print(log.rstrip())
    print(f"browser: {u2f}")
    print(f"browser: {cors}")
    print(f"browser: {docs}")
    print(f"browser: {app}")
    print(f"browser: {idp}")
    print(f"browser: registered a passkey in Chromium, signed in with it, a tampered assertion refused; "
          f"registered another from a mailed code's link and signed in with it "
          f"({time.monotonic() - started:.1f} s; screenshots in {out_dir})")


if __name__ == "__main__":
    main()
