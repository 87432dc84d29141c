//! Bounded string fields for request bodies: checked while deserializing, so a handler
//! never sees an empty, over-long or control-character value, and secrets never print.

use serde::{Deserialize, Deserializer, de::Error as _};

// Rules read "must …": `request::json_body` passes such messages on, since they hold no value.
const TOO_LONG: &str = "must be at most";
const EMPTY: &str = "must not be empty";
const CONTROL: &str = "must not contain control characters";

fn checked<'de, D: Deserializer<'de>>(d: D, max: usize) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(D::Error::custom(EMPTY));
    }
    if s.chars().count() > max {
        return Err(D::Error::custom(format!("{TOO_LONG} {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(D::Error::custom(CONTROL));
    }
    Ok(s)
}

/// A non-empty string of at most `MAX` characters, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, MAX).map(Self)
    }
}

/// Like [`Text`], for passwords, tokens, sessions and codes: `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<const MAX: usize>(String);

impl<const MAX: usize> Secret<MAX> {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> std::fmt::Debug for Secret<MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Secret<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, MAX).map(Self)
    }
}

/// Cognito's own bounds: passwords ≤ 256, sessions ≤ 2048; refresh tokens are JWE of ~1.8 KB.
pub type Password = Secret<256>;
pub type Session = Secret<2048>;
pub type RefreshToken = Secret<4096>;
pub type Code = Secret<2048>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s: Password = serde_json::from_str("\"hunter2\"").unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(serde_json::from_str::<Text<3>>("\"abcd\"").is_err());
        assert!(serde_json::from_str::<Text<3>>("\"\"").is_err());
        assert!(serde_json::from_str::<Text<3>>("\"a\\u0000\"").is_err());
        assert!(serde_json::from_str::<Text<3>>("\"abc\"").is_ok());
    }
}
