#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Timeouts budgeted end to end, read from the template and the functions' own settings
//! (`shared::config::Config::SETTINGS`), as deployed: each backend call's timeouts nest
//! (connect ≤ attempt ≤ the whole call), one whole call fits between a request's start and its
//! own deadline (the Lambda timeout less `DEADLINE_MARGIN_MS`, `shared::deadline`), every HTTP
//! function's timeout is inside API Gateway's 29 s, and every Cognito trigger's inside the
//! 5 s Cognito waits. Needs no emulator.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

/// API Gateway's REST integration timeout, the most a function behind it can have.
const API_GATEWAY_MS: u64 = 29_000;
/// How long Cognito waits for a Lambda trigger ("Each Lambda trigger must respond within 5
/// seconds", the developer guide's user pool Lambda triggers page).
const COGNITO_TRIGGER_MS: u64 = 5_000;
const TRIGGERS: [&str; 2] = ["pre-authentication", "custom-auth"];

fn yaml(path: &str) -> Value {
    let text =
        std::fs::read_to_string(format!("{}/../infra/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// A setting's value as one function runs with it: its own environment, else the template's
/// globals, else the function's default.
fn setting(name: &str, own: &Value, globals: &Value) -> u64 {
    let from = |env: &Value| {
        env["Environment"]["Variables"][name]
            .as_str()
            .map(|v| v.parse::<u64>().unwrap())
    };
    from(own).or_else(|| from(globals)).unwrap_or_else(|| {
        shared::config::Config::SETTINGS
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, d)| *d)
            .unwrap_or_else(|| panic!("{name} has no default"))
    })
}

struct Budget {
    timeout_ms: u64,
    connect_ms: u64,
    attempt_ms: u64,
    operation_ms: u64,
    margin_ms: u64,
}

/// Every function of the template, by binary, with its timeouts.
fn budgets() -> BTreeMap<String, Budget> {
    let template = yaml("template.yaml");
    let globals = &template["Globals"]["Function"];
    let mut out = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let own = &resource["Properties"];
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_string();
        let timeout_s = own["Timeout"]
            .as_u64()
            .or_else(|| globals["Timeout"].as_u64())
            .unwrap_or(3);
        out.insert(
            binary,
            Budget {
                timeout_ms: timeout_s * 1000,
                connect_ms: setting("CONNECT_TIMEOUT_MS", own, globals),
                attempt_ms: setting("ATTEMPT_TIMEOUT_MS", own, globals),
                operation_ms: setting("OPERATION_TIMEOUT_MS", own, globals),
                margin_ms: setting("DEADLINE_MARGIN_MS", own, globals),
            },
        );
    }
    out
}

#[test]
fn every_function_has_its_budget() {
    let all = budgets();
    for f in [
        "auth",
        "password",
        "admin",
        "lock",
        "users",
        "pre-authentication",
        "custom-auth",
    ] {
        assert!(all.contains_key(f), "{f} is not in the template");
    }
}

#[test]
fn a_backend_calls_timeouts_nest() {
    for (f, b) in budgets() {
        assert!(
            0 < b.connect_ms && b.connect_ms <= b.attempt_ms && b.attempt_ms <= b.operation_ms,
            "{f}: connect {} ≤ attempt {} ≤ operation {} does not hold",
            b.connect_ms,
            b.attempt_ms,
            b.operation_ms
        );
    }
}

/// The request's own deadline leaves room for its answer and still lets one whole backend
/// call finish: a dependency that answers within its own timeout is never cut off by the
/// deadline on a request's first call.
#[test]
fn one_whole_backend_call_fits_before_the_requests_deadline() {
    for (f, b) in budgets() {
        assert!(
            b.margin_ms >= 250 && b.margin_ms < b.timeout_ms,
            "{f}: DEADLINE_MARGIN_MS {} must leave the answer time (≥ 250 ms) and the request some",
            b.margin_ms
        );
        let deadline = b.timeout_ms - b.margin_ms;
        assert!(
            b.operation_ms <= deadline,
            "{f}: one call may take {} ms, the request's deadline is {deadline} ms (Timeout {} ms \
             less DEADLINE_MARGIN_MS {})",
            b.operation_ms,
            b.timeout_ms,
            b.margin_ms
        );
    }
}

#[test]
fn http_functions_answer_inside_api_gateway_and_triggers_inside_cognito() {
    for (f, b) in budgets() {
        let limit = if TRIGGERS.contains(&f.as_str()) {
            COGNITO_TRIGGER_MS
        } else {
            API_GATEWAY_MS
        };
        assert!(
            b.timeout_ms <= limit,
            "{f}: Timeout {} ms is over the {limit} ms its caller waits",
            b.timeout_ms
        );
    }
    // no integration waits less than its function may take, nor more than the gateway allows
    let gateway = yaml("api-gateway.yaml");
    let budgets = budgets();
    for (path, item) in gateway["paths"].as_mapping().unwrap() {
        for (method, op) in item.as_mapping().unwrap() {
            let integration = &op["x-amazon-apigateway-integration"];
            let uri = serde_yaml_ng::to_string(&integration["uri"]).unwrap();
            let function = budgets
                .keys()
                .find(|f| {
                    let resource: String = f
                        .split('-')
                        .map(|w| w[..1].to_uppercase() + &w[1..])
                        .collect();
                    uri.contains(&format!("{resource}Function.Arn"))
                })
                .unwrap_or_else(|| panic!("{method:?} {path:?} names no function: {uri}"));
            let waits = integration["timeoutInMillis"]
                .as_u64()
                .unwrap_or(API_GATEWAY_MS);
            assert!(
                budgets[function].timeout_ms <= waits && waits <= API_GATEWAY_MS,
                "{method:?} {path:?}: the integration waits {waits} ms for {function}"
            );
        }
    }
}
