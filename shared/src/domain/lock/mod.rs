//! The `LockStore` port: the account state this API keeps beside Cognito — admin locks,
//! lockout-policy locks and the lockout counter. The DynamoDB adapter lives in
//! `adapters::dynamodb`; the rules both implementations follow are written here.
//!
//! The lockout counter is a budget of password checks. A sign-in first *reserves* one unit
//! (a conditional write that also refuses a locked account), then tells the store how the
//! check went: a success resets the budget, a wrong password keeps its unit spent (and the
//! last unit locks the account), anything that did not check the password gives it back.
//! So under any concurrency no more than `maxPasswordAttempts` wrong passwords ever reach
//! Cognito before the lock holds.
//!
//! Second-factor codes have a budget of their own ([`Budget::Otp`], `maxOtpAttempts`), kept
//! by the same rules: whoever reaches a code challenge already knows the password, so a
//! success there must not refill the password budget, nor a right password the code budget.

mod codes;
mod ports;
pub use codes::*;
pub use ports::*;

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::{
    domain::audit::Event,
    domain::directory::Contact,
    domain::store::StoreError,
    domain::tenant::LockoutPolicy,
    domain::user_id::UserId,
    time::{epoch_seconds, from_epoch_seconds, rfc3339},
};

/// What a caller may guess, each with its own lockout budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Passwords (sign-in, temporary-password change): `maxPasswordAttempts`.
    Password,
    /// Second-factor codes answering a sign-in challenge: `maxOtpAttempts`.
    Otp,
}

impl Budget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Otp => "otp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(Self::Password),
            "otp" => Some(Self::Otp),
            _ => None,
        }
    }

    /// The tenant's limit for this budget; 0 means no limit.
    pub fn limit(self, policy: &LockoutPolicy) -> u32 {
        match self {
            Self::Password => policy.max_password_attempts,
            Self::Otp => policy.max_otp_attempts,
        }
    }

    fn failures(self) -> &'static str {
        match self {
            Self::Password => "failed password attempts",
            Self::Otp => "wrong second-factor codes",
        }
    }
}

/// Who put a lock in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockSource {
    Admin,
    LockoutPolicy,
}

impl LockSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::LockoutPolicy => "lockout-policy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "lockout-policy" => Some(Self::LockoutPolicy),
            _ => None,
        }
    }
}

/// A lock as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub source: LockSource,
    pub reason: Option<String>,
    /// RFC 3339 UTC.
    pub locked_at: String,
    /// The admin's `sub`, or `system`.
    pub locked_by: String,
    /// Seconds since the epoch; `None` holds until an admin unlocks.
    pub locked_until: Option<u64>,
    /// For a lockout, the budget that ran out: a recovery lifts a password lockout, never a
    /// code lockout (it proves the mailbox or phone, not the authenticator).
    pub budget: Option<Budget>,
}

impl Lock {
    /// An expired lock is no lock, whether or not TTL housekeeping has deleted it yet.
    pub fn holds_at(&self, now: SystemTime) -> bool {
        self.locked_until
            .is_none_or(|until| until > epoch_seconds(now))
    }

    /// Whether the lock also refuses the sessions a user already has (refresh, bearer-token
    /// routes), not only password checks. Only an admin lock does: a lockout stops password
    /// guessing, and anyone who knows a userID can cause one, so it must not be a way to shut
    /// a user (an admin, say) out of their live sessions. Keycloak's brute-force detection and
    /// Cognito's own lockout leave issued sessions alone too.
    pub fn refuses_sessions(&self) -> bool {
        self.source == LockSource::Admin
    }

    /// Whether `other` is this lock again: the same source, reason and end (when and by whom
    /// it was asked for aside).
    pub fn same_terms(&self, other: &Lock) -> bool {
        self.source == other.source
            && self.reason == other.reason
            && self.locked_until == other.locked_until
    }

    /// The lock the lockout policy puts on an account at `now`, once `budget` is spent.
    pub fn lockout(budget: Budget, policy: &LockoutPolicy, now: SystemTime) -> Self {
        Self {
            source: LockSource::LockoutPolicy,
            reason: Some(format!(
                "{} consecutive {}",
                budget.limit(policy),
                budget.failures()
            )),
            locked_at: rfc3339(now),
            locked_by: "system".into(),
            locked_until: (!policy.lockout_duration.is_zero())
                .then(|| epoch_seconds(now + policy.lockout_duration)),
            budget: Some(budget),
        }
    }
}

/// What the store holds for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountState {
    /// The lock in force, if any (expired locks are not returned).
    pub lock: Option<Lock>,
    /// Password checks spent since the last success or reset.
    pub failed_attempts: u32,
    /// Second-factor code checks spent since the last success or reset.
    pub failed_otp_attempts: u32,
    /// A new email address set through the API and not verified yet (Cognito keeps the old
    /// one in use meanwhile and says nothing of the new one).
    pub pending_email: Option<String>,
    /// The same for a phone number.
    pub pending_phone: Option<String>,
    /// When the API last signed the user out everywhere (epoch seconds): every session that
    /// began before is over, its access tokens too (see [`AccountState::ended_sessions_of`]).
    pub sessions_ended_at: Option<u64>,
}

