#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The product under faults and load together (the test command's `fault` stage, which starts
//! `infra/local/fault_proxy.py` in front of the emulator and runs this with `--ignored`): the
//! functions reach Cognito and DynamoDB only through the proxy, which slows calls, refuses
//! them (resets, throttling, 5xx) and loses answers of calls it applied; several clients send
//! mixed traffic for a bounded time; then the invariants are checked against the emulator's
//! state (read directly, not through the proxy) and the audit trail:
//!
//! 1. no server error but the documented ones: `503 dependency-unavailable` with
//!    `Retry-After`, or `500 internal` (the function may have acted); nothing else 5xx;
//! 2. no account admitted past its password budget: a user who only ever gets wrong passwords
//!    has them checked (`401`) at most `maxPasswordAttempts` times, and is locked after;
//! 3. no account admitted past its lock, its disabling or its reset: no sign-in that started
//!    after an admin lock (disable) was answered 2xx signs in, unless an unlock (enable) could
//!    have come between; none after an admin reset's 2xx (nothing in the mix undoes one), and
//!    Cognito holds that user as `RESET_REQUIRED`;
//! 4. every state change answered 2xx (lock, unlock, disable, enable, reset) is in the trail,
//!    or held whole in the error log for `tenants replay-audit` (`Fallback`), and in the
//!    state: the last lock (disable, enable) answered 2xx with nothing after it that could
//!    undo it is what DynamoDB (Cognito) holds.
//!
//! It prints its figures (requests, faults injected, answers by class, violations) and fails
//! on any violation.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use account_api_tests::stack::{Stack, TenantFixture, api_request, random_password, unique};
use serde_json::{Value, json};
use shared::{
    AwsApp,
    adapters::cognito::CognitoDirectory,
    adapters::dynamodb::{DynamoAudit, DynamoLocks, DynamoTenants},
    domain::{
        audit::{AuditLog, Fallback},
        lock::Locks,
        tenant::CachedTenants,
        user_id::UserId,
    },
    testing::Answer,
};

/// How long the clients send, and how many there are.
const LOAD_FOR: Duration = Duration::from_secs(20);
const CLIENTS: usize = 4;
/// The demo tenant's password budget (the stack's tenants keep the default).
const MAX_PASSWORD_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    RightPassword,
    WrongPassword,
    Lock,
    Unlock,
    Disable,
    Enable,
    Reset,
    ForgotPassword,
}

/// One call as a client saw it.
#[derive(Debug, Clone)]
struct Seen {
    op: Op,
    user: String,
    started: Instant,
    ended: Instant,
    status: u16,
    slug: String,
    retry_after: bool,
    activity: String,
    /// A lock's reason, unique to the request: the lock that holds at the end names the
    /// request that put it.
    reason: Option<String>,
}

/// Numbers the locks' reasons.
static LOCKS_SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct World {
    t: TenantFixture,
    app: AwsApp,
    admin_token: String,
    /// Users an admin locks and unlocks, who sign in with their password (and sometimes not).
    managed: Vec<(String, String)>,
    /// Users who only ever get wrong passwords.
    guessed: Vec<String>,
    /// Users an admin resets (nothing in the mix undoes a reset), who try their password.
    reset: Vec<(String, String)>,
    started: Instant,
}

async fn one(w: &World, op: Op, user: &str, password: &str) -> Seen {
    // every admin operation: the user's path, the admin's token, no body but the lock's reason
    let reason = (op == Op::Lock).then(|| {
        let n = LOCKS_SENT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        format!("fault stage {n}")
    });
    let admin = |method, action: &str| {
        let body = match &reason {
            Some(reason) if action == "lock" => json!({ "reason": reason }),
            _ => Value::Null,
        };
        (
            method,
            format!("/users/{user}/{action}"),
            body,
            Some(w.admin_token.as_str()),
        )
    };
    let (method, path, body, token) = match op {
        Op::RightPassword | Op::WrongPassword => (
            "POST",
            "/user-authentication".to_string(),
            json!({"userID": user, "password": password}),
            None,
        ),
        Op::Lock => admin("PUT", "lock"),
        Op::Unlock => admin("PUT", "unlock"),
        Op::Disable => admin("POST", "admin-disable"),
        Op::Enable => admin("POST", "admin-enable"),
        Op::Reset => admin("POST", "admin-reset-password"),
        Op::ForgotPassword => (
            "POST",
            "/forgot-password".to_string(),
            json!({"userID": user}),
            None,
        ),
    };
    let req = api_request(&w.t, method, &path, &body, token);
    let started = Instant::now();
    let resp = match op {
        Op::RightPassword | Op::WrongPassword => w.app.handle::<auth::Group>(req).await,
        Op::Lock | Op::Unlock => w.app.handle::<lock::Group>(req).await,
        Op::Disable | Op::Enable | Op::Reset => w.app.handle::<admin::Group>(req).await,
        Op::ForgotPassword => w.app.handle::<password::Group>(req).await,
    };
    let a = Answer::from(resp);
    Seen {
        op,
        user: user.to_string(),
        started,
        ended: Instant::now(),
        status: a.status,
        slug: a.slug().to_string(),
        retry_after: a.retry_after.is_some(),
        activity: a.activity_id.clone(),
        reason,
    }
}

