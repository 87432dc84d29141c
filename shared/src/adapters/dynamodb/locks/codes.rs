//! [`Codes`] on DynamoDB.

use super::*;
use crate::domain::lock::Codes;

impl Codes for DynamoLocks {
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
}
