#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One contract per store port, run on both implementations: the in-memory one the handler
//! tests use, and the DynamoDB one on the emulator. A fake that answers differently from the
//! real store would make the handler tests pin behaviour production does not have, so the
//! fakes are held to the same rules as the adapters here.

use std::time::{Duration, SystemTime};

use account_api_tests::stack::{Stack, unique};
use aws_sdk_dynamodb::types::AttributeValue;
use shared::{
    adapters::dynamodb::{AuditTable, DynamoAudit, DynamoLocks, DynamoTenants},
    domain::audit::{AuditLog, Event},
    domain::directory::Contact,
    domain::idempotency::{Claim, IN_FLIGHT_FOR, KEPT_FOR},
    domain::lock::{
        Audited, Budget, Budgets, Codes, Flows, Idempotency, Lock, LockSource, LockStore, Locks,
        Reservation, STALE_RESERVATION, SecurityKeys,
    },
    domain::store::StoreError,
    domain::tenant::TenantKey,
    domain::tenant::{LockoutPolicy, TenantRegistry},
    domain::u2f::{KeyRing, SecurityKey},
    domain::user_id::UserId,
    testing::{InMemoryAudit, InMemoryLocks, InMemoryTenants, tenant},
};

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn policy() -> LockoutPolicy {
    LockoutPolicy {
        max_password_attempts: 3,
        max_otp_attempts: 2,
        lockout_duration: Duration::from_secs(900),
    }
}

/// The audit entry an admin's `action` on `u` hands the store.
fn entry(u: &UserId, action: &str) -> Event {
    Event::new(u, &unique("activity"), "admin-sub", action, "success")
}

fn admin_lock(now: SystemTime, until: Option<u64>) -> Lock {
    Lock {
        source: LockSource::Admin,
        reason: Some("compromised".into()),
        locked_at: shared::time::rfc3339(now),
        locked_by: "admin-sub".into(),
        locked_until: until,
        budget: None,
    }
}

