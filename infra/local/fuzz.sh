#!/usr/bin/env bash
# Fuzzes every route with cargo-fuzz (libFuzzer): one request per input through the function
# that serves it, on in-memory ports; a panic or a 5xx is a finding, saved under
# tests/fuzz/artifacts/. Needs a nightly toolchain (cargo-fuzz's instrumentation flags are
# unstable); installs cargo-fuzz if it is missing.
#
#   infra/local/fuzz.sh                 60 s
#   FUZZ_SECONDS=600 infra/local/fuzz.sh
#
# New inputs go to .local/fuzz-corpus; the seeds, and any input worth keeping (a fixed crash),
# live in tests/fuzz/corpus/request/, which every test run replays on stable Rust
# (tests/tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

rustup toolchain list 2>/dev/null | grep -q '^nightly' \
  || die "cargo fuzz needs a nightly toolchain: rustup toolchain install nightly"
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
mkdir -p "$LOCAL/fuzz-corpus"
log "fuzzing every route for ${FUZZ_SECONDS:-60} s (the first build compiles the AWS SDKs with coverage instrumentation)"
# no sanitizer: the code under test has no unsafe, and ASan would slow every execution
cargo +nightly fuzz run --fuzz-dir tests/fuzz --sanitizer none request \
  "$LOCAL/fuzz-corpus" tests/fuzz/corpus/request \
  -- -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -timeout=10
