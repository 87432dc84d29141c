#!/usr/bin/env bash
# The performance benchmark (infra/docs/performance.md): builds every function's release
# `bootstrap` for arm64 (infra/build/package.sh) and for this machine, reports their zipped
# sizes, then runs tests/benches/bench: cold start (of this machine's build) against a
# Runtime API stub on loopback, handler overhead per route on in-memory ports, and end to end
# against its own emulator (started here, stopped by pid). Prints Markdown tables; the same
# output is kept in $LOCAL/bench.md.
#
#   infra/local/bench.sh                 everything (cold release builds take ~20 min)
#   RUNS=50 infra/local/bench.sh         more cold starts per function (default 30)
#   SKIP_PACKAGE=1 infra/local/bench.sh  no arm64 packages (and no artifact-size table)
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

ensure_venv
mkdir -p "$LOCAL"
# cargo bench runs the harness in tests/: every path it gets is absolute
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
RELEASE="$(abs "${CARGO_TARGET_DIR:-target}/release")"
REPORT="$LOCAL/bench.md"

[ "${SKIP_PACKAGE:-0}" = "1" ] || infra/build/package.sh
log "cargo build --release (the functions' bootstraps for this machine, and the floor: a bare lambda_runtime binary, for the cold start)"
cargo build --release $(printf -- "-p %s " "${FUNCTIONS[@]}") -p floor
log "cargo bench --no-run (the harness, release profile)"
cargo bench --no-run -p account-api-tests --bench bench

MOTO_PID="" TLS_PID="" DELAYED_PID=""
trap 'trap "" INT TERM; stop_pid "$DELAYED_PID"; stop_pid "$TLS_PID"; stop_pid "$MOTO_PID"' EXIT
trap 'exit 130' INT TERM

echo "## Benchmark, $(date -u +%Y-%m-%d), $(uname -m), $(nproc) cores, $(rustc --version)" | tee "$REPORT"
if [ "${SKIP_PACKAGE:-0}" != "1" ]; then
{
  # what a deployment uploads: the arm64 bootstrap zipped by cargo lambda
  # (infra/build/package.sh), and, for comparison, the host's release bootstrap zipped the
  # same way (deflate)
  python3 - "$RELEASE" "${FUNCTIONS[@]}" <<'PY'
import io, os, sys, zipfile
release, functions = sys.argv[1], sys.argv[2:]
print(f"\n### Artifact size (release profile)\n")
print(f"| function | arm64 bootstrap | arm64 zipped | ≤ 4 MB zipped | {os.uname().machine} zipped |")
print("|---|---|---|---|---|")
for f in functions:
    package = os.path.join(os.path.dirname(release), "lambda", f, "bootstrap.zip")
    with zipfile.ZipFile(package) as z:
        raw = z.getinfo("bootstrap").file_size
    zipped = os.path.getsize(package)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(os.path.join(release, f), "bootstrap")
    ok = "yes" if zipped <= 4 * 1000 * 1000 else "**no**"
    print(f"| {f} | {raw / 1e6:.2f} MB | {zipped / 1e6:.2f} MB | {ok} | {len(buf.getvalue()) / 1e6:.2f} MB |")
PY
} | tee -a "$REPORT"
fi

port=$(free_port)
TIMING="$(abs "$LOCAL/emulator-timing.log")"
TENANT="$(abs "$LOCAL/bench-tenant.json")"
rm -f "$TIMING"
start_moto "$port" "$LOCAL/bench-moto.log" --timing-log "$TIMING"
export_stack_env "$port"
# the same emulator behind TLS with a network's and a service's time added, waited in parallel
# as a remote service's is (the emulator serves one request at a time): a request's answer
# takes 4 ms more (DynamoDB answers in single-digit milliseconds), a new connection's handshake
# starts 2 ms later (its TCP and TLS round trips, at 1 ms each); weighs one TLS connection
# against two for two concurrent writes
REQUEST_DELAY_MS=4 CONNECT_DELAY_MS=2
delayed_port=$(free_port)
DELAYED_CA="$(abs "$LOCAL/tls/bench-delayed-ca.pem")"
start_tls_proxy "$delayed_port" "$port" "$DELAYED_CA" "$LOCAL/bench-tls-delayed.log" \
  --delay-ms "$REQUEST_DELAY_MS" --connect-delay-ms "$CONNECT_DELAY_MS"
DELAYED_PID=$TLS_PID TLS_PID=""
# and as it is, with a CA made at run time, for the first request over HTTPS
tls_port=$(free_port)
TLS_CA="$(abs "$LOCAL/tls/bench-ca.pem")"
start_tls_proxy "$tls_port" "$port" "$TLS_CA" "$LOCAL/bench-tls.log"
cargo run --quiet -p account-api-tests --bin bootstrap-local -- "$TENANT" >/dev/null

bench() { cargo bench --quiet -p account-api-tests --bench bench -- "$@" | tee -a "$REPORT"; }
log "cold start: ${RUNS:-30} fresh processes per function, without and with a backend (HTTP, TLS)"
bench cold "$RELEASE" --runs "${RUNS:-30}" --tenant "$TENANT" --timing "$TIMING" \
  --tls-endpoint "https://127.0.0.1:$tls_port" --tls-ca "$TLS_CA" \
  --tls-delayed-endpoint "https://127.0.0.1:$delayed_port" --tls-delayed-ca "$DELAYED_CA" \
  --tls-delayed-what "each answer ${REQUEST_DELAY_MS} ms later, each new connection ${CONNECT_DELAY_MS} ms"
log "where init goes: the floor, then the functions' start-up steps one by one"
bench steps "$RELEASE" --runs "${RUNS:-30}"
log "handler overhead on in-memory ports"
bench warm
log "end to end against the emulator"
bench e2e
log "report: $REPORT"
