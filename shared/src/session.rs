//! The API's own session as a user: the one way the API reaches Cognito's self-service
//! operations (`AssociateSoftwareToken`, `VerifyUserAttribute`, `ChangePassword`, the WebAuthn
//! operations, …), which take nothing but the user's access token.
//!
//! No token the API hands out can call them: the pool's pre token generation trigger
//! (`functions/custom-auth`, `pre_token`) takes `aws.cognito.signin.user.admin` out of every
//! access token except this session's. Here the API makes a one-time code (a minute, only its
//! SHA-256 kept), signs in as the user through the pool's custom sign-in with it (the
//! `custom-auth` triggers check it; only the API's app client, which has a secret, can start
//! one), the code travelling as `ClientMetadata` so that the trigger keeps the scope for this
//! sign-in alone. The code is spent at once, the access token is handed to the work, and the
//! session is revoked after: its tokens never leave the function.

use crate::domain::directory::SignIn;
use crate::domain::lock::{Codes, Locks};
use std::future::Future;

use crate::{
    app::{App, Ports},
    domain::directory::{DirectoryError, Tokens},
    domain::lock::{CodePurpose, OneTimeCode},
    domain::store::Chain,
    domain::tenant::Tenant,
    domain::user_id::UserId,
    http::problem::ApiError,
    time::{epoch_seconds, rfc3339},
};

impl<P: Ports> App<P> {
    /// Signs the user out everywhere: Cognito revokes every refresh token (and the access
    /// tokens it knows of, `AdminUserGlobalSignOut`), then the account state notes the second
    /// it happened in (`LockStore::end_sessions`), since the API's bearer check cannot ask
    /// Cognito whether a token without the self-service scope was revoked (`App::caller`).
    /// In that order: a failure of either is the answer, and the note (which refuses the
    /// caller's own token from then on) is written only once Cognito's part holds, so the
    /// caller's retry with the same token completes both. The other way round, a Cognito
    /// failure would leave every refresh token alive and the retry refused.
    ///
    /// A session that began in that second counts as ended (Cognito says when a session began
    /// to the second only), so the answer waits for the next second: no sign-in made after it
    /// can be taken for one made before.
    pub async fn sign_out_everywhere(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<(), ApiError> {
        let now = std::time::SystemTime::now();
        self.directory
            .global_sign_out(tenant, user)
            .await
            .map_err(DirectoryError::for_admin)?;
        self.locks
            .end_sessions(&tenant.user_pool_id, user, now)
            .await?;
        past_the_second_of(now).await;
        Ok(())
    }

    /// The `sub` of `user`'s account, which must be enabled to sign in (`AdminGetUser`): a
    /// disabled account is `account-disabled`, an unknown one `user-not-found`.
    pub async fn enabled_account(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<String, ApiError> {
        let found = self.user(tenant, user).await?;
        if !found.enabled {
            return Err(ApiError::AccountDisabled);
        }
        found
            .sub
            .ok_or_else(|| ApiError::Internal("Cognito named no sub for the user".into()))
    }

    /// A session of the API's own as `user`, the account `sub` (see the module comment): its
    /// tokens, which the caller must end with [`App::end_code_session`]. `made_by` is who the
    /// code is kept as made by (an admin's `sub`, or `self`). The caller knows the account
    /// exists and is enabled: the bearer check read it for the user's own call, an admin's
    /// call reads it first ([`App::enabled_account`]).
    pub async fn session_as(
        &self,
        tenant: &Tenant,
        user: &UserId,
        sub: &str,
        purpose: CodePurpose,
        made_by: &str,
    ) -> Result<Tokens, ApiError> {
        let pool = &tenant.user_pool_id;
        // one code per user and purpose at a time: a concurrent session replaces this one's,
        // and this sign-in is then refused; one more try with a code of its own
        let mut tries = 0;
        let signed = loop {
            tries += 1;
            let code = OneTimeCode::new_code()?;
            let now = std::time::SystemTime::now();
            let kept = OneTimeCode {
                code_hash: OneTimeCode::hash_of(&code),
                sub: sub.to_string(),
                app_client_id: tenant.app_client_id.clone(),
                expires_at: epoch_seconds(now + purpose.lifetime()),
                created_at: rfc3339(now),
                created_by: made_by.to_string(),
            };
            self.locks
                .put_code(purpose, pool, user, &kept, true)
                .await?;
            let signed = self
                .directory
                .code_auth(tenant, user, &purpose.answer(&code))
                .await;
            // spent at once, whatever the sign-in answered (else it expires within the minute)
            let spent = std::time::SystemTime::now();
            if let Err(e) = self
                .locks
                .take_code(purpose, pool, user, &kept.code_hash, spent)
                .await
            {
                tracing::warn!(cause = %Chain(&e), "a session code was left to expire");
            }
            match signed {
                Err(DirectoryError::NotAuthorized) if tries < 2 => continue,
                other => break other,
            }
        };
        signed
            .map_err(|e| match e {
                // twice: a misconfigured pool (its custom-auth triggers), or a busy account
                DirectoryError::NotAuthorized => ApiError::DependencyUnavailable(
                    "the user pool refused the API's own sign-in as the user".into(),
                ),
                // no parameter of the caller's: the pool or its app client does not take the
                // custom sign-in (ALLOW_CUSTOM_AUTH, the custom-auth triggers)
                DirectoryError::InvalidParameter => ApiError::Internal(
                    "the user pool does not take the API's own sign-in: check the app client's \
                     ALLOW_CUSTOM_AUTH and the pool's custom-auth triggers"
                        .into(),
                ),
                other => DirectoryError::for_admin(other),
            })?
            .authentication_result
            .ok_or_else(|| ApiError::Internal("Cognito issued no tokens".into()))
    }

    /// Runs `work` with the access token of a [`Self::session_as`] session, and ends the
    /// session after, whatever `work` answered.
    pub async fn with_session_as<T, F, Fut>(
        &self,
        tenant: &Tenant,
        user: &UserId,
        sub: &str,
        purpose: CodePurpose,
        made_by: &str,
        work: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let tokens = self.session_as(tenant, user, sub, purpose, made_by).await?;
        let out = work(tokens.access_token.clone()).await;
        self.end_code_session(tenant, &tokens).await;
        out
    }
}

/// Waits for the second after `ended`'s (see [`App::sign_out_everywhere`]): a sign-out that
/// noted `ended` answers only then, so that no sign-in made after the answer shares its second.
pub async fn past_the_second_of(ended: std::time::SystemTime) {
    let next_second = crate::time::from_epoch_seconds(epoch_seconds(ended) + 1);
    if let Ok(left) = next_second.duration_since(std::time::SystemTime::now()) {
        tokio::time::sleep(left).await;
    }
}
