//! Retries that do not double: a state change sent with an `Idempotency-Key` header (the IETF
//! draft's semantics) is done once, and a retry with the same key and the same request gets the
//! first answer again without acting; the same key with another request is refused.
//!
//! A key is the caller's (the tenant and the bearer token's `sub`), kept by its SHA-256
//! only. The first request *claims* it (one conditional write: of concurrent requests with one
//! key, one acts and the others are told it is in flight); a 2xx answer is then kept for a day;
//! any other answer gives the claim up, since a refused or failed request changed nothing a
//! retry must not repeat.

use std::time::Duration;

use sha2::Digest;

/// How long an answer is kept (the draft's suggestion: at least a day).
pub const KEPT_FOR: Duration = Duration::from_secs(86_400);

/// How long a claim holds while its request runs: longer than any request may take (API
/// Gateway gives up at 29 s), so that a claim whose function died frees itself.
pub const IN_FLIGHT_FOR: Duration = Duration::from_secs(60);

/// The longest key taken (the draft leaves it to the server; UUIDs are 36).
pub const MAX_KEY_LEN: usize = 255;

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: act, then keep the answer or give the claim up.
    Claimed,
    /// A request with this key and this fingerprint was answered: its answer, as kept.
    Answered(String),
    /// A request with this key is still running.
    InFlight,
    /// The key was used for another request (another method, path or body).
    Reused,
}

impl Claim {
    /// What a live key held by a request of `held` (with its kept answer, if any) means for a
    /// request of `fingerprint`: the one rule both stores apply.
    pub fn of_held(held: &str, answer: Option<String>, fingerprint: &str) -> Self {
        match answer {
            _ if held != fingerprint => Self::Reused,
            Some(answer) => Self::Answered(answer),
            None => Self::InFlight,
        }
    }
}

/// The store key of `key` for the caller `sub` of the tenant `tenant` (its registry key:
/// tenants that share a pool do not share keys).
pub fn store_key(tenant: &str, sub: &str, key: &str) -> String {
    format!(
        "idem#{tenant}#{sub}#{}",
        hex(&sha2::Sha256::digest(key.as_bytes()))
    )
}

/// What makes a request the same request: its method, path and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut digest = sha2::Sha256::new();
    for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
        digest.update(part);
    }
    hex(&digest.finalize())
}

/// Whether `key` is one the API takes: 1 to [`MAX_KEY_LEN`] visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_callers_and_kept_by_their_hash() {
        let a = store_key("pool", "sub-a", "key-1");
        assert_ne!(a, store_key("pool", "sub-b", "key-1"));
        assert_ne!(a, store_key("other", "sub-a", "key-1"));
        assert_ne!(a, store_key("pool", "sub-a", "key-2"));
        assert!(!a.contains("key-1"), "{a}");
    }

    #[test]
    fn a_fingerprint_tells_method_path_and_body_apart() {
        let f = fingerprint("POST", "/users/x/lock", b"{}");
        assert_eq!(f, fingerprint("POST", "/users/x/lock", b"{}"));
        assert_ne!(f, fingerprint("PUT", "/users/x/lock", b"{}"));
        assert_ne!(f, fingerprint("POST", "/users/y/lock", b"{}"));
        assert_ne!(f, fingerprint("POST", "/users/x/lock", b"{\"a\":1}"));
    }

    #[test]
    fn a_key_is_visible_ascii_of_a_bounded_length() {
        assert!(valid_key("0b8e7c1e-6a4f-4d5e-9b0a-1f2e3d4c5b6a"));
        for bad in ["", "has space", "tab\t", "é", &"a".repeat(256)] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }
}
