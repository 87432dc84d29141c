"""What a first real deploy of the templates needs, checked on the files offline.

cfn-lint and checkov check each template on its own; these are the rules a deployer's review
found broken across files, each of which stopped or spoiled a first deploy:

- every `aws cloudformation deploy` command README, a page of infra/docs or a workflow gives
  acknowledges the IAM capability its template needs (a template that defines IAM resources
  is refused without `--capabilities CAPABILITY_IAM`, or `CAPABILITY_NAMED_IAM` where a
  resource names itself), and every `samconfig.toml` stage does the same for the stage template;
- the alarms' SNS topic is encrypted with a key of the stack's own whose policy lets
  CloudWatch use it, never the AWS-managed `alias/aws/sns`, whose policy CloudWatch cannot use
  (alarms fire, and no notification is delivered: SNS guide, "compatibility between event
  sources and encrypted topics");
- there is an alarm on audit entries that could not be written (`AuditWriteFailures`);
- `PasskeyRelyingPartyId` is at most 63 characters in both templates (CloudFormation's limit
  on the parameter, the pool's on the relying party id).

  python3 infra/checks/deploy_check.py
"""
import re
import sys
import tomllib
from pathlib import Path

import yaml

# CfnLoader lives with the API definition's generator, infra/build/api_gateway.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "build"))
from api_gateway import CfnLoader  # noqa: E402  (short-form intrinsics as plain values)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = {
    "infra/template.yaml": ROOT / "infra" / "template.yaml",
    "infra/tenant.yaml": ROOT / "infra" / "tenant.yaml",
    "infra/account.yaml": ROOT / "infra" / "account.yaml",
}
IAM_TYPES = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User",
             "AWS::IAM::Group", "AWS::IAM::InstanceProfile")
NAMING = {"AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
          "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
          "AWS::IAM::InstanceProfile": "InstanceProfileName"}


def load(path):
    return yaml.load(path.read_text(), Loader=CfnLoader)


def needed_capability(template):
    """CAPABILITY_NAMED_IAM, CAPABILITY_IAM or None for a template."""
    needed = None
    for resource in (template.get("Resources") or {}).values():
        kind = resource.get("Type", "")
        if kind in IAM_TYPES:
            needed = needed or "CAPABILITY_IAM"
            if NAMING.get(kind) in (resource.get("Properties") or {}):
                needed = "CAPABILITY_NAMED_IAM"
        if kind == "AWS::Serverless::Function":
            needed = needed or "CAPABILITY_IAM"  # SAM makes each function's role
    return needed


def commands(text):
    """Each `aws cloudformation deploy` command in `text`, its continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [m.group(0) for m in re.finditer(r"aws cloudformation deploy[^\n`]*", joined)]


def check():
    findings = []
    templates = {name: load(path) for name, path in TEMPLATES.items()}
    sources = ([ROOT / "README.md"] + sorted((ROOT / "infra" / "docs").glob("*.md"))
               + sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    for source in sources:
        for command in commands(source.read_text()):
            match = re.search(r"--template-file\s+(\S+)", command)
            if not match:
                continue
            name = match.group(1)
            template = templates.get(name)
            if template is None:
                findings.append(f"{source.name}: `{command[:80]}…` deploys {name}, which is no template here")
                continue
            needed = needed_capability(template)
            granted = set(re.findall(r"CAPABILITY_[A-Z_]+", command))
            enough = needed is None or needed in granted or (
                needed == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in granted)
            if not enough:
                findings.append(f"{source.name}: the deploy of {name} lacks --capabilities {needed} (it defines IAM resources)")
    stage_needs = needed_capability(templates["infra/template.yaml"])
    config = tomllib.loads((ROOT / "infra" / "samconfig.toml").read_text())
    for stage, section in config.items():
        if not isinstance(section, dict) or "deploy" not in section:
            continue
        granted = str(section["deploy"].get("parameters", {}).get("capabilities", ""))
        if stage_needs and stage_needs not in granted.split():
            findings.append(f"samconfig.toml [{stage}.deploy]: capabilities lack {stage_needs}")

    stage = templates["infra/template.yaml"]
    resources = stage.get("Resources") or {}
    topics = {n: r for n, r in resources.items() if r.get("Type") == "AWS::SNS::Topic"}
    for name, topic in topics.items():
        key = (topic.get("Properties") or {}).get("KmsMasterKeyId")
        if key is None:
            continue
        if isinstance(key, str) and key.startswith("alias/aws/"):
            findings.append(f"infra/template.yaml {name}: encrypted with the AWS-managed {key}, whose policy CloudWatch cannot use: its alarms reach nobody")
            continue
        key_name = key if isinstance(key, str) else None
        key_resource = resources.get(key_name) if key_name else None
        if not key_resource or key_resource.get("Type") != "AWS::KMS::Key":
            findings.append(f"infra/template.yaml {name}: its key is not a key of this stack (AWS::KMS::Key)")
            continue
        statements = ((key_resource.get("Properties") or {}).get("KeyPolicy") or {}).get("Statement") or []
        cloudwatch = [s for s in statements
                      if "cloudwatch.amazonaws.com" in str((s.get("Principal") or {}).get("Service"))]
        actions = " ".join(str(s.get("Action")) for s in cloudwatch)
        if not cloudwatch or "kms:Decrypt" not in actions or "kms:GenerateDataKey" not in actions:
            findings.append(f"infra/template.yaml {key_name}: its policy does not let CloudWatch use it (kms:Decrypt, kms:GenerateDataKey*)")
    alarms = [r for r in resources.values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    if not any("AuditWriteFailures" in str(a.get("Properties")) for a in alarms):
        findings.append("infra/template.yaml: no alarm on audit entries that could not be written (AuditWriteFailures)")

    for name in ("infra/template.yaml", "infra/tenant.yaml"):
        parameter = (templates[name].get("Parameters") or {}).get("PasskeyRelyingPartyId")
        if parameter is not None and parameter.get("MaxLength") != 63:
            findings.append(f"{name}: PasskeyRelyingPartyId has no MaxLength 63")
    return findings


def main():
    findings = check()
    for f in findings:
        print(f"deploy-check: {f}", file=sys.stderr)
    if findings:
        return 1
    print("deploy-check: capabilities, the alarm topic's key, the audit alarm and the parameters' limits pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
