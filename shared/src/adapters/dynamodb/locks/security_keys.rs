//! [`SecurityKeys`] on DynamoDB: one item per user (`u2f#<pool>#<user>`) holding the ring as
//! JSON and a version number every write moves on by one, conditional on the one read. The
//! item goes only with the account (`Locks::forget`).

use super::*;
use crate::domain::{lock::SecurityKeys, u2f::KeyRing};

pub(super) fn ring_key(pool_id: &str, user: &UserId) -> String {
    format!("u2f#{}", account_key(pool_id, user))
}

impl SecurityKeys for DynamoLocks {
    async fn key_ring(&self, pool_id: &str, user: &UserId) -> Result<(KeyRing, u64), StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(ring_key(pool_id, user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = out.item() else {
            return Ok((KeyRing::default(), 0));
        };
        let body = string(item, "body").unwrap_or_default();
        let ring = serde_json::from_str(&body)
            .map_err(|e| StoreError::internal(format!("a security key ring is not JSON: {e}")))?;
        Ok((ring, number(item, "version").unwrap_or(0)))
    }

    async fn put_key_ring(
        &self,
        pool_id: &str,
        user: &UserId,
        ring: &KeyRing,
        version: u64,
    ) -> Result<bool, StoreError> {
        let body = serde_json::to_string(ring)
            .map_err(|e| StoreError::internal(format!("a security key ring: {e}")))?;
        // an empty ring is written too, never deleted: a version number is never used twice,
        // so a writer that read a ring before its last key went cannot write it back
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(ring_key(pool_id, user)))
            .item("body", AttributeValue::S(body))
            .item("version", n(version + 1));
        let req = if version == 0 {
            req.condition_expression("attribute_not_exists(pk)")
        } else {
            req.condition_expression("version = :v")
                .expression_attribute_values(":v", n(version))
        };
        written(req.send().await)
    }
}

/// A conditional write's outcome: done, lost to another write, or failed.
fn written<T, E>(sent: Result<T, SdkError<E, HttpResponse>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(classify(e)),
    }
}
