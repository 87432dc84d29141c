"""The parameter overrides a stage's `sam deploy` gets, from infra/samconfig.toml and what the
deploy job found: the workflow (.github/workflows/deploy.yml) calls it, so that nobody edits
files between a first deploy and the next.

- A stack's first create runs with `ProtectData=off`: a failed first prod deploy must be able
  to delete its pool and tables (deletion protection would leave the stack DELETE_FAILED). The
  next deploy, the stack existing, leaves `ProtectData` at `auto`, which protects prod.
- prod sends mail through SES: `SES_IDENTITY_ARN` and `SES_FROM_ADDRESS` (the environment's
  variables) are required and passed on; without them the deploy is refused, rather than
  leaving prod on Cognito's built-in sender and its small daily quota.

  python3 infra/build/deploy_params.py STAGE [--first-create]   prints the overrides
  python3 infra/build/deploy_params.py --selftest                  checks the rules above
"""
import os
import shlex
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def overrides(stage, first_create, env, config_text):
    config = tomllib.loads(config_text)
    section = (config.get(stage) or {}).get("deploy", {}).get("parameters")
    if section is None:
        raise SystemExit(f"deploy-params: no [{stage}.deploy.parameters] in infra/samconfig.toml")
    pairs = shlex.split(section.get("parameter_overrides", ""))
    if first_create:
        pairs.append("ProtectData=off")
    if stage == "prod":
        arn, sender = env.get("SES_IDENTITY_ARN", ""), env.get("SES_FROM_ADDRESS", "")
        if not arn or not sender:
            raise SystemExit(
                "deploy-params: prod sends its mail through SES: set the prod environment's "
                "variables SES_IDENTITY_ARN and SES_FROM_ADDRESS (infra/docs/deploying.md, A deployer's checklist)"
            )
        pairs += [f"SesIdentityArn={arn}", f"SesFromAddress={sender}"]
    return " ".join(sam_pair(p) for p in pairs)


def sam_pair(pair):
    """`Key=Value` as `sam deploy --parameter-overrides` reads it: a value with a space or a
    quote in double quotes (SAM CLI splits the string on spaces outside quotes)."""
    key, _, value = pair.partition("=")
    if value and not any(c in value for c in " \"'\\"):
        return pair
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


def selftest():
    text = (ROOT / "infra" / "samconfig.toml").read_text()
    ses = {"SES_IDENTITY_ARN": "arn:aws:ses:us-east-1:111111111111:identity/example.com",
           "SES_FROM_ADDRESS": "Example <no-reply@example.com>"}
    dev_first = overrides("dev", True, {}, text)
    assert "Stage=dev" in dev_first and "ProtectData=off" in dev_first, dev_first
    assert "ProtectData" not in overrides("dev", False, {}, text)
    prod = overrides("prod", False, ses, text)
    assert "SesIdentityArn=arn:aws:ses" in prod and "ProtectData" not in prod, prod
    assert 'SesFromAddress="Example <no-reply@example.com>"' in prod, prod
    assert "ProtectData=off" in overrides("prod", True, ses, text)
    try:
        overrides("prod", False, {}, text)
        raise AssertionError("prod without SES was not refused")
    except SystemExit as refused:
        assert "SES_IDENTITY_ARN" in str(refused)
    print("deploy-params: a first create unprotected, the next protected, prod only with SES")


def main():
    args = sys.argv[1:]
    if args == ["--selftest"]:
        selftest()
        return 0
    if not args or args[0].startswith("-"):
        raise SystemExit(__doc__)
    text = (ROOT / "infra" / "samconfig.toml").read_text()
    print(overrides(args[0], "--first-create" in args[1:], os.environ, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
