//! How long a tenant's password checks usually take, so that a sign-in refused without one (a
//! locked account) answers no sooner than one that went to Cognito. Otherwise the time alone
//! would tell a locked account from the others, even where `hideAccountState` makes both
//! answers `invalid-credentials`.
//!
//! Each Lambda instance learns its own estimate, per user pool, from the sign-ins it served
//! (an exponentially weighted moving average of the whole request, a fifth of each new
//! sample). Until an instance has served one, there is nothing to pad to and a refusal is not
//! delayed. Only checks Cognito answered count, and an estimate never exceeds
//! [`Latencies::MAX`], so an outage does not teach instances to hold refusals for seconds.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Default)]
pub struct Latencies {
    by_pool: Mutex<HashMap<String, Duration>>,
}

impl Latencies {
    /// The longest a refusal is held.
    pub const MAX: Duration = Duration::from_secs(1);
    /// Pools an instance serves: a handful, never caller-chosen (only resolved tenants count).
    const MAX_ENTRIES: usize = 256;

    /// Adds a sign-in that Cognito answered, `took` from receipt to answer.
    pub fn record(&self, pool: &str, took: Duration) {
        let took = took.min(Self::MAX);
        let Ok(mut by_pool) = self.by_pool.lock() else {
            return;
        };
        if by_pool.len() >= Self::MAX_ENTRIES && !by_pool.contains_key(pool) {
            by_pool.clear();
        }
        by_pool
            .entry(pool.to_string())
            .and_modify(|usual| {
                // usual + (took - usual) / 5, in either direction
                *usual = if took >= *usual {
                    *usual + (took - *usual) / 5
                } else {
                    *usual - (*usual - took) / 5
                };
            })
            .or_insert(took);
    }

    /// The pool's usual sign-in time, once one was seen.
    pub fn usual(&self, pool: &str) -> Option<Duration> {
        self.by_pool.lock().ok()?.get(pool).copied()
    }

    /// Waits until a request received at `received` has taken the pool's usual sign-in time.
    pub async fn pad(&self, pool: &str, received: Instant) {
        let Some(usual) = self.usual(pool) else {
            return;
        };
        if let Some(left) = usual
            .checked_sub(received.elapsed())
            .filter(|left| !left.is_zero())
        {
            tokio::time::sleep(left).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_estimate_starts_at_the_first_sample_and_moves_a_fifth_of_the_way() {
        let l = Latencies::default();
        assert_eq!(l.usual("p"), None);
        l.record("p", 100 * MS);
        assert_eq!(l.usual("p"), Some(100 * MS));
        l.record("p", 200 * MS);
        assert_eq!(l.usual("p"), Some(120 * MS));
        l.record("p", 20 * MS);
        assert_eq!(l.usual("p"), Some(100 * MS));
        assert_eq!(l.usual("other"), None);
    }

    #[test]
    fn an_outage_does_not_teach_it_to_wait_for_seconds() {
        let l = Latencies::default();
        for _ in 0..50 {
            l.record("p", Duration::from_secs(30));
        }
        assert_eq!(l.usual("p"), Some(Latencies::MAX));
    }

    #[tokio::test]
    async fn padding_waits_only_for_what_is_left() {
        let l = Latencies::default();
        let received = Instant::now();
        l.pad("p", received).await;
        assert!(received.elapsed() < 20 * MS, "nothing to pad to yet");
        l.record("p", 60 * MS);
        l.pad("p", received).await;
        let took = received.elapsed();
        assert!(took >= 60 * MS, "{took:?}");
        let again = Instant::now();
        l.pad("p", received).await;
        assert!(again.elapsed() < 20 * MS, "already past: no second wait");
    }
}
