//! The contract's `User`: a directory user with the account state this API keeps beside it.

use serde::Serialize;

use crate::{domain::directory::DirectoryUser, domain::lock::AccountState};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub sub: Option<String>,
    /// Cognito's `UserStatus`.
    pub status: String,
    /// `INITIAL`, `ACTIVE`, `INACTIVE` (disabled), `LOCKED` or `RESET_REQUIRED`.
    pub state: &'static str,
    pub enabled: bool,
    pub locked: bool,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub phone_number: Option<String>,
    pub phone_verified: Option<bool>,
    /// A new address set and waiting for its code; the one above stays in use until then.
    pub pending_email: Option<String>,
    pub pending_phone_number: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl User {
    pub fn of(u: &DirectoryUser, account: &AccountState) -> Self {
        let locked = account.lock.is_some();
        let state = if !u.enabled {
            "INACTIVE"
        } else if locked {
            "LOCKED"
        } else {
            match u.status.as_str() {
                "FORCE_CHANGE_PASSWORD" | "UNCONFIRMED" => "INITIAL",
                "RESET_REQUIRED" => "RESET_REQUIRED",
                _ => "ACTIVE",
            }
        };
        let text = |name: &str| u.attribute(name).map(str::to_string);
        let flag = |name: &str| u.attribute(name).map(|v| v == "true");
        Self {
            user_id: u.username.clone(),
            sub: u.sub.clone(),
            status: u.status.clone(),
            state,
            enabled: u.enabled,
            locked,
            email: text("email"),
            email_verified: flag("email_verified"),
            phone_number: text("phone_number"),
            phone_verified: flag("phone_number_verified"),
            // only while it still differs from the address in use
            pending_email: account
                .pending_email
                .clone()
                .filter(|p| u.attribute("email") != Some(p.as_str())),
            pending_phone_number: account
                .pending_phone
                .clone()
                .filter(|p| u.attribute("phone_number") != Some(p.as_str())),
            given_name: text("given_name"),
            family_name: text("family_name"),
            name: text("name"),
            locale: text("locale"),
            created_at: u.created_at.clone(),
            updated_at: u.updated_at.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lock::{Lock, LockSource};

    fn user(status: &str, enabled: bool) -> DirectoryUser {
        DirectoryUser {
            username: "u".into(),
            status: status.into(),
            enabled,
            attributes: [("email_verified".to_string(), "true".to_string())].into(),
            ..DirectoryUser::default()
        }
    }

    #[test]
    fn the_state_is_derived_in_order_of_precedence() {
        let locked = AccountState {
            lock: Some(Lock {
                source: LockSource::Admin,
                reason: None,
                locked_at: String::new(),
                locked_by: String::new(),
                locked_until: None,
                budget: None,
            }),
            failed_attempts: 0,
            failed_otp_attempts: 0,
            ..AccountState::default()
        };
        let free = AccountState::default();
        assert_eq!(
            User::of(&user("CONFIRMED", false), &locked).state,
            "INACTIVE"
        );
        assert_eq!(User::of(&user("CONFIRMED", true), &locked).state, "LOCKED");
        assert_eq!(
            User::of(&user("FORCE_CHANGE_PASSWORD", true), &free).state,
            "INITIAL"
        );
        assert_eq!(User::of(&user("UNCONFIRMED", true), &free).state, "INITIAL");
        assert_eq!(
            User::of(&user("RESET_REQUIRED", true), &free).state,
            "RESET_REQUIRED"
        );
        assert_eq!(User::of(&user("CONFIRMED", true), &free).state, "ACTIVE");
        assert_eq!(
            User::of(&user("CONFIRMED", true), &free).email_verified,
            Some(true)
        );
    }
}
