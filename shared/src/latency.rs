//! How long a route's failed credential checks take, so that a refusal made without one (a
//! locked account, which never reaches Cognito) takes as long. Otherwise, where a tenant's
//! `hideAccountState` makes both answers read `invalid-credentials`, the time alone would still
//! tell a locked account from a wrong password.
//!
//! Each Lambda instance keeps, per pool and route, the times of its last
//! [`Latencies::SAMPLES`] checks Cognito refused (a wrong password, an unknown user, a bad
//! code or session), from receipt to answer. A refusal is held to one of them drawn at random:
//! its time follows the same distribution as a check's, so neither medians nor minimums tell
//! them apart. An instance that has seen none yet (a fresh one, or one whose samples of that
//! pool and route were evicted) holds the refusal to the stage's floor (`REFUSAL_FLOOR_MS`,
//! set near Cognito's usual time for a refused sign-in) with up to a quarter more at random,
//! so that a locked account is never answered at once from the first request on. A sample
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
            // one other key goes, not all: the rest keep their samples
            if let Some(evicted) = by_key.keys().next().cloned() {
                by_key.remove(&evicted);
            }
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

    /// Waits until a request received at `received` has taken a drawn check's time, or, with
    /// nothing to draw from yet, `floor` and up to a quarter more.
    pub async fn pad(&self, pool: &str, route: &str, received: Instant, floor: Duration) {
        let target = self.draw(pool, route).unwrap_or_else(|| {
            let spread = u64::try_from(floor.as_micros() / 4).unwrap_or(0);
            (floor + Duration::from_micros(fastrand::u64(0..=spread))).min(Self::MAX)
        });
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
        l.pad("p", "r", received, Duration::ZERO).await;
        assert!(
            received.elapsed() < 20 * MS,
            "nothing to pad to yet, no floor"
        );
        l.record("p", "r", 60 * MS);
        l.pad("p", "r", received, Duration::ZERO).await;
        let took = received.elapsed();
        assert!(took >= 60 * MS, "{took:?}");
        let again = Instant::now();
        l.pad("p", "r", received, Duration::ZERO).await;
        assert!(again.elapsed() < 20 * MS, "already past: no second wait");
    }

    #[tokio::test]
    async fn without_samples_the_floor_holds_from_the_first_request() {
        let l = Latencies::default();
        let received = Instant::now();
        l.pad("p", "r", received, 80 * MS).await;
        let took = received.elapsed();
        assert!(took >= 80 * MS && took < 200 * MS, "{took:?}");
    }

    #[test]
    fn a_full_instance_evicts_one_key_not_all() {
        let l = Latencies::default();
        for i in 0..Latencies::MAX_KEYS {
            l.record("p", &format!("r{i}"), 5 * MS);
        }
        l.record("p", "new", 5 * MS);
        let kept = (0..Latencies::MAX_KEYS)
            .filter(|i| l.draw("p", &format!("r{i}")).is_some())
            .count();
        assert_eq!(kept, Latencies::MAX_KEYS - 1);
        assert!(l.draw("p", "new").is_some());
    }
}
