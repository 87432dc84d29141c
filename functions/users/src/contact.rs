//! Contact verification. An admin or the user sets the email address or phone number (only an
//! admin may set it verified: the user proves theirs with a code); the user has the code sent
//! again and verifies it, with their own token. Where the pool holds a new address until it is
//! verified (`AttributesRequireVerificationBeforeUpdate`, set in both templates), the old one
//! stays in use meanwhile, so a mistyped address cannot lock the user out of recovery.

use serde::{Deserialize, Serialize};
use shared::domain::directory::{Contacts, UserAdmin};
use shared::domain::lock::Locks;
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{Contact, Delivery, DirectoryError},
    domain::mail::{Mail, Mailer},
    domain::tenant::Tenant,
    domain::user::User,
    domain::user_id::UserId,
    domain::validate::{Code, Email, Phone},
    http::request::json_body,
};

use super::{Op, read_user};
use crate::access::{admin_or_self, as_self, is_self, own_user};
use crate::listing::filter_value;

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
    // the address is the password's recovery channel and a code factor: changing one's own
    // needs a sign-in as recent as a factor change (an admin's own included)
    let own = is_self(&caller, &user);
    let work = async {
        if own {
            crate::access::ensure_recent_sign_in(&caller)?;
        }
        ensure_not_taken(app, tenant, &user, contact, &value).await?;
        // an address not set verified gets a code from Cognito: a send of the budget
        if verified != Some(true) {
            app.spend_code_send(tenant, &user).await?;
        }
        let before = addresses(app, tenant, &user).await?;
        let mut attributes = vec![(contact.attribute().to_string(), value.clone())];
        if verified == Some(true) {
            attributes.push((contact.verified_attribute().to_string(), "true".into()));
        }
        app.directory
            .update_attributes(tenant, &user, &attributes)
            .await
            .map_err(DirectoryError::for_admin)?;
        let mut read = read_user(app, tenant, &user).await?;
        note_what_is_held(app, tenant, &user, &mut read, contact, &value).await;
        let after = Addresses::of_user(&read);
        tell_the_old_address(app, tenant, &user, contact, (&before, &after), Some(&value)).await;
        Ok(read)
    };
    Reply::ok(&app.audited(call, &user, &actor, work).await?)
}

/// The user's email and phone number, each with whether it is verified: before a change and
/// after it.
#[derive(Debug, Default)]
pub(crate) struct Addresses {
    email: (Option<String>, bool),
    phone: (Option<String>, bool),
}

impl Addresses {
    /// As `GET /users/{userID}` shows them (the addresses in use).
    pub(crate) fn of_user(u: &User) -> Self {
        Self {
            email: (u.email.clone(), u.email_verified == Some(true)),
            phone: (u.phone_number.clone(), u.phone_verified == Some(true)),
        }
    }

    fn of(&self, contact: Contact) -> &(Option<String>, bool) {
        match contact {
            Contact::Email => &self.email,
            Contact::Phone => &self.phone,
        }
    }

    fn in_use(&self, contact: Contact) -> Option<&str> {
        self.of(contact).0.as_deref()
    }

    fn verified(&self, contact: Contact) -> Option<&str> {
        let (value, verified) = self.of(contact);
        value.as_deref().filter(|_| *verified)
    }
}

/// The user's addresses as the directory has them now (`AdminGetUser`).
pub(crate) async fn addresses<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Addresses, ApiError> {
    let found = app.user(tenant, user).await?;
    let of = |contact: Contact| {
        (
            found.attribute(contact.attribute()).map(str::to_string),
            found.verified(contact.verified_attribute()),
        )
    };
    Ok(Addresses {
        email: of(Contact::Email),
        phone: of(Contact::Phone),
    })
}

/// Once a new address of `contact` is in use (verified, or set where the pool does not hold
/// it), the old verified one hears of it: what changed, when, for which tenant. The email and
/// phone number are the password's recovery channel and a code factor, so a change the user
/// did not make must not go unnoticed. `set` is the value just set, or `None` for whatever is
/// in use now (a verification). The notice goes by mail (the API sends no SMS of its own): to
/// the old email for an email change, to the verified email for a phone change. Sent from the
/// tenant's `emailFrom`; a tenant without one, or a mail that cannot go out, is logged, never
/// the caller's failure (the change is made).
pub(crate) async fn tell_the_old_address<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
    contact: Contact,
    (before, after): (&Addresses, &Addresses),
    set: Option<&str>,
) {
    let Some(new) = after
        .in_use(contact)
        .filter(|now| set.is_none_or(|set| set == *now))
    else {
        // held until verified: told then
        return;
    };
    let Some(old) = before.verified(contact).filter(|old| *old != new) else {
        return;
    };
    let what = match contact {
        Contact::Email => "email address",
        Contact::Phone => "phone number",
    };
    let to = match contact {
        Contact::Email => Some(old),
        Contact::Phone => after.verified(Contact::Email),
    };
    let (Some(from), Some(to)) = (&tenant.email_from, to) else {
        tracing::warn!(
            contact = contact.attribute(),
            "the old address was not told of the change: the tenant has no emailFrom or the \
             user no verified email"
        );
        return;
    };
    let mail = Mail {
        from: from.clone(),
        to: to.to_string(),
        subject: format!("Your {what} was changed"),
        text: format!(
            "The {what} of your {tenant} account {user} was changed from {old} to {new} at \
             {at}. Password resets and sign-in codes now go to the new one.\n\nIf this was not \
             you, tell your administrator at once: they can lock the account.\n",
            tenant = tenant.authenticator_issuer(),
            user = user.as_str(),
            at = shared::time::rfc3339(std::time::SystemTime::now()),
        ),
    };
    if let Err(e) = app.mail.send(&mail).await {
        tracing::warn!(cause = %shared::domain::store::Chain(&e), "the old address was not told of the change");
    }
}

/// After `value` was set as the user's `contact`: where the pool holds a new address until it
/// is verified, Cognito keeps answering with the old one and says nothing of the new, so the
/// API notes it (and shows it in `read`).
pub(crate) async fn note_what_is_held<P: Ports>(
    app: &App<P>,
    tenant: &shared::domain::tenant::Tenant,
    user: &UserId,
    read: &mut User,
    contact: Contact,
    value: &str,
) {
    let in_use = match contact {
        Contact::Email => read.email.as_deref(),
        Contact::Phone => read.phone_number.as_deref(),
    };
    let pending = (in_use != Some(value)).then_some(value);
    note_pending(app, tenant, user, contact, pending).await;
    let shown = pending.map(str::to_string);
    match contact {
        Contact::Email => read.pending_email = shown,
        Contact::Phone => read.pending_phone_number = shown,
    }
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
pub(crate) async fn ensure_not_taken<P: Ports>(
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
    let (user, caller) = own_user(app, call, refusal).await?;
    let work = async {
        app.spend_code_send(&call.tenant, &user).await?;
        let details = as_self(app, call, &caller, &user, |token| async move {
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
    let (user, caller) = own_user(app, call, refusal).await?;
    let body: Verify = json_body(&call.req, app.config.body_limit_bytes)?;
    let work = async {
        let before = addresses(app, &call.tenant, &user).await?;
        let code = body.verification_code.expose();
        as_self(app, call, &caller, &user, |token| async move {
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
        match addresses(app, &call.tenant, &user).await {
            Ok(after) => {
                let both = (&before, &after);
                tell_the_old_address(app, &call.tenant, &user, contact, both, None).await;
            }
            Err(e) => tracing::warn!(cause = %e, "the old address was not told of the change"),
        }
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
