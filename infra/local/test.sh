#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with only Rust and Python 3: installs the
# emulator into .venv if needed, starts it on a free loopback port, checks formatting and
# lints and the infra templates, runs every test of the workspace (unit, adapter mocks, handler fixtures,
# end-to-end), stops the emulator by its pid even on failure, and exits with the result.
#
#   infra/local/test.sh                 everything
#   infra/local/test.sh -p auth         extra arguments go to `cargo test`
#   SKIP_LINT=1 infra/local/test.sh     tests only
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

ensure_venv

if [ "${SKIP_LINT:-0}" != "1" ]; then
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "cargo clippy --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

log "cfn-lint infra/template.yaml; openapi-spec-validator infra/openapi.yaml"
"$VENV/bin/cfn-lint" infra/template.yaml
"$VENV/bin/openapi-spec-validator" infra/openapi.yaml

MOTO_PID=""
trap 'trap "" INT TERM; stop_pid "$MOTO_PID"' EXIT
trap 'exit 130' INT TERM
port=$(free_port)
start_moto "$port" "$LOCAL/test-moto.log"
export_stack_env "$port"

log "cargo test --workspace"
cargo test --workspace "$@"
