"""The local stack's pages for the people who call the API, on their own origin (as a web app
and a docs site are, apart from the API): the API reference at /docs (built by
infra/build/docs.py), the contract at /openapi.yaml, and the example web app at /app/ (a
tenant's single-page app on the typed client: infra/web/app/ and infra/web/src/app.ts, compiled
by `infra/build/client.py --emit` into JS_DIR). Listens on 127.0.0.1 only.

  python3 infra/local/web.py <port> <docs html> <js dir> <tenant description json>

The run command starts it (WEB_PORT, 9001 by default) and stops it by its process id; the
demo tenant lists its origins (WEB_ORIGINS), so "Try it out" on the reference page and the app
reach the API. The browser stage serves the app from its own page's origin with `App` below.
"""
import base64
import hashlib
import http.server
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "infra" / "web" / "app"
OPENAPI_FETCH = ROOT / "infra" / "web" / "node_modules" / "openapi-fetch" / "dist" / "index.mjs"
JS = "text/javascript; charset=utf-8"


def origin_of(url):
    """`scheme://host[:port]` of `url`: a CSP source with a path would allow that path only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class App:
    """The example app's files: what `GET path` answers, or None for a path not the app's."""

    def __init__(self, js_dir, tenant, api_url):
        self.js_dir = Path(js_dir)
        config = {
            "api": api_url,
            "tenant": {"clientId": tenant["clientId"], "clientCode": tenant["clientCode"],
                       "database": tenant["database"]},
            "providers": tenant.get("identityProviders", []),
        }
        self.config = f"window.ACCOUNT_APP = {json.dumps(config)};\n".encode()
        index = (APP_DIR / "index.html").read_text()
        importmap = re.search(r'<script type="importmap">(.*?)</script>', index, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(importmap.encode()).digest()).decode()
        # scripts from this origin and the import map by its hash; calls to the API only; the QR
        # code is a data: image; no framing, no plugins, no form posting elsewhere
        self.csp = ("default-src 'none'; "
                    f"script-src 'self' 'sha256-{digest}'; "
                    "style-src 'self'; "
                    "img-src 'self' data:; "
                    f"connect-src {origin_of(api_url)}; "
                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        self.index = index.encode()

    def get(self, path):
        """`(body, content type)` of the app's `path`, or None."""
        if path in ("/app", "/app/") or path.startswith("/app/idp/"):
            # the single page, at its own path and where the identity provider sends the person
            # back (`/app/idp/done`, `/app/idp/failed`)
            return self.index, "text/html; charset=utf-8"
        if path == "/app/app.css":
            return (APP_DIR / "app.css").read_bytes(), "text/css; charset=utf-8"
        if path == "/app/config.js":
            return self.config, JS
        if path == "/app/js/openapi-fetch.mjs":
            return OPENAPI_FETCH.read_bytes(), JS
        name = path[len("/app/js/"):] if path.startswith("/app/js/") else ""
        if re.fullmatch(r"[a-z][a-z0-9-]*\.js", name) and (self.js_dir / name).is_file():
            return (self.js_dir / name).read_bytes(), JS
        return None


def answer(handler, body, content_type, csp="frame-ancestors 'none'"):
    handler.send_response(200)
    handler.send_header("content-type", content_type)
    handler.send_header("x-content-type-options", "nosniff")
    handler.send_header("referrer-policy", "no-referrer")
    # no other site may frame the page (a meta tag cannot say this)
    handler.send_header("content-security-policy", csp)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def main():
    port, docs, js_dir, tenant_file = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    tenant = json.loads(Path(tenant_file).read_text())
    app = App(js_dir, tenant, tenant["apiUrl"])
    pages = {
        "/docs": (docs, "text/html; charset=utf-8"),
        "/docs/": (docs, "text/html; charset=utf-8"),
        "/openapi.yaml": (ROOT / "infra" / "openapi.yaml", "application/yaml; charset=utf-8"),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/":
                self.send_response(302)
                self.send_header("location", "/app/")
                self.send_header("content-length", "0")
                self.end_headers()
                return
            found = app.get(path)
            if found is not None:
                return answer(self, *found, csp=app.csp)
            page = pages.get(path)
            if page is not None:
                return answer(self, page[0].read_bytes(), page[1])
            body = (b"not found: /app/ (the example app), /docs (the API reference) and "
                    b"/openapi.yaml (the contract) are here\n")
            self.send_response(404)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
