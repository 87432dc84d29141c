//! The performance benchmark (infra/docs/performance.md): cold start of each function's release
//! `bootstrap`, the handler overhead per route on in-memory ports, and end-to-end latency
//! against the local emulator next to the SDK calls made. Prints Markdown tables with the
//! targets of the performance issue beside the medians. Run it with `infra/local/bench.sh`,
//! which builds the release binaries and starts the emulator first.
//!
//!   cargo bench -p account-api-tests --bench bench -- cold target/release [--runs 30]
//!       [--tenant .local/bench-tenant.json --timing .local/emulator-timing.log]  (with the emulator)
//!       [--tls-endpoint URL --tls-ca PEM]  (the emulator behind TLS: first requests over HTTPS,
//!       and one connection or two for two concurrent writes)
//!       [--tls-delayed-endpoint URL --tls-delayed-ca PEM --tls-delayed-what TEXT]  (the same
//!       with a service's and a network's time added, TEXT saying how much)
//!   cargo bench -p account-api-tests --bench bench -- warm [--runs 300]
//!   cargo bench -p account-api-tests --bench bench -- e2e [--runs 20]   (needs the emulator)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cold;
mod e2e;
mod warm;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use account_api_tests::{
    measure::{median_of, ms, summary, table, us},
    stack::api_event,
};
use serde_json::json;

const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("auth", "POST", "/user-authentication"),
    ("password", "POST", "/forgot-password"),
    ("admin", "POST", "/users/demo-user/admin-disable"),
    ("lock", "GET", "/users/demo-user/lock"),
    ("users", "GET", "/users"),
    ("pre-authentication", "", ""),
    ("custom-auth", "", ""),
];

const INIT_TARGET: Duration = Duration::from_millis(4);
const FIRST_RESPONSE_MARGIN: Duration = Duration::from_millis(1);
/// Init within this multiple of the floor's (issue: the product's own start-up at most 30 %).
const FLOOR_RATIO_TARGET: f64 = 1.3;
/// A first request over TLS also pays its handshakes and certificate verification.
const FIRST_TLS_RESPONSE_MARGIN: Duration = Duration::from_millis(3);
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
            let flag = |name: &str| {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .cloned()
            };
            cold(&dir, runs.unwrap_or(30), &mut v).and_then(|()| {
                let Some((tenant, timing)) = flag("--tenant").zip(flag("--timing")) else {
                    return Ok(());
                };
                let plain = std::env::var("AWS_ENDPOINT_URL")
                    .map_err(|_| "AWS_ENDPOINT_URL is not set".to_string())?;
                let runs = runs.unwrap_or(30);
                let rt = runtime();
                let backend = Backend {
                    endpoint: plain,
                    extra_ca: None,
                    margin: FIRST_RESPONSE_MARGIN,
                };
                rt.block_on(cold_backend(&dir, runs, &tenant, &timing, &backend, &mut v))?;
                match flag("--tls-endpoint").zip(flag("--tls-ca")) {
                    Some((endpoint, ca)) => {
                        let tls = Backend {
                            endpoint,
                            extra_ca: Some(ca.clone()),
                            margin: FIRST_TLS_RESPONSE_MARGIN,
                        };
                        rt.block_on(cold_backend(&dir, runs, &tenant, &timing, &tls, &mut v))?;
                        let mut endpoints = vec![("the emulator".to_string(), tls.endpoint, ca)];
                        if let Some((endpoint, ca)) =
                            flag("--tls-delayed-endpoint").zip(flag("--tls-delayed-ca"))
                        {
                            let what = flag("--tls-delayed-what")
                                .unwrap_or_else(|| "a service's and a network's time".into());
                            endpoints.push((
                                format!("the emulator, {what}, waited in parallel"),
                                endpoint,
                                ca,
                            ));
                        }
                        rt.block_on(connections(&endpoints, runs))
                    }
                    None => Ok(()),
                }
            })
        }
        Some("steps") => {
            let dir = args
                .get(1)
                .map_or_else(|| PathBuf::from("target/release"), PathBuf::from);
            steps(&dir, runs.unwrap_or(30))
        }
        Some("warm") => paused_runtime().block_on(warm(runs.unwrap_or(300), &mut v)),
        Some("e2e") => runtime().block_on(e2e(runs.unwrap_or(20), &mut v)),
        _ => Err(
            "usage: bench cold <release dir> | steps <release dir> | warm | e2e  [--runs N]".into(),
        ),
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

