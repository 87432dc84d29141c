//! How long a route's failed credential checks take, so that a refusal made without one (a
//! locked account, which never reaches Cognito) takes as long. Otherwise, where a tenant's
//! `hideAccountState` makes both answers read `invalid-credentials`, the time alone would still
//! tell a locked account from a wrong password.
//!
//! Each Lambda instance keeps, per pool and route, the times of its last
//! [`Latencies::SAMPLES`] checks Cognito refused (a wrong password, an unknown user, a bad
//! code or session), from receipt to answer. A refusal is held to one of them drawn at random:
//! its time follows the same distribution as a check's, so neither medians nor minimums tell
//! them apart. An instance that has seen none yet has nothing to draw from and does not hold
//! the refusal (an instance's first requests are slower by its cold start anyway). A sample
//! never exceeds [`Latencies::MAX`], so an outage does not teach instances to hold refusals for
//! seconds.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Default)]
pub struct Latencies {
    by_key: Mutex<HashMap<String, Samples>>,
}

#[derive(Default)]
struct Samples {
    times: Vec<Duration>,
    next: usize,
}

impl Latencies {
    /// The longest a refusal is held.
    pub const MAX: Duration = Duration::from_secs(1);
    /// Recent checks kept per pool and route.
    pub const SAMPLES: usize = 64;
    /// Pools × routes an instance serves: a handful, never caller-chosen (resolved tenants only).
    const MAX_KEYS: usize = 256;

    fn key(pool: &str, route: &str) -> String {
        format!("{pool}#{route}")
    }

    /// Adds a check of `route` that Cognito refused, `took` from receipt to answer.
    pub fn record(&self, pool: &str, route: &str, took: Duration) {
        let key = Self::key(pool, route);
        let Ok(mut by_key) = self.by_key.lock() else {
            return;
        };
        if by_key.len() >= Self::MAX_KEYS && !by_key.contains_key(&key) {
            by_key.clear();
        }
        let samples = by_key.entry(key).or_default();
        let took = took.min(Self::MAX);
        if samples.times.len() < Self::SAMPLES {
            samples.times.push(took);
        } else {
            samples.times[samples.next] = took;
        }
        samples.next = (samples.next + 1) % Self::SAMPLES;
    }

    /// One of the recent times of `route`'s refused checks, drawn at random.
    pub fn draw(&self, pool: &str, route: &str) -> Option<Duration> {
        let by_key = self.by_key.lock().ok()?;
        let times = &by_key.get(&Self::key(pool, route))?.times;
        (!times.is_empty()).then(|| times[fastrand::usize(..times.len())])
    }

    /// Waits until a request received at `received` has taken a drawn check's time.
    pub async fn pad(&self, pool: &str, route: &str, received: Instant) {
        let Some(target) = self.draw(pool, route) else {
            return;
        };
        if let Some(left) = target
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
    fn draws_come_from_the_recent_samples_of_that_pool_and_route() {
        let l = Latencies::default();
        assert_eq!(l.draw("p", "sign-in"), None);
        for ms in [10, 20, 30] {
            l.record("p", "sign-in", ms * MS);
        }
        for _ in 0..50 {
            let d = l.draw("p", "sign-in").unwrap();
            assert!([10 * MS, 20 * MS, 30 * MS].contains(&d), "{d:?}");
        }
        assert_eq!(l.draw("p", "other-route"), None);
        assert_eq!(l.draw("q", "sign-in"), None);
    }

    #[test]
    fn only_the_last_samples_are_kept() {
        let l = Latencies::default();
        for _ in 0..Latencies::SAMPLES {
            l.record("p", "r", 500 * MS);
        }
        for _ in 0..Latencies::SAMPLES {
            l.record("p", "r", 5 * MS);
        }
        for _ in 0..50 {
            assert_eq!(l.draw("p", "r"), Some(5 * MS));
        }
    }

    #[test]
    fn an_outage_does_not_teach_it_to_wait_for_seconds() {
        let l = Latencies::default();
        l.record("p", "r", Duration::from_secs(30));
        assert_eq!(l.draw("p", "r"), Some(Latencies::MAX));
    }

    #[tokio::test]
    async fn padding_waits_only_for_what_is_left() {
        let l = Latencies::default();
        let received = Instant::now();
        l.pad("p", "r", received).await;
        assert!(received.elapsed() < 20 * MS, "nothing to pad to yet");
        l.record("p", "r", 60 * MS);
        l.pad("p", "r", received).await;
        let took = received.elapsed();
        assert!(took >= 60 * MS, "{took:?}");
        let again = Instant::now();
        l.pad("p", "r", received).await;
        assert!(again.elapsed() < 20 * MS, "already past: no second wait");
    }
}
