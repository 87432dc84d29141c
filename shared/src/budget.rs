//! Spending a lockout budget around one check of a guessable secret (a password, a code):
//! reserve a unit, check, settle (see `domain::lock` for the rules both stores follow). Every
//! route that checks such a secret goes through here: a sign-in, a challenge's code, the
//! previous password of a password change. And the budget of verification codes sent, per
//! user and per tenant ([`App::spend_code_send`]).

use crate::domain::lock::Budgets;
use crate::domain::lock::Locks;
use std::time::{Duration, SystemTime};

use crate::{
    app::{App, Ports},
    domain::audit::Event,
    domain::lock::{Budget, Reservation, SendScope},
    domain::store::Chain,
    domain::tenant::Tenant,
    domain::user_id::UserId,
    http::problem::ApiError,
    http::request::RequestMeta,
};

/// A unit of a budget held for one check, or none where the tenant's policy sets no limit.
#[derive(Debug, Clone, Copy)]
pub enum Reserved {
    Unlimited,
    Granted {
        budget: Budget,
        attempt: u32,
        at: SystemTime,
    },
}

/// How the unit a check reserved is settled once the check answered.
#[derive(Debug, Clone, Copy)]
pub enum Settle {
    /// No budget was reserved (no policy, or refused before the check).
    Nothing,
    Success(Budget),
    /// A wrong password or code (or an unknown user, who spends budget alike): keep the unit.
    Failure {
        budget: Budget,
        attempt: u32,
        now: SystemTime,
    },
    /// The check never happened (the directory unavailable, throttled, …): give the unit back.
    Release(Budget),
}

impl Reserved {
    /// The check never happened: the unit goes back.
    pub fn release(&self) -> Settle {
        match *self {
            Self::Granted { budget, .. } => Settle::Release(budget),
            Self::Unlimited => Settle::Nothing,
        }
    }

    /// How to settle this reservation after `outcome`; `wrong` tells a wrong guess (the unit
    /// stays spent) from a check that never happened.
    pub fn settle<T, E>(&self, outcome: &Result<T, E>, wrong: impl Fn(&E) -> bool) -> Settle {
        let Self::Granted {
            budget,
            attempt,
            at,
        } = *self
        else {
            return Settle::Nothing;
        };
        match outcome {
            Ok(_) => Settle::Success(budget),
            Err(e) if wrong(e) => Settle::Failure {
                budget,
                attempt,
                now: at,
            },
            Err(_) => Settle::Release(budget),
        }
    }
}

impl<P: Ports> App<P> {
    /// Reserves one check of `budget` for `user`, or refuses it: any lock (`account-locked`,
    /// the secret is never checked), a budget held by checks still in flight (429). Where the
    /// tenant sets no limit for it, only the lock is checked. Fails closed.
    pub async fn reserve(
        &self,
        tenant: &Tenant,
        user: &UserId,
        budget: Budget,
    ) -> Result<Reserved, ApiError> {
        let (pool, policy) = (&tenant.user_pool_id, &tenant.lockout);
        if budget.limit(policy) == 0 {
            if self.locks.state(pool, user).await?.lock.is_some() {
                return Err(ApiError::AccountLocked);
            }
            return Ok(Reserved::Unlimited);
        }
        let now = SystemTime::now();
        match self
            .locks
            .reserve_attempt(pool, user, budget, policy, now)
            .await?
        {
            Reservation::Granted { attempt } => Ok(Reserved::Granted {
                budget,
                attempt,
                at: now,
            }),
            Reservation::Locked(_) => Err(ApiError::AccountLocked),
            Reservation::Exhausted => Err(ApiError::TooManyRequests {
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// Settles a reservation. It never changes the caller's answer: a failed write leaves the
    /// budget smaller, never larger, so the error is logged and the policy stays on the safe
    /// side. A failure that spends the last unit locks the account, audited as `auto-lock`.
    pub async fn settle(&self, tenant: &Tenant, meta: &RequestMeta, user: &UserId, settle: Settle) {
        let (pool, policy) = (&tenant.user_pool_id, &tenant.lockout);
        let settled = match settle {
            Settle::Nothing => Ok(()),
            Settle::Success(budget) => self.locks.record_success(pool, user, budget).await,
            Settle::Failure {
                budget,
                attempt,
                now,
            } => match self
                .locks
                .record_failure(pool, user, budget, attempt, policy, now)
                .await
            {
                Ok(Some(_lock)) => {
                    crate::metrics::auto_lock();
                    let event =
                        Event::new(user, &meta.activity_id, "system", "auto-lock", "success");
                    self.record(tenant, event).await;
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            },
            Settle::Release(budget) => self.locks.release_attempt(pool, user, budget).await,
        };
        if let Err(e) = settled {
            tracing::error!(cause = %Chain(&e), "the lockout reservation was not settled");
        }
    }

    /// Spends one verification-code send of `user`, then of the tenant's pool, in the hour
    /// (`CODE_SENDS_PER_USER_HOUR`, `CODE_SENDS_PER_TENANT_HOUR`): a code to an email or a
    /// phone costs the tenant (SMS above all) and floods an inbox, so neither a caller nor an
    /// attacker spread over many users may have more sent. Over either, `429` with
    /// `Retry-After` (the window's end) and nothing is sent. Fails closed.
    pub async fn spend_code_send(&self, tenant: &Tenant, user: &UserId) -> Result<(), ApiError> {
        const HOUR: Duration = Duration::from_secs(3600);
        let now = SystemTime::now();
        let pool_id = tenant.user_pool_id.clone();
        let scopes = [
            (
                SendScope::User {
                    pool_id: pool_id.clone(),
                    user: user.clone(),
                },
                self.config.code_sends_per_user,
            ),
            (
                SendScope::Pool { pool_id },
                self.config.code_sends_per_tenant,
            ),
        ];
        for (scope, limit) in scopes {
            if let Some(wait) = self.locks.spend_send(&scope, limit, HOUR, now).await? {
                return Err(ApiError::TooManyRequests { retry_after: wait });
            }
        }
        Ok(())
    }
}
