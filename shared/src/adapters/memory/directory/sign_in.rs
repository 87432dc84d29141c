//! [`SignIn`] in memory.

use super::*;
use crate::domain::directory::SignIn;

impl SignIn for InMemoryDirectory {
    async fn password_auth(
        &self,
        _: &Tenant,
        user: &UserId,
        password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        // the pools hide user existence (`PreventUserExistenceErrors`): no such user reads as
        // a wrong password
        let u = self.user(user).map_err(|_| DirectoryError::NotAuthorized)?;
        if u.password != password {
            return Err(DirectoryError::NotAuthorized);
        }
        if !u.enabled {
            return Err(DirectoryError::UserDisabled);
        }
        match u.status {
            "FORCE_CHANGE_PASSWORD" => Ok(Self::challenge("NEW_PASSWORD_REQUIRED", user)),
            "RESET_REQUIRED" => Err(DirectoryError::PasswordResetRequired),
            "UNCONFIRMED" => Err(DirectoryError::UserNotConfirmed),
            _ => match asked_factor(&u) {
                Some(challenge) => Ok(Self::challenge(challenge, user)),
                None => Ok(Self::tokens(user)),
            },
        }
    }

    async fn refresh(
        &self,
        _: &Tenant,
        user: &UserId,
        refresh_token: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        let u = self.user(user).map_err(|_| DirectoryError::NotAuthorized)?;
        if refresh_token != format!("refresh-{user}") || !u.enabled {
            return Err(DirectoryError::NotAuthorized);
        }
        let mut r = Self::tokens(user);
        if let Some(t) = r.authentication_result.as_mut() {
            t.refresh_token = None;
            // as Cognito's: a signed token naming the user (the refresh route verifies it)
            t.access_token = refreshed_access_token(user);
        }
        Ok(r)
    }

    async fn complete_new_password(
        &self,
        _: &Tenant,
        user: &UserId,
        session: &str,
        new_password: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        if session != format!("session-{user}-NEW_PASSWORD_REQUIRED") {
            return Err(DirectoryError::NotAuthorized);
        }
        if self.policy.violation(new_password).is_some() {
            return Err(DirectoryError::InvalidPassword(None));
        }
        if let Ok(mut users) = self.users.lock()
            && let Some(u) = users.get_mut(user.as_str())
        {
            u.password = new_password.into();
            u.status = "CONFIRMED";
        }
        Ok(Self::tokens(user))
    }

    async fn answer_challenge(
        &self,
        _: &Tenant,
        user: &UserId,
        challenge: Challenge,
        session: &str,
        code: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        if session != format!("session-{user}-{}", challenge.name()) {
            return Err(DirectoryError::NotAuthorized);
        }
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        Ok(Self::tokens(user))
    }

    async fn passkey_auth(&self, _: &Tenant, _: &UserId) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        Err(DirectoryError::NotAuthorized)
    }

    /// No pool triggers here to check a code (the `custom-auth` function's tests and the
    /// end-to-end tests do): an existing, enabled user signs in with any answer naming a
    /// purpose, anything else is refused.
    async fn code_auth(
        &self,
        _: &Tenant,
        user: &UserId,
        answer: &str,
    ) -> Result<AuthResult, DirectoryError> {
        self.enter().await?;
        let u = self.user(user).map_err(|_| DirectoryError::NotAuthorized)?;
        if !u.enabled {
            return Err(DirectoryError::UserDisabled);
        }
        if crate::domain::lock::CodePurpose::of_answer(answer).is_none() {
            return Err(DirectoryError::NotAuthorized);
        }
        Ok(Self::tokens(user))
    }

    async fn revoke_refresh_token(&self, _: &Tenant, _: &str) -> Result<(), DirectoryError> {
        self.enter().await
    }

    async fn global_sign_out(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        if self.sign_out_fails.load(Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable("sign-out failed".into()));
        }
        self.user(user)?;
        self.sign_outs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The challenge Cognito asks a user for after the password, as the emulator and Cognito do:
/// the preferred factor, the only one, or a choice between several. A user a test marked
/// `mfa` without naming factors is asked for TOTP.
fn asked_factor(u: &MemUser) -> Option<&'static str> {
    if let Some(preferred) = u.preferred.filter(|p| u.factors.contains(p)) {
        return Some(preferred.cognito_name());
    }
    match u.factors.as_slice() {
        [] => u.mfa.then_some("SOFTWARE_TOKEN_MFA"),
        [only] => Some(only.cognito_name()),
        _ => Some("SELECT_MFA_TYPE"),
    }
}
