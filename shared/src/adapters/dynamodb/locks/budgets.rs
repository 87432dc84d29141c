//! [`Budgets`] on DynamoDB.

use super::*;
use crate::domain::lock::Budgets;

impl Budgets for DynamoLocks {
    async fn reserve_attempt(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Reservation, StoreError> {
        let secs = epoch_seconds(now);
        let (spent_at, reserved_at) = attributes(budget);
        let (other, _) = attributes(match budget {
            Budget::Password => Budget::Otp,
            Budget::Otp => Budget::Password,
        });
        // a lost race with another writer is retried a few times; it cannot loop for long
        for _ in 0..3 {
            let result = self
                .update(pool_id, user)
                .update_expression(format!(
                    "ADD {spent_at} :one SET {reserved_at} = :now, expiresAt = :expires"
                ))
                // any lock, even an expired one, goes the slower way below: an expired lockout
                // leaves both budgets to be started afresh, whichever ran out
                .condition_expression(format!(
                    "(attribute_not_exists({spent_at}) OR {spent_at} < :max) \
                     AND attribute_not_exists(lockSource)"
                ))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":max", n(budget.limit(policy)))
                .expression_attribute_values(":now", n(secs))
                .expression_attribute_values(":expires", n(secs + HOUSEKEEPING.as_secs()))
                .return_values(ReturnValue::UpdatedNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let old = match result {
                Ok(out) => {
                    let attempt = out
                        .attributes()
                        .and_then(|a| number(a, spent_at))
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(1);
                    return Ok(Reservation::Granted { attempt });
                }
                Err(e) if is_condition_failure(&e) => old_item(e),
                Err(e) => return Err(classify(e)),
            };
            match lock_from_item(&old) {
                Some(lock) if lock.holds_at(now) => return Ok(Reservation::Locked(lock)),
                Some(expired) => {
                    // the lockout is over: fresh budgets, with this attempt as its first unit
                    let reset = self
                        .update(pool_id, user)
                        .update_expression(format!(
                            "SET {spent_at} = :one, {other} = :zero, {reserved_at} = :now, \
                             expiresAt = :expires \
                             REMOVE lockSource, lockReason, lockedAt, lockedBy, lockedUntil, \
                             lockBudget"
                        ))
                        .condition_expression("lockedUntil = :until")
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":zero", n(0))
                        .expression_attribute_values(":now", n(secs))
                        .expression_attribute_values(":expires", n(secs + HOUSEKEEPING.as_secs()))
                        .expression_attribute_values(":until", n(expired.locked_until.unwrap_or(0)))
                        .send()
                        .await;
                    match reset {
                        Ok(_) => return Ok(Reservation::Granted { attempt: 1 }),
                        Err(e) if is_condition_failure(&e) => continue,
                        Err(e) => return Err(classify(e)),
                    }
                }
                None => {
                    let last = number(&old, reserved_at).unwrap_or(0);
                    if last + crate::domain::lock::STALE_RESERVATION.as_secs() > secs {
                        return Ok(Reservation::Exhausted);
                    }
                    // checks that died in flight hold the budget: count them as failures
                    let lock = Lock::lockout(budget, policy, now);
                    match self.write_lock(pool_id, user, &lock, now).await? {
                        Ok(_) => return Ok(Reservation::Locked(lock)),
                        Err(_) => continue,
                    }
                }
            }
        }
        Err(StoreError::Throttled {
            retry_after: Duration::from_secs(1),
        })
    }

    async fn record_failure(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
        attempt: u32,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Option<Lock>, StoreError> {
        if attempt < budget.limit(policy) {
            return Ok(None);
        }
        let lock = Lock::lockout(budget, policy, now);
        Ok(self
            .write_lock(pool_id, user, &lock, now)
            .await?
            .ok()
            .map(|_| lock))
    }

    async fn record_success(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
    ) -> Result<(), StoreError> {
        let (spent_at, _) = attributes(budget);
        match self
            .update(pool_id, user)
            .update_expression(format!("SET {spent_at} = :zero"))
            .condition_expression(format!("attribute_exists({spent_at})"))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn release_attempt(
        &self,
        pool_id: &str,
        user: &UserId,
        budget: Budget,
    ) -> Result<(), StoreError> {
        let (spent_at, _) = attributes(budget);
        match self
            .update(pool_id, user)
            .update_expression(format!("ADD {spent_at} :minus"))
            .condition_expression(format!("{spent_at} > :zero"))
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn spend_send(
        &self,
        scope: &SendScope,
        limit: u32,
        window: Duration,
        now: SystemTime,
    ) -> Result<Option<Duration>, StoreError> {
        let (number, left) = SendScope::window_of(now, window);
        // one conditional ADD: of concurrent sends, no more than `limit` pass; the count
        // outlives its window by a day (housekeeping)
        let spent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(scope.key(number)))
            .update_expression("ADD sends :one SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(sends) OR sends < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(
                ":expires",
                n(epoch_seconds(now) + left.as_secs() + HOUSEKEEPING.as_secs()),
            )
            .send()
            .await;
        match spent {
            Ok(_) => Ok(None),
            Err(e) if is_condition_failure(&e) => Ok(Some(left)),
            Err(e) => Err(classify(e)),
        }
    }
}
