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

mod budgets;
mod codes;
mod flows;
mod idempotency;
mod security_keys;
mod state;

use std::{collections::HashMap, time::Duration, time::SystemTime};

use aws_sdk_dynamodb::{
    Client,
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    operation::update_item::{UpdateItemError, builders::UpdateItemFluentBuilder},
    types::{
        AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
        TransactWriteItem, Update,
    },
};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use super::{AuditTable, Item, classify, is_condition_failure, n, number, string};
use crate::{
    domain::audit::Event,
    domain::directory::Contact,
    domain::lock::{
        AccountState, Audited, Budget, CodePurpose, FlowKind, FlowRecord, Lock, LockSource, Locked,
        OneTimeCode, Reservation, SendScope, account_key,
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
    /// The audit trail, where an admin lock's and unlock's entries are written in the same
    /// transaction as the change; without it the caller records them.
    audit: Option<AuditTable>,
}

impl DynamoLocks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            audit: None,
        }
    }

    /// The store, writing an admin lock's or unlock's audit entry into `audit` with the change.
    pub fn with_audit(mut self, audit: AuditTable) -> Self {
        self.audit = Some(audit);
        self
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
    fn lock_update(
        &self,
        pool_id: &str,
        user: &UserId,
        lock: &Lock,
        now: SystemTime,
    ) -> UpdateItemFluentBuilder {
        let (expression, values) = lock_expression(lock, now);
        self.update(pool_id, user)
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
    }

    /// The account's item, read consistently; empty when there is none.
    async fn item(&self, pool_id: &str, user: &UserId) -> Result<Item, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(account_key(pool_id, user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item().cloned().unwrap_or_default())
    }

    /// Writes `change` on the account's item and, where the store keeps the audit trail,
    /// `entry` with it: one transaction, both or neither.
    async fn write_audited(
        &self,
        pool_id: &str,
        user: &UserId,
        change: Change,
        entry: &Event,
    ) -> Result<Wrote, StoreError> {
        let request = |e: aws_sdk_dynamodb::error::BuildError| {
            StoreError::internal(format!("TransactWriteItems request: {e}"))
        };
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(account_key(pool_id, user)))
            .update_expression(change.expression)
            .condition_expression(change.condition)
            .set_expression_attribute_values(Some(change.values))
            .build()
            .map_err(request)?;
        let mut req = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build());
        let audited = match &self.audit {
            Some(audit) => {
                let put = Put::builder()
                    .table_name(&audit.table)
                    .set_item(Some(audit.item(pool_id, entry)?))
                    .build()
                    .map_err(request)?;
                req = req.transact_items(TransactWriteItem::builder().put(put).build());
                Audited::WithTheChange
            }
            None => Audited::NotYet,
        };
        match req.send().await {
            Ok(_) => Ok(Wrote::Done(audited)),
            Err(e) => match cancelled_by(&e) {
                Some("ConditionalCheckFailed") => Ok(Wrote::ConditionFailed),
                Some("TransactionConflict") => Ok(Wrote::Busy),
                // the table's capacity, not the caller's doing
                Some("ThrottlingError" | "ProvisionedThroughputExceeded") => {
                    Err(StoreError::unavailable(e))
                }
                _ => Err(classify(e)),
            },
        }
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

/// The update expression that puts `lock` on an account's item, whatever it held, and its
/// values. An admin lock also ends the user's sessions (`sessionsEndedAt`, see `end_sessions`)
/// in the same write; a lockout leaves them alone.
fn lock_expression(lock: &Lock, now: SystemTime) -> (String, Item) {
    let mut set = vec!["lockSource = :source", "lockedAt = :at", "lockedBy = :by"];
    let mut remove = vec![];
    let mut values = Item::from([
        (
            ":source".into(),
            AttributeValue::S(lock.source.as_str().into()),
        ),
        (":at".into(), AttributeValue::S(lock.locked_at.clone())),
        (":by".into(), AttributeValue::S(lock.locked_by.clone())),
    ]);
    if lock.refuses_sessions() {
        set.push("sessionsEndedAt = :ended");
        values.insert(":ended".into(), n(epoch_seconds(now)));
    }
    match &lock.reason {
        Some(reason) => {
            set.push("lockReason = :reason");
            values.insert(":reason".into(), AttributeValue::S(reason.clone()));
        }
        None => remove.push("lockReason"),
    }
    match lock.budget {
        Some(budget) => {
            set.push("lockBudget = :budget");
            values.insert(":budget".into(), AttributeValue::S(budget.as_str().into()));
        }
        None => remove.push("lockBudget"),
    }
    match lock.locked_until {
        Some(until) => {
            set.push("lockedUntil = :until");
            set.push("expiresAt = :expires");
            values.insert(":until".into(), n(until));
            values.insert(":expires".into(), n(until + HOUSEKEEPING.as_secs()));
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
    (expression, values)
}

fn spent(item: &Item, budget: Budget) -> u32 {
    number(item, attributes(budget).0)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

/// How a [`DynamoLocks::write_audited`] ended, when DynamoDB answered.
enum Wrote {
    /// Written, the entry with it or not.
    Done(Audited),
    /// The change's condition failed: nothing written.
    ConditionFailed,
    /// Another writer's transaction held the item: nothing written, a retry may pass.
    Busy,
}

/// A conditional update of an account's item: its update expression, its condition and the
/// values both use.
struct Change {
    expression: String,
    condition: &'static str,
    values: Item,
}

/// Why DynamoDB cancelled a transaction: the first reason other than `None`.
fn cancelled_by(err: &SdkError<TransactWriteItemsError, HttpResponse>) -> Option<&str> {
    match err.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .find(|code| *code != "None"),
        _ => None,
    }
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
