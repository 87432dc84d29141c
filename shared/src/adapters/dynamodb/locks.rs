//! Account-state table, key `pk` = `userPoolId#userID`: `lockSource`, `lockReason`,
//! `lockedAt`, `lockedBy`, `lockedUntil` (epoch seconds), `attempts` and `otpAttempts` (the
//! spent password and second-factor budgets), `reservedAt` and `otpReservedAt` (epoch seconds
//! of each budget's last reservation), `expiresAt` (TTL), `pendingEmail` and `pendingPhone`
//! (new addresses waiting for their codes), `sessionsEndedAt` (epoch seconds of the API's last
//! sign-out of the user everywhere). A user's one-time codes are items of their own,
//! `<purpose>#userPoolId#userID` (`passkey-registration`, `admin-access`): `codeHash`, `sub`,
//! `appClientId`, `createdAt`, `createdBy`, `expiresAt`. Verification-code sends are counted per
//! window in items of their own, `code-sends#userPoolId#userID#window` (a pool's with no userID):
//! `sends`, `expiresAt`.

use std::{collections::HashMap, time::Duration, time::SystemTime};

use aws_sdk_dynamodb::{
    Client,
    error::SdkError,
    operation::update_item::{UpdateItemError, builders::UpdateItemFluentBuilder},
    types::{AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure},
};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use super::{Item, classify, is_condition_failure, n, number, string};
use crate::{
    domain::directory::Contact,
    domain::lock::{
        AccountState, Budget, CodePurpose, FlowKind, FlowRecord, Lock, LockSource, LockStore,
        Locked, OneTimeCode, Reservation, SendScope, account_key,
    },
    domain::store::StoreError,
    domain::tenant::LockoutPolicy,
    domain::user_id::UserId,
    time::epoch_seconds,
};

/// Reads a lock from an account-state item, expired or not; `None` when it holds no lock.
pub fn lock_from_item(item: &Item) -> Option<Lock> {
    Some(Lock {
        source: LockSource::parse(&string(item, "lockSource")?)?,
        reason: string(item, "lockReason"),
        locked_at: string(item, "lockedAt").unwrap_or_default(),
        locked_by: string(item, "lockedBy").unwrap_or_default(),
        locked_until: number(item, "lockedUntil"),
        budget: string(item, "lockBudget").and_then(|b| Budget::parse(&b)),
    })
}

/// The account state an item describes at `now`: an expired lock is none, and an expired
/// lockout leaves a whole budget behind (the next reservation resets the stored counter).
pub fn state_from_item(item: &Item, now: SystemTime) -> AccountState {
    let stored = lock_from_item(item);
    let lock = stored.clone().filter(|l| l.holds_at(now));
    let expired_lockout =
        stored.is_some_and(|l| l.source == LockSource::LockoutPolicy && lock.is_none());
    let count = |budget| {
        if expired_lockout {
            0
        } else {
            spent(item, budget)
        }
    };
    AccountState {
        lock,
        failed_attempts: count(Budget::Password),
        failed_otp_attempts: count(Budget::Otp),
        pending_email: string(item, "pendingEmail"),
        pending_phone: string(item, "pendingPhone"),
        sessions_ended_at: number(item, "sessionsEndedAt"),
    }
}

/// A budget's attributes: the units spent and when the last one was reserved.
fn attributes(budget: Budget) -> (&'static str, &'static str) {
    match budget {
        Budget::Password => ("attempts", "reservedAt"),
        Budget::Otp => ("otpAttempts", "otpReservedAt"),
    }
}

/// Housekeeping: an account-state item with nothing that must last is deleted a day after its
/// last change (DynamoDB TTL); a timed lock lasts a day beyond its end; an open-ended lock never.
const HOUSEKEEPING: Duration = Duration::from_secs(86_400);

/// Lifts whatever lock the item holds and makes the budgets whole (unlock, a recovery's lift).
const LIFT_LOCK: &str = "SET attempts = :zero, otpAttempts = :zero \
     REMOVE lockSource, lockReason, lockedAt, lockedBy, lockedUntil, lockBudget";