/// One client: a deterministic mix from its own seed, until the time is up.
async fn client(w: Arc<World>, seed: u64, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    while w.started.elapsed() < LOAD_FOR {
        let roll = next(100);
        let s = if roll < 20 {
            let g = &w.guessed[next(w.guessed.len())];
            one(&w, Op::WrongPassword, g, "Not-the-passw0rd!").await
        } else if roll < 25 {
            let (user, password) = &w.reset[next(w.reset.len())];
            let op = if next(3) == 0 {
                Op::Reset
            } else {
                Op::RightPassword
            };
            one(&w, op, user, password).await
        } else {
            let (user, password) = &w.managed[next(w.managed.len())];
            match roll {
                25..=50 => one(&w, Op::RightPassword, user, password).await,
                51..=57 => one(&w, Op::WrongPassword, user, "Not-the-passw0rd!").await,
                58..=67 => one(&w, Op::Lock, user, "").await,
                68..=79 => one(&w, Op::Unlock, user, "").await,
                80..=85 => one(&w, Op::Disable, user, "").await,
                86..=94 => one(&w, Op::Enable, user, "").await,
                _ => one(&w, Op::ForgotPassword, user, "").await,
            }
        };
        seen.lock().unwrap().push(s);
    }
}

async fn faults(proxy: &str) -> Value {
    reqwest::get(format!("{proxy}/_faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the fault stage runs it (infra/local/test.sh fault): it needs the fault proxy"]
async fn under_faults_and_load_nothing_is_admitted_lost_or_half_written() {
    let captured = shared::testing::CapturedLog::default();
    tracing::subscriber::set_global_default(captured.subscriber())
        .expect("the only subscriber of this test binary");
    let proxy = std::env::var("FAULT_PROXY_URL")
        .expect("FAULT_PROXY_URL: the fault stage starts the proxy and sets it");

    // set up directly on the emulator: the tenant, an admin, the users
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let direct = stack.app().await;
    let (_, admin_token) = stack.admin_token(&t, &direct).await;
    let mut managed = vec![];
    for _ in 0..4 {
        let (user, password) = (unique("managed"), random_password());
        stack.create_user(&t, &user, &password).await;
        managed.push((user, password));
    }
    let mut guessed = vec![];
    let mut guessed_passwords = BTreeMap::new();
    for _ in 0..3 {
        let (user, password) = (unique("guessed"), random_password());
        stack.create_user(&t, &user, &password).await;
        guessed_passwords.insert(user.clone(), password);
        guessed.push(user);
    }

    let mut reset = vec![];
    for _ in 0..2 {
        let (user, password) = (unique("reset"), random_password());
        stack.create_user(&t, &user, &password).await;
        reset.push((user, password));
    }

    // the functions under load reach AWS only through the proxy: each client's own endpoint
    // (the environment's AWS_ENDPOINT_URL would win over the shared configuration's)
    let sdk = shared::aws::sdk_config(&stack.config).unwrap();
    let mut app = AwsApp::from_sdk(stack.config.clone(), &sdk);
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(&proxy)
            .build(),
    );
    let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .endpoint_url(&proxy)
            .build(),
    );
    let c = &stack.config;
    app.tenants = CachedTenants::new(
        DynamoTenants::new(dynamodb.clone(), &c.tenants_table),
        c.tenant_cache_ttl,
    );
    app.directory = CognitoDirectory::new(cognito).with_http_timeout(c.attempt_timeout);
    app.locks = DynamoLocks::new(dynamodb.clone(), &c.account_state_table)
        .with_audit(shared::adapters::dynamodb::AuditTable::of(c));
    app.audit = DynamoAudit::new(dynamodb, &c.audit_table, c.audit_retention);
    let before = faults(&proxy).await;
    let world = Arc::new(World {
        t: t.clone(),
        app,
        admin_token,
        managed: managed.clone(),
        guessed: guessed.clone(),
        reset: reset.clone(),
        started: Instant::now(),
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(client(world.clone(), i as u64 + 1, seen.clone())))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let after = faults(&proxy).await;
    let seen = seen.lock().unwrap().clone();
    let mut violations: Vec<String> = vec![];

    // 1. server errors
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for s in &seen {
        *classes
            .entry(format!("{} {}", s.status, s.slug))
            .or_default() += 1;
        if s.status >= 500 {
            let documented =
                (s.status == 503 && s.slug == "dependency-unavailable" && s.retry_after)
                    || (s.status == 500 && s.slug == "internal");
            if !documented {
                violations.push(format!("{:?} {}: {} {}", s.op, s.user, s.status, s.slug));
            }
        }
    }

    // 2. the password budget of users who only get wrong passwords
    for g in &guessed {
        let checked = seen
            .iter()
            .filter(|s| &s.user == g && s.status == 401)
            .count();
        if checked > MAX_PASSWORD_ATTEMPTS {
            violations.push(format!(
                "{g}: {checked} wrong passwords checked, budget {MAX_PASSWORD_ATTEMPTS}"
            ));
        }
        if checked == MAX_PASSWORD_ATTEMPTS {
            // locked now: the right password does not sign in
            let a = account_api_tests::stack::sign_in(&direct, &t, g, &guessed_passwords[g]).await;
            if a.status == 200 {
                violations.push(format!("{g}: signed in after its budget was spent"));
            }
        }
    }

    // 3. locks and disables hold: no sign-in between an admin lock's (or disable's) 2xx and an
    // unlock (enable) that could have lifted it: one that ended after the lock began and began
    // before the sign-in ended, whatever it answered (a lost answer may hide a write)
    for (user, _) in &managed {
        let mine: Vec<&Seen> = seen.iter().filter(|s| &s.user == user).collect();
        for (set, lift) in [(Op::Lock, Op::Unlock), (Op::Disable, Op::Enable)] {
            for held in mine.iter().filter(|s| s.op == set && s.status == 200) {
                for s in mine
                    .iter()
                    .filter(|s| s.op == Op::RightPassword && s.status == 200)
                {
                    let may_have_lifted = mine
                        .iter()
                        .any(|u| u.op == lift && u.ended > held.started && u.started < s.ended);
                    if s.started > held.ended && !may_have_lifted {
                        violations.push(format!(
                            "{user}: signed in ({}) after {set:?} ({})",
                            s.activity, held.activity
                        ));
                    }
                }
            }
        }
    }

    // what Cognito holds of each user now (AdminGetUser, once each): enabled, and its status
    let mut cognito = BTreeMap::new();
    for (user, _) in managed.iter().chain(&reset) {
        let held = stack
            .cognito
            .admin_get_user()
            .user_pool_id(&t.user_pool_id)
            .username(user)
            .send()
            .await
            .unwrap();
        let status = held.user_status().map(|s| s.as_str().to_string());
        cognito.insert(user.clone(), (held.enabled(), status));
    }

    // ... and a reset holds: nothing in the mix undoes one, so no sign-in that started after a
    // reset's 2xx signs in, and Cognito holds the user as RESET_REQUIRED
    for (user, _) in &reset {
        let mine: Vec<&Seen> = seen.iter().filter(|s| &s.user == user).collect();
        let first = mine
            .iter()
            .filter(|s| s.op == Op::Reset && s.status == 200)
            .min_by_key(|s| s.ended);
        let Some(first) = first else { continue };
        for s in mine
            .iter()
            .filter(|s| s.op == Op::RightPassword && s.status == 200 && s.started > first.ended)
        {
            violations.push(format!(
                "{user}: signed in ({}) after its reset ({})",
                s.activity, first.activity
            ));
        }
        let status = &cognito[user].1;
        if status.as_deref() != Some("RESET_REQUIRED") {
            violations.push(format!(
                "{user}: reset answered 200, Cognito says {status:?}"
            ));
        }
    }

    // 4. every 2xx state change is in the trail (or held in the log), and in the state
    let log = captured.text();
    let held: HashSet<String> = Fallback::read_all(&log)
        .unwrap()
        .into_iter()
        .map(|f| f.event.activity_id)
        .collect();
    let trail = DynamoAudit::new(
        stack.dynamodb.clone(),
        &stack.config.audit_table,
        stack.config.audit_retention,
    );
    let locks = DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table);
    let mut audited = 0;
    let mut locks_traced = 0;
    for (user, _) in managed.iter().chain(&reset) {
        let id = UserId::parse(user).unwrap();
        let mut written = HashSet::new();
        let mut cursor = None;
        loop {
            let page = trail
                .list(&t.user_pool_id, &id, 100, cursor.as_deref())
                .await
                .unwrap();
            written.extend(
                page.events
                    .iter()
                    .filter(|e| e.outcome == "success")
                    .map(|e| e.activity_id.clone()),
            );
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mine: Vec<&Seen> = seen.iter().filter(|s| &s.user == user).collect();
        for s in mine.iter().filter(|s| {
            matches!(
                s.op,
                Op::Lock | Op::Unlock | Op::Disable | Op::Enable | Op::Reset
            ) && s.status == 200
        }) {
            audited += 1;
            if !written.contains(&s.activity) && !held.contains(&s.activity) {
                violations.push(format!(
                    "{user}: {:?} answered 200 ({}) has no audit entry",
                    s.op, s.activity
                ));
            }
        }
        // the last lock answered 2xx with no unlock sent after it still holds
        let last_lock = mine
            .iter()
            .filter(|s| s.op == Op::Lock && s.status == 200)
            .max_by_key(|s| s.ended);
        if let Some(lock) = last_lock {
            let unlocked_after = mine
                .iter()
                .any(|s| s.op == Op::Unlock && s.ended > lock.started);
            let state = locks.state(&t.user_pool_id, &id).await.unwrap();
            if !unlocked_after && state.lock.is_none() {
                violations.push(format!("{user}: its lock ({}) is gone", lock.activity));
            }
        }
        // the lock that holds, whatever its request answered (a lost answer, a sign-out that
        // failed after it), has its audit entry: it was written in the lock's transaction
        let holds = locks.state(&t.user_pool_id, &id).await.unwrap().lock;
        if let Some(reason) = holds.and_then(|l| l.reason) {
            let put_by = mine
                .iter()
                .find(|s| s.reason.as_deref() == Some(reason.as_str()));
            match put_by {
                Some(s) if written.contains(&s.activity) || held.contains(&s.activity) => {
                    locks_traced += 1;
                }
                Some(s) => violations.push(format!(
                    "{user}: the lock that holds ({}, answered {}) has no audit entry",
                    s.activity, s.status
                )),
                None => violations.push(format!(
                    "{user}: the lock that holds ({reason}) was sent by nobody"
                )),
            }
        }
        // the last disable (enable) answered 2xx with no enable (disable) that could have
        // come after it is what Cognito holds
        let enabled = cognito[user].0;
        for (set, undo, holds) in [
            (Op::Disable, Op::Enable, !enabled),
            (Op::Enable, Op::Disable, enabled),
        ] {
            let last = mine
                .iter()
                .filter(|s| s.op == set && s.status == 200)
                .max_by_key(|s| s.ended);
            if let Some(last) = last {
                let undone = mine.iter().any(|s| s.op == undo && s.ended > last.started);
                if !undone && !holds {
                    violations.push(format!(
                        "{user}: {set:?} ({}) answered 200 but Cognito says enabled = {enabled}",
                        last.activity
                    ));
                }
            }
        }
    }

    let count = |k: &str| after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0);
    println!(
        "fault stage: {} requests from {CLIENTS} clients in {:.0} s; {} backend calls through the \
         proxy, faults injected: {} slowed, {} reset, {} throttled, {} 5xx, {} answers lost",
        seen.len(),
        LOAD_FOR.as_secs_f64(),
        count("calls"),
        count("latency"),
        count("reset"),
        count("throttle"),
        count("5xx"),
        count("lost")
    );
    println!(
        "fault stage: answers by class: {}",
        classes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "fault stage: {audited} state changes answered 2xx checked against the trail ({} held in \
         the log for replay-audit), {locks_traced} locks still holding traced to their entry; \
         invariant violations: {}",
        held.len(),
        violations.len()
    );
    for v in &violations {
        println!("fault stage: violation: {v}");
    }
    assert!(
        count("reset") + count("throttle") + count("5xx") + count("lost") > 0,
        "no fault was injected: the functions did not go through the proxy"
    );
    assert!(
        violations.is_empty(),
        "violations:\n{}",
        violations.join("\n")
    );
}
