#!/usr/bin/env bash
# Runs the API locally on a fresh machine with only Rust and Python 3: installs the emulator
# and cargo-lambda into .venv if needed, starts the emulator on 127.0.0.1:5000 and a local
# OpenID Connect provider (a tenant's IdP) on 127.0.0.1:5002, bootstraps the
# demo tenant (.local/demo-tenant.json), builds the functions, and serves every route on its
# real path at http://127.0.0.1:9000 with `cargo lambda watch`, and the example web app and the API
# reference page at http://127.0.0.1:9001/app/ and /docs (a browser origin the demo tenant lists).
# Ctrl-C stops everything it started; running it again starts afresh.
#
#   infra/local/run.sh            serve until Ctrl-C
#   infra/local/run.sh --check    start everything, check the warm-up calls, stop (the test
#                                 command runs this, on free ports: MOTO_PORT=… API_PORT=…)
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

MOTO_PORT="${MOTO_PORT:-5000}"
API_PORT="${API_PORT:-9000}"
WEB_PORT="${WEB_PORT:-9001}"
export WEB_URL="http://127.0.0.1:$WEB_PORT"
# the pages the demo tenant lets call the API from a browser (its allowedOrigins)
export WEB_ORIGINS="http://127.0.0.1:$WEB_PORT http://localhost:$WEB_PORT"
# the local OpenID Connect provider (a tenant's IdP): 5002, or any free port when that is taken
# and OIDC_PORT was not chosen
OIDC_PORT_CHOSEN="${OIDC_PORT:-}"
OIDC_PORT="${OIDC_PORT:-5002}"
export API_URL="http://127.0.0.1:$API_PORT"

ensure_venv
export PATH="$PWD/$VENV/bin:$PATH"
mkdir -p "$LOCAL"

# A previous run that was not stopped cleanly: stop what it left behind.
for pidfile in "$LOCAL/moto.pid" "$LOCAL/oidc.pid" "$LOCAL/watch.pid" "$LOCAL/web.pid"; do
  [ -f "$pidfile" ] && stop_pid "$(cat "$pidfile")"
  rm -f "$pidfile"
done
port_in_use "$MOTO_PORT" && die "port $MOTO_PORT is taken by another program (set MOTO_PORT=…)"
port_in_use "$API_PORT" && die "port $API_PORT is taken by another program (set API_PORT=…)"
port_in_use "$WEB_PORT" && die "port $WEB_PORT is taken by another program (set WEB_PORT=…)"
if port_in_use "$OIDC_PORT"; then
  [ -z "$OIDC_PORT_CHOSEN" ] || die "port $OIDC_PORT is taken by another program (set OIDC_PORT=…)"
  OIDC_PORT=$(free_port)
fi

MOTO_PID="" OIDC_PID="" WATCH_PID="" WEB_PID=""
cleanup() {
  # a second Ctrl-C must not cut the clean-up short
  trap '' INT TERM
  stop_pid "$MOTO_PID"
  stop_pid "$OIDC_PID"
  stop_pid "$WATCH_PID"
  stop_pid "$WEB_PID"
  rm -f "$LOCAL/moto.pid" "$LOCAL/oidc.pid" "$LOCAL/watch.pid" "$LOCAL/web.pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building the functions (the first build takes a few minutes) ..."
cargo build --quiet $(printf -- "-p %s " "${FUNCTIONS[@]}")
cargo build --quiet -p account-api-tests --bin bootstrap-local

# the pools' Lambda triggers (the lock for sign-ins that bypass the API, custom sign-ins) are
# served by `cargo lambda watch` below, on the API's port
export LAMBDA_ENDPOINT_URL="$API_URL"
start_moto "$MOTO_PORT" "$LOCAL/moto.log" --lambda-endpoint "$LAMBDA_ENDPOINT_URL"
echo "$MOTO_PID" >"$LOCAL/moto.pid"
export_stack_env "$MOTO_PORT"
# a tenant's OpenID Connect IdP for federated sign-ins through the emulator's pool domains
# ($AWS_ENDPOINT_URL/_domains/<Domain>/oauth2/...)
start_oidc_provider "$OIDC_PORT" "$LOCAL/oidc.log"
echo "$OIDC_PID" >"$LOCAL/oidc.pid"
export OIDC_ISSUER_URL="http://127.0.0.1:$OIDC_PORT"

log "bootstrapping the demo tenant ..."
cargo run --quiet -p account-api-tests --bin bootstrap-local -- "$LOCAL/demo-tenant.json"

write_lambda_env "$LOCAL/lambda.env"

log "building the API reference page (infra/openapi.yaml, Swagger UI) and the example app ..."
build_docs "$LOCAL/web/docs.html" "$API_URL"
"$VENV/bin/python" infra/build/client.py --emit "$LOCAL/web/js" >&2 || die "could not compile the example app"
"$VENV/bin/python" infra/local/web.py "$WEB_PORT" "$LOCAL/web/docs.html" "$LOCAL/web/js" \
  "$LOCAL/demo-tenant.json" >"$LOCAL/web.log" 2>&1 &
WEB_PID=$!
echo "$WEB_PID" >"$LOCAL/web.pid"
wait_port "$WEB_PORT" 30 || die "the pages did not start on $WEB_URL (log: $LOCAL/web.log)"

log "starting cargo lambda watch on $API_URL ..."
watch=(cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$API_PORT"
  --env-file "$LOCAL/lambda.env" --ignore-changes)
if [ "${1:-}" = "--check" ]; then
  # the functions' logs apart from what this script prints, for the test command's secrets scan
  "${watch[@]}" >"$LOCAL/watch.log" 2>&1 &
else
  "${watch[@]}" &
fi
WATCH_PID=$!
echo "$WATCH_PID" >"$LOCAL/watch.pid"
wait_port "$API_PORT" 120 || die "cargo lambda watch did not start (is port $API_PORT free?)"

# Start the pool's triggers first: every sign-in waits on two of them (Pre Authentication, and
# pre token generation in custom-auth), and a first start compiles them.
for event in "${TRIGGER_EVENTS[@]}"; do
  cargo lambda invoke "${event%%/*}" --invoke-address 127.0.0.1 --invoke-port "$API_PORT" \
    --data-file "events/$event" >/dev/null || die "the ${event%%/*} trigger did not answer"
done
# Warm every function once, so that the first call of the user does not wait for a start.
python3 infra/local/demo.py warm "$LOCAL/demo-tenant.json" || die "the API did not answer a sign-in"
python3 infra/local/demo.py web "$LOCAL/demo-tenant.json" || die "the API reference page is not served"
python3 infra/local/demo.py howto "$LOCAL/demo-tenant.json"

if [ "${1:-}" = "--check" ]; then
  log "run command check passed"
  exit 0
fi
wait "$WATCH_PID"
