//! Arithmetic of the benchmark (`tests/benches/bench`), here so that its unit tests run with
//! the rest of the suite: a bench target without the test harness runs no `#[test]`.

use std::time::{Duration, Instant};

/// Median and 95th percentile (nearest rank) of `samples`.
pub fn summary(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    (percentile(samples, 50), percentile(samples, 95))
}

/// Median (nearest rank) of counts, such as page faults.
pub fn median_of(samples: &mut [u64]) -> u64 {
    samples.sort_unstable();
    percentile(samples, 50)
}

fn percentile<T: Copy + Default>(sorted: &[T], p: usize) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    // nearest rank: the smallest sample with at least p% of the samples at or below it
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Prints a Markdown table.
pub fn table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    println!("\n### {title}\n");
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
}

/// `/users/rhea/lock` → `/users/{userID}/lock`
pub fn template(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "users", _, rest @ ..] => format!("/users/{{userID}}/{}", rest.join("/"))
            .trim_end_matches('/')
            .to_string(),
        _ => path.to_string(),
    }
}

/// The time within `[from, to]` covered by at least one span.
pub fn covered(spans: &[(Instant, Instant)], from: Instant, to: Instant) -> Duration {
    let mut spans: Vec<_> = spans
        .iter()
        .map(|&(a, b)| (a.max(from), b.min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort();
    let (mut total, mut end) = (Duration::ZERO, from);
    for (a, b) in spans {
        if b > end {
            total += b - a.max(end);
            end = b;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s: Vec<Duration> = (1..=20).rev().map(Duration::from_millis).collect();
        assert_eq!(
            summary(&mut s),
            (Duration::from_millis(10), Duration::from_millis(19))
        );
        let mut counts = vec![900, 310, 305, 300];
        assert_eq!(median_of(&mut counts), 305);
        assert_eq!(median_of(&mut []), 0);
        let mut one = vec![Duration::from_millis(3)];
        assert_eq!(
            summary(&mut one),
            (Duration::from_millis(3), Duration::from_millis(3))
        );
    }

    #[test]
    fn overlapping_spans_count_once() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let spans = [
            (ms(1), ms(4)),
            (ms(2), ms(3)),
            (ms(3), ms(6)),
            (ms(8), ms(9)),
        ];
        assert_eq!(covered(&spans, ms(0), ms(10)), Duration::from_millis(6));
        assert_eq!(covered(&spans, ms(2), ms(5)), Duration::from_millis(3));
        assert_eq!(template("/users/a.b/lock"), "/users/{userID}/lock");
        assert_eq!(template("/users/a?limit=1"), "/users/{userID}");
        assert_eq!(template("/users?limit=1"), "/users");
    }
}
