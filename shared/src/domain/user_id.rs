//! The id of a user: a Cognito username as this API accepts it from callers, and as a
//! trigger receives it from Cognito.

/// A `userID` outside [`UserId::RULE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`userID` {}", UserId::RULE)]
pub struct InvalidUserId;

/// A Cognito username as this API accepts it: 1–128 characters of `[A-Za-z0-9._@+-]`,
/// folded to lower case once here, since pools are case-insensitive (and the emulator is not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 128;

    pub const RULE: &'static str =
        "must be 1 to 128 characters of letters, digits and . _ @ + -, and not . or ..";

    pub fn parse(raw: &str) -> Result<Self, InvalidUserId> {
        Self::check(raw).ok_or(InvalidUserId)
    }

    fn check(raw: &str) -> Option<Self> {
        let valid_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-');
        // `.` and `..` are valid Cognito names but read as path steps: refused, to be safe
        (!raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.chars().all(valid_char)
            && raw != "."
            && raw != "..")
            .then(|| Self(raw.to_ascii_lowercase()))
    }

    /// A username as Cognito hands it to a trigger: any name a pool accepts (1–128
    /// characters, none of them whitespace or control), folded to lower case as the pool folds
    /// it. Wider than [`UserId::parse`], which is the API's rule for what callers send: a user
    /// created elsewhere (the hosted UI, an SDK) may hold a name the API would not accept, and
    /// still has an account state to look up.
    pub fn of_cognito(raw: &str) -> Option<Self> {
        (!raw.is_empty()
            && raw.chars().count() <= Self::MAX_LEN
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| Self(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::check(&raw).ok_or_else(|| <D::Error as serde::de::Error>::custom(Self::RULE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_checked_and_folded() {
        assert_eq!(
            UserId::parse("Alice@Example.com").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in ["", "a/b", "..%2F", "a b", "é", ".", "..", &"a".repeat(129)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(UserId::parse(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn cognito_names_the_api_would_refuse_still_name_an_account() {
        assert_eq!(
            UserId::of_cognito("José.Ñandú").map(|u| u.as_str().to_string()),
            Some("josé.ñandú".to_string())
        );
        assert!(UserId::parse("José.Ñandú").is_err());
        for bad in ["", "a b", "tab\tname", &"x".repeat(129)] {
            assert!(UserId::of_cognito(bad).is_none(), "{bad:?}");
        }
    }
}
