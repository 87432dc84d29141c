//! The performance benchmark (README, "Performance"): cold start of each function's release
//! `bootstrap`, the handler overhead per route on in-memory ports, and end-to-end latency
//! against the local emulator next to the SDK calls made. Prints Markdown tables with the
//! targets of the performance issue beside the medians. Run it with `infra/local/bench.sh`,
//! which builds the release binaries and starts the emulator first.
//!
//!   cargo bench -p account-api-tests --bench bench -- cold target/release [--runs 30]
//!   cargo bench -p account-api-tests --bench bench -- warm [--runs 300]
//!   cargo bench -p account-api-tests --bench bench -- e2e [--runs 20]   (needs the emulator)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cold;
mod e2e;
mod warm;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use account_api_tests::measure::{ms, summary, table, us};
use serde_json::json;

const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("auth", "POST", "/user-authentication"),
    ("password", "POST", "/forgot-password"),
    ("admin", "POST", "/users/demo-user/admin-disable"),
    ("lock", "GET", "/users/demo-user/lock"),
    ("users", "GET", "/users"),
    ("pre-authentication", "", ""),
];

const INIT_TARGET: Duration = Duration::from_millis(10);
const FIRST_RESPONSE_MARGIN: Duration = Duration::from_millis(1);
const RSS_TARGET_KIB: u64 = 30 * 1024;
const OVERHEAD_TARGET: Duration = Duration::from_micros(100);
const E2E_RATIO_TARGET: f64 = 1.1;

struct Verdicts {
    met: usize,
    missed: Vec<String>,
}

impl Verdicts {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) -> &'static str {
        if ok {
            self.met += 1;
            "yes"
        } else {
            self.missed.push(what());
            "**no**"
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());
    let mut v = Verdicts {
        met: 0,
        missed: vec![],
    };
    let result = match args.first().map(String::as_str) {
        Some("cold") => {
            let dir = args
                .get(1)
                .map_or_else(|| PathBuf::from("target/release"), PathBuf::from);
            cold(&dir, runs.unwrap_or(30), &mut v)
        }
        Some("warm") => runtime().block_on(warm(runs.unwrap_or(300), &mut v)),
        Some("e2e") => runtime().block_on(e2e(runs.unwrap_or(20), &mut v)),
        _ => Err("usage: bench cold <release dir> | warm | e2e  [--runs N]".into()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("\ntargets met: {}, missed: {}", v.met, v.missed.len());
    for m in &v.missed {
        println!("  missed: {m}");
    }
    ExitCode::SUCCESS
}

/// A current-thread runtime, as each function's `main` runs on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The event each function answers without calling a backend.
fn cold_event(function: &str, method: &str, path: &str) -> String {
    if function == "pre-authentication" {
        // a trigger event without its user: refused as malformed before any read
        return json!({
            "version": "1", "triggerSource": "PreAuthentication_Authentication",
            "region": "us-east-1", "userPoolId": "us-east-1_bench",
            "callerContext": {"awsSdkVersion": "bench", "clientId": "bench"},
            "request": {"userAttributes": {}}, "response": {}
        })
        .to_string();
    }
    // an API request without its tenant headers: 400 before the tenant registry is asked
    json!({
        "resource": path, "path": path, "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "requestContext": {"requestId": "bench", "resourcePath": path, "httpMethod": method,
                           "path": path, "stage": "bench", "identity": {"sourceIp": "127.0.0.1"}},
        "body": "{}", "isBase64Encoded": false
    })
    .to_string()
}

