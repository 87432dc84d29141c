"""The contract as a client team consumes it: generate a Python client from infra/openapi.yaml
with a mainstream generator (openapi-python-client), fail on any warning (a warning is a route
or response the generated client silently drops), then use that client against the local API:
sign in as the demo tenant's admin, read the admin's own record, create a user and delete it
(a response the generator used to drop), and read a problem answer.

  python3 infra/local/client_check.py <watch port> <tenant description json>
"""
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time

port, tenant_file = sys.argv[1], sys.argv[2]
t = json.load(open(tenant_file))
local = os.environ.get("LOCAL_STATE", ".local")
out = os.path.abspath(os.path.join(local, "client", "account_api_client"))

with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as config:
    # no formatter run after generation: the check is about the generator's own findings
    config.write("post_hooks: []\n")
command = [
    os.path.join(".venv", "bin", "openapi-python-client"), "generate", "--path", "infra/openapi.yaml",
    "--meta", "none", "--overwrite", "--config", config.name, "--output-path", out,
]
run = subprocess.run(command, capture_output=True, text=True, timeout=300)
os.unlink(config.name)
output = (run.stdout + run.stderr).strip()
noise = {"", f"Generating {out}"}
findings = [line for line in output.splitlines() if line.strip() not in noise]
if run.returncode != 0 or findings:
    print(output, file=sys.stderr)
    sys.exit("client: the generator warned: the contract must generate a clean client")
print("client: generated without a warning")

sys.path.insert(0, os.path.dirname(out))
client_pkg = importlib.import_module("account_api_client")
from account_api_client.api.auth import user_authentication  # noqa: E402
from account_api_client.api.password import confirm_forgot_password  # noqa: E402
from account_api_client.api.users import create_user, delete_user, get_user  # noqa: E402
from account_api_client import models  # noqa: E402

base = f"http://127.0.0.1:{port}"
tenant = dict(
    vbasoftware_client_id=t["clientId"],
    vbasoftware_client_code=t["clientCode"],
    vbasoftware_database=t["database"],
)
anonymous = client_pkg.Client(base_url=base, timeout=120)


def expect(kind, parsed, what):
    if not isinstance(parsed, kind):
        sys.exit(f"client: {what}: expected {kind.__name__}, got {parsed!r}")
    return parsed


signed = user_authentication.sync(
    client=anonymous, body=models.SignIn(user_id=t["adminUserID"], password=t["adminPassword"]), **tenant
)
signed = expect(models.AuthResultEnvelope, signed, "sign-in")
token = signed.data.authentication_result.access_token
admin = client_pkg.AuthenticatedClient(base_url=base, token=token, timeout=120)

me = expect(models.UserEnvelope, get_user.sync(client=admin, user_id=t["adminUserID"], **tenant), "get-user")
if me.data.user_id != t["adminUserID"]:
    sys.exit(f"client: get-user named {me.data.user_id!r}")

name = f"client-{int(time.time() * 1000)}"
created = create_user.sync(client=admin, body=models.CreateUser(user_id=name, send_welcome_message=False), **tenant)
expect(models.UserEnvelope, created, "create-user")
deleted = expect(models.UserDeletedEnvelope, delete_user.sync(client=admin, user_id=name, **tenant), "delete-user")
if deleted.data.deleted is not True or deleted.data.user_id != name:
    sys.exit(f"client: delete-user answered {deleted.data!r}")

problem = confirm_forgot_password.sync(
    client=anonymous,
    body=models.ConfirmForgot(user_id=name, confirmation_code="000000", new_password="Another-Passw0rd-1"),
    **tenant,
)
problem = expect(models.ErrorEnvelope, problem, "confirm-forgot-password with a wrong code")
if problem.error.status != 400:
    sys.exit(f"client: the problem read {problem.error!r}")
print("client: signed in, read a user, created and deleted one, read a problem, all through the generated client")
