//! [`Locks`] on DynamoDB.

use super::*;
use crate::domain::lock::Budgets;
use crate::domain::lock::Locks;

impl Locks for DynamoLocks {
    async fn state(&self, pool_id: &str, user: &UserId) -> Result<AccountState, StoreError> {
        let item = self.item(pool_id, user).await?;
        Ok(state_from_item(&item, SystemTime::now()))
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
        entry: &Event,
    ) -> Result<Locked, StoreError> {
        // Read, then write on the condition that the item still holds what was read: a
        // transaction (the lock and its audit entry) returns no item, so the budgets spent and
        // the lock that held come from the read. A write that lost a race reads again.
        for _ in 0..3 {
            let old = self.item(pool_id, user).await?;
            let held = lock_from_item(&old).filter(|l| l.holds_at(now));
            let locked = |lock, created, audited| Locked {
                lock,
                created,
                failed_attempts: spent(&old, Budget::Password),
                failed_otp_attempts: spent(&old, Budget::Otp),
                audited,
            };
            if let Some(same) = held.clone().filter(|l| l.same_terms(&lock)) {
                // the same lock again (a retry): kept as it was first written
                return Ok(locked(same, false, Audited::NotYet));
            }
            let (expression, mut values) = lock_expression(&lock, now);
            // nothing holds: nothing may have come since; a lockout, or an admin lock with
            // another reason or end: replaced, if it is still the one read
            let condition = match &held {
                None => {
                    values.insert(":now".into(), n(epoch_seconds(now)));
                    NO_LOCK_HOLDS
                }
                Some(h) => {
                    values.insert(
                        ":heldSource".into(),
                        AttributeValue::S(h.source.as_str().into()),
                    );
                    if h.locked_at.is_empty() {
                        "lockSource = :heldSource AND attribute_not_exists(lockedAt)"
                    } else {
                        values.insert(":heldAt".into(), AttributeValue::S(h.locked_at.clone()));
                        "lockSource = :heldSource AND lockedAt = :heldAt"
                    }
                }
            };
            let change = Change {
                expression,
                condition,
                values,
            };
            // a lost race (the item changed, or another transaction held it) reads again
            if let Wrote::Done(audited) = self.write_audited(pool_id, user, change, entry).await? {
                return Ok(locked(lock, held.is_none(), audited));
            }
        }
        Err(StoreError::unavailable(
            "the account's state kept changing under the lock",
        ))
    }

    async fn unlock(
        &self,
        pool_id: &str,
        user: &UserId,
        entry: &Event,
    ) -> Result<Audited, StoreError> {
        for _ in 0..3 {
            let change = Change {
                expression: LIFT_LOCK.into(),
                // no item is made only to say it holds nothing
                condition: "attribute_exists(pk)",
                values: Item::from([(":zero".into(), n(0))]),
            };
            match self.write_audited(pool_id, user, change, entry).await? {
                Wrote::Done(audited) => return Ok(audited),
                // nothing to lift: the caller records the entry
                Wrote::ConditionFailed => return Ok(Audited::NotYet),
                Wrote::Busy => continue,
            }
        }
        Err(StoreError::unavailable(
            "the account's state stayed held by other writers",
        ))
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

/// What only real DynamoDB does, pinned with mocks that answer as its API reference documents:
/// a transaction cancelled by a lost race (`ConditionalCheckFailed`) or by another
/// transaction on the item (`TransactionConflict`), and the requests the lock's transaction
/// is made of.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::transact_write_items::{
        TransactWriteItemsError, TransactWriteItemsOutput,
    };
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    use aws_sdk_dynamodb::types::{CancellationReason, error::TransactionCanceledException};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const POOL: &str = "us-east-1_Mock";

    fn store(client: Client) -> DynamoLocks {
        DynamoLocks::new(client, "state").with_audit(AuditTable {
            table: "audit".into(),
            retention: Duration::from_secs(86_400),
        })
    }

