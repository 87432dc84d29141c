"""What the pipeline must do for a deploy to work, checked on .github/workflows offline.

zizmor checks the workflows' security and check-jsonschema their shape; this checks the
deploy-specific rules that each broke a first real deploy:

- `pip install` only in a job that set up its own Python (actions/setup-python) or a venv: the
  runners' system Python refuses it (PEP 668, externally managed);
- the build crosses jobs as the tarball `infra/build/artifact.sh pack` makes, and the deploy
  unpacks it with `infra/build/artifact.sh unpack` before `sam deploy`: the artifact store
  drops the executable bit of every bootstrap;
- every action pinned to a commit whose release (the comment beside it) runs on Node 24: the
  runners dropped Node 20 in September 2026;
- stages deploy in order, dev → staging → prod, each job `needs` the one before (a matrix has
  no order), each in its own environment (whose DEPLOY_ROLE_ARN is the role assumed), one
  deploy of a stage at a time (a concurrency group per stage, never cancelled mid-deploy), and
  no run-level group shared by pushes (it would hold dev and staging while prod waits for its
  reviewers).

  python3 infra/checks/workflow_check.py [DIR]   (default .github/workflows)
"""
import re
import sys
from pathlib import Path

import yaml

STAGES = ["dev", "staging", "prod"]

# The first release of each action the pipeline uses that runs on Node 24: GitHub removed the
# Node 20 runtime from its runners on 2026-09-23, so an action pinned to an older release no
# longer starts. Actions are pinned to commits, which no offline linter can map to a runtime;
# the `# vX.Y.Z` comment beside each pin is what is checked here. A new action needs its row
# (its action.yml says `using: node24`, or `composite`: None).
FIRST_NODE24 = {
    "actions/checkout": (5, 0, 0),
    "actions/setup-python": (6, 0, 0),
    "actions/upload-artifact": (6, 0, 0),
    "actions/download-artifact": (7, 0, 0),
    "aws-actions/configure-aws-credentials": (6, 0, 0),
    "aws-actions/setup-sam": (3,),
    "Swatinem/rust-cache": (2, 9, 0),
    "dtolnay/rust-toolchain": None,
}


def load(path):
    # `on` is YAML 1.1's boolean true; keep it a key
    text = path.read_text()
    return yaml.safe_load(text.replace("\non:", '\n"on":'))


def steps_text(job):
    return [(s.get("uses", ""), s.get("run", "")) for s in job.get("steps", [])]


