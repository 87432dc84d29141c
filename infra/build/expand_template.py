"""The SAM template as CloudFormation would receive it, expanded offline, for cfn-lint.

`sam validate --lint` and cfn-lint on infra/template.yaml check the SAM template, not what the
transform makes of it, and neither opens the API definition it includes. This script inlines
the `AWS::Include` (infra/api-gateway.yaml), runs the SAM transform itself (aws-sam-translator,
the library CloudFormation's transform is built from), writes the expanded template as JSON,
and checks what the expansion must hold:

- one API Gateway stage, named by the `Stage` parameter (no extra stage named `Stage`);
- every function the API definition integrates with is a function of the template, and may be
  invoked by API Gateway (an `AWS::Lambda::Permission` for apigateway.amazonaws.com);
- the definition's gateway responses and request validators survive the expansion;
- a stage that logs has the account-level role it needs (infra/account.yaml).

  python3 infra/build/expand_template.py OUT.json    then: cfn-lint OUT.json
"""
import json
import logging
import os
import re
import sys
from pathlib import Path

# the transform asks a boto session for the region; nothing is called
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
logging.disable(logging.WARNING)

import yaml
from cfnlint.decode import decode
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"


class NoManagedPolicies(ManagedPolicyLoader):
    """The template names no AWS managed policy by name; nothing to look up."""

    def __init__(self):
        pass

    def load(self):
        return {}


def plain(node):
    """cfn-lint's decoded nodes as plain dicts, lists and strings."""
    return json.loads(json.dumps(node, default=str))


def inline_includes(node, base):
    if isinstance(node, dict):
        transform_ = node.get("Fn::Transform")
        if isinstance(transform_, dict) and transform_.get("Name") == "AWS::Include":
            location = transform_["Parameters"]["Location"]
            return yaml.safe_load((base / location).read_text())
        return {k: inline_includes(v, base) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_includes(v, base) for v in node]
    return node


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    template, matches = decode(str(TEMPLATE))
    if matches:
        sys.exit("\n".join(str(m) for m in matches))
    template = inline_includes(plain(template), TEMPLATE.parent)
    # what `sam package` does before CloudFormation sees it: local code becomes an S3 object
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and not str(props.get("CodeUri", "")).startswith("s3://"):
            props["CodeUri"] = f"s3://packaged-artifacts/{name}.zip"
    parameters = {"Stage": "dev", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    expanded = transform(template, parameters, NoManagedPolicies())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(expanded, indent=1))

    findings = []
    resources = expanded["Resources"]
    stages = [n for n, r in resources.items() if r["Type"] == "AWS::ApiGateway::Stage"]
    if len(stages) != 1:
        findings.append(f"{len(stages)} API stages ({stages}): one, named by the Stage parameter, expected")
    apis = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    if len(apis) != 1:
        findings.append(f"{len(apis)} REST APIs, one expected")
    else:
        body = apis[0]["Properties"].get("Body", {})
        body_text = json.dumps(body)
        named = set(re.findall(r"\$\{(\w+)\.Arn\}", body_text))
        functions = {n for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
        for name in sorted(named - functions):
            findings.append(f"the API integrates with {name}, which the template does not define")
        invocable = {
            json.dumps(r["Properties"].get("FunctionName"))
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Permission" and r["Properties"].get("Principal") == "apigateway.amazonaws.com"
        }
        for name in sorted(named):
            if not any(name in f for f in invocable):
                findings.append(f"API Gateway has no permission to invoke {name}")
        for key in ("x-amazon-apigateway-gateway-responses", "x-amazon-apigateway-request-validators"):
            if not body.get(key):
                findings.append(f"the expanded API has no {key}")
    # a stage that logs needs the account's API Gateway CloudWatch role, or it fails to create
    logs = any(
        r["Type"] == "AWS::ApiGateway::Stage"
        and (r["Properties"].get("AccessLogSetting") or any(
            m.get("LoggingLevel") for m in r["Properties"].get("MethodSettings", [])))
        for r in resources.values()
    )
    account = TEMPLATE.parent / "account.yaml"
    if logs:
        account_template = plain(decode(str(account))[0]) if account.exists() else {}
        has_role = any(
            r.get("Type") == "AWS::ApiGateway::Account" and r.get("Properties", {}).get("CloudWatchRoleArn")
            for r in (account_template or {}).get("Resources", {}).values()
        )
        if not has_role:
            findings.append(
                "the stage logs, which needs the account's API Gateway CloudWatch role, and "
                "infra/account.yaml does not set it (AWS::ApiGateway::Account)"
            )
    for f in findings:
        print(f"expanded template: {f}", file=sys.stderr)
    if findings:
        return 1
    print(f"expanded template: {len(resources)} resources, written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
