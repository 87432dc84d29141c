//! [`Locks`] on DynamoDB.

use super::*;
use crate::domain::lock::Budgets;
use crate::domain::lock::Locks;

impl Locks for DynamoLocks {
    async fn state(&self, pool_id: &str, user: &UserId) -> Result<AccountState, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(account_key(pool_id, user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out
            .item()
            .map(|item| state_from_item(item, SystemTime::now()))
            .unwrap_or_default())
    }

    async fn states(
        &self,
        pool_id: &str,
        users: &[UserId],
    ) -> Result<HashMap<String, AccountState>, StoreError> {
        let mut states = HashMap::new();
        let now = SystemTime::now();
        // BatchGetItem takes 100 keys at most; a page of users is at most 60
        for chunk in users.chunks(100) {
            let mut keys: Vec<Item> = chunk
                .iter()
                .map(|u| {
                    HashMap::from([("pk".to_string(), AttributeValue::S(account_key(pool_id, u)))])
                })
                .collect();
            // unprocessed keys are retried a few times, then the read fails closed
            for _ in 0..4 {
                if keys.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::internal(format!("BatchGetItem request: {e}")))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let Some(user) = string(item, "pk")
                        .and_then(|pk| pk.rsplit_once('#').map(|(_, u)| u.to_string()))
                    {
                        states.insert(user, state_from_item(item, now));
                    }
                }
                keys = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .map(|k| k.keys().to_vec())
                    .unwrap_or_default();
            }
            if !keys.is_empty() {
                return Err(StoreError::unavailable("DynamoDB left keys unprocessed"));
            }
        }
        Ok(states)
    }

    async fn lock(
        &self,
        pool_id: &str,
        user: &UserId,
        lock: Lock,
        now: SystemTime,
    ) -> Result<Locked, StoreError> {
        let old = match self.write_lock(pool_id, user, &lock, now).await? {
            Ok(new) => {
                return Ok(Locked {
                    lock,
                    created: true,
                    failed_attempts: spent(&new, Budget::Password),
                    failed_otp_attempts: spent(&new, Budget::Otp),
                });
            }
            Err(old) => old,
        };
        if let Some(held) = lock_from_item(&old).filter(|l| l.holds_at(now) && l.same_terms(&lock))
        {
            // the same lock again (a retry): kept as it was first written
            return Ok(Locked {
                lock: held,
                created: false,
                failed_attempts: spent(&old, Budget::Password),
                failed_otp_attempts: spent(&old, Budget::Otp),
            });
        }
        // a lockout, or an admin lock with another reason or end: replaced, unconditionally
        let out = self
            .lock_update(pool_id, user, &lock, now)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(classify)?;
        let old = out.attributes().cloned().unwrap_or_default();
        Ok(Locked {
            created: lock_from_item(&old).is_none_or(|held| !held.holds_at(now)),
            failed_attempts: spent(&old, Budget::Password),
            failed_otp_attempts: spent(&old, Budget::Otp),
            lock,
        })
    }

    async fn unlock(&self, pool_id: &str, user: &UserId) -> Result<(), StoreError> {
        match self
            .update(pool_id, user)
            .update_expression(LIFT_LOCK)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn clear_lockout(&self, pool_id: &str, user: &UserId) -> Result<(), StoreError> {
        // a lockout of the password budget (or one from before locks named their budget)
        let lifted = self
            .update(pool_id, user)
            .update_expression(LIFT_PASSWORD_LOCKOUT)
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(lockSource) OR \
                 (lockSource = :policy AND (attribute_not_exists(lockBudget) OR lockBudget = :password)))",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":policy", AttributeValue::S(LockSource::LockoutPolicy.as_str().into()))
            .expression_attribute_values(":password", AttributeValue::S(Budget::Password.as_str().into()))
            .send()
            .await;
        match lifted {
            Ok(_) => Ok(()),
            // no item, an admin lock or a code lockout: the password budget is still reset,
            // the lock stays
            Err(e) if is_condition_failure(&e) => {
                self.record_success(pool_id, user, Budget::Password).await
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn forget(&self, pool_id: &str, user: &UserId) -> Result<(), StoreError> {
        // the one-time codes first: a user made again under the same name must not find the
        // last one's
        let codes = CodePurpose::ALL.map(|p| code_key(p, pool_id, user));
        let ring = super::security_keys::ring_key(pool_id, user);
        for key in codes.into_iter().chain([ring, account_key(pool_id, user)]) {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(key))
                .send()
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    async fn set_pending(
        &self,
        pool_id: &str,
        user: &UserId,
        contact: Contact,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let attribute = match contact {
            Contact::Email => "pendingEmail",
            Contact::Phone => "pendingPhone",
        };
        let req = self.update(pool_id, user);
        let req = match value {
            Some(v) => req
                .update_expression(format!("SET {attribute} = :v"))
                .expression_attribute_values(":v", AttributeValue::S(v.to_string())),
            // no item is made only to say there is nothing pending
            None => req
                .update_expression(format!("REMOVE {attribute}"))
                .condition_expression("attribute_exists(pk)"),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn end_sessions(
        &self,
        pool_id: &str,
        user: &UserId,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        let at = epoch_seconds(at);
        // The note must outlive every access token issued before it (a day at most): the
        // item's housekeeping is moved a day past it, unless the item lasts longer anyway (an
        // open-ended lock has no expiry; a timed one may end later).
        let keep_until = at + HOUSEKEEPING.as_secs();
        let with_housekeeping = self
            .update(pool_id, user)
            .update_expression("SET sessionsEndedAt = :at, expiresAt = :expires")
            .condition_expression(
                "(attribute_not_exists(lockSource) OR attribute_exists(lockedUntil)) \
                 AND (attribute_not_exists(expiresAt) OR expiresAt < :expires) \
                 AND (attribute_not_exists(sessionsEndedAt) OR sessionsEndedAt < :at)",
            )
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":expires", n(keep_until))
            .send()
            .await;
        match with_housekeeping {
            Ok(_) => return Ok(()),
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(classify(e)),
        }
        match self
            .update(pool_id, user)
            .update_expression("SET sessionsEndedAt = :at")
            .condition_expression("attribute_not_exists(sessionsEndedAt) OR sessionsEndedAt < :at")
            .expression_attribute_values(":at", n(at))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // a later note holds already
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}
