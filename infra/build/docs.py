"""The API reference page: infra/openapi.yaml rendered by Swagger UI (swagger-ui-dist, pinned in
infra/web/package.json), built offline into one self-contained HTML file: the renderer's script
and style and the contract itself are inside it, so the page works from a file, a bucket or the
run command, and asks nothing of any other host. Its Content-Security-Policy runs its own two
scripts alone (by their hashes) and lets it connect to the API's servers alone ("Try it out";
opened from a file, the page's origin is `null`, which no tenant lists: serve it).

  python3 infra/build/docs.py --out PATH [--server URL [--server-description TEXT]]

--server replaces the contract's servers (the run command names its local API, the pipeline
a stage's URL). Needs infra/web/node_modules (`infra/local/lib.sh`'s ensure_web installs it).
"""
import argparse
import base64
import hashlib
import html
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "infra" / "openapi.yaml"
DIST = ROOT / "infra" / "web" / "node_modules" / "swagger-ui-dist"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src %(scripts)s; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src %(connect)s; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>%(title)s: API reference</title>
<style>%(css)s</style>
<style>body{margin:0} .swagger-ui .topbar{display:none}</style>
</head><body>
<div id="ui"></div>
<script>%(js)s</script>
<script>%(init)s</script>
</body></html>
"""

INIT = """
window.ui = SwaggerUIBundle({
  spec: %(spec)s,
  dom_id: '#ui',
  deepLinking: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  displayOperationId: true,
  displayRequestDuration: true,
  // offline: no call to a public validator
  validatorUrl: null,
  // a page may keep nothing between visits: the bearer token stays in this tab's memory
  persistAuthorization: false,
  // the contract is the one inside the page: no ?url= or ?configUrl= loads another
  queryConfigEnabled: false,
});
"""


def inline(text):
    """Text safe inside a <script> or <style> element: nothing in it can end the element or
    open a comment state early. `<\\/script` means what `</script` means in a JavaScript
    string and in a regular expression alike; JSON and CSS never need either sequence."""
    return re.sub(r"<(/(?=script|style)|!--)", lambda m: "<\\" + m.group(1), text, flags=re.IGNORECASE)


def build(server=None, server_description=None):
    contract = yaml.safe_load(CONTRACT.read_text())
    if server:
        contract["servers"] = [{"url": server, "description": server_description or "this stage"}]
    origins = sorted({"{0.scheme}://{0.netloc}".format(urlsplit(s["url"])) for s in contract.get("servers", [])})
    js = DIST / "swagger-ui-bundle.js"
    css = DIST / "swagger-ui.css"
    for f in (js, css):
        if not f.exists():
            sys.exit(f"docs: {f.relative_to(ROOT)} is missing: install infra/web (infra/local/lib.sh ensure_web)")
    bundle = inline(js.read_text())
    init = INIT % {"spec": inline(json.dumps(contract, ensure_ascii=False))}
    # the page's two scripts by their hashes, not 'unsafe-inline': markup that found its way
    # into the page (a description, say) cannot run as script
    scripts = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                       for s in (bundle, init))
    return PAGE % {
        "title": html.escape(f'{contract["info"]["title"]} {contract["info"]["version"]}'),
        "scripts": scripts,
        "connect": " ".join(origins) or "'none'",
        "css": inline(css.read_text()),
        "js": bundle,
        "init": init,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    parser.add_argument("--server", help="the API's base URL the page names (default: the contract's servers)")
    parser.add_argument("--server-description", help="how the page names that server")
    args = parser.parse_args()
    page = build(args.server, args.server_description)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page)
    operations = sum(
        1 for item in yaml.safe_load(CONTRACT.read_text())["paths"].values() for m in item if m in
        ("get", "put", "post", "delete", "patch"))
    print(f"docs: wrote {args.out} ({len(page) // 1024} KiB, {operations} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
