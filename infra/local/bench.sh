#!/usr/bin/env bash
# The performance benchmark (README, "Performance"): builds every function's release
# `bootstrap`, reports its zipped size, then runs tests/benches/bench: cold start against a
# Runtime API stub on loopback, handler overhead per route on in-memory ports, and end to end
# against its own emulator (started here, stopped by pid). Prints Markdown tables; the same
# output is kept in $LOCAL/bench.md.
#
#   infra/local/bench.sh                 everything (a cold release build takes ~15 min)
#   RUNS=50 infra/local/bench.sh         more cold starts per function (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

ensure_venv
mkdir -p "$LOCAL"
RELEASE="${CARGO_TARGET_DIR:-target}/release"
case "$RELEASE" in /*) ;; *) RELEASE="$PWD/$RELEASE" ;; esac # cargo bench runs in tests/
REPORT="$LOCAL/bench.md"

log "cargo build --release (the functions' bootstraps)"
cargo build --release $(printf -- "-p %s " "${FUNCTIONS[@]}")
log "cargo bench --no-run (the harness, release profile)"
cargo bench --no-run -p account-api-tests --bench bench

MOTO_PID=""
trap 'trap "" INT TERM; stop_pid "$MOTO_PID"' EXIT
trap 'exit 130' INT TERM

{
  echo "## Benchmark, $(date -u +%Y-%m-%d), $(uname -m), $(nproc) cores, $(rustc --version)"
  # what a deployment uploads: the binary as `bootstrap` in a zip (deflate)
  python3 - "$RELEASE" "${FUNCTIONS[@]}" <<'PY'
import io, os, sys, zipfile
release, functions = sys.argv[1], sys.argv[2:]
print(f"\n### Artifact size ({os.uname().machine}, release profile)\n")
print("| function | bootstrap | zipped | ≤ 4 MB zipped |")
print("|---|---|---|---|")
for f in functions:
    path = os.path.join(release, f)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "bootstrap")
    raw, zipped = os.path.getsize(path), len(buf.getvalue())
    ok = "yes" if zipped <= 4 * 1000 * 1000 else "**no**"
    print(f"| {f} | {raw / 1e6:.2f} MB | {zipped / 1e6:.2f} MB | {ok} |")
PY
} | tee "$REPORT"

bench() { cargo bench --quiet -p account-api-tests --bench bench -- "$@" | tee -a "$REPORT"; }
log "cold start: ${RUNS:-30} fresh processes per function"
bench cold "$RELEASE" --runs "${RUNS:-30}"
log "handler overhead on in-memory ports"
bench warm
port=$(free_port)
start_moto "$port" "$LOCAL/bench-moto.log"
export_stack_env "$port"
log "end to end against the emulator"
bench e2e
log "report: $REPORT"
