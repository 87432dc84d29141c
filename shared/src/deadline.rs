//! The request's own deadline: Lambda's (the invocation's `deadline`) less a margin kept for
//! the answer. Each backend call has its own timeouts (`crate::aws`), but a request makes
//! several in turn, and their sum could outlast the function's timeout: then Lambda stops the
//! process mid-request and API Gateway answers its own 500, with nothing logged. Within the
//! deadline the function ends the request itself, as a `503 dependency-unavailable` with
//! `Retry-After`, logged like any other. `tests/tests/timeouts.rs` holds the template's
//! timeouts and these settings to each other.

use std::{
    future::Future,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Lambda's longest timeout: no invocation's deadline lies further from its start.
const LONGEST_INVOCATION: Duration = Duration::from_secs(15 * 60);

/// The time left of an invocation that ends at `deadline_ms` (milliseconds since the epoch, as
/// Lambda's context gives it), less `margin`; `None` when the invocation names no deadline
/// Lambda could have set: none at all (an event a test builds), or one further in the past
/// than any invocation lasts (`cargo lambda watch` sends the constant 600000, ten minutes
/// meant as a duration, read as 1970-01-01T00:10:00Z).
pub fn remaining(deadline_ms: u64, margin: Duration) -> Option<Duration> {
    let end = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let now = SystemTime::now();
    if deadline_ms == 0
        || now
            .duration_since(end)
            .is_ok_and(|late| late > LONGEST_INVOCATION)
    {
        return None;
    }
    Some(
        end.duration_since(now)
            .unwrap_or_default()
            .saturating_sub(margin),
    )
}

/// The work ran past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// `work`, unless `budget` runs out first (`None`: no bound).
pub async fn within<T>(
    budget: Option<Duration>,
    work: impl Future<Output = T>,
) -> Result<T, Elapsed> {
    match budget {
        None => Ok(work.await),
        Some(budget) => tokio::time::timeout(budget, work)
            .await
            .map_err(|_| Elapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_ms() -> u64 {
        u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
    }

    #[test]
    fn the_budget_is_lambdas_time_left_less_the_margin() {
        let left = remaining(now_ms() + 10_000, Duration::from_secs(1)).unwrap();
        assert!(
            left <= Duration::from_secs(9) && left > Duration::from_millis(8_900),
            "{left:?}"
        );
        assert_eq!(
            remaining(now_ms() + 500, Duration::from_secs(1)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            remaining(now_ms() - 5_000, Duration::ZERO),
            Some(Duration::ZERO)
        );
        assert_eq!(remaining(0, Duration::from_secs(1)), None);
        // what cargo lambda watch sends: no deadline a Lambda invocation could have
        assert_eq!(remaining(600_000, Duration::from_secs(1)), None);
        assert_eq!(remaining(now_ms() - 16 * 60_000, Duration::ZERO), None);
    }

    #[tokio::test]
    async fn work_past_its_budget_is_cut_short() {
        let slow = tokio::time::sleep(Duration::from_secs(5));
        let started = std::time::Instant::now();
        assert_eq!(
            within(Some(Duration::from_millis(50)), slow).await,
            Err(Elapsed)
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(within(None, async { 7 }).await, Ok(7));
        assert_eq!(
            within(Some(Duration::from_secs(1)), async { 7 }).await,
            Ok(7)
        );
    }
}
