"""The local stack's pages for the people who call the API, on their own origin (as a web app
and a docs site are, apart from the API): the API reference at /docs (built by
infra/build/docs.py) and the contract at /openapi.yaml. Listens on 127.0.0.1 only.

  python3 infra/local/web.py <port> <docs html>

The run command starts it (WEB_PORT, 9001 by default) and stops it by its process id; the
demo tenant lists its origins (WEB_ORIGINS), so "Try it out" on the page reaches the API.
"""
import http.server
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
port, docs = int(sys.argv[1]), Path(sys.argv[2])

PAGES = {
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
            self.send_header("location", "/docs")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        page = PAGES.get(path)
        if page is None:
            body = b"not found: /docs (the API reference) and /openapi.yaml (the contract) are here\n"
            self.send_response(404)
            self.send_header("content-type", "text/plain; charset=utf-8")
        else:
            body = page[0].read_bytes()
            self.send_response(200)
            self.send_header("content-type", page[1])
            self.send_header("x-content-type-options", "nosniff")
            # no other site may frame the page (a meta tag cannot say this)
            self.send_header("content-security-policy", "frame-ancestors 'none'")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
