#!/usr/bin/env bash
# Builds every function's `bootstrap` for Lambda's arm64 (Graviton) runtime as the pipeline
# does, with cargo-lambda and zig as the cross linker, and zips it as Lambda takes it:
# target/lambda/<function>/bootstrap.zip. Installs what it needs if missing: zig (the ziglang
# wheel) into .venv and Rust's aarch64-unknown-linux-gnu target. A cold build takes ~10 min.
#
#   infra/local/package.sh
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
log "cargo lambda build --release --arm64 (every function)"
cargo lambda build --release --arm64 --output-format zip $(printf -- "-p %s " "${FUNCTIONS[@]}")
for f in "${FUNCTIONS[@]}"; do
  [ -f "${CARGO_TARGET_DIR:-target}/lambda/$f/bootstrap.zip" ] || die "no bootstrap.zip for $f"
done
log "built: $(printf 'target/lambda/%s/bootstrap.zip ' "${FUNCTIONS[@]}")"