/// The lock store's contract; `trail` when the store writes a change's audit entry with it
/// (then every lock or unlock that changed the item says so, and a retry that changed nothing
/// leaves the entry to its caller). Returns the pool it used.
async fn lock_store_contract(store: &impl LockStore, trail: bool) -> String {
    let changed = if trail {
        Audited::WithTheChange
    } else {
        Audited::NotYet
    };
    let pool = &unique("pool");
    let (p, now) = (policy(), SystemTime::now());

    // an account nobody touched: no lock, a whole budget
    let fresh = store.state(pool, &user("fresh")).await.unwrap();
    assert_eq!((fresh.lock, fresh.failed_attempts), (None, 0));

    // the budget is spent one unit at a time, and a spent budget whose reservations are
    // recent is held by checks in flight
    let u = user("spender");
    for attempt in 1..=3 {
        let r = store
            .reserve_attempt(pool, &u, Budget::Password, &p, now)
            .await
            .unwrap();
        assert_eq!(r, Reservation::Granted { attempt });
    }
    let r = store
        .reserve_attempt(pool, &u, Budget::Password, &p, now)
        .await
        .unwrap();
    assert_eq!(r, Reservation::Exhausted);
    // a check that never happened gives its unit back; a success makes the budget whole
    store
        .release_attempt(pool, &u, Budget::Password)
        .await
        .unwrap();
    assert_eq!(store.state(pool, &u).await.unwrap().failed_attempts, 2);
    store
        .record_success(pool, &u, Budget::Password)
        .await
        .unwrap();
    assert_eq!(store.state(pool, &u).await.unwrap().failed_attempts, 0);

    // the last unit of a wrong password locks, with the policy as its source
    let u = user("guesser");
    for attempt in 1..=3 {
        assert_eq!(
            store
                .reserve_attempt(pool, &u, Budget::Password, &p, now)
                .await
                .unwrap(),
            Reservation::Granted { attempt }
        );
        let lock = store
            .record_failure(pool, &u, Budget::Password, attempt, &p, now)
            .await
            .unwrap();
        assert_eq!(lock.is_some(), attempt == 3, "attempt {attempt}");
    }
    let state = store.state(pool, &u).await.unwrap();
    let lock = state.lock.expect("locked by the policy");
    assert_eq!(lock.source, LockSource::LockoutPolicy);
    assert_eq!(state.failed_attempts, 3);
    assert!(matches!(
        store
            .reserve_attempt(pool, &u, Budget::Password, &p, now)
            .await
            .unwrap(),
        Reservation::Locked(_)
    ));
    // once the lockout is over it is no lock, and the next check starts a whole budget
    let later = now + p.lockout_duration + Duration::from_secs(1);
    assert_eq!(
        store
            .reserve_attempt(pool, &u, Budget::Password, &p, later)
            .await
            .unwrap(),
        Reservation::Granted { attempt: 1 }
    );

    // second-factor codes have a budget of their own: wrong codes do not spend the password
    // budget, a right password does not refill the code budget, and the last code locks
    let u = user("code-guesser");
    store
        .reserve_attempt(pool, &u, Budget::Password, &p, now)
        .await
        .unwrap();
    for attempt in 1..=2 {
        assert_eq!(
            store
                .reserve_attempt(pool, &u, Budget::Otp, &p, now)
                .await
                .unwrap(),
            Reservation::Granted { attempt }
        );
        store
            .record_success(pool, &u, Budget::Password)
            .await
            .unwrap();
        let lock = store
            .record_failure(pool, &u, Budget::Otp, attempt, &p, now)
            .await
            .unwrap();
        assert_eq!(lock.is_some(), attempt == 2, "code attempt {attempt}");
    }
    let state = store.state(pool, &u).await.unwrap();
    assert_eq!((state.failed_attempts, state.failed_otp_attempts), (0, 2));
    let lock = state.lock.expect("locked by the code budget");
    assert_eq!(lock.source, LockSource::LockoutPolicy);
    assert_eq!(
        lock.reason.as_deref(),
        Some("2 consecutive wrong second-factor codes")
    );
    assert!(matches!(
        store
            .reserve_attempt(pool, &u, Budget::Password, &p, now)
            .await
            .unwrap(),
        Reservation::Locked(_)
    ));
    // a recovery proves the mailbox, not the authenticator: a code lockout stays
    store.clear_lockout(pool, &u).await.unwrap();
    let state = store.state(pool, &u).await.unwrap();
    assert_eq!(
        state.lock.map(|l| (l.source, l.budget)),
        Some((LockSource::LockoutPolicy, Some(Budget::Otp)))
    );
    assert_eq!(state.failed_otp_attempts, 2);
    // after the lockout both budgets start whole; a code success refills only its own
    let later = now + p.lockout_duration + Duration::from_secs(1);
    assert_eq!(
        store
            .reserve_attempt(pool, &u, Budget::Otp, &p, later)
            .await
            .unwrap(),
        Reservation::Granted { attempt: 1 }
    );
    store
        .reserve_attempt(pool, &u, Budget::Password, &p, later)
        .await
        .unwrap();
    store.record_success(pool, &u, Budget::Otp).await.unwrap();
    let state = store.state(pool, &u).await.unwrap();
    assert_eq!((state.failed_attempts, state.failed_otp_attempts), (1, 0));
    // recovery makes the password budget whole and leaves the code budget; unlock makes both
    store
        .reserve_attempt(pool, &u, Budget::Otp, &p, later)
        .await
        .unwrap();
    store.clear_lockout(pool, &u).await.unwrap();
    let state = store.state(pool, &u).await.unwrap();
    assert_eq!((state.failed_attempts, state.failed_otp_attempts), (0, 1));
    store
        .reserve_attempt(pool, &u, Budget::Otp, &p, later)
        .await
        .unwrap();
    assert_eq!(
        store.unlock(pool, &u, &entry(&u, "unlock")).await.unwrap(),
        changed
    );
    assert_eq!(store.state(pool, &u).await.unwrap().failed_otp_attempts, 0);

    // a pending address is noted, replaced and forgotten; forgetting where nothing is noted
    // makes no item
    let u = user("mover");
    store
        .set_pending(pool, &u, Contact::Email, Some("a@example.com"))
        .await
        .unwrap();
    store
        .set_pending(pool, &u, Contact::Email, Some("b@example.com"))
        .await
        .unwrap();
    store
        .set_pending(pool, &u, Contact::Phone, Some("+15550100"))
        .await
        .unwrap();
    let state = store.state(pool, &u).await.unwrap();
    assert_eq!(
        (
            state.pending_email.as_deref(),
            state.pending_phone.as_deref()
        ),
        (Some("b@example.com"), Some("+15550100"))
    );
    store
        .set_pending(pool, &u, Contact::Email, None)
        .await
        .unwrap();
    let state = store.state(pool, &u).await.unwrap();
    assert_eq!(
        (state.pending_email, state.pending_phone.as_deref()),
        (None, Some("+15550100"))
    );
    store
        .set_pending(pool, &user("nobody"), Contact::Phone, None)
        .await
        .unwrap();
    assert_eq!(
        store.state(pool, &user("nobody")).await.unwrap(),
        Default::default()
    );

    // a budget held by checks that died in flight (no answer for STALE_RESERVATION) locks
    let u = user("stalled");
    for _ in 0..3 {
        store
            .reserve_attempt(pool, &u, Budget::Password, &p, now)
            .await
            .unwrap();
    }
    let stale = now + STALE_RESERVATION + Duration::from_secs(1);
    match store
        .reserve_attempt(pool, &u, Budget::Password, &p, stale)
        .await
        .unwrap()
    {
        Reservation::Locked(lock) => assert_eq!(lock.source, LockSource::LockoutPolicy),
        other => panic!("a stale reservation must lock, got {other:?}"),
    }

    // an admin lock is written, and a second one replaces it: the lock that holds is the last
    let u = user("locked");
    let first = store
        .lock(pool, &u, admin_lock(now, None), now, &entry(&u, "lock"))
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.audited, changed);
    let retry = store
        .lock(
            pool,
            &u,
            admin_lock(now + Duration::from_secs(5), None),
            now,
            &entry(&u, "lock"),
        )
        .await
        .unwrap();
    assert!(!retry.created);
    assert_eq!(retry.audited, Audited::NotYet, "a retry changed nothing");
    assert_eq!(
        retry.lock.locked_at, first.lock.locked_at,
        "a retry keeps the lock"
    );
    let far = shared::time::epoch_seconds(now) + 86_400;
    let again = store
        .lock(
            pool,
            &u,
            admin_lock(now, Some(far)),
            now,
            &entry(&u, "lock"),
        )
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.audited, changed);
    assert_eq!(again.lock.locked_until, Some(far));
    let held = store.state(pool, &u).await.unwrap().lock.unwrap();
    assert_eq!(
        (held.source, held.locked_until),
        (LockSource::Admin, Some(far))
    );
    // an admin lock replaces a lockout, which recovery then cannot lift
    let p2 = user("locked-out");
    for attempt in 1..=3 {
        store
            .reserve_attempt(pool, &p2, Budget::Password, &p, now)
            .await
            .unwrap();
        store
            .record_failure(pool, &p2, Budget::Password, attempt, &p, now)
            .await
            .unwrap();
    }
    let over = store
        .lock(pool, &p2, admin_lock(now, None), now, &entry(&p2, "lock"))
        .await
        .unwrap();
    assert!(!over.created);
    assert_eq!(over.audited, changed);
    store.clear_lockout(pool, &p2).await.unwrap();
    let held = store.state(pool, &p2).await.unwrap().lock.unwrap();
    assert_eq!((held.source, held.locked_until), (LockSource::Admin, None));
    // recovery lifts a lockout, never an admin lock
    store.clear_lockout(pool, &u).await.unwrap();
    assert!(store.state(pool, &u).await.unwrap().lock.is_some());
    let g = user("guesser");
    for attempt in 1..=3 {
        store
            .reserve_attempt(pool, &g, Budget::Password, &p, later)
            .await
            .ok();
        store
            .record_failure(pool, &g, Budget::Password, attempt, &p, later)
            .await
            .ok();
    }
    store.clear_lockout(pool, &g).await.unwrap();
    let state = store.state(pool, &g).await.unwrap();
    assert_eq!((state.lock, state.failed_attempts), (None, 0));
    // unlock lifts any lock; both are idempotent; an account with nothing stored gets no
    // item (nor an entry: its caller records that)
    for _ in 0..2 {
        let unlocked = store.unlock(pool, &u, &entry(&u, "unlock")).await.unwrap();
        assert_eq!(unlocked, changed);
    }
    let nobody = user("never-seen");
    assert_eq!(
        store
            .unlock(pool, &nobody, &entry(&nobody, "unlock"))
            .await
            .unwrap(),
        Audited::NotYet
    );
    assert_eq!(
        store.state(pool, &nobody).await.unwrap(),
        Default::default()
    );
    assert_eq!(store.state(pool, &u).await.unwrap().lock, None);

    // several at once, by username; forgetting deletes
    let states = store
        .states(pool, &[user("stalled"), user("fresh")])
        .await
        .unwrap();
    assert!(states["stalled"].lock.is_some());
    assert!(states.get("fresh").is_none_or(|s| s.lock.is_none()));
    store.forget(pool, &user("stalled")).await.unwrap();
    store.forget(pool, &user("stalled")).await.unwrap();
    let gone = store.state(pool, &user("stalled")).await.unwrap();
    assert_eq!((gone.lock, gone.failed_attempts), (None, 0));

    // pools do not share accounts
    let other = &unique("pool");
    assert_eq!(
        store.state(other, &user("guesser")).await.unwrap().lock,
        None
    );

    one_time_codes_contract(store, pool).await;
    flow_steps_contract(store).await;
    sessions_and_sends_contract(store, pool).await;
    security_keys_contract(store, pool).await;
    idempotency_contract(store).await;
    pool.clone()
}

