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

/// An email address as Cognito accepts one: one `@`, no spaces, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = checked(d, 254)?;
        let valid = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !s.contains(char::is_whitespace)
            }
            None => false,
        };
        if !valid {
            return Err(D::Error::custom("must be an email address"));
        }
        Ok(Self(s))
    }
}

/// A phone number in E.164 form: `+` and 2 to 15 digits, the first not 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = checked(d, 16)?;
        let digits = s.strip_prefix('+').unwrap_or("");
        let valid = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err(D::Error::custom(
                "must be an E.164 phone number such as +14155550100",
            ));
        }
        Ok(Self(s))
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
    fn emails_and_phones_are_checked() {
        assert!(serde_json::from_str::<Email>("\"a@example.com\"").is_ok());
        for bad in [
            "\"a@b\"",
            "\"@example.com\"",
            "\"a b@example.com\"",
            "\"nope\"",
        ] {
            assert!(serde_json::from_str::<Email>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Phone>("\"+14155550100\"").is_ok());
        for bad in [
            "\"14155550100\"",
            "\"+0123\"",
            "\"+1-415\"",
            "\"+1234567890123456\"",
        ] {
            assert!(serde_json::from_str::<Phone>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(serde_json::from_str::<Text<3>>("\"abcd\"").is_err());
        assert!(serde_json::from_str::<Text<3>>("\"\"").is_err());
        assert!(serde_json::from_str::<Text<3>>("\"a\\u0000\"").is_err());
        assert!(serde_json::from_str::<Text<3>>("\"abc\"").is_ok());
    }
}