/// [`runtime`] with tokio's clock paused: a sleep ends as soon as nothing else can run, so a
/// deliberate wait (a sign-out answering only in the next second, `shared::session`) costs
/// nothing, while the work around it is timed with the real clock (`std::time::Instant`).
/// Handler overhead, not waits chosen on purpose.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

/// A current-thread runtime, as each function's `main` runs on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The environment Lambda gives a function (`provided.al2023`; no `HOME`, no `SSL_CERT_FILE`
/// or `SSL_CERT_DIR`), and ours: tables, region, credentials, endpoint. The process starts
/// with nothing else (`cold::run` clears the environment).
fn lambda_env(function: &str, endpoint: &str, tables: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("_HANDLER", "bootstrap".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("TZ", ":UTC".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_MAX_ATTEMPTS", "1".into()),
        ("TENANTS_TABLE", format!("{tables}-tenants")),
        ("ACCOUNT_STATE_TABLE", format!("{tables}-account-state")),
        ("AUDIT_TABLE", format!("{tables}-audit")),
        // the floor is a deliberate wait against timing attacks, not start-up cost
        ("FORGOT_PASSWORD_FLOOR_MS", "0".into()),
        ("RUST_LOG", "info".into()),
        // the stack sets it: every request writes its metric line (shared::metrics)
        ("METRICS_NAMESPACE", "AccountApi/bench".into()),
    ]
}

/// The event each function answers without calling a backend.
fn cold_event(function: &str, method: &str, path: &str) -> String {
    if function == "custom-auth" {
        // the custom sign-in's first step: decided without any read
        return include_str!("../../../events/custom-auth/define-first-challenge.json").into();
    }
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
    let headers = [("content-type".to_string(), "application/json".to_string())];
    api_event(method, path, &json!({}), &headers).to_string()
}

/// What `runs` fresh processes of one binary took: init, first response, peak RSS.
struct Sample {
    init: Vec<Duration>,
    faults: Vec<u64>,
    first: Vec<Duration>,
    rss_kib: Vec<u64>,
    outcome: String,
}

/// `runs` cold starts of each binary of `binaries` (name, bootstrap, event), interleaved run
/// by run as `steps` does, so that this machine's drift falls on every binary alike instead
/// of on whichever was measured last.
fn measure(
    binaries: &[(&str, std::path::PathBuf, String)],
    runs: usize,
) -> Result<Vec<Sample>, String> {
    let mut samples: Vec<Sample> = binaries
        .iter()
        .map(|_| Sample {
            init: vec![],
            faults: vec![],
            first: vec![],
            rss_kib: vec![],
            outcome: String::new(),
        })
        .collect();
    eprint!("cold starts, {} binaries interleaved: ", binaries.len());
    for _ in 0..runs {
        for ((name, bootstrap, event), sample) in binaries.iter().zip(&mut samples) {
            // never called: the events need no backend; a closed port if one were
            let env = lambda_env(name, "http://127.0.0.1:9", "bench");
            let r = cold::run(bootstrap, std::slice::from_ref(event), &env)
                .map_err(|e| format!("{name}: {e}"))?;
            let answer = r.invocations.first().ok_or("no answer")?;
            sample.init.push(r.init);
            sample.faults.push(r.init_faults);
            sample.first.push(answer.answered);
            sample.rss_kib.push(r.peak_rss_kib);
            sample.outcome.clone_from(&answer.outcome);
        }
        eprint!(".");
    }
    eprintln!();
    Ok(samples)
}

/// Where a function's init goes: `infra/floor`'s `init-steps`, the floor preceded by the
/// first n of the functions' own start-up steps, for n = 0..=6, started as Lambda starts a
/// function, interleaved run by run so that drift falls on every step alike. Each step's cost
/// is the difference of consecutive medians.
fn steps(dir: &std::path::Path, runs: usize) -> Result<(), String> {
    /// The steps up to and including the Cognito client.
    const SDK_STEPS: usize = 5;
    const NAMES: [&str; 7] = [
        "the floor's loop, in a binary that links the product (0 steps)",
        "+ logging set-up (tracing-subscriber, JSON, EnvFilter)",
        "+ configuration from the environment",
        "+ SDK configuration (from the environment; HTTPS transport, rustls and its roots)",
        "+ DynamoDB client",
        "+ Cognito client",
        "+ SES client",
    ];
    let event = cold_event("auth", "POST", "/user-authentication");
    let mut inits: Vec<Vec<Duration>> = vec![vec![]; NAMES.len() + 1];
    let mut faults: Vec<Vec<u64>> = vec![vec![]; NAMES.len() + 1];
    eprint!("init steps: ");
    for _ in 0..runs {
        let floor = cold::run(
            &dir.join("floor"),
            std::slice::from_ref(&event),
            &lambda_env("floor", "http://127.0.0.1:9", "bench"),
        )?;
        inits[0].push(floor.init);
        faults[0].push(floor.init_faults);
        for n in 0..NAMES.len() {
            let mut env = lambda_env("init-steps", "http://127.0.0.1:9", "bench");
            env.push(("INIT_STEPS", n.to_string()));
            let r = cold::run(&dir.join("init-steps"), std::slice::from_ref(&event), &env)?;
            inits[n + 1].push(r.init);
            faults[n + 1].push(r.init_faults);
        }
        eprint!(".");
    }
    eprintln!();
    let medians: Vec<Duration> = inits.iter_mut().map(|i| summary(i).0).collect();
    let fault_medians: Vec<u64> = faults.iter_mut().map(|f| median_of(f)).collect();
    let floor = medians[0].as_secs_f64().max(1e-9);
    let mut rows = vec![vec![
        "the floor (bare lambda_runtime)".to_string(),
        ms(medians[0]),
        "1.00×".into(),
        String::new(),
        fault_medians[0].to_string(),
        String::new(),
    ]];
    for (n, name) in NAMES.iter().enumerate() {
        let (at, before) = (medians[n + 1], medians[n]);
        let delta = at.as_secs_f64() - before.as_secs_f64();
        rows.push(vec![
            (*name).to_string(),
            ms(at),
            format!("{:.2}×", at.as_secs_f64() / floor),
            format!("{:+.0} µs", delta * 1e6),
            fault_medians[n + 1].to_string(),
            format!(
                "{:+}",
                i128::from(fault_medians[n + 1]) - i128::from(fault_medians[n])
            ),
        ]);
    }
    table(
        &format!("Where init goes ({runs} fresh processes per step, interleaved; medians)"),
        &[
            "init of",
            "median",
            "× floor",
            "this step",
            "page faults by init",
            "this step's",
        ],
        &rows,
    );
    // what every function's init starts from: the set-up each of them needs for its first
    // event (its tenant read and its directory call go through the two clients)
    let sdk = medians[SDK_STEPS + 1].as_secs_f64() / floor;
    println!(
        "\nThe set-up every function needs for its first event (steps 1-{SDK_STEPS}: logging, \
         configuration, the SDK configuration with its HTTPS transport, the DynamoDB and \
         Cognito clients) takes init to {sdk:.2}× the floor before any of the product's own \
         code runs.\n"
    );
    Ok(())
}

/// Each function's cold start beside the floor's (`infra/floor`: a bare `lambda_runtime`
/// binary, same release profile, answering a constant), measured in the same run the same
/// way, and its init as a multiple of the floor's: what the product itself adds.
fn cold(dir: &std::path::Path, runs: usize, v: &mut Verdicts) -> Result<(), String> {
    let api_event = cold_event("auth", "POST", "/user-authentication");
    let mut binaries = vec![("floor", dir.join("floor"), api_event)];
    for (function, method, path) in FUNCTIONS {
        binaries.push((
            function,
            dir.join(function),
            cold_event(function, method, path),
        ));
    }
    let mut samples = measure(&binaries, runs)?.into_iter();
    let mut floor = samples.next().ok_or("no floor sample")?;
    let (floor_init, floor_p95) = summary(&mut floor.init);
    let (floor_first, floor_first_p95) = summary(&mut floor.first);
    let floor_rss = floor.rss_kib.iter().max().copied().unwrap_or(0);
    let mut rows = vec![vec![
        "floor (bare lambda_runtime)".to_string(),
        format!("{} / {}", ms(floor_init), ms(floor_p95)),
        "1.00×".into(),
        "".into(),
        "".into(),
        median_of(&mut floor.faults).to_string(),
        format!("{} / {}", ms(floor_first), ms(floor_first_p95)),
        "".into(),
        format!("{:.1} MiB", floor_rss as f64 / 1024.0),
        "".into(),
        "a constant".into(),
    ]];
    for ((function, _, _), mut sample) in FUNCTIONS.iter().zip(samples) {
        let (init_median, init_p95) = summary(&mut sample.init);
        let (first_median, first_p95) = summary(&mut sample.first);
        let rss_max = sample.rss_kib.iter().max().copied().unwrap_or(0);
        let ratio = init_median.as_secs_f64() / floor_init.as_secs_f64().max(1e-9);
        let init_ok = v.check(init_median <= INIT_TARGET, || {
            format!("{function}: init {} > {}", ms(init_median), ms(INIT_TARGET))
        });
        let ratio_ok = v.check(ratio <= FLOOR_RATIO_TARGET, || {
            format!("{function}: init {ratio:.2}× the floor's > {FLOOR_RATIO_TARGET}×")
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
            format!("{ratio:.2}×"),
            ratio_ok.into(),
            init_ok.into(),
            median_of(&mut sample.faults).to_string(),
            format!("{} / {}", ms(first_median), ms(first_p95)),
            first_ok.into(),
            format!("{:.1} MiB", rss_max as f64 / 1024.0),
            rss_ok.into(),
            sample.outcome,
        ]);
    }
    let init_target = format!("≤ {}", ms(INIT_TARGET));
    let ratio_target = format!("≤ {FLOOR_RATIO_TARGET}×");
    table(
        &format!(
            "Cold start ({runs} fresh processes per binary, an answer needing no backend; the floor is a bare lambda_runtime binary)"
        ),
        &[
            "binary",
            "init median / p95",
            "× floor",
            &ratio_target,
            &init_target,
            "page faults by init (median)",
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

/// `(calls, time)` the emulator spent on requests that started and ended between `from` and
/// `to`, from its timing log (`infra/local/emulator --timing-log`).
fn emulator_time(
    log: &str,
    from: std::time::SystemTime,
    to: std::time::SystemTime,
) -> Result<(usize, Duration), String> {
    let ns = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    };
    let (from, to) = (ns(from), ns(to));
    let text = std::fs::read_to_string(log).map_err(|e| format!("{log}: {e}"))?;
    let (mut calls, mut total) = (0, 0u128);
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(Ok(start)), Some(Ok(end))) = (
            parts.next().map(str::parse::<u128>),
            parts.next().map(str::parse::<u128>),
        ) else {
            continue;
        };
        if start >= from && end <= to {
            calls += 1;
            total += end - start;
        }
    }
    Ok((
        calls,
        Duration::from_nanos(u64::try_from(total).unwrap_or(u64::MAX)),
    ))
}

/// Cold start on a real first request: each function's main event against the emulator,
/// twice in one fresh process (cold, then warm). What the handler takes beyond the emulator's
/// own time is our code plus the loopback HTTP of each call; the warm answer gives that cost
/// per call, so the cold penalty is what the first request pays beyond it.
/// Where the functions reach Cognito and DynamoDB for the first-request measurement: the
/// emulator over plain HTTP, or the TLS endpoint in front of it (with its run-time CA).
struct Backend {
    endpoint: String,
    extra_ca: Option<String>,
    /// What a first request may pay beyond its backend.
    margin: Duration,
}

async fn cold_backend(
    dir: &std::path::Path,
    runs: usize,
    tenant_file: &str,
    timing: &str,
    backend: &Backend,
    v: &mut Verdicts,
) -> Result<(), String> {
    use account_api_tests::stack::{Stack, TenantFixture, tenant_headers};
    let text = std::fs::read_to_string(tenant_file).map_err(|e| format!("{tenant_file}: {e}"))?;
    let t: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let field = |k: &str| t[k].as_str().unwrap_or_default().to_string();
    let fixture = TenantFixture {
        client_id: field("clientId"),
        client_code: field("clientCode"),
        database: field("database"),
        user_pool_id: field("userPoolId"),
        app_client_id: field("appClientId"),
    };
    let stack = Stack::connect().await;
    let app = stack.app().await;
    let admin = stack
        .sign_in(
            &fixture,
            &app,
            &field("adminUserID"),
            &field("adminPassword"),
        )
        .await;
    let event = |method: &str, path: &str, body: serde_json::Value, admin_token: bool| {
        let headers = tenant_headers(&fixture, admin_token.then_some(admin.as_str()));
        api_event(method, path, &body, &headers).to_string()
    };
    let demo_user = field("demoUserID");
    let sign_in = json!({"userID": demo_user, "password": field("demoPassword")});
    let trigger = json!({
        "version": "1", "triggerSource": "PreAuthentication_Authentication",
        "region": "us-east-1", "userPoolId": fixture.user_pool_id, "userName": demo_user,
        "callerContext": {"awsSdkVersion": "bench", "clientId": fixture.app_client_id},
        "request": {"userAttributes": {}}, "response": {}
    });
    // a wrong registration code: one read of the link item, as a right one takes
    let verify = json!({
        "version": "1", "triggerSource": "VerifyAuthChallengeResponse_Authentication",
        "region": "us-east-1", "userPoolId": fixture.user_pool_id, "userName": demo_user,
        "callerContext": {"awsSdkVersion": "bench", "clientId": fixture.app_client_id},
        "request": {"userAttributes": {}, "privateChallengeParameters": {},
                    "challengeAnswer": "passkey-registration:not-the-code", "userNotFound": false},
        "response": {}
    });
    let user_path = |rest: &str| format!("/users/{demo_user}{rest}");
    let null = serde_json::Value::Null;
    let events = [
        (
            "auth",
            "POST /user-authentication",
            event("POST", "/user-authentication", sign_in, false),
        ),
        (
            "password",
            "POST /forgot-password",
            event(
                "POST",
                "/forgot-password",
                json!({"userID": demo_user}),
                false,
            ),
        ),
        (
            "admin",
            "POST /users/{userID}/admin-enable",
            event("POST", &user_path("/admin-enable"), null.clone(), true),
        ),
        (
            "lock",
            "GET /users/{userID}/lock",
            event("GET", &user_path("/lock"), null.clone(), true),
        ),
        (
            "users",
            "GET /users/{userID}",
            event("GET", &user_path(""), null, true),
        ),
        ("pre-authentication", "the trigger", trigger.to_string()),
        ("custom-auth", "the code's check", verify.to_string()),
    ];
    let tables = std::env::var("TENANTS_TABLE")
        .ok()
        .and_then(|t| t.strip_suffix("-tenants").map(str::to_string))
        .unwrap_or_else(|| "local".into());
    let mut rows = vec![];
    for (function, name, event) in events {
        let mut env = lambda_env(function, &backend.endpoint, &tables);
        if let Some(ca) = &backend.extra_ca {
            env.push((shared::https::EXTRA_CA_ENV, ca.clone()));
        }
        let mut samples: [Vec<Duration>; 5] = Default::default();
        let (mut calls, mut outcome) = ((0, 0), String::new());
        eprint!(
            "cold start with the emulator ({}): {function} ",
            backend.endpoint
        );
        for _ in 0..runs {
            let r = cold::run(&dir.join(function), &[event.clone(), event.clone()], &env)
                .map_err(|e| format!("{function}: {e}"))?;
            let [cold, warm] = r.invocations.as_slice() else {
                return Err(format!("{function}: not two answers"));
            };
            let (cold_calls, cold_emulator) =
                emulator_time(timing, cold.served_wall, cold.answered_wall)?;
            let (warm_calls, warm_emulator) =
                emulator_time(timing, warm.served_wall, warm.answered_wall)?;
            let per_call = warm.handler.saturating_sub(warm_emulator)
                / u32::try_from(warm_calls.max(1)).unwrap_or(1);
            let transport = per_call * u32::try_from(cold_calls).unwrap_or(0);
            let penalty = cold
                .handler
                .saturating_sub(cold_emulator)
                .saturating_sub(transport);
            for (i, d) in [
                cold.handler,
                cold_emulator,
                warm.handler,
                warm_emulator,
                penalty,
            ]
            .into_iter()
            .enumerate()
            {
                samples[i].push(d);
            }
            calls = (cold_calls, warm_calls);
            outcome.clone_from(&cold.outcome);
            eprint!(".");
        }
        eprintln!();
        let [
            cold_handler,
            cold_emulator,
            warm_handler,
            warm_emulator,
            penalty,
        ] = samples.map(|mut s| summary(&mut s).0);
        let ok = v.check(penalty <= backend.margin, || {
            format!(
                "{function}: a first request to {} pays {} beyond its backend",
                backend.endpoint,
                ms(penalty)
            )
        });
        rows.push(vec![
            function.to_string(),
            name.to_string(),
            outcome,
            format!(
                "{} / {} ({} calls)",
                ms(cold_handler),
                ms(cold_emulator),
                calls.0
            ),
            format!(
                "{} / {} ({} calls)",
                ms(warm_handler),
                ms(warm_emulator),
                calls.1
            ),
            ms(penalty),
            ok.into(),
        ]);
    }
    let over = if backend.extra_ca.is_some() {
        "over TLS"
    } else {
        "over plain HTTP"
    };
    let target = format!("≤ {}", ms(backend.margin));
    table(
        &format!(
            "First request with a backend {over} ({runs} fresh processes per function, each \
             answering its event twice; medians)"
        ),
        &[
            "function",
            "event",
            "answer",
            "cold: handler / in the emulator",
            "warm: handler / in the emulator",
            "cold penalty",
            &target,
        ],
        &rows,
    );
    Ok(())
}

/// One TLS connection or two for the writes a successful sign-in makes together (its lockout
/// settlement and its audit entry, `functions/auth`): a cold process's DynamoDB pool holds the
/// one connection its earlier reads opened, so the second of two concurrent writes opens (and
/// resumes) a second TLS connection. Measured against the other choice, the two writes one
/// after the other on the one connection: each run a fresh transport (a new pool and TLS
/// session cache, as in a cold process), one read to open the connection as the tenant read
/// does, then the pair; the two variants interleaved run by run. Against the emulator as it is
/// (which serves one request at a time, so concurrency cannot gain there) and, when given, an
/// endpoint that adds a service's time to each answer and a network's round trips to each new
/// connection, waited in parallel.
async fn connections(endpoints: &[(String, String, String)], runs: usize) -> Result<(), String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    // the functions' own configuration (timeouts, retries), pointed at `endpoint`
    let config = shared::config::Config::from_env().map_err(|e| e.to_string())?;
    let audit = config.audit_table.clone();
    let mut rows = vec![];
    for (label, endpoint, ca) in endpoints {
        let client = || {
            let http = shared::https::client_trusting(Some(std::path::Path::new(ca)))
                .map_err(|e| e.to_string())?;
            let env = |name: &str| match name {
                "AWS_ENDPOINT_URL" => Some(endpoint.clone()),
                _ => std::env::var(name).ok(),
            };
            let sdk =
                shared::aws::sdk_config_from(&config, env, http).map_err(|e| e.to_string())?;
            Ok::<_, String>(aws_sdk_dynamodb::Client::new(&sdk))
        };
        let put = |db: &aws_sdk_dynamodb::Client, run: usize, which: &str| {
            db.put_item()
                .table_name(&audit)
                .item("pk", AttributeValue::S(format!("bench#connections-{run}")))
                .item(
                    "sk",
                    AttributeValue::S(format!("{which}#{}", std::process::id())),
                )
                .send()
        };
        let (mut two, mut one) = (vec![], vec![]);
        eprint!("one TLS connection or two for two writes ({endpoint}) ");
        for run in 0..runs {
            let order = if run % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for concurrent in order {
                let db = client()?;
                // the connection the request's earlier reads leave in the pool
                db.describe_table()
                    .table_name(&audit)
                    .send()
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                let start = std::time::Instant::now();
                let (a, b) = if concurrent {
                    tokio::join!(put(&db, run, "settle"), put(&db, run, "audit"))
                } else {
                    let a = put(&db, run, "settle").await;
                    (a, put(&db, run, "audit").await)
                };
                let took = start.elapsed();
                a.and(b).map_err(|e| format!("{e:?}"))?;
                if concurrent { &mut two } else { &mut one }.push(took);
            }
            eprint!(".");
        }
        eprintln!();
        let (two, one) = (summary(&mut two).0, summary(&mut one).0);
        // medians closer than 5 % are this machine's noise, not a difference
        let cheaper = if two.abs_diff(one) * 20 < two.min(one) {
            "neither (within 5 %)"
        } else if two < one {
            "two connections"
        } else {
            "one connection"
        };
        rows.push(vec![label.clone(), ms(two), ms(one), cheaper.into()]);
    }
    table(
        &format!(
            "Two writes after a read, on a cold transport over TLS ({runs} runs each, \
             interleaved; medians)"
        ),
        &[
            "endpoint",
            "together: the second on a connection of its own (as the sign-in makes them)",
            "one after the other, on the one connection",
            "cheaper end to end",
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