fn cold(dir: &std::path::Path, runs: usize, v: &mut Verdicts) -> Result<(), String> {
    let mut rows = vec![];
    for (function, method, path) in FUNCTIONS {
        let bootstrap = dir.join(function);
        let env = [
            ("AWS_LAMBDA_FUNCTION_NAME", (*function).to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "bench".into()),
            ("AWS_SECRET_ACCESS_KEY", "bench".into()),
            // never called: the events need no backend; a closed port if one were
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
            ("TENANTS_TABLE", "bench-tenants".into()),
            ("ACCOUNT_STATE_TABLE", "bench-account-state".into()),
            ("AUDIT_TABLE", "bench-audit".into()),
            ("RUST_LOG", "info".into()),
        ];
        let event = cold_event(function, method, path);
        let (mut init, mut first, mut rss, mut outcome) = (vec![], vec![], vec![], String::new());
        eprint!("cold start: {function} ");
        for _ in 0..runs {
            let r = cold::run(&bootstrap, &event, &env).map_err(|e| format!("{function}: {e}"))?;
            init.push(r.init);
            first.push(r.first_response);
            rss.push(r.peak_rss_kib);
            outcome = r.outcome;
            eprint!(".");
        }
        eprintln!();
        let (init_median, init_p95) = summary(&mut init);
        let (first_median, first_p95) = summary(&mut first);
        rss.sort_unstable();
        let rss_max = rss.last().copied().unwrap_or(0);
        let init_ok = v.check(init_median <= INIT_TARGET, || {
            format!("{function}: init {} > {}", ms(init_median), ms(INIT_TARGET))
        });
        let first_ok = v.check(first_median <= init_median + FIRST_RESPONSE_MARGIN, || {
            format!(
                "{function}: first response {} > init + 1 ms",
                ms(first_median)
            )
        });
        let rss_ok = v.check(rss_max <= RSS_TARGET_KIB, || {
            format!("{function}: peak RSS {rss_max} KiB > {RSS_TARGET_KIB} KiB")
        });
        rows.push(vec![
            (*function).to_string(),
            format!("{} / {}", ms(init_median), ms(init_p95)),
            init_ok.into(),
            format!("{} / {}", ms(first_median), ms(first_p95)),
            first_ok.into(),
            format!("{:.1} MiB", rss_max as f64 / 1024.0),
            rss_ok.into(),
            outcome,
        ]);
    }
    table(
        &format!("Cold start ({runs} fresh processes per function, an answer needing no backend)"),
        &[
            "function",
            "init median / p95",
            "≤ 10 ms",
            "first response median / p95",
            "≤ init + 1 ms",
            "peak RSS (max)",
            "≤ 30 MiB",
            "answer",
        ],
        &rows,
    );
    Ok(())
}

async fn warm(runs: usize, v: &mut Verdicts) -> Result<(), String> {
    let mut rows = vec![];
    let mut failed = vec![];
    for route in warm::ROUTES {
        let mut s = warm::measure(route, runs).await;
        let (median, p95) = summary(&mut s.times);
        let name = format!("{} {}", route.method, route.path);
        if !(200..300).contains(&s.status) {
            failed.push(format!("{name} answered {}", s.status));
        }
        let ok = v.check(median <= OVERHEAD_TARGET, || {
            format!("{name}: overhead {} > {}", us(median), us(OVERHEAD_TARGET))
        });
        rows.push(vec![
            route.function.to_string(),
            name,
            s.status.to_string(),
            us(median),
            us(p95),
            ok.into(),
        ]);
    }
    table(
        &format!("Handler overhead on in-memory ports ({runs} requests per route)"),
        &["function", "route", "status", "median", "p95", "≤ 100 µs"],
        &rows,
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("not a success path: {}", failed.join("; ")))
    }
}

async fn e2e(runs: usize, v: &mut Verdicts) -> Result<(), String> {
    let mut rows = vec![];
    let mut failed = vec![];
    for mut r in e2e::measure(runs).await {
        let (total, _) = summary(&mut r.total);
        let (backend, _) = summary(&mut r.backend);
        r.ratio.sort_by(f64::total_cmp);
        let ratio = r.ratio.get(r.ratio.len() / 2).copied().unwrap_or(0.0);
        if !(200..300).contains(&r.status) {
            failed.push(format!("{} answered {}", r.route, r.status));
        }
        let ok = v.check(ratio <= E2E_RATIO_TARGET, || {
            format!("{}: end to end {ratio:.3}× the SDK calls", r.route)
        });
        rows.push(vec![
            r.route,
            r.status.to_string(),
            r.calls.to_string(),
            ms(total),
            ms(backend),
            format!("{ratio:.3}"),
            ok.into(),
        ]);
    }
    table(
        &format!("End to end against the emulator ({runs} requests per route)"),
        &[
            "route",
            "status",
            "SDK calls",
            "handler median",
            "in SDK calls median",
            "ratio median",
            "≤ 1.1×",
        ],
        &rows,
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("not a success path: {}", failed.join("; ")))
    }
}
