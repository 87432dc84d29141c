//! The LockStore port, by capability: a handler names the one it needs, a fake implements
//! only what it fakes, and [`LockStore`] is all of them.

use std::future::Future;

use super::*;

/// Where account state is kept. Every error here must fail the request closed.
pub trait LockStore: Locks + Budgets + Codes + Flows + SecurityKeys + Idempotency {}

impl<T: Locks + Budgets + Codes + Flows + SecurityKeys + Idempotency> LockStore for T {}

/// Account state: locks, a pending reset, ended sessions.
pub trait Locks: Send + Sync {
    /// The state of an account of the pool `pool_id` now.
    fn state(
        &self,
        pool_id: &str,
        user: &UserId,
    ) -> impl Future<Output = Result<AccountState, StoreError>> + Send;

    /// The state of several accounts at once (a page of a user list), by username.
    fn states(
        &self,
        pool_id: &str,
        users: &[UserId],
    ) -> impl Future<Output = Result<std::collections::HashMap<String, AccountState>, StoreError>> + Send;

    /// Puts an admin lock in place, and notes that the user's sessions end at `now` (as
    /// [`LockStore::end_sessions`] does, in the same write). It replaces whatever lock holds: a lockout-policy lock
    /// (so neither the lockout's end nor a recovery opens the account) or an admin lock with
    /// another reason or end. The same lock again (a retry) keeps the one first written, its
    /// `lockedAt` and `lockedBy` too. Afterwards the lock returned is the lock that holds.
    ///
    /// `entry` is the change's audit entry: a store that keeps the audit trail beside the
    /// account state writes it in the same transaction as a lock it puts in place (both or
    /// neither) and says so in [`Locked::audited`]; otherwise (a retry that changed nothing, a
    /// store without the trail) the caller records it.
    fn lock(
        &self,
        pool_id: &str,
        user: &UserId,
        lock: Lock,
        now: SystemTime,
        entry: &Event,
    ) -> impl Future<Output = Result<Locked, StoreError>> + Send;

    /// Lifts any lock and resets the budgets. Idempotent. `entry` as for [`Locks::lock`]:
    /// written with the lift where the store can, and the answer says whether it was.
    fn unlock(
        &self,
        pool_id: &str,
        user: &UserId,
        entry: &Event,
    ) -> impl Future<Output = Result<Audited, StoreError>> + Send;

