#!/usr/bin/env bash
# A deploy rehearsal, as far as this machine goes without AWS: everything the pipeline does
# between a green test run and `sam deploy`, with the cloud's answers recorded.
#
#   infra/build/rehearse.sh          ~12 minutes from cold (sam build compiles every function
#                                    for arm64), a minute or two once built
#
# 1. `sam build` of every function, and the build packed as the pipeline hands it between jobs
#    (infra/build/package.sh --sam), then unpacked and checked as the deploy job does
#    (infra/build/artifact.sh unpack: every bootstrap there and executable);
# 2. what `sam package` makes of it: each function zipped as Lambda takes it (a bootstrap at
#    the root, executable, the zip within Lambda's limits and the product's 4 MB), the template
#    with its code as S3 objects, its API definition inlined and the SAM transform applied
#    (infra/build/expand_template.py), linted as CloudFormation receives it (cfn-lint); the
#    tenant and account templates linted too;
# 3. the deploy job's own shell steps with `aws` and `sam` answering as recorded
#    (infra/build/rehearse_deploy.py), and the checks a first deploy needs across files
#    (infra/checks/deploy_check.py, infra/checks/workflow_check.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

ensure_venv
started=$(date +%s)
log "rehearsal 1/3: sam build and the hand-off between jobs"
infra/build/package.sh --sam
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
infra/build/artifact.sh unpack "$LOCAL/sam-build.tgz" "$work/.aws-sam"

log "rehearsal 2/3: the package as CloudFormation receives it"
"$VENV/bin/python" - "$work/.aws-sam/build" "$work/zips" <<'EOF'
import os, stat, sys, zipfile
from pathlib import Path
build, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True)
LIMIT = 4 * 1024 * 1024  # the product's own limit for a function's zip (infra/docs/performance.md)
failures = []
for bootstrap in sorted(build.glob("*/bootstrap")):
    name = bootstrap.parent.name
    zipped = out / f"{name}.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = (stat.S_IFREG | 0o755) << 16  # as sam package keeps the mode
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, bootstrap.read_bytes())
    size = zipped.stat().st_size
    mode = (zipfile.ZipFile(zipped).getinfo("bootstrap").external_attr >> 16) & 0o777
    if not mode & 0o100:
        failures.append(f"{name}: bootstrap not executable in its zip")
    if size > LIMIT:
        failures.append(f"{name}: {size} bytes zipped, over {LIMIT}")
    print(f"rehearsal: {name}.zip {size / 1024 / 1024:.2f} MiB, bootstrap {oct(mode)}")
if not list(out.glob("*.zip")):
    failures.append("no function was built")
for f in failures:
    print(f"rehearsal: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
"$VENV/bin/python" infra/build/expand_template.py "$work/packaged-template.json"
"$VENV/bin/cfn-lint" "$work/packaged-template.json" infra/tenant.yaml infra/account.yaml

log "rehearsal 3/3: the deploy job's steps with recorded answers, and what a first deploy needs"
"$VENV/bin/python" infra/build/rehearse_deploy.py
"$VENV/bin/python" infra/checks/deploy_check.py
"$VENV/bin/python" infra/checks/workflow_check.py .github/workflows
log "rehearsal clean in $(( $(date +%s) - started )) s"
