#!/usr/bin/env bash
# Builds every function's `bootstrap` for Lambda's arm64 (Graviton) runtime as the pipeline
# does, with cargo-lambda and zig as the cross linker, and zips it as Lambda takes it:
# target/lambda/<function>/bootstrap.zip. Installs what it needs if missing: zig (the ziglang
# wheel) into .venv and Rust's aarch64-unknown-linux-gnu target. A cold build takes ~10 min.
#
#   infra/build/package.sh         the zips (what the benchmark measures)
#   infra/build/package.sh --sam   what the pipeline does: `sam build` (its cargo-lambda builder,
#                                  aws-sam-cli installed into .venv), then the build packed as
#                                  the pipeline hands it between jobs (infra/build/artifact.sh,
#                                  every bootstrap checked executable) into .local/sam-build.tgz;
#                                  ~12 minutes for all six functions from cold here
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

ensure_venv
export PATH="$PWD/$VENV/bin:$PATH"
if ! "$VENV/bin/python" -c "import ziglang" 2>/dev/null; then
  log "installing zig (ziglang) into $VENV, for cross-linking ..."
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "ziglang==0.17.1" \
    || die "pip could not install ziglang"
fi
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  log "adding Rust's aarch64-unknown-linux-gnu target ..."
  rustup target add aarch64-unknown-linux-gnu || die "rustup could not add aarch64-unknown-linux-gnu"
fi
if [ "${1:-}" = "--sam" ]; then
  # a venv of its own: aws-sam-cli pins its own aws-sam-translator, which must not move the
  # one the test command's deploy checks use
  sam_venv="$LOCAL/sam-venv"
  if ! "$sam_venv/bin/sam" --version >/dev/null 2>&1; then
    log "installing aws-sam-cli into $sam_venv ..."
    python3 -m venv "$sam_venv" || die "cannot create $sam_venv"
    "$sam_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir "aws-sam-cli==1.170.0" \
      || die "pip could not install aws-sam-cli"
  fi
  log "sam build --template infra/template.yaml --beta-features (cargo lambda build --release --arm64 per function)"
  started=$(date +%s)
  "$sam_venv/bin/sam" build --template infra/template.yaml --beta-features
  log "sam build took $(( $(date +%s) - started )) s"
  infra/build/artifact.sh pack .aws-sam "$LOCAL/sam-build.tgz"
  log "packed: $LOCAL/sam-build.tgz (infra/build/artifact.sh unpack restores and checks it)"
  exit 0
fi
log "cargo lambda build --release --arm64 (every function)"
cargo lambda build --release --arm64 --output-format zip $(printf -- "-p %s " "${FUNCTIONS[@]}")
for f in "${FUNCTIONS[@]}"; do
  [ -f "${CARGO_TARGET_DIR:-target}/lambda/$f/bootstrap.zip" ] || die "no bootstrap.zip for $f"
done
log "built: $(printf 'target/lambda/%s/bootstrap.zip ' "${FUNCTIONS[@]}")"
