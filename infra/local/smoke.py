"""Smoke test: every sample event in events/, invoked with `cargo lambda invoke` against
`cargo lambda watch` on the local stack, answers what events/expected.json says.

  python3 infra/local/smoke.py <watch port>

Run by infra/local/test.sh, which starts the emulator, the demo tenant and the watch.
"""
import json
import os
import subprocess
import sys

port = sys.argv[1]
manifest = json.load(open("events/expected.json"))["events"]
on_disk = sorted(
    os.path.relpath(os.path.join(d, f), "events")
    for d, _, files in os.walk("events")
    for f in files
    if f.endswith(".json") and f != "expected.json"
)
unlisted = [e for e in on_disk if e not in manifest]
missing = [e for e in manifest if e not in on_disk]
failures = []
if unlisted or missing:
    failures.append(f"events/expected.json is out of date: unlisted {unlisted}, missing {missing}")

ran = skipped = 0
for event, want in manifest.items():
    if "skip" in want or event in missing:
        skipped += 1
        continue
    function = event.split("/")[0]
    out = subprocess.run(
        ["cargo", "lambda", "invoke", function, "--invoke-address", "127.0.0.1",
         "--invoke-port", port, "--data-file", f"events/{event}", "--output-format", "json"],
        capture_output=True, text=True, timeout=300,
    )
    ran += 1
    if "trigger" in want:
        got = "allow" if out.returncode == 0 else "deny"
        if got != want["trigger"]:
            failures.append(f"{event}: trigger said {got}, expected {want['trigger']}: {out.stdout[-300:]} {out.stderr[-300:]}")
        continue
    try:
        status = json.loads(out.stdout)["statusCode"]
    except (ValueError, KeyError):
        failures.append(f"{event}: no HTTP answer: {out.stdout[-300:]} {out.stderr[-300:]}")
        continue
    if status != want["status"]:
        failures.append(f"{event}: {status}, expected {want['status']}: {out.stdout[-300:]}")

for f in failures:
    print(f"smoke: {f}", file=sys.stderr)
event_failures = sum(1 for f in failures if not f.startswith("events/expected.json"))
print(f"smoke: {ran - event_failures} passed, {len(failures)} failed, {skipped} skipped")
sys.exit(1 if failures else 0)