def check(directory):
    findings = []
    workflows = {p.name: load(p) for p in sorted(directory.glob("*.yml"))}
    jobs = {}
    for name, wf in workflows.items():
        for job_name, job in (wf.get("jobs") or {}).items():
            jobs[(name, job_name)] = job
    for (wf, name), job in jobs.items():
        python_ready = False
        for uses, run in steps_text(job):
            if uses.startswith("actions/setup-python@"):
                python_ready = True
            if "pip install" in run and not python_ready and "venv" not in run:
                findings.append(f"{wf}:{name}: `pip install` on the runner's system Python, which refuses it (PEP 668): set up Python first")
    # every action pinned to a commit, its release named beside it, and that release on Node 24
    for path in sorted(directory.glob("*.yml")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.search(r"uses:\s*([^@\s]+)@(\S+)(?:\s*#\s*(\S+))?", line)
            if not match or match.group(1).startswith("./"):
                continue
            action, ref, comment = match.groups()
            where = f"{path.name}:{number}: {action}"
            if not re.fullmatch(r"[0-9a-f]{40}", ref):
                findings.append(f"{where} is not pinned to a commit")
            if action not in FIRST_NODE24:
                findings.append(f"{where} has no row in FIRST_NODE24 (is its release on Node 24?)")
                continue
            floor = FIRST_NODE24[action]
            if floor is None:
                continue
            version = re.fullmatch(r"v(\d+(?:\.\d+)*)", comment or "")
            if not version:
                findings.append(f"{where}: the pin names no release (# vX.Y.Z)")
            elif tuple(int(p) for p in version.group(1).split(".")) < floor:
                findings.append(f"{where} {comment} runs on Node 20, which GitHub's runners no longer have")
    # the hand-off
    packs = [(k, run) for k, job in jobs.items() for _, run in steps_text(job) if "artifact.sh pack" in run]
    if not packs:
        findings.append("no job packs the build with infra/build/artifact.sh pack: the artifact store drops the bootstraps' executable bit")
    for (wf, name), _ in packs:
        uploads = [s for s in jobs[(wf, name)].get("steps", []) if s.get("uses", "").startswith("actions/upload-artifact@")]
        if not uploads or not str(uploads[0].get("with", {}).get("path", "")).endswith((".tgz", ".tar.gz", ".tar")):
            findings.append(f"{wf}:{name}: the uploaded artifact is not the packed tarball")
    deployers = [k for k, job in jobs.items() if any("sam deploy" in run for _, run in steps_text(job))]
    if not deployers:
        findings.append("no job runs sam deploy")
    for key in deployers:
        job = jobs[key]
        runs = [run for _, run in steps_text(job)]
        unpack = next((i for i, r in enumerate(runs) if "artifact.sh unpack" in r), None)
        deploy = next(i for i, r in enumerate(runs) if "sam deploy" in r)
        if unpack is None or unpack > deploy:
            findings.append(f"{key[0]}:{key[1]}: the build is not unpacked (and its bootstraps checked) with infra/build/artifact.sh unpack before sam deploy")
        if "strategy" in job:
            findings.append(f"{key[0]}:{key[1]}: stages from a matrix deploy in no guaranteed order")
        if not job.get("environment"):
            findings.append(f"{key[0]}:{key[1]}: no environment: the role and the approvals are per environment")
        # `concurrency:` is a group name, or a mapping with `group` and `cancel-in-progress`
        concurrency = job.get("concurrency") or {}
        if not isinstance(concurrency, dict):
            concurrency = {"group": concurrency}
        group = str(concurrency.get("group", ""))
        if not group or "stage" not in group:
            findings.append(f"{key[0]}:{key[1]}: no concurrency group per stage: two deploys of a stage could overlap")
        elif concurrency.get("cancel-in-progress"):
            findings.append(f"{key[0]}:{key[1]}: a deploy in progress must not be cancelled")
        roles = [str(s.get("with", {}).get("role-to-assume", "")) for s in job.get("steps", []) if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
        if not roles or any("vars.DEPLOY_ROLE_ARN" not in r for r in roles):
            findings.append(f"{key[0]}:{key[1]}: the role is not the environment's vars.DEPLOY_ROLE_ARN")
    # the order: each stage's calling job needs the previous stage's
    callers = {}
    for (wf, name), job in jobs.items():
        stage = (job.get("with") or {}).get("stage")
        if stage:
            callers[stage] = (name, job)
    previous = None
    for stage in STAGES:
        if stage not in callers:
            if not any(jobs[k].get("environment") == stage for k in deployers):
                findings.append(f"no job deploys {stage}")
            previous = None
            continue
        name, job = callers[stage]
        needs = job.get("needs")
        needs = [needs] if isinstance(needs, str) else (needs or [])
        if previous and previous not in needs:
            findings.append(f"{name} (stage {stage}) does not need {previous}: stages would not deploy in order")
        if not job.get("permissions", {}).get("id-token") == "write":
            findings.append(f"{name}: the deploy needs `id-token: write` for OIDC")
        previous = name
    # the deploy's own steps, which a first real deploy needs: the account's API Gateway
    # logging role checked before, the first create unprotected and the next protected, prod
    # only with its SES sender (infra/build/deploy_params.py decides both)
    for key, job in jobs.items():
        runs = " ".join(run for _, run in steps_text(job))
        if "sam deploy" not in runs:
            continue
        if "apigateway get-account" not in runs:
            findings.append(f"{key[0]}:{key[1]}: the account's API Gateway logging role is not checked before sam deploy")
        if "deploy_params.py" not in runs or "--parameter-overrides" not in runs:
            findings.append(f"{key[0]}:{key[1]}: sam deploy does not take its overrides from infra/build/deploy_params.py (ProtectData on a first create, prod's SES)")
    # a run-level group shared by pushes holds every later push (dev and staging too) while a
    # run's prod deploy waits for its reviewers, and cancels the pending ones: the stages'
    # own groups keep deploys in order, so a run-level group may only tell runs of a pull
    # request apart, never share one among pushes
    for name, wf in workflows.items():
        on = wf.get("on") or {}
        pushes = "push" in on if isinstance(on, (dict, list)) else on == "push"
        deploys = any("sam deploy" in run for job in (wf.get("jobs") or {}).values() for _, run in steps_text(job)) \
            or any(str(job.get("uses", "")).startswith("./") for job in (wf.get("jobs") or {}).values())
        concurrency = wf.get("concurrency")
        if not (pushes and deploys and concurrency):
            continue
        group = str(concurrency.get("group", "") if isinstance(concurrency, dict) else concurrency)
        if "run_id" not in group:
            findings.append(f"{name}: a run-level concurrency group shared by pushes holds dev and staging while prod waits for its reviewers: give pushes a group of their own run (github.run_id)")
    return findings


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else ".github/workflows")
    findings = check(directory)
    for f in findings:
        print(f"workflow: {f}", file=sys.stderr)
    if findings:
        return 1
    print(f"workflow: {directory} passes the deploy rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
