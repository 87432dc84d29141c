//! Metrics in CloudWatch's embedded metric format: one JSON log line per request (and per
//! automatic lock), which CloudWatch Logs turns into metrics with no call at run time. The
//! stage's alarms (infra/template.yaml) watch them: a wave of `account-locked` answers or of
//! automatic locks is a brute-force attempt in progress.
//!
//! Emitted only where `METRICS_NAMESPACE` is set (the stack sets `AccountApi/<stage>`), so the
//! local stack and the tests print no metric lines. Dimensions are low-cardinality: the route's
//! name and the outcome (`success` or a problem slug), never a user or a tenant.

use std::{
    io::Write,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};

/// The variable that turns metrics on and names their namespace.
pub const NAMESPACE_VARIABLE: &str = "METRICS_NAMESPACE";

fn namespace() -> Option<&'static str> {
    static NAMESPACE: OnceLock<Option<String>> = OnceLock::new();
    NAMESPACE
        .get_or_init(|| {
            std::env::var(NAMESPACE_VARIABLE)
                .ok()
                .filter(|n| !n.is_empty())
        })
        .as_deref()
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// The line for one request: `Requests` (count) and `Latency` (milliseconds), by outcome and
/// by route and outcome.
pub fn request_line(
    namespace: &str,
    route: &str,
    outcome: &str,
    latency_ms: f64,
    at_ms: u128,
) -> Value {
    json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Outcome"], ["Route", "Outcome"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                ],
            }],
        },
        "Route": route,
        "Outcome": outcome,
        "Requests": 1,
        "Latency": (latency_ms * 1000.0).round() / 1000.0,
    })
}

/// The line for one event counted by `metric`, with no dimension: `AutoLocks` (an automatic
/// lock by the lockout policy), `AuditWriteFailures` (an audit entry that was not written).
pub fn count_line(namespace: &str, metric: &str, at_ms: u128) -> Value {
    json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        metric: 1,
    })
}

fn emit(line: &Value) {
    // one write of one line: stdout is what Lambda sends to CloudWatch Logs
    let mut text = line.to_string();
    text.push('\n');
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Records one request, where metrics are on.
pub fn request(route: &str, outcome: &str, latency_ms: f64) {
    if let Some(ns) = namespace() {
        emit(&request_line(ns, route, outcome, latency_ms, now_ms()));
    }
}

/// Records an automatic lock, where metrics are on.
pub fn auto_lock() {
    if let Some(ns) = namespace() {
        emit(&count_line(ns, "AutoLocks", now_ms()));
    }
}

/// Records an audit entry that could not be written (the stage alarms on any).
pub fn audit_write_failed() {
    if let Some(ns) = namespace() {
        emit(&count_line(ns, "AuditWriteFailures", now_ms()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CloudWatch requires of an embedded-metric line: every metric named in a directive
    /// and every dimension is a member of the root, metrics are numbers, dimensions strings.
    fn assert_valid_emf(line: &Value) {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert!(line["_aws"]["Timestamp"].is_u64(), "{line}");
        assert!(directive["Namespace"].is_string());
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} missing: {line}");
        }
        for set in directive["Dimensions"].as_array().unwrap() {
            for dim in set.as_array().unwrap() {
                assert!(
                    line[dim.as_str().unwrap()].is_string(),
                    "{dim} missing: {line}"
                );
            }
        }
    }

    #[test]
    fn a_request_line_is_an_embedded_metric_by_outcome_and_route() {
        let line = request_line(
            "AccountApi/dev",
            "user-authentication",
            "account-locked",
            12.3456,
            1_764_000_000_000,
        );
        assert_valid_emf(&line);
        assert_eq!(line["Outcome"], "account-locked");
        assert_eq!(line["Route"], "user-authentication");
        assert_eq!(line["Latency"], 12.346);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "AccountApi/dev"
        );
        // nothing that names a person or a tenant
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
    }

    #[test]
    fn count_lines_are_embedded_metrics() {
        for metric in ["AutoLocks", "AuditWriteFailures"] {
            let line = count_line("AccountApi/dev", metric, 1);
            assert_valid_emf(&line);
            assert_eq!(line[metric], 1);
        }
    }
}