impl AccountState {
    /// Whether the caller's session began no later than the second the user's sessions were
    /// ended in. Its access token no longer works at Cognito, but nothing at Cognito can say so
    /// for a token without the self-service scope: the API keeps the time itself. Cognito says
    /// when a session began to the second, so one begun in the sign-out's own second is ended
    /// too (the sign-out answers only in the next second: `App::sign_out_everywhere`); one
    /// that does not say when it began is over.
    pub fn ended_sessions_of(&self, caller: &crate::domain::token::Caller) -> bool {
        self.sessions_ended_at
            .is_some_and(|ended| caller.auth_time.is_none_or(|began| began <= ended))
    }

    /// The units of `budget` spent.
    pub fn spent(&self, budget: Budget) -> u32 {
        match budget {
            Budget::Password => self.failed_attempts,
            Budget::Otp => self.failed_otp_attempts,
        }
    }
}

/// The answer to a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The password may be checked; this is the `attempt`-th unit of the budget.
    Granted { attempt: u32 },
    /// The account is locked.
    Locked(Lock),
    /// The budget is held by checks still in flight: refuse without checking (429).
    Exhausted,
}

/// What `lock` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub lock: Lock,
    /// `false` when a lock already held (and was replaced).
    pub created: bool,
    /// The lockout budgets spent, as stored with the lock.
    pub failed_attempts: u32,
    pub failed_otp_attempts: u32,
    /// Whether the change's audit entry was written with it (see [`Locks::lock`]).
    pub audited: Audited,
}

/// Whether a change's audit entry was written with the change, in one transaction; when not,
/// the caller records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Audited {
    WithTheChange,
    NotYet,
}

/// Whose verification-code sends a budget counts: one user's, or a whole pool's (an SMS
/// pumping attack spreads over many users).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendScope {
    User { pool_id: String, user: UserId },
    Pool { pool_id: String },
}

impl SendScope {
    /// The key of the scope's count in the window numbered `window` (`code-sends#…`; an empty
    /// username, which no user has, stands for the whole pool).
    pub fn key(&self, window: u64) -> String {
        match self {
            Self::User { pool_id, user } => {
                format!("code-sends#{pool_id}#{}#{window}", user.as_str())
            }
            Self::Pool { pool_id } => format!("code-sends#{pool_id}##{window}"),
        }
    }

    /// The window holding `now`, and how long until it ends.
    pub fn window_of(now: SystemTime, window: Duration) -> (u64, Duration) {
        let length = window.as_secs().max(1);
        let secs = epoch_seconds(now);
        let number = secs / length;
        let ends = (number + 1) * length;
        (number, Duration::from_secs(ends - secs))
    }
}

/// How long after its last reservation an exhausted budget with no lock is taken for checks
/// that died in flight (a Lambda timeout), rather than checks still running.
pub const STALE_RESERVATION: Duration = Duration::from_secs(60);

/// The key of a user's account-state item: the pool id and the username, which is what the
/// Pre Authentication trigger receives too.
pub fn account_key(user_pool_id: &str, user: &UserId) -> String {
    format!("{user_pool_id}#{}", user.as_str())
}

/// The contract's `LockState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockState {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub locked: bool,
    pub reason: Option<String>,
    pub locked_at: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<String>,
    pub failed_attempts: u32,
    pub failed_otp_attempts: u32,
    pub source: Option<&'static str>,
}

impl LockState {
    pub fn of(user: &UserId, state: &AccountState) -> Self {
        let lock = state.lock.as_ref();
        Self {
            user_id: user.as_str().to_string(),
            locked: lock.is_some(),
            reason: lock.and_then(|l| l.reason.clone()),
            locked_at: lock.map(|l| l.locked_at.clone()),
            locked_by: lock.map(|l| l.locked_by.clone()),
            locked_until: lock
                .and_then(|l| l.locked_until)
                .map(|s| rfc3339(from_epoch_seconds(s))),
            failed_attempts: state.failed_attempts,
            failed_otp_attempts: state.failed_otp_attempts,
            source: lock.map(|l| l.source.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(until: Option<u64>) -> Lock {
        Lock {
            source: LockSource::LockoutPolicy,
            reason: None,
            locked_at: "2026-01-01T00:00:00Z".into(),
            locked_by: "system".into(),
            locked_until: until,
            budget: None,
        }
    }

    #[test]
    fn an_expired_lock_does_not_hold() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert!(!lock(Some(1000)).holds_at(now));
        assert!(lock(Some(1001)).holds_at(now));
        assert!(lock(None).holds_at(now));
    }

    #[test]
    fn a_lockout_with_zero_duration_holds_until_unlocked() {
        let policy = LockoutPolicy {
            max_password_attempts: 3,
            max_otp_attempts: 4,
            lockout_duration: Duration::ZERO,
        };
        let l = Lock::lockout(Budget::Password, &policy, SystemTime::now());
        assert_eq!(l.locked_until, None);
        assert_eq!(l.locked_by, "system");
        assert_eq!(l.source, LockSource::LockoutPolicy);
        assert_eq!(
            l.reason.as_deref(),
            Some("3 consecutive failed password attempts")
        );
        let l = Lock::lockout(Budget::Otp, &policy, SystemTime::now());
        assert_eq!(
            l.reason.as_deref(),
            Some("4 consecutive wrong second-factor codes")
        );
    }

    #[test]
    fn a_secret_matches_only_its_hash() {
        assert!(secret_matches("s", &OneTimeCode::hash_of("s")));
        assert!(!secret_matches("t", &OneTimeCode::hash_of("s")));
    }
}
