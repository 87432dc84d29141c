//! The stores beside Cognito, on DynamoDB: the tenant registry ([`tenants`]), account state —
//! locks and the lockout budget — ([`locks`]) and the audit trail ([`audit`]). Here: how a
//! DynamoDB failure reads as a [`StoreError`], and reading items.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    error::{ProvideErrorMetadata, SdkError},
    types::AttributeValue,
};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::domain::store::StoreError;

mod audit;
mod locks;
mod tenants;

pub use audit::{AuditTable, DynamoAudit};
pub use locks::{DynamoLocks, lock_from_item, state_from_item};
pub use tenants::{ALLOWED_ORIGINS_ITEM, DynamoTenants, tenant_from_item, tenant_key};

/// How a DynamoDB failure reads to the stores' callers; the SDK's error stays the source.
/// Whatever it is, the caller fails closed. A throttled table is this deployment's capacity,
/// not the caller's rate, so it reads as unavailable (503), not as the caller's 429; so does a
/// write refused because a transaction held its item (`TransactionConflictException`, which
/// the SDK does not retry): nothing the caller did, and a retry shortly passes.
pub fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unavailable = match &err {
        SdkError::ServiceError(service) => {
            matches!(
                service.err().code(),
                Some(
                    "ProvisionedThroughputExceededException"
                        | "RequestLimitExceeded"
                        | "ThrottlingException"
                        | "InternalServerError"
                        | "TransactionConflictException"
                )
            ) || service.raw().status().is_server_error()
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    };
    if unavailable {
        StoreError::unavailable(err)
    } else {
        StoreError::internal(err)
    }
}

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .filter(|s| !s.is_empty())
        .cloned()
}

pub(crate) fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn is_condition_failure<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}