/// A recovery's lift: the password budget whole, a password lockout gone (see `clear_lockout`).
const LIFT_PASSWORD_LOCKOUT: &str = "SET attempts = :zero REMOVE lockSource, lockReason, lockedAt, lockedBy, lockedUntil, lockBudget";

/// The condition under which no lock holds at `:now`.
const NO_LOCK_HOLDS: &str =
    "(attribute_not_exists(lockSource) OR (attribute_exists(lockedUntil) AND lockedUntil <= :now))";

pub struct DynamoLocks {
    client: Client,
    table: String,
}

impl DynamoLocks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn update(
        &self,
        pool_id: &str,
        user: &UserId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(account_key(pool_id, user)))
    }

    /// The update that puts `lock` on the account's item, whatever it held.
    /// An admin lock also ends the user's sessions (`sessionsEndedAt`, see `end_sessions`) in
    /// the same write; a lockout leaves them alone.
    fn lock_update(
        &self,
        pool_id: &str,
        user: &UserId,
        lock: &Lock,
        now: SystemTime,
    ) -> UpdateItemFluentBuilder {
        let mut set = vec!["lockSource = :source", "lockedAt = :at", "lockedBy = :by"];
        let mut remove = vec![];
        let mut req = self
            .update(pool_id, user)
            .expression_attribute_values(":source", AttributeValue::S(lock.source.as_str().into()))
            .expression_attribute_values(":at", AttributeValue::S(lock.locked_at.clone()))
            .expression_attribute_values(":by", AttributeValue::S(lock.locked_by.clone()));
        if lock.refuses_sessions() {
            set.push("sessionsEndedAt = :ended");
            req = req.expression_attribute_values(":ended", n(epoch_seconds(now)));
        }
        match &lock.reason {
            Some(reason) => {
                set.push("lockReason = :reason");
                req = req.expression_attribute_values(":reason", AttributeValue::S(reason.clone()));
            }
            None => remove.push("lockReason"),
        }
        match lock.budget {
            Some(budget) => {
                set.push("lockBudget = :budget");
                req = req.expression_attribute_values(
                    ":budget",
                    AttributeValue::S(budget.as_str().into()),
                );
            }
            None => remove.push("lockBudget"),
        }
        match lock.locked_until {
            Some(until) => {
                set.push("lockedUntil = :until");
                set.push("expiresAt = :expires");
                req = req
                    .expression_attribute_values(":until", n(until))
                    .expression_attribute_values(":expires", n(until + HOUSEKEEPING.as_secs()));
            }
            None => {
                remove.push("lockedUntil");
                remove.push("expiresAt");
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        req.update_expression(expression)
    }

    /// Writes `lock` if no lock holds at `now`: `Ok(new item)`, else `Err(old item)`.
    async fn write_lock(
        &self,
        pool_id: &str,
        user: &UserId,
        lock: &Lock,
        now: SystemTime,
    ) -> Result<Result<Item, Item>, StoreError> {
        match self
            .lock_update(pool_id, user, lock, now)
            .expression_attribute_values(":now", n(epoch_seconds(now)))
            .condition_expression(NO_LOCK_HOLDS)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
        {
            Ok(out) => Ok(Ok(out.attributes().cloned().unwrap_or_default())),
            Err(e) if is_condition_failure(&e) => Ok(Err(old_item(e))),
            Err(e) => Err(classify(e)),
        }
    }
}

fn spent(item: &Item, budget: Budget) -> u32 {
    number(item, attributes(budget).0)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

/// The item a failed conditional update found (`ReturnValuesOnConditionCheckFailure=ALL_OLD`).
fn old_item(err: SdkError<UpdateItemError, HttpResponse>) -> Item {
    match err.into_service_error() {
        UpdateItemError::ConditionalCheckFailedException(e) => {
            e.item().cloned().unwrap_or_default()
        }
        _ => Item::new(),
    }
}

impl LockStore for DynamoLocks {
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

    async fn forget(&self, pool_id: &str, user: &UserId) -> Result<(), StoreError> {
        // the one-time codes first: a user made again under the same name must not find the
        // last one's
        let codes = CodePurpose::ALL.map(|p| code_key(p, pool_id, user));
        for key in codes.into_iter().chain([account_key(pool_id, user)]) {
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

    async fn put_code(
        &self,
        purpose: CodePurpose,
        pool_id: &str,
        user: &UserId,
        link: &OneTimeCode,
        replace: bool,
    ) -> Result<(), StoreError> {
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(code_key(purpose, pool_id, user)))
            .item("codeHash", AttributeValue::S(link.code_hash.clone()))
            .item("sub", AttributeValue::S(link.sub.clone()))
            .item("appClientId", AttributeValue::S(link.app_client_id.clone()))
            .item("createdAt", AttributeValue::S(link.created_at.clone()))
            .item("createdBy", AttributeValue::S(link.created_by.clone()))
            // the table's TTL attribute: housekeeping only, reads check it themselves
            .item("expiresAt", n(link.expires_at));
        let req = if replace {
            req
        } else {
            req.condition_expression("attribute_not_exists(pk)")
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if !replace && is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn one_time_code(
        &self,
        purpose: CodePurpose,
        pool_id: &str,
        user: &UserId,
    ) -> Result<Option<OneTimeCode>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(code_key(purpose, pool_id, user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item().and_then(link_from_item))
    }

    async fn take_code(
        &self,
        purpose: CodePurpose,
        pool_id: &str,
        user: &UserId,
        code_hash: &str,
        now: SystemTime,
    ) -> Result<Option<OneTimeCode>, StoreError> {
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(code_key(purpose, pool_id, user)))
            .condition_expression("codeHash = :h AND expiresAt > :now")
            .expression_attribute_values(":h", AttributeValue::S(code_hash.to_string()))
            .expression_attribute_values(":now", n(epoch_seconds(now)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
        {
            Ok(out) => Ok(out.attributes().and_then(link_from_item)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    async fn put_flow(
        &self,
        kind: FlowKind,
        id: &str,
        record: &FlowRecord,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(flow_key(kind, id)))
            .item("body", AttributeValue::S(record.body.clone()))
            .item("secretHash", AttributeValue::S(record.secret_hash.clone()))
            // the table's TTL attribute: housekeeping only, reads check it themselves
            .item("expiresAt", n(record.expires_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                if is_condition_failure(&e) {
                    StoreError::internal("a flow step is kept under this id already")
                } else {
                    classify(e)
                }
            })
    }

    async fn flow(&self, kind: FlowKind, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(flow_key(kind, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item().and_then(flow_from_item))
    }

    async fn take_flow(
        &self,
        kind: FlowKind,
        id: &str,
        secret_hash: &str,
        now: SystemTime,
    ) -> Result<Option<FlowRecord>, StoreError> {
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(flow_key(kind, id)))
            .condition_expression("secretHash = :h AND expiresAt > :now")
            .expression_attribute_values(":h", AttributeValue::S(secret_hash.to_string()))
            .expression_attribute_values(":now", n(epoch_seconds(now)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
        {
            Ok(out) => Ok(out.attributes().and_then(flow_from_item)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The key of a user's one-time code of `purpose`: an item of its own beside the account's,
/// so that a lock, an unlock or a budget's reset never touches it. A prefix, not a suffix: a
/// username may hold `#`, a pool id never starts with a purpose's name.
fn code_key(purpose: CodePurpose, user_pool_id: &str, user: &UserId) -> String {
    format!("{}#{}", purpose.as_str(), account_key(user_pool_id, user))
}

fn link_from_item(item: &Item) -> Option<OneTimeCode> {
    Some(OneTimeCode {
        code_hash: string(item, "codeHash")?,
        sub: string(item, "sub")?,
        app_client_id: string(item, "appClientId")?,
        expires_at: number(item, "expiresAt")?,
        created_at: string(item, "createdAt").unwrap_or_default(),
        created_by: string(item, "createdBy").unwrap_or_default(),
    })
}

/// The key of a flow step: its kind's prefix and its id (random, or a hash of a random secret).
pub fn flow_key(kind: FlowKind, id: &str) -> String {
    format!("{}#{id}", kind.as_str())
}

fn flow_from_item(item: &Item) -> Option<FlowRecord> {
    Some(FlowRecord {
        body: string(item, "body")?,
        secret_hash: string(item, "secretHash")?,
        expires_at: number(item, "expiresAt")?,
    })
}
