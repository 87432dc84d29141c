//! [`Idempotency`] on DynamoDB: one item per key (`idem#<pool>#<sub>#<sha256 of the key>`),
//! its request's fingerprint, the kept answer once there is one, and `expiresAt` (the table's
//! TTL attribute, checked by every read and condition as well).

use super::*;
use crate::domain::{
    idempotency::{Claim, IN_FLIGHT_FOR, KEPT_FOR},
    lock::Idempotency,
};

impl Idempotency for DynamoLocks {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: SystemTime,
    ) -> Result<Claim, StoreError> {
        let secs = epoch_seconds(now);
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_string()))
            .item("fingerprint", AttributeValue::S(fingerprint.to_string()))
            .item("expiresAt", n(secs + IN_FLIGHT_FOR.as_secs()))
            .condition_expression("attribute_not_exists(pk) OR expiresAt <= :now")
            .expression_attribute_values(":now", n(secs))
            .send()
            .await;
        match claimed {
            Ok(_) => return Ok(Claim::Claimed),
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(classify(e)),
        }
        // held: read what holds it (only a retry, or a concurrent twin, pays this read)
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = out.item() else {
            // released in between: the caller may retry the request
            return Ok(Claim::InFlight);
        };
        Ok(Claim::of_held(
            &string(item, "fingerprint").unwrap_or_default(),
            string(item, "answer"),
            fingerprint,
        ))
    }

    async fn keep_answer(
        &self,
        key: &str,
        fingerprint: &str,
        answer: &str,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_string()))
            .item("fingerprint", AttributeValue::S(fingerprint.to_string()))
            .item("answer", AttributeValue::S(answer.to_string()))
            .item("expiresAt", n(epoch_seconds(now) + KEPT_FOR.as_secs()))
            .condition_expression("fingerprint = :f AND attribute_not_exists(answer)")
            .expression_attribute_values(":f", AttributeValue::S(fingerprint.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                if is_condition_failure(&e) {
                    StoreError::internal("the idempotency key is not this request's")
                } else {
                    classify(e)
                }
            })
    }

    async fn release(&self, key: &str, fingerprint: &str) -> Result<(), StoreError> {
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_string()))
            .condition_expression("fingerprint = :f AND attribute_not_exists(answer)")
            .expression_attribute_values(":f", AttributeValue::S(fingerprint.to_string()))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}
