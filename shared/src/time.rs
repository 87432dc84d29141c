//! Time as this API writes and reads it: RFC 3339 in UTC for callers, epoch seconds for
//! DynamoDB (conditions and TTL).

use std::time::{Duration, SystemTime};

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

pub fn epoch_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The instant `secs` seconds after the epoch.
pub fn from_epoch_seconds(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// RFC 3339 UTC, second precision (`2026-11-29T01:22:03Z`).
pub fn rfc3339(t: SystemTime) -> String {
    format(OffsetDateTime::from(t).replace_nanosecond(0))
}

/// RFC 3339 UTC, millisecond precision, for entries that order within a second.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    format(t.replace_nanosecond(u32::from(t.millisecond()) * 1_000_000))
}

fn format(t: Result<OffsetDateTime, time::error::ComponentRange>) -> String {
    t.unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp (any offset) to epoch seconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = from_epoch_seconds(1_795_000_000);
        let s = rfc3339(t);
        assert!(s.ends_with('Z'), "{s}");
        assert_eq!(parse_rfc3339(&s), Some(1_795_000_000));
        assert_eq!(
            parse_rfc3339("2026-11-23T10:00:00+02:00"),
            parse_rfc3339("2026-11-23T08:00:00Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn milliseconds_are_kept_where_asked() {
        let t = from_epoch_seconds(1_795_000_000) + Duration::from_micros(123_456);
        assert_eq!(rfc3339_millis(t), "2026-11-18T11:06:40.123Z");
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
    }
}
