"""Contract fuzzing: schemathesis generates requests from infra/openapi.yaml against the API
served by `cargo lambda watch` on the local stack, as the demo tenant's admin, and checks that
no answer is a server error, every answer matches the schema, and no answer echoes a secret the
request carried (schemathesis_hooks.py); then a positive pass, only data the schema allows,
none of which may be refused as invalid-request but for what the schema cannot state. Bounded:
10 examples per operation and phase, one worker (about a minute for both).

  python3 infra/local/contract.py <watch port> <tenant description json>
"""
import json
import os
import re
import subprocess
import sys
import urllib.request

port, tenant_file = sys.argv[1], sys.argv[2]
t = json.load(open(tenant_file))
base = f"http://127.0.0.1:{port}"
headers = {
    "content-type": "application/json",
    "vbasoftware-client-id": t["clientId"],
    "vbasoftware-client-code": t["clientCode"],
    "vbasoftware-database": t["database"],
}
sign_in = urllib.request.Request(
    base + "/user-authentication",
    data=json.dumps({"userID": t["adminUserID"], "password": t["adminPassword"]}).encode(),
    headers=headers,
    method="POST",
)
token = json.load(urllib.request.urlopen(sign_in, timeout=120))["data"]["authenticationResult"]["accessToken"]

command = [
    os.path.join(".venv", "bin", "schemathesis"), "run", "infra/openapi.yaml", "--url", base,
    "--checks", "not_a_server_error,response_schema_conformance,no_secret_in_answer",
    "--max-examples", "10", "--workers", "1", "--generation-with-security-parameters", "false",
    "--generation-database", "none", "--no-color",
]
for name, value in [*((k, v) for k, v in headers.items() if k != "content-type"), ("authorization", f"Bearer {token}")]:
    command += ["-H", f"{name}: {value}"]
env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH="infra/local",
           CONTRACT_BEARER_TOKEN=token)
run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


def report(name, run):
    output = run.stdout + run.stderr
    counts = re.search(r"(\d+) generated, (?:(\d+) found \d+ unique failures|(\d+) passed)", output)
    if run.returncode != 0 or counts is None:
        print(output[-6000:], file=sys.stderr)
    generated = int(counts.group(1)) if counts else 0
    failed = int(counts.group(2)) if counts and counts.group(2) else (0 if run.returncode == 0 else 1)
    print(f"contract ({name}): {generated - failed} passed, {failed} failed")
    return run.returncode


status = report("all data", run)
# The positive pass: only data the schema allows, which the functions must accept (no 400
# invalid-request but for the refusals the schema cannot state; schemathesis_hooks.py).
positive = [c if c != "not_a_server_error,response_schema_conformance,no_secret_in_answer"
            else "not_a_server_error,schema_valid_data_is_accepted" for c in command] + ["--mode", "positive"]
run = subprocess.run(positive, capture_output=True, text=True, env=env, timeout=900)
status = report("schema-valid data", run) or status
sys.exit(status)
