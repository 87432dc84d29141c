"""A rehearsal of the deploy job's own shell steps (.github/workflows/deploy.yml), offline: each
`run:` step runs as GitHub runs it (bash -eo pipefail, its `env:`, `$GITHUB_OUTPUT` between
steps), with `aws` and `sam` replaced by stand-ins that answer as AWS answered (recorded
answers below) and write down what they were asked. The build's hand-off (the artifact) is
rehearsed by `infra/build/artifact.sh selftest`; the build itself by
`infra/build/package.sh --sam`.

Scenarios: a first deploy (no stack yet) and a later one, of dev and of prod; prod without its
SES variables; an account without API Gateway's logging role. Each checks what `sam deploy`
was given, or that the job stopped before it, with what message.

  python3 infra/build/rehearse_deploy.py
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"

# what AWS answered (recorded): describe-stacks of a missing stack, get-account without a role,
# the deployed stack's ApiUrl output (asked after sam deploy, when the stack exists)
AWS_STANDIN = r'''#!/usr/bin/env bash
echo "aws $*" >>"$REHEARSAL_LOG"
case "$*" in
  "cloudformation describe-stacks"*"OutputKey=='ApiUrl'"*"--output text"*)
    echo "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/$STAGE" ;;
  "apigateway get-account"*)
    if [ -n "$REHEARSAL_LOGGING_ROLE" ]; then echo "$REHEARSAL_LOGGING_ROLE"; else echo None; fi ;;
  "cloudformation describe-stacks"*)
    if [ "$REHEARSAL_STACK_EXISTS" = yes ]; then
      echo '{"Stacks": [{"StackName": "account-api", "StackStatus": "UPDATE_COMPLETE"}]}'
    else
      echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id account-api does not exist" >&2
      exit 254
    fi ;;
  *) echo "the rehearsal has no answer for: aws $*" >&2; exit 2 ;;
esac
'''
SAM_STANDIN = r'''#!/usr/bin/env bash
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >>"$REHEARSAL_SAM"
'''
# installers write down what they were asked and install nothing (the rehearsal's python3 is the
# project's .venv, which has what the steps need; infra/web/node_modules is ensure_web's)
INSTALLER_STANDIN = r'''#!/usr/bin/env bash
echo "$(basename "$0") $*" >>"$REHEARSAL_LOG"
'''


def expressions(text, stage, variables, outputs):
    """`${{ … }}` as the job would fill it."""
    def fill(match):
        expr = match.group(1).strip()
        if expr == "inputs.stage":
            return stage
        if expr.startswith("vars."):
            return variables.get(expr[5:], "")
        if expr.startswith("steps.") and ".outputs." in expr:
            step, _, name = expr[6:].partition(".outputs.")
            return outputs.get(step, {}).get(name, "")
        raise SystemExit(f"rehearsal: no value for ${{{{ {expr} }}}}")
    return re.sub(r"\$\{\{(.*?)\}\}", fill, text)


def rehearse(stage, variables, stack_exists, logging_role):
    job = yaml.safe_load(WORKFLOW.read_text().replace("\non:", '\n"on":'))["jobs"]["deploy"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bin").mkdir()
        for name, text in (("aws", AWS_STANDIN), ("sam", SAM_STANDIN), ("pip", INSTALLER_STANDIN),
                           ("npm", INSTALLER_STANDIN)):
            (tmp / "bin" / name).write_text(text)
            (tmp / "bin" / name).chmod(0o755)
        base = {
            "PATH": f"{tmp / 'bin'}:{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
            "HOME": str(tmp),
            "RUNNER_TEMP": str(tmp),
            "REHEARSAL_LOG": str(tmp / "aws.log"),
            "REHEARSAL_SAM": str(tmp / "sam.log"),
            "REHEARSAL_STACK_EXISTS": "yes" if stack_exists else "no",
            "REHEARSAL_LOGGING_ROLE": logging_role,
        }
        outputs = {}
        for step in job["steps"]:
            run = step.get("run")
            if not run or "artifact.sh" in run:
                continue
            output = tmp / "github_output"
            output.write_text("")
            env = dict(base, GITHUB_OUTPUT=str(output))
            for key, value in (step.get("env") or {}).items():
                env[key] = expressions(str(value), stage, variables, outputs)
            script = expressions(run, stage, variables, outputs)
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                return {"stopped": step.get("name"), "output": done.stdout + done.stderr, "sam": []}
            if step.get("id"):
                outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        sam = [json.loads(line) for line in (tmp / "sam.log").read_text().splitlines()] \
            if (tmp / "sam.log").exists() else []
        page = tmp / "api-reference" / f"account-api-{stage}.html"
        return {"stopped": None, "output": "", "sam": sam,
                "docs": page.read_text() if page.exists() else None}


# How SAM CLI reads `--parameter-overrides` (CfnParameterOverridesType): `Key=Value` pairs split
# on spaces outside quotes, a quoted value's quotes taken off.
SAM_PAIR = re.compile(
    r"""(?P<key>[A-Za-z0-9"']+)=(?P<value>"(?:\\.|[^"\\]+)*"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ \\]+)+)""")


def overrides_of(call):
    args = call[call.index("--parameter-overrides") + 1]
    pairs = {}
    for match in SAM_PAIR.finditer(args):
        value = match.group("value")
        if value[:1] in "\"'" and value[-1:] == value[:1]:
            value = value[1:-1].replace('\\"', '"')
        pairs[match.group("key")] = value
    return pairs


def main():
    failures = []
    ses = {"SES_IDENTITY_ARN": "arn:aws:ses:us-east-1:111111111111:identity/example.com",
           "SES_FROM_ADDRESS": "Example <no-reply@example.com>"}
    role = "arn:aws:iam::111111111111:role/account-api-apigateway-logs"

    def expect(what, ok, detail):
        if not ok:
            failures.append(f"{what}: {detail}")

    first_dev = rehearse("dev", {}, stack_exists=False, logging_role=role)
    expect("dev, first deploy", len(first_dev["sam"]) == 1, first_dev)
    # after the deploy, the stage's API reference page naming the stage's URL
    docs = first_dev.get("docs") or ""
    expect("dev, the API reference page",
           '"url": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev"' in docs
           and "connect-src https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com" in docs,
           "not written, or not naming the stage's URL")
    if first_dev["sam"]:
        o = overrides_of(first_dev["sam"][0])
        expect("dev, first deploy", o.get("ProtectData") == "off" and o.get("Stage") == "dev", o)
        expect("dev, first deploy", first_dev["sam"][0][:1] == ["deploy"], first_dev["sam"][0])
    later_prod = rehearse("prod", ses, stack_exists=True, logging_role=role)
    expect("prod, a later deploy", len(later_prod["sam"]) == 1, later_prod)
    if later_prod["sam"]:
        o = overrides_of(later_prod["sam"][0])
        expect("prod, a later deploy", "ProtectData" not in o, o)
        expect("prod, a later deploy", o.get("SesFromAddress") == ses["SES_FROM_ADDRESS"]
               and o.get("SesIdentityArn") == ses["SES_IDENTITY_ARN"], o)
    first_prod = rehearse("prod", ses, stack_exists=False, logging_role=role)
    expect("prod, first deploy", first_prod["sam"] and overrides_of(first_prod["sam"][0]).get("ProtectData") == "off",
           first_prod)
    no_ses = rehearse("prod", {}, stack_exists=True, logging_role=role)
    expect("prod without SES", not no_ses["sam"] and "SES_IDENTITY_ARN" in no_ses["output"], no_ses)
    no_role = rehearse("staging", {}, stack_exists=True, logging_role="")
    expect("no logging role", not no_role["sam"] and "infra/account.yaml" in no_role["output"], no_role)

    for f in failures:
        print(f"rehearsal: {f}", file=sys.stderr)
    if failures:
        return 1
    print("rehearsal: the deploy job's steps: a first deploy unprotected, a later one protected, "
          "prod with its SES sender and refused without it, no deploy without the logging role; "
          "the stage's API reference page names its URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
