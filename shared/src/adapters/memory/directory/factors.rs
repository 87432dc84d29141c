//! [`Factors`] in memory.

use super::*;
use crate::domain::directory::Factors;

impl Factors for InMemoryDirectory {
    async fn mfa_mode(&self, _: &Tenant) -> Result<MfaMode, DirectoryError> {
        Ok(if self.mfa_required.load(Ordering::SeqCst) {
            MfaMode::On
        } else {
            MfaMode::Optional
        })
    }

    async fn start_totp(&self, _: &Tenant, access_token: &str) -> Result<String, DirectoryError> {
        self.enter().await?;
        let user = token_user(access_token)?;
        if let Ok(mut pending) = self.pending_totp.lock() {
            pending.insert(user);
        }
        Ok(Self::TOTP_SECRET.into())
    }

    /// The in-memory code is always [`Self::MFA_CODE`]; as Cognito, there must be an
    /// authenticator started to check it against, and a right code finishes it.
    async fn confirm_totp(
        &self,
        _: &Tenant,
        access_token: &str,
        code: &str,
        _: Option<&str>,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        let name = token_user(access_token)?;
        let user = UserId::of_cognito(&name).ok_or(DirectoryError::NotAuthorized)?;
        let mut pending = self
            .pending_totp
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        if !pending.contains(&name) {
            return Err(DirectoryError::Conflict(
                "the user has no such MFA method set up",
            ));
        }
        if code != Self::MFA_CODE {
            return Err(DirectoryError::CodeMismatch);
        }
        pending.remove(&name);
        drop(pending);
        self.update(&user, |u| u.totp_verified = true)
    }

    /// As Cognito: TOTP turns on only once verified; turning off the preferred factor, or
    /// asking for another as preferred, leaves none preferred.
    async fn set_factor(
        &self,
        _: &Tenant,
        user: &UserId,
        factor: Factor,
        enabled: bool,
        preferred: bool,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        if factor == Factor::Totp && enabled && !self.user(user)?.totp_verified {
            return Err(DirectoryError::InvalidParameter);
        }
        self.update(user, |u| {
            u.factors.retain(|f| *f != factor);
            if enabled {
                u.factors.push(factor);
                u.factors.sort();
            }
            if enabled && preferred {
                u.preferred = Some(factor);
            } else if u.preferred == Some(factor) {
                u.preferred = None;
            }
            u.mfa = !u.factors.is_empty();
        })
    }
}
