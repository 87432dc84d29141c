//! A pool's password policy, checked before a new password goes to Cognito.

/// The pool's password policy, checked before a new password is sent so that the answer can
/// name the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_length: usize,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl Default for PasswordPolicy {
    /// Cognito's default policy.
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        }
    }
}

impl PasswordPolicy {
    /// The characters Cognito counts as symbols.
    const SYMBOLS: &'static str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

    /// The first rule `password` breaks, in words fit for the caller.
    pub fn violation(&self, password: &str) -> Option<String> {
        if password.chars().count() < self.minimum_length {
            return Some(format!(
                "the password must be at least {} characters long",
                self.minimum_length
            ));
        }
        if password.starts_with(' ') || password.ends_with(' ') {
            return Some("the password must not begin or end with a space".into());
        }
        if self.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
            return Some("the password must contain an upper-case letter".into());
        }
        if self.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
            return Some("the password must contain a lower-case letter".into());
        }
        if self.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            return Some("the password must contain a number".into());
        }
        if self.require_symbols && !password.chars().any(|c| Self::SYMBOLS.contains(c)) {
            return Some("the password must contain a symbol".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_first_broken_rule() {
        let p = PasswordPolicy::default();
        assert!(p.violation("Ab1!").unwrap().contains("at least 8"));
        assert!(p.violation("abcdefg1!").unwrap().contains("upper-case"));
        assert!(p.violation("ABCDEFG1!").unwrap().contains("lower-case"));
        assert!(p.violation("Abcdefgh!").unwrap().contains("number"));
        assert!(p.violation("Abcdefgh1").unwrap().contains("symbol"));
        assert!(p.violation(" Abcdefg1!").unwrap().contains("space"));
        assert_eq!(p.violation("Abcdefg1!"), None);
    }
}
