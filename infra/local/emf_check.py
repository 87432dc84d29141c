"""Checks the metric lines the functions wrote (CloudWatch embedded metric format) in a log.

    python3 infra/local/emf_check.py --min N LOG

Each line with an `_aws` member must be what CloudWatch Logs turns into metrics: a millisecond
Timestamp, a directive whose Namespace is a string, whose every metric is a number member of
the line and whose every dimension a string member; and the request lines must name a route
and an outcome (`success` or a problem slug). Fails if fewer than N request lines are found,
so that it cannot pass by looking at nothing.
"""
import argparse
import json
import re
import sys


def problems_of(line):
    found = []
    aws = line.get("_aws", {})
    if not isinstance(aws.get("Timestamp"), int):
        found.append("no millisecond Timestamp")
    for directive in aws.get("CloudWatchMetrics", []):
        if not isinstance(directive.get("Namespace"), str):
            found.append("no Namespace")
        for metric in directive.get("Metrics", []):
            if not isinstance(line.get(metric.get("Name")), (int, float)):
                found.append(f"metric {metric.get('Name')} is not a number member")
        for dims in directive.get("Dimensions", []):
            for dim in dims:
                if not isinstance(line.get(dim), str):
                    found.append(f"dimension {dim} is not a string member")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, required=True)
    parser.add_argument("log")
    args = parser.parse_args()
    requests = auto_locks = 0
    outcomes = set()
    failures = []
    for number, text in enumerate(open(args.log, errors="replace"), 1):
        if '"_aws"' not in text:
            continue
        try:
            line = json.loads(text[text.find("{"):])
        except ValueError:
            failures.append(f"line {number}: a metric line that is not JSON")
            continue
        if not isinstance(line, dict) or "_aws" not in line:
            continue
        failures += [f"line {number}: {p}" for p in problems_of(line)]
        if "Requests" in line:
            requests += 1
            outcomes.add(line.get("Outcome"))
            if not re.fullmatch(r"success|[a-z]+(-[a-z]+)*", str(line.get("Outcome"))):
                failures.append(f"line {number}: outcome {line.get('Outcome')!r}")
            if line.get("Route") in (None, "", "unrouted") and line.get("Outcome") == "success":
                failures.append(f"line {number}: a success without its route")
        if "AutoLocks" in line:
            auto_locks += 1
    if requests < args.min:
        failures.append(f"{requests} request metric lines, at least {args.min} expected")
    for f in failures[:20]:
        print(f"metrics: {f}", file=sys.stderr)
    if failures:
        return 1
    print(f"metrics: {requests} request lines ({len(outcomes)} outcomes), {auto_locks} auto-lock lines, all valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
