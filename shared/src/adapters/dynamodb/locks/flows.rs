//! [`Flows`] on DynamoDB.

use super::*;
use crate::domain::lock::Flows;

impl Flows for DynamoLocks {
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