/// An Idempotency-Key: claimed once (the same request again is in flight, another request is
/// a reuse); a release gives up only its own claim, never a kept answer or another request's;
/// a kept answer is answered to the same request and refused to another; a claim whose request
/// died frees itself after `IN_FLIGHT_FOR`, a kept answer after `KEPT_FOR`.
async fn idempotency_contract(store: &impl Idempotency) {
    let now = SystemTime::now();
    let key = &format!("idem#{}#sub#k", unique("pool"));
    assert_eq!(store.claim(key, "fp-a", now).await.unwrap(), Claim::Claimed);
    assert_eq!(
        store.claim(key, "fp-a", now).await.unwrap(),
        Claim::InFlight
    );
    assert_eq!(store.claim(key, "fp-b", now).await.unwrap(), Claim::Reused);
    store.release(key, "fp-b").await.unwrap();
    assert_eq!(
        store.claim(key, "fp-a", now).await.unwrap(),
        Claim::InFlight,
        "another request's release leaves the claim"
    );
    store.release(key, "fp-a").await.unwrap();
    assert_eq!(store.claim(key, "fp-a", now).await.unwrap(), Claim::Claimed);
    store
        .keep_answer(key, "fp-a", r#"{"status":200}"#, now)
        .await
        .unwrap();
    assert_eq!(
        store.claim(key, "fp-a", now).await.unwrap(),
        Claim::Answered(r#"{"status":200}"#.into())
    );
    assert_eq!(store.claim(key, "fp-b", now).await.unwrap(), Claim::Reused);
    store.release(key, "fp-a").await.unwrap();
    assert_eq!(
        store.claim(key, "fp-a", now).await.unwrap(),
        Claim::Answered(r#"{"status":200}"#.into()),
        "a kept answer is not released"
    );

    let died = &format!("idem#{}#sub#k", unique("pool"));
    assert_eq!(store.claim(died, "fp", now).await.unwrap(), Claim::Claimed);
    let later = now + IN_FLIGHT_FOR + Duration::from_secs(1);
    assert_eq!(
        store.claim(died, "fp", later).await.unwrap(),
        Claim::Claimed
    );
    store.keep_answer(died, "fp", "kept", later).await.unwrap();
    let much_later = later + KEPT_FOR + Duration::from_secs(1);
    assert_eq!(
        store.claim(died, "fp-other", much_later).await.unwrap(),
        Claim::Claimed,
        "an expired answer holds the key no more"
    );
}

/// A user's security key ring: empty at version 0 until written; each write moves the version
/// on by one and only over the version read (a stale writer is told, and changes nothing);
/// an empty ring is kept with its version (never reused); pools and users do not share rings; forgetting the
/// account forgets its keys.
async fn security_keys_contract(store: &(impl SecurityKeys + Locks), pool: &str) {
    let u = user("key-holder");
    let (ring, version) = store.key_ring(pool, &u).await.unwrap();
    assert_eq!((ring, version), (KeyRing::default(), 0));

    let key = |id: &str| SecurityKey {
        u2f_id: id.into(),
        credential_id: format!("cred-{id}"),
        static_state: "c3RhdGlj".into(),
        dynamic_state: "AAAAAAAAAA".into(),
        transports: "AA".into(),
        name: format!("key {id}"),
        created_at: 1_700_000_000,
        last_used_at: None,
    };
    let first = KeyRing {
        handle: Some("aGFuZGxl".into()),
        keys: vec![key("a")],
        pending: Some("cGVuZGluZw".into()),
    };
    assert!(store.put_key_ring(pool, &u, &first, 0).await.unwrap());
    assert!(
        !store.put_key_ring(pool, &u, &first, 0).await.unwrap(),
        "a second first write loses"
    );
    assert_eq!(store.key_ring(pool, &u).await.unwrap(), (first.clone(), 1));

    let mut second = first.clone();
    second.pending = None;
    second.keys.push(key("b"));
    second.keys[0].last_used_at = Some(1_700_000_100);
    assert!(store.put_key_ring(pool, &u, &second, 1).await.unwrap());
    let mut stale = first.clone();
    stale.keys.clear();
    assert!(
        !store.put_key_ring(pool, &u, &stale, 1).await.unwrap(),
        "a writer that read version 1 loses to the one that wrote over it"
    );
    assert_eq!(store.key_ring(pool, &u).await.unwrap(), (second.clone(), 2));

    assert_eq!(
        store.key_ring(&unique("pool"), &u).await.unwrap().1,
        0,
        "pools do not share rings"
    );
    assert_eq!(store.key_ring(pool, &user("other")).await.unwrap().1, 0);

    // the last key gone: the empty ring keeps its version, so a writer that read version 2
    // (holding a key) cannot write it back, nor can one that found no ring
    assert!(
        store
            .put_key_ring(pool, &u, &KeyRing::default(), 2)
            .await
            .unwrap()
    );
    assert_eq!(
        store.key_ring(pool, &u).await.unwrap(),
        (KeyRing::default(), 3)
    );
    assert!(!store.put_key_ring(pool, &u, &second, 2).await.unwrap());
    assert!(!store.put_key_ring(pool, &u, &first, 0).await.unwrap());

    assert!(store.put_key_ring(pool, &u, &first, 3).await.unwrap());
    store.forget(pool, &u).await.unwrap();
    assert_eq!(
        store.key_ring(pool, &u).await.unwrap().1,
        0,
        "forgotten with the account"
    );
}

/// A sign-out's note: kept to the second, only ever moved later, set by an admin lock too and
/// not by a lockout, and surviving an unlock. Code sends: at most the limit per window, each
/// scope apart, a new window whole again, the wait the window's rest.
async fn sessions_and_sends_contract(store: &(impl Locks + Budgets), pool: &str) {
    use shared::domain::lock::SendScope;
    let at = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    let u = user("signed-out");
    assert_eq!(store.state(pool, &u).await.unwrap().sessions_ended_at, None);
    store
        .end_sessions(pool, &u, at(1_900_000_100))
        .await
        .unwrap();
    store
        .end_sessions(pool, &u, at(1_900_000_050))
        .await
        .unwrap();
    assert_eq!(
        store.state(pool, &u).await.unwrap().sessions_ended_at,
        Some(1_900_000_100),
        "never moved earlier"
    );
    // (whether the entry went with it: lock_store_contract)
    let _ = store.unlock(pool, &u, &entry(&u, "unlock")).await.unwrap();
    assert_eq!(
        store.state(pool, &u).await.unwrap().sessions_ended_at,
        Some(1_900_000_100),
        "an unlock opens no ended session"
    );
    // an admin lock ends sessions in its own write; a lockout does not
    let now = SystemTime::now();
    let locked = user("admin-locked");
    store
        .lock(
            pool,
            &locked,
            admin_lock(now, None),
            now,
            &entry(&locked, "lock"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.state(pool, &locked).await.unwrap().sessions_ended_at,
        Some(shared::time::epoch_seconds(now))
    );
    let guesser = user("guessed-once");
    let p = LockoutPolicy {
        max_password_attempts: 1,
        ..policy()
    };
    let Reservation::Granted { attempt } = store
        .reserve_attempt(pool, &guesser, Budget::Password, &p, now)
        .await
        .unwrap()
    else {
        panic!("a whole budget")
    };
    let lockout = store
        .record_failure(pool, &guesser, Budget::Password, attempt, &p, now)
        .await
        .unwrap();
    assert!(lockout.is_some());
    assert_eq!(
        store.state(pool, &guesser).await.unwrap().sessions_ended_at,
        None
    );

    let hour = Duration::from_secs(3600);
    let start = at(1_900_000_800 / 3600 * 3600);
    let mine = SendScope::User {
        pool_id: pool.to_string(),
        user: user("sender"),
    };
    let theirs = SendScope::User {
        pool_id: pool.to_string(),
        user: user("other-sender"),
    };
    for _ in 0..3 {
        assert_eq!(store.spend_send(&mine, 3, hour, start).await.unwrap(), None);
    }
    let later = start + Duration::from_secs(600);
    assert_eq!(
        store.spend_send(&mine, 3, hour, later).await.unwrap(),
        Some(Duration::from_secs(3000))
    );
    assert_eq!(
        store.spend_send(&theirs, 3, hour, later).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .spend_send(&mine, 3, hour, start + hour)
            .await
            .unwrap(),
        None,
        "a new window"
    );
    // concurrent sends never pass the limit
    let whole = SendScope::Pool {
        pool_id: pool.to_string(),
    };
    let tries = (0..8).map(|_| store.spend_send(&whole, 5, hour, later));
    let passed = futures::future::join_all(tries)
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_none())
        .count();
    assert_eq!(passed, 5);
}

/// Flow steps (an identity provider's sign-in): kept once under an id (a second put under it
/// fails and changes nothing), read expired or not, taken once and only with the right
/// secret's hash while unexpired, each kind apart.
async fn flow_steps_contract(store: &impl Flows) {
    use shared::domain::lock::{FlowKind, FlowRecord, OneTimeCode};
    let now = SystemTime::now();
    let record = |body: &str, secret: &str, expires_at: u64| FlowRecord {
        body: body.into(),
        secret_hash: OneTimeCode::hash_of(secret),
        expires_at,
    };
    let soon = shared::time::epoch_seconds(now) + 600;
    let id = unique("intent");
    assert_eq!(store.flow(FlowKind::IdpIntent, &id).await.unwrap(), None);
    store
        .put_flow(FlowKind::IdpIntent, &id, &record("sealed", "token", soon))
        .await
        .unwrap();
    assert!(
        store
            .put_flow(FlowKind::IdpIntent, &id, &record("other", "token", soon))
            .await
            .is_err(),
        "a second step under one id"
    );
    assert_eq!(
        store.flow(FlowKind::IdpIntent, &id).await.unwrap(),
        Some(record("sealed", "token", soon))
    );
    assert_eq!(store.flow(FlowKind::IdpLink, &id).await.unwrap(), None);
    let (right, wrong) = (OneTimeCode::hash_of("token"), OneTimeCode::hash_of("guess"));
    assert_eq!(
        store
            .take_flow(FlowKind::IdpIntent, &id, &wrong, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .take_flow(FlowKind::IdpLink, &id, &right, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .take_flow(FlowKind::IdpIntent, &id, &right, now)
            .await
            .unwrap(),
        Some(record("sealed", "token", soon))
    );
    assert_eq!(
        store
            .take_flow(FlowKind::IdpIntent, &id, &right, now)
            .await
            .unwrap(),
        None,
        "taken once"
    );
    // expired: still read, never taken
    let old = unique("state");
    store
        .put_flow(FlowKind::IdpState, &old, &record("pending", "state", 1))
        .await
        .unwrap();
    assert!(
        store
            .flow(FlowKind::IdpState, &old)
            .await
            .unwrap()
            .is_some()
    );
    let hash = OneTimeCode::hash_of("state");
    assert_eq!(
        store
            .take_flow(FlowKind::IdpState, &old, &hash, now)
            .await
            .unwrap(),
        None
    );
}

/// One-time codes (`CodePurpose`): one per user and purpose, read expired or not, taken once
/// and only with the right hash while unexpired, put back only where none is, apart from the
/// account's own state, and forgotten with the user.
async fn one_time_codes_contract(store: &(impl Codes + Locks), pool: &str) {
    use shared::domain::lock::{CodePurpose, OneTimeCode};
    let now = SystemTime::now();
    let soon = shared::time::epoch_seconds(now) + 600;
    let code = |c: &str, expires_at: u64| OneTimeCode {
        code_hash: OneTimeCode::hash_of(c),
        sub: "sub-coder".into(),
        app_client_id: "client".into(),
        expires_at,
        created_at: shared::time::rfc3339(now),
        created_by: "admin-sub".into(),
    };
    let (reg, access) = (CodePurpose::PasskeyRegistration, CodePurpose::AdminAccess);
    let u = user("coder");
    assert_eq!(store.one_time_code(reg, pool, &u).await.unwrap(), None);
    store
        .put_code(reg, pool, &u, &code("one", soon), true)
        .await
        .unwrap();
    // a purpose of its own, and not the account's state
    assert_eq!(store.one_time_code(access, pool, &u).await.unwrap(), None);
    assert_eq!(store.state(pool, &u).await.unwrap(), Default::default());
    // replaced; put back only where none is
    store
        .put_code(reg, pool, &u, &code("two", soon), true)
        .await
        .unwrap();
    store
        .put_code(reg, pool, &u, &code("one", soon), false)
        .await
        .unwrap();
    assert_eq!(
        store.one_time_code(reg, pool, &u).await.unwrap(),
        Some(code("two", soon))
    );
    // taken: not with another code's hash, nor under the other purpose; once
    let hash = OneTimeCode::hash_of("two");
    let wrong = OneTimeCode::hash_of("one");
    assert_eq!(
        store.take_code(reg, pool, &u, &wrong, now).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_code(access, pool, &u, &hash, now).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_code(reg, pool, &u, &hash, now).await.unwrap(),
        Some(code("two", soon))
    );
    assert_eq!(
        store.take_code(reg, pool, &u, &hash, now).await.unwrap(),
        None
    );
    assert_eq!(store.one_time_code(reg, pool, &u).await.unwrap(), None);
    // expired: still read (the caller decides), never taken
    store
        .put_code(reg, pool, &u, &code("old", 1), true)
        .await
        .unwrap();
    assert!(store.one_time_code(reg, pool, &u).await.unwrap().is_some());
    let old = OneTimeCode::hash_of("old");
    assert_eq!(
        store.take_code(reg, pool, &u, &old, now).await.unwrap(),
        None
    );
    // a lock and an unlock leave codes alone; forgetting the user takes them all
    store
        .put_code(access, pool, &u, &code("a", soon), true)
        .await
        .unwrap();
    let _ = store.unlock(pool, &u, &entry(&u, "unlock")).await.unwrap();
    assert!(
        store
            .one_time_code(access, pool, &u)
            .await
            .unwrap()
            .is_some()
    );
    store.forget(pool, &u).await.unwrap();
    assert_eq!(store.one_time_code(reg, pool, &u).await.unwrap(), None);
    assert_eq!(store.one_time_code(access, pool, &u).await.unwrap(), None);
}

async fn audit_contract(log: &impl AuditLog) {
    let pool = &unique("pool");
    let u = user("audited");
    for i in 0..5 {
        let e = Event::new(
            &u,
            &format!("act-{i}"),
            "self",
            "user-authentication",
            "success",
        );
        log.append(pool, &e).await.unwrap();
        // distinct timestamps, as distinct requests have
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    log.append(
        pool,
        &Event::new(&user("other"), "x", "self", "a", "success"),
    )
    .await
    .unwrap();
    let first = log.list(pool, &u, 2, None).await.unwrap();
    let ids: Vec<_> = first.events.iter().map(|e| e.activity_id.clone()).collect();
    assert_eq!(ids, ["act-4", "act-3"], "newest first");
    let cursor = first.cursor.expect("more to come");
    let second = log.list(pool, &u, 10, Some(&cursor)).await.unwrap();
    let ids: Vec<_> = second
        .events
        .iter()
        .map(|e| e.activity_id.clone())
        .collect();
    assert_eq!(ids, ["act-2", "act-1", "act-0"]);
    assert_eq!(second.cursor, None);
    assert!(matches!(
        log.list(pool, &u, 2, Some("not-a-cursor")).await,
        Err(StoreError::InvalidCursor)
    ));
}

async fn registry_contract(registry: &impl TenantRegistry, registered: &TenantKey) {
    let found = registry
        .find(registered)
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(found.user_pool_id, tenant().user_pool_id);
    let unknown = TenantKey {
        client_id: "nobody".into(),
        ..registered.clone()
    };
    assert_eq!(registry.find(&unknown).await.unwrap(), None);
    // characters no tenant key may hold (`#` would forge another tenant's key) find nothing
    let forged = TenantKey {
        client_id: format!("{}#x", registered.client_id),
        ..registered.clone()
    };
    assert_eq!(registry.find(&forged).await.unwrap(), None);
}

fn headers(client_id: &str) -> TenantKey {
    TenantKey {
        client_id: client_id.into(),
        client_code: "CODE".into(),
        database: "main".into(),
    }
}

#[tokio::test]
async fn the_in_memory_lock_store_keeps_the_contract() {
    lock_store_contract(&InMemoryLocks::default(), false).await;
}

/// With its trail, as the functions build it: the same contract, and each change's entry is
/// in the audit table, written by the change's own transaction.
#[tokio::test]
async fn the_dynamodb_lock_store_with_its_trail_keeps_the_contract() {
    let stack = Stack::connect().await;
    stack.ensure_tables().await;
    let store = DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table)
        .with_audit(AuditTable::of(&stack.config));
    let pool = lock_store_contract(&store, true).await;
    let trail = DynamoAudit::new(
        stack.dynamodb.clone(),
        &stack.config.audit_table,
        stack.config.audit_retention,
    );
    let page = trail.list(&pool, &user("locked"), 50, None).await.unwrap();
    let actions: Vec<_> = page.events.iter().map(|e| e.action.as_str()).collect();
    // oldest last: the first lock, its replacement, the two unlocks (the retry wrote nothing)
    assert_eq!(actions, ["unlock", "unlock", "lock", "lock"]);
    let nobody = trail
        .list(&pool, &user("never-seen"), 50, None)
        .await
        .unwrap();
    assert!(nobody.events.is_empty(), "{nobody:?}");
}

#[tokio::test]
async fn the_dynamodb_lock_store_keeps_the_contract() {
    let stack = Stack::connect().await;
    stack.ensure_tables().await;
    let store = DynamoLocks::new(stack.dynamodb.clone(), &stack.config.account_state_table);
    lock_store_contract(&store, false).await;
}

#[tokio::test]
async fn the_in_memory_audit_log_keeps_the_contract() {
    audit_contract(&InMemoryAudit::default()).await;
}

#[tokio::test]
async fn the_dynamodb_audit_log_keeps_the_contract() {
    let stack = Stack::connect().await;
    stack.ensure_tables().await;
    let log = DynamoAudit::new(
        stack.dynamodb.clone(),
        &stack.config.audit_table,
        stack.config.audit_retention,
    );
    audit_contract(&log).await;
}

#[tokio::test]
async fn the_in_memory_tenant_registry_keeps_the_contract() {
    let registry = InMemoryTenants::default();
    let h = headers("memory");
    registry.insert(&h.client_id, &h.client_code, &h.database, tenant());
    registry_contract(&registry, &h).await;
}

#[tokio::test]
async fn the_dynamodb_tenant_registry_keeps_the_contract() {
    let stack = Stack::connect().await;
    stack.ensure_tables().await;
    let h = headers(&unique("client"));
    let t = tenant();
    stack
        .dynamodb
        .put_item()
        .table_name(&stack.config.tenants_table)
        .item(
            "tenantKey",
            AttributeValue::S(format!("{}#{}#{}", h.client_id, h.client_code, h.database)),
        )
        .item("userPoolId", AttributeValue::S(t.user_pool_id))
        .item("appClientId", AttributeValue::S(t.app_client_id))
        .send()
        .await
        .unwrap();
    let registry = DynamoTenants::new(stack.dynamodb.clone(), &stack.config.tenants_table);
    registry_contract(&registry, &h).await;
}
