#!/usr/bin/env bash
# The build's hand-off between CI jobs. actions/upload-artifact and download-artifact do not
# keep file permissions, and SAM zips what it finds: a `bootstrap` that lost its executable bit
# deploys without complaint and then fails every invocation. So the build travels as a tarball
# (tar keeps modes), and both ends check that every function's bootstrap is there and
# executable.
#
#   infra/build/artifact.sh pack DIR TARBALL     checks DIR (.aws-sam), then packs it
#   infra/build/artifact.sh unpack TARBALL DIR   unpacks into DIR, then checks it
#   infra/build/artifact.sh check DIR            the check alone
#   infra/build/artifact.sh selftest             the hand-off, and its refusals, on a fake build
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/local/lib.sh

# one bootstrap per function of the template
expected() { grep -c 'Type: AWS::Serverless::Function' infra/template.yaml; }

check() {
  local dir=$1 want found=() f
  want=$(expected)
  [ -d "$dir" ] || die "artifact: $dir does not exist"
  mapfile -t found < <(find "$dir" -type f -name bootstrap | sort)
  [ "${#found[@]}" -eq "$want" ] \
    || die "artifact: $dir holds ${#found[@]} bootstraps, the template has $want functions"
  for f in "${found[@]}"; do
    [ -x "$f" ] || die "artifact: $f is not executable: every invocation would fail"
  done
  log "artifact: $dir holds $want executable bootstraps"
}

pack() {
  local dir=$1 tarball=$2
  check "$dir"
  tar -C "$(dirname "$dir")" -czf "$tarball" "$(basename "$dir")"
}

unpack() {
  local tarball=$1 dir=$2
  mkdir -p "$(dirname "$dir")"
  tar -C "$(dirname "$dir")" -xzf "$tarball"
  check "$dir"
}

# A fake build of the template's functions through pack and unpack; then the two ways a
# hand-off goes wrong (a bootstrap not executable, one missing) must each be refused.
selftest() {
  local tmp n i
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  n=$(expected)
  for i in $(seq "$n"); do
    mkdir -p "$tmp/build/.aws-sam/build/Function$i"
    printf '#!/bin/sh\n' >"$tmp/build/.aws-sam/build/Function$i/bootstrap"
    chmod 755 "$tmp/build/.aws-sam/build/Function$i/bootstrap"
  done
  pack "$tmp/build/.aws-sam" "$tmp/sam-build.tgz"
  unpack "$tmp/sam-build.tgz" "$tmp/deploy/.aws-sam"
  # what upload/download-artifact does to a plain directory: the modes are gone
  chmod 644 "$tmp/build/.aws-sam/build/Function1/bootstrap"
  if (check "$tmp/build/.aws-sam") 2>/dev/null; then die "artifact selftest: a bootstrap without its executable bit passed"; fi
  if (pack "$tmp/build/.aws-sam" "$tmp/bad.tgz") 2>/dev/null; then die "artifact selftest: a build with a non-executable bootstrap was packed"; fi
  rm "$tmp/deploy/.aws-sam/build/Function2/bootstrap"
  if (check "$tmp/deploy/.aws-sam") 2>/dev/null; then die "artifact selftest: a missing bootstrap passed"; fi
  log "artifact selftest: $n bootstraps survive pack and unpack; a lost executable bit and a missing bootstrap are refused"
}

case "${1:-}" in
  pack) [ "$#" -eq 3 ] || die "usage: $0 pack DIR TARBALL"; pack "$2" "$3" ;;
  unpack) [ "$#" -eq 3 ] || die "usage: $0 unpack TARBALL DIR"; unpack "$2" "$3" ;;
  check) [ "$#" -eq 2 ] || die "usage: $0 check DIR"; check "$2" ;;
  selftest) selftest ;;
  *) die "usage: $0 pack DIR TARBALL | unpack TARBALL DIR | check DIR | selftest" ;;
esac
