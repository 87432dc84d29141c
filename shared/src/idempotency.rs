//! The `Idempotency-Key` header around a route (`domain::idempotency` has the rules): a
//! state change (`POST`, `PUT`, `PATCH`, `DELETE`) called with a bearer token and the header
//! is done once per caller and key; a retry of the same request gets the first 2xx answer
//! again without acting, another request under the same key is `422
//! idempotency-key-reused`, and a twin still running is `409 conflict`. A replay goes only to
//! a caller who may still act (the bearer check runs again). A request without a bearer token
//! (a sign-in, a recovery) ignores the header: what it answers is not the caller's to replay;
//! so do the routes whose answer shows a secret once (`Group::replayable`).

use std::{future::Future, time::SystemTime};

use crate::{
    ApiError, App, Call, Ports, Reply,
    domain::idempotency::{Claim, fingerprint, store_key, valid_key},
    domain::lock::Idempotency as _,
    domain::store::Chain,
    http::request::bearer_token,
};

/// The header's name (lower case, as HTTP/2 and API Gateway hand it over).
pub const HEADER: &str = "idempotency-key";

/// Runs `route` for `call`, under the call's `Idempotency-Key` where it has one.
pub(crate) async fn around<P, Op, F, Fut>(
    app: &App<P>,
    call: Call<Op>,
    route: F,
) -> Result<Reply, ApiError>
where
    P: Ports,
    F: FnOnce(Call<Op>) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let req = &call.req;
    let Some(key) = req.headers().get(HEADER) else {
        return route(call).await;
    };
    let state_changing = matches!(req.method().as_str(), "POST" | "PUT" | "PATCH" | "DELETE");
    let Ok(token) = bearer_token(req) else {
        return route(call).await;
    };
    if !state_changing {
        return route(call).await;
    }
    let key = key.to_str().ok().filter(|k| valid_key(k)).ok_or_else(|| {
        ApiError::InvalidRequest(
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters".into(),
        )
    })?;
    // whose key it is: the token's `sub` (a token that does not verify is the route's to
    // refuse, with nothing claimed)
    let Ok(caller) = app.tokens.verify_access(&call.tenant, token).await else {
        return route(call).await;
    };
    let stored = store_key(&call.tenant.key, &caller.sub, key);
    let print = fingerprint(req.method().as_str(), req.uri().path(), req.body().as_ref());
    match app.locks.claim(&stored, &print, SystemTime::now()).await? {
        Claim::Answered(kept) => {
            // only to a caller who may still act: an account locked, disabled or signed out
            // since gets the bearer check's refusal, not the answer
            app.caller(&call.req, &call.tenant).await?;
            Reply::from_kept(&kept)
                .ok_or_else(|| ApiError::Internal("a kept answer does not read".into()))
        }
        Claim::InFlight => Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still running: retry it later",
        )),
        Claim::Reused => Err(ApiError::IdempotencyKeyReused),
        Claim::Claimed => {
            let result = route(call).await;
            let kept = match &result {
                Ok(reply) if reply.status().is_success() => reply.to_kept(),
                _ => None,
            };
            let settled = match kept {
                // the change is done: answered whether or not its answer could be kept
                Some(kept) => {
                    app.locks
                        .keep_answer(&stored, &print, &kept, SystemTime::now())
                        .await
                }
                None => app.locks.release(&stored, &print).await,
            };
            if let Err(e) = settled {
                tracing::error!(cause = %Chain(&e), "an Idempotency-Key's claim was not settled");
            }
            result
        }
    }
}