    fn rhea() -> UserId {
        UserId::parse("rhea").unwrap()
    }

    fn entry(action: &str) -> Event {
        Event::new(&rhea(), "activity-1", "admin-sub", action, "success")
    }

    fn admin_lock(now: SystemTime) -> Lock {
        Lock {
            source: LockSource::Admin,
            reason: Some("review".into()),
            locked_at: crate::time::rfc3339(now),
            locked_by: "admin-sub".into(),
            locked_until: None,
            budget: None,
        }
    }

    /// `TransactionCanceledException` as DynamoDB sends it: one reason per item, in order,
    /// `None` for an item that would have succeeded.
    fn cancelled(codes: &[&str]) -> TransactWriteItemsError {
        let reasons = codes
            .iter()
            .map(|code| match *code {
                "None" => CancellationReason::builder().code("None").build(),
                "ConditionalCheckFailed" => CancellationReason::builder()
                    .code(*code)
                    .message("The conditional request failed")
                    .build(),
                _ => CancellationReason::builder()
                    .code(*code)
                    .message("Transaction is ongoing for the item")
                    .build(),
            })
            .collect();
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .message(format!(
                    "Transaction cancelled, please refer cancellation reasons for specific \
                     reasons [{}]",
                    codes.join(", ")
                ))
                .set_cancellation_reasons(Some(reasons))
                .meta(
                    aws_sdk_dynamodb::error::ErrorMetadata::builder()
                        .code("TransactionCanceledException")
                        .build(),
                )
                .build(),
        )
    }

    #[tokio::test]
    async fn a_lock_is_one_transaction_of_its_conditional_update_and_its_audit_entry() {
        let read = mock!(Client::get_item)
            .match_requests(|r| {
                r.table_name() == Some("state")
                    && r.consistent_read() == Some(true)
                    && r.key()
                        .and_then(|k| k["pk"].as_s().ok())
                        .map(String::as_str)
                        == Some("us-east-1_Mock#rhea")
            })
            .then_output(|| GetItemOutput::builder().build());
        let write = mock!(Client::transact_write_items)
            .match_requests(|r| {
                let items = r.transact_items();
                let (Some(update), Some(put)) = (
                    items.first().and_then(|i| i.update()),
                    items.get(1).and_then(|i| i.put()),
                ) else {
                    return false;
                };
                let s =
                    |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                items.len() == 2
                    && update.table_name() == "state"
                    && update.condition_expression() == Some(NO_LOCK_HOLDS)
                    && update.update_expression().contains("lockSource = :source")
                    && update
                        .update_expression()
                        .contains("sessionsEndedAt = :ended")
                    && put.table_name() == "audit"
                    && s(put.item(), "pk").as_deref() == Some("us-east-1_Mock#rhea")
                    && s(put.item(), "action").as_deref() == Some("lock")
                    && s(put.item(), "activityID").as_deref() == Some("activity-1")
                    && put.item().contains_key("expiresAt")
            })
            .then_output(|| TransactWriteItemsOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&read, &write]);
        let now = SystemTime::now();
        let locked = store(client)
            .lock(POOL, &rhea(), admin_lock(now), now, &entry("lock"))
            .await
            .unwrap();
        assert_eq!(
            (locked.created, locked.audited),
            (true, Audited::WithTheChange)
        );
        assert_eq!((read.num_calls(), write.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_lock_that_lost_a_race_reads_again_and_leaves_a_retry_to_its_caller() {
        let now = SystemTime::now();
        let first = admin_lock(now - Duration::from_secs(3));
        let held = first.clone();
        let empty = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
        let lost = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ConditionalCheckFailed", "None"]));
        let read_again = mock!(Client::get_item).then_output(move || {
            GetItemOutput::builder()
                .item("pk", AttributeValue::S("us-east-1_Mock#rhea".into()))
                .item("lockSource", AttributeValue::S("admin".into()))
                .item("lockReason", AttributeValue::S("review".into()))
                .item("lockedAt", AttributeValue::S(held.locked_at.clone()))
                .item("lockedBy", AttributeValue::S("other-admin".into()))
                .item("attempts", AttributeValue::N("2".into()))
                .build()
        });
        let client = mock_client!(
            aws_sdk_dynamodb,
            RuleMode::Sequential,
            [&empty, &lost, &read_again]
        );
        let locked = store(client)
            .lock(POOL, &rhea(), admin_lock(now), now, &entry("lock"))
            .await
            .unwrap();
        // the lock that won is the lock, as first written; its entry is its writer's, and
        // this call's is left to the caller
        assert_eq!(
            (locked.created, locked.audited, locked.failed_attempts),
            (false, Audited::NotYet, 2)
        );
        assert_eq!(
            (locked.lock.locked_at, locked.lock.locked_by.as_str()),
            (first.locked_at, "other-admin")
        );
        assert_eq!(read_again.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_unlock_cancelled_by_another_transaction_is_tried_again() {
        let conflict = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["TransactionConflict", "None"]));
        let written = mock!(Client::transact_write_items)
            .then_output(|| TransactWriteItemsOutput::builder().build());
        let client = mock_client!(
            aws_sdk_dynamodb,
            RuleMode::Sequential,
            [&conflict, &written]
        );
        let audited = store(client)
            .unlock(POOL, &rhea(), &entry("unlock"))
            .await
            .unwrap();
        assert_eq!(audited, Audited::WithTheChange);
        assert_eq!((conflict.num_calls(), written.num_calls()), (1, 1));
    }

    /// Held by other writers every time: unavailable (503 with Retry-After), never a 200 for
    /// an unlock that did not happen.
    #[tokio::test]
    async fn an_unlock_the_item_stays_busy_for_is_unavailable() {
        let conflict = mock!(Client::transact_write_items)
            .sequence()
            .error(|| cancelled(&["TransactionConflict", "None"]))
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&conflict]);
        let refused = store(client)
            .unlock(POOL, &rhea(), &entry("unlock"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
        assert_eq!(conflict.num_calls(), 3);
    }

    /// A transaction cancelled for the table's capacity is the deployment's, not the caller's.
    #[tokio::test]
    async fn a_transaction_throttled_by_the_table_is_unavailable() {
        let throttled = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ThrottlingError", "None"]));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&throttled]);
        let refused = store(client)
            .unlock(POOL, &rhea(), &entry("unlock"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
    }

    #[tokio::test]
    async fn an_unlock_of_an_account_with_nothing_stored_leaves_the_entry_to_its_caller() {
        let nothing = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ConditionalCheckFailed", "None"]));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&nothing]);
        let audited = store(client)
            .unlock(POOL, &rhea(), &entry("unlock"))
            .await
            .unwrap();
        assert_eq!(audited, Audited::NotYet);
    }

    /// A plain write refused because a transaction holds the item (a sign-in's reservation
    /// while an admin locks): DynamoDB's `TransactionConflictException`, which the SDK does not
    /// retry, reads as unavailable (503 with Retry-After), not as an internal error.
    #[tokio::test]
    async fn a_write_refused_by_a_transaction_in_flight_is_unavailable() {
        let busy = mock!(Client::update_item).then_error(|| {
            UpdateItemError::TransactionConflictException(
                aws_sdk_dynamodb::types::error::TransactionConflictException::builder()
                    .message("Transaction is ongoing for the item")
                    // the code the SDK reads from the answer's `__type`
                    .meta(
                        aws_sdk_dynamodb::error::ErrorMetadata::builder()
                            .code("TransactionConflictException")
                            .message("Transaction is ongoing for the item")
                            .build(),
                    )
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&busy]);
        let refused = store(client)
            .set_pending(POOL, &rhea(), Contact::Email, Some("r@example.com"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
    }
}