    /// After a password reset through the user's own verified channel: resets the password
    /// budget and lifts a lockout of that budget, never a code lockout (the reset proves the
    /// mailbox or phone, not the authenticator) and never an admin lock. Idempotent.
    fn clear_lockout(
        &self,
        pool_id: &str,
        user: &UserId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the account's state (its user was deleted), its one-time codes and security
    /// keys too. Idempotent.
    fn forget(
        &self,
        pool_id: &str,
        user: &UserId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notes (`Some`) or forgets (`None`) a new address of `contact` waiting for its code.
    fn set_pending(
        &self,
        pool_id: &str,
        user: &UserId,
        contact: Contact,
        value: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notes that every session of the user that began before `at` is over (the API signed
    /// the user out everywhere): [`AccountState::sessions_ended_at`]. The note outlives every
    /// access token issued before it (Cognito's longest validity is a day). Idempotent; a
    /// later time replaces an earlier one.
    fn end_sessions(
        &self,
        pool_id: &str,
        user: &UserId,
        at: SystemTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Budgets spent per attempt: the lockout counters and the code sends.
pub trait Budgets: Send + Sync {
    /// Reserves one check of `budget` (see the module comment).
    fn reserve_attempt(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> impl Future<Output = Result<Reservation, StoreError>> + Send;

    /// The reserved check found a wrong password (or code). When it was the last unit of the
    /// budget, the account is locked and the new lock is returned.
    fn record_failure(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
        attempt: u32,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<Lock>, StoreError>> + Send;

    /// The reserved check found the right password (or code): that budget is whole again.
    fn record_success(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The reserved check never happened (Cognito unavailable, throttled, …): give it back.
    fn release_attempt(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Spends one of the verification-code sends `scope` may make in the window of `window`
    /// that holds `now` (fixed windows from the epoch): `None` while fewer than `limit` were
    /// spent in it, else `Some(wait)` until the window ends (nothing spent). Concurrent sends
    /// never spend more than `limit`.
    fn spend_send(
        &self,
        scope: &SendScope,
        limit: u32,
        window: Duration,
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<Duration>, StoreError>> + Send;
}

/// One-time codes kept per user and purpose.
pub trait Codes: Send + Sync {
    /// Keeps `link` as the user's one code of `purpose`: it replaces an earlier one, or with
    /// `replace: false` (putting back a code taken for a registration that then failed) is
    /// kept only where none is.
    fn put_code(
        &self,
        purpose: CodePurpose,
        pool_id: &str,
        user: &UserId,
        link: &OneTimeCode,
        replace: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user's code of `purpose`, expired or not (`OneTimeCode::admits` decides).
    fn one_time_code(
        &self,
        purpose: CodePurpose,
        pool_id: &str,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<OneTimeCode>, StoreError>> + Send;

    /// Removes the code of `purpose` that hashes to `code_hash`, if it is there and unexpired at
    /// `now`, in one conditional step: of concurrent takers one gets `Some`.
    fn take_code(
        &self,
        purpose: CodePurpose,
        pool_id: &str,
        user: &UserId,
        code_hash: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<OneTimeCode>, StoreError>> + Send;
}

/// Steps of a flow kept between requests (a pending passkey sign-in, an identity-provider
/// intent), each taken with its secret.
pub trait Flows: Send + Sync {
    /// Keeps a flow step under `id`, unless one is there already (ids are random: a clash is
    /// refused as a conflict, never overwritten).
    fn put_flow(
        &self,
        kind: FlowKind,
        id: &str,
        record: &FlowRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The flow step under `id`, expired or not.
    fn flow(
        &self,
        kind: FlowKind,
        id: &str,
    ) -> impl Future<Output = Result<Option<FlowRecord>, StoreError>> + Send;

    /// Removes the step under `id` if its secret hashes to `secret_hash` and it is unexpired
    /// at `now`, in one conditional step: of concurrent takers one gets `Some`.
    fn take_flow(
        &self,
        kind: FlowKind,
        id: &str,
        secret_hash: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<FlowRecord>, StoreError>> + Send;
}

/// The security keys a user registered (the API's own second factor, `domain::u2f`) and the
/// registration under way, kept as one record that is written only over the version it was
/// read at: of two concurrent writers (two answers to one challenge, two sign-ins moving one
/// key's counter) one wins and the other reads again or gives up.
pub trait SecurityKeys: Send + Sync {
    /// The user's ring and the version it was read at (`0` and an empty ring when none is
    /// kept).
    fn key_ring(
        &self,
        pool_id: &str,
        user: &UserId,
    ) -> impl Future<Output = Result<(crate::domain::u2f::KeyRing, u64), StoreError>> + Send;

    /// Replaces the ring if it is still at `version`, and says whether it did (`false`: another
    /// write came first, nothing written). An empty ring is kept too (a version is never used
    /// twice); the record goes only with the account ([`Locks::forget`]).
    fn put_key_ring(
        &self,
        pool_id: &str,
        user: &UserId,
        ring: &crate::domain::u2f::KeyRing,
        version: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Answers kept under a caller's `Idempotency-Key` (`domain::idempotency`), so that a retried
/// state change is answered again, not done again.
pub trait Idempotency: Send + Sync {
    /// Claims `key` for a request of `fingerprint` at `now`, in one conditional write: a key
    /// nobody holds (or whose claim or kept answer expired) is claimed for
    /// [`IN_FLIGHT_FOR`](crate::domain::idempotency::IN_FLIGHT_FOR); otherwise what holds it
    /// is told (its kept answer, in flight, or another request's).
    fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<crate::domain::idempotency::Claim, StoreError>> + Send;

    /// Keeps `answer` under the key this request claimed, for
    /// [`KEPT_FOR`](crate::domain::idempotency::KEPT_FOR) from `now`.
    fn keep_answer(
        &self,
        key: &str,
        fingerprint: &str,
        answer: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives up this request's claim (it changed nothing): a retry claims the key afresh. A
    /// claim that is not this request's (or an answer kept) is left as it is.
    fn release(
        &self,
        key: &str,
        fingerprint: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
