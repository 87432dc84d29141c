//! Contact verification. An admin or the user sets the email address or phone number (only an
//! admin may set it verified: the user proves theirs with a code); the user has the code sent
//! again and verifies it, with their own token. Where the pool holds a new address until it is
//! verified (`AttributesRequireVerificationBeforeUpdate`, set in both templates), the old one
//! stays in use meanwhile, so a mistyped address cannot lock the user out of recovery.

use serde::{Deserialize, Serialize};
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{CodeDelivery, Contact, Directory, DirectoryError},
    domain::lock::LockStore,
    domain::validate::{Code, Email, Phone},
    http::request::{UserId, json_body},
};

use super::{Op, admin_or_self, filter_value, own_user, read_user};
use crate::passkeys::as_self;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetEmail {
    email: Email,
    verified: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SetPhone {
    phone_number: Phone,
    verified: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Verify {
    verification_code: Code,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    code_delivery_details: CodeDelivery,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EmailVerified {
    email_verified: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PhoneVerified {
    phone_verified: bool,
}

/// `PUT /users/{userID}/email|phone`: admin or the user.
pub(crate) async fn set<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    contact: Contact,
) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only change their own email address or phone number";
    let (caller, user, is_admin) = admin_or_self(app, req, tenant, refusal).await?;
    let limit = app.config.body_limit_bytes;
    let (value, verified) = match contact {
        Contact::Email => {
            let body: SetEmail = json_body(req, limit)?;
            (body.email.as_str().to_string(), body.verified)
        }
        Contact::Phone => {
            let body: SetPhone = json_body(req, limit)?;
            (body.phone_number.as_str().to_string(), body.verified)
        }
    };
    if verified == Some(true) && !is_admin {
        return Err(ApiError::Forbidden(
            "only an administrator may set an address as verified; verify it with the code",
        ));
    }
    let actor = if is_admin {
        caller.sub.clone()
    } else {
        "self".into()
    };
    let work = async {
        ensure_not_taken(app, tenant, &user, contact, &value).await?;
        let mut attributes = vec![(contact.attribute().to_string(), value.clone())];
        if verified == Some(true) {
            attributes.push((contact.verified_attribute().to_string(), "true".into()));
        }
        app.directory
            .update_attributes(tenant, &user, &attributes)
            .await
            .map_err(DirectoryError::for_admin)?;
        let mut read = read_user(app, tenant, &user).await?;
        // Where the pool holds a new address until it is verified, Cognito keeps answering
        // with the old one and says nothing of the new: the API notes it, to show it
        let in_use = match contact {
            Contact::Email => read.email.as_deref(),
            Contact::Phone => read.phone_number.as_deref(),
        };
        let pending = (in_use != Some(value.as_str())).then_some(value.as_str());
        note_pending(app, tenant, &user, contact, pending).await;
        let shown = pending.map(str::to_string);
        match contact {
            Contact::Email => read.pending_email = shown,
            Contact::Phone => read.pending_phone_number = shown,
        }
        Ok(read)
    };
    Reply::ok(&app.audited(call, &user, &actor, work).await?)
}

/// Notes or forgets a pending address. It only serves `GET /users/{userID}`, so a failed
/// write is logged and never changes the caller's answer (Cognito has acted already).
async fn note_pending<P: Ports>(
    app: &App<P>,
    tenant: &shared::domain::tenant::Tenant,
    user: &UserId,
    contact: Contact,
    value: Option<&str>,
) {
    let pool = &tenant.user_pool_id;
    if let Err(e) = app.locks.set_pending(pool, user, contact, value).await {
        let cause = shared::domain::store::Chain(&e);
        tracing::error!(%cause, "the pending address was not noted");
    }
}

/// Another user's address is refused (409), also in a pool where Cognito would allow it (an
/// address that is no alias): two accounts recovering through one mailbox is a takeover path.
async fn ensure_not_taken<P: Ports>(
    app: &App<P>,
    tenant: &shared::domain::tenant::Tenant,
    user: &UserId,
    contact: Contact,
    value: &str,
) -> Result<(), ApiError> {
    let filter = format!(
        "{} = \"{}\"",
        contact.attribute(),
        filter_value(contact.attribute(), value)?
    );
    let page = app
        .directory
        .list_users(tenant, Some(&filter), 2, None)
        .await
        .map_err(DirectoryError::for_admin)?;
    if page
        .users
        .iter()
        .any(|u| u.username.to_lowercase() != user.as_str())
    {
        return Err(ApiError::Conflict(match contact {
            Contact::Email => "the email address belongs to another user",
            Contact::Phone => "the phone number belongs to another user",
        }));
    }
    Ok(())
}

/// `POST /users/{userID}/email|phone/resend`: the user.
pub(crate) async fn resend<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    contact: Contact,
) -> Result<Reply, ApiError> {
    let refusal = "only the user can have a code sent to their own address";
    let (user, _) = own_user(app, call, refusal).await?;
    let work = async {
        let details = as_self(app, call, &user, |token| async move {
            app.directory
                .send_contact_code(&call.tenant, &token, contact)
                .await
                .map_err(|e| match e {
                    DirectoryError::InvalidParameter => ApiError::Conflict(match contact {
                        Contact::Email => "the user has no email address to verify",
                        Contact::Phone => "the user has no phone number to verify",
                    }),
                    other => other.into(),
                })
        })
        .await?;
        Ok(Delivery {
            code_delivery_details: details,
        })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `POST /users/{userID}/email|phone/verify`: the user, with the code.
pub(crate) async fn verify<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    contact: Contact,
) -> Result<Reply, ApiError> {
    let refusal = "only the user can verify their own address";
    let (user, _) = own_user(app, call, refusal).await?;
    let body: Verify = json_body(&call.req, app.config.body_limit_bytes)?;
    let work = async {
        let code = body.verification_code.expose();
        as_self(app, call, &user, |token| async move {
            app.directory
                .verify_contact(&call.tenant, &token, contact, code)
                .await
                .map_err(|e| match e {
                    DirectoryError::InvalidParameter => ApiError::Conflict(match contact {
                        Contact::Email => "the user has no email address waiting to be verified",
                        Contact::Phone => "the user has no phone number waiting to be verified",
                    }),
                    other => other.into(),
                })
        })
        .await?;
        note_pending(app, &call.tenant, &user, contact, None).await;
        Ok(())
    };
    app.audited(call, &user, "self", work).await?;
    match contact {
        Contact::Email => Reply::ok(&EmailVerified {
            email_verified: true,
        }),
        Contact::Phone => Reply::ok(&PhoneVerified {
            phone_verified: true,
        }),
    }
}
