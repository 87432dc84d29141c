//! Who a bearer token speaks for: the [`Caller`] the token verifier
//! (`adapters::jwks::TokenVerifier`) answers, and the rules about it.

/// The verified caller behind a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    /// The Cognito username (this API's `userID`), folded to lower case.
    pub username: String,
    pub groups: Vec<String>,
    /// When the user signed in (`auth_time`, seconds since the epoch): a refreshed token
    /// keeps the time of the sign-in it descends from.
    pub auth_time: Option<u64>,
}

impl Caller {
    /// Whether the sign-in behind the token is at most `within` old at `now`; a token that
    /// does not say when is not.
    pub fn signed_in_within(
        &self,
        within: std::time::Duration,
        now: std::time::SystemTime,
    ) -> bool {
        let now = crate::time::epoch_seconds(now);
        self.auth_time.is_some_and(|t| {
            t <= now.saturating_add(60) && now.saturating_sub(t) <= within.as_secs()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_sign_in_is_recent_only_within_the_window_and_only_when_the_token_says_when() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(10_000);
        let caller = |auth_time| Caller {
            sub: "s".into(),
            username: "u".into(),
            groups: vec![],
            auth_time,
        };
        let window = Duration::from_secs(900);
        assert!(caller(Some(10_000 - 900)).signed_in_within(window, now));
        assert!(!caller(Some(10_000 - 901)).signed_in_within(window, now));
        assert!(!caller(None).signed_in_within(window, now));
        // a sign-in from the future beyond clock skew is no sign-in
        assert!(!caller(Some(10_000 + 3600)).signed_in_within(window, now));
    }
}
