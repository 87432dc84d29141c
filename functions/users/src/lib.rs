//! The `users` group: user management for a tenant's admins (create, read, update, delete,
//! list), a user's own profile (`GET /users/{userID}` with their token), and the audit trail.

mod access;
mod contact;
mod factors;
mod idp_links;
mod listing;
mod passkeys;
mod u2f;

use serde::{Deserialize, Serialize};
use shared::domain::directory::{Passwords, UserAdmin};
use shared::domain::lock::Locks;
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{Contact, DirectoryError, Factor, NewUser},
    domain::tenant::Tenant,
    domain::token::Caller,
    domain::user::User,
    domain::user_id::UserId,
    domain::validate::{Email, Password, Phone, Text},
    http::request::{json_body, path_user_id},
    http::routes::{Route, delete, get, patch, post, put},
};

use access::admin_or_self;

shared::operations! {
    /// The operations of the group.
    pub enum Op {
        Events,
        CreateUser,
        ListUsers,
        GetUser,
        UpdateUser,
        DeleteUser,
        SetEmail,
        ResendEmailCode,
        VerifyEmail,
        SetPhone,
        ResendPhoneCode,
        VerifyPhone,
        AuthenticationMethods,
        StartTotp,
        VerifyTotp,
        RemoveTotp,
        AddOtpSms,
        RemoveOtpSms,
        AddOtpEmail,
        RemoveOtpEmail,
        StartPasskey,
        VerifyPasskey,
        ListPasskeys,
        DeletePasskey,
        PasskeyRegistrationLink,
        LinkIdp,
        ListIdpLinks,
        UnlinkIdp,
        StartU2f,
        VerifyU2f,
        ListU2f,
        DeleteU2f,
    }
}

/// The `users` function.
pub struct Group;

impl shared::Group for Group {
    type Op = Op;
    const ROUTES: &'static [Route<Op>] = &[
        get("/users/{userID}/events", "events", Op::Events),
        post("/users", "create-user", Op::CreateUser),
        get("/users", "list-users", Op::ListUsers),
        get("/users/{userID}", "get-user", Op::GetUser),
        patch("/users/{userID}", "update-user", Op::UpdateUser),
        delete("/users/{userID}", "delete-user", Op::DeleteUser),
        put("/users/{userID}/email", "set-email", Op::SetEmail),
        post(
            "/users/{userID}/email/resend",
            "resend-email-code",
            Op::ResendEmailCode,
        ),
        post(
            "/users/{userID}/email/verify",
            "verify-email",
            Op::VerifyEmail,
        ),
        put("/users/{userID}/phone", "set-phone", Op::SetPhone),
        post(
            "/users/{userID}/phone/resend",
            "resend-phone-code",
            Op::ResendPhoneCode,
        ),
        post(
            "/users/{userID}/phone/verify",
            "verify-phone",
            Op::VerifyPhone,
        ),
        get(
            "/users/{userID}/authentication-methods",
            "authentication-methods",
            Op::AuthenticationMethods,
        ),
        post("/users/{userID}/totp", "start-totp", Op::StartTotp),
        post("/users/{userID}/totp/verify", "verify-totp", Op::VerifyTotp),
        delete("/users/{userID}/totp", "remove-totp", Op::RemoveTotp),
        post("/users/{userID}/otp-sms", "add-otp-sms", Op::AddOtpSms),
        delete(
            "/users/{userID}/otp-sms",
            "remove-otp-sms",
            Op::RemoveOtpSms,
        ),
        post(
            "/users/{userID}/otp-email",
            "add-otp-email",
            Op::AddOtpEmail,
        ),
        delete(
            "/users/{userID}/otp-email",
            "remove-otp-email",
            Op::RemoveOtpEmail,
        ),
        post(
            "/users/{userID}/passkeys",
            "start-passkey",
            Op::StartPasskey,
        ),
        post(
            "/users/{userID}/passkeys/verify",
            "verify-passkey",
            Op::VerifyPasskey,
        ),
        get(
            "/users/{userID}/passkeys",
            "list-passkeys",
            Op::ListPasskeys,
        ),
        // before `…/passkeys/{credentialID}`'s pattern could be read as taking it
        post(
            "/users/{userID}/passkeys/registration-link",
            "passkey-registration-link",
            Op::PasskeyRegistrationLink,
        ),
        delete(
            "/users/{userID}/passkeys/{credentialID}",
            "delete-passkey",
            Op::DeletePasskey,
        ),
        post("/users/{userID}/idp-links", "link-idp", Op::LinkIdp),
        get(
            "/users/{userID}/idp-links",
            "list-idp-links",
            Op::ListIdpLinks,
        ),
        delete(
            "/users/{userID}/idp-links/{idpName}/{idpUserID}",
            "unlink-idp",
            Op::UnlinkIdp,
        ),
        post("/users/{userID}/u2f", "start-u2f", Op::StartU2f),
        post("/users/{userID}/u2f/verify", "u2f-register", Op::VerifyU2f),
        get("/users/{userID}/u2f", "list-u2f", Op::ListU2f),
        delete("/users/{userID}/u2f/{u2fID}", "u2f-delete", Op::DeleteU2f),
    ];

    /// A TOTP secret and a registration code are shown once: their answers are never kept
    /// under an `Idempotency-Key` (a retry starts again: a new secret, a new code). Nor is a
    /// request that carries a password (a user created with one): its fingerprint would be
    /// a hash of the password, kept a day. A retried creation is a 409 anyway.
    fn replayable(op: Op) -> bool {
        !matches!(
            op,
            Op::StartTotp | Op::PasskeyRegistrationLink | Op::CreateUser
        )
    }

    async fn route<P: Ports>(app: &App<P>, call: Call<Op>) -> Result<Reply, ApiError> {
        let (req, tenant) = (&call.req, &call.tenant);
        let limit = app.config.body_limit_bytes;
        match call.route.op {
            Op::Events => listing::events(app, tenant, req).await,
            Op::ListUsers => listing::list(app, tenant, req).await,
            Op::GetUser => {
                let refusal = "a user can only read their own profile";
                let (_, user, _) = admin_or_self(app, req, tenant, refusal).await?;
                Reply::ok(&read_user(app, tenant, &user).await?)
            }
            // the state-changing routes: admin only, audited
            Op::CreateUser => {
                let admin = app.admin(req, tenant).await?;
                let body: CreateUser = json_body(req, limit)?;
                let user = body.user_id.clone();
                let work = create(app, tenant, body);
                app.audited(&call, &user, &admin.sub, work).await
            }
            Op::UpdateUser => {
                let user = path_user_id(req)?;
                let admin = app.admin(req, tenant).await?;
                let body: Profile = json_body(req, limit)?;
                let user = app.canonical(tenant, user).await?;
                let work = update(app, tenant, &admin, &user, body);
                app.audited(&call, &user, &admin.sub, work).await
            }
            // boxed: the contact arms' futures live on the heap, keeping `route`'s own small
            Op::SetEmail => Box::pin(contact::set(app, &call, Contact::Email)).await,
            Op::ResendEmailCode => Box::pin(contact::resend(app, &call, Contact::Email)).await,
            Op::VerifyEmail => Box::pin(contact::verify(app, &call, Contact::Email)).await,
            Op::SetPhone => Box::pin(contact::set(app, &call, Contact::Phone)).await,
            Op::ResendPhoneCode => Box::pin(contact::resend(app, &call, Contact::Phone)).await,
            Op::VerifyPhone => Box::pin(contact::verify(app, &call, Contact::Phone)).await,
            Op::AuthenticationMethods => Box::pin(factors::methods(app, &call)).await,
            Op::StartTotp => Box::pin(factors::start_totp(app, &call)).await,
            Op::VerifyTotp => Box::pin(factors::verify_totp(app, &call)).await,
            Op::RemoveTotp => Box::pin(factors::remove_factor(app, &call, Factor::Totp)).await,
            Op::AddOtpSms => Box::pin(factors::add_code_factor(app, &call, Factor::Sms)).await,
            Op::RemoveOtpSms => Box::pin(factors::remove_factor(app, &call, Factor::Sms)).await,
            Op::AddOtpEmail => Box::pin(factors::add_code_factor(app, &call, Factor::Email)).await,
            Op::RemoveOtpEmail => Box::pin(factors::remove_factor(app, &call, Factor::Email)).await,
            Op::StartPasskey => Box::pin(passkeys::start(app, &call)).await,
            Op::VerifyPasskey => Box::pin(passkeys::verify(app, &call)).await,
            Op::ListPasskeys => Box::pin(passkeys::list(app, &call)).await,
            Op::DeletePasskey => Box::pin(passkeys::delete(app, &call)).await,
            Op::PasskeyRegistrationLink => Box::pin(passkeys::registration_link(app, &call)).await,
            Op::LinkIdp => Box::pin(idp_links::link(app, &call)).await,
            Op::ListIdpLinks => Box::pin(idp_links::list(app, &call)).await,
            Op::UnlinkIdp => Box::pin(idp_links::unlink(app, &call)).await,
            Op::StartU2f => Box::pin(u2f::start(app, &call)).await,
            Op::VerifyU2f => Box::pin(u2f::verify(app, &call)).await,
            Op::ListU2f => Box::pin(u2f::list(app, &call)).await,
            Op::DeleteU2f => Box::pin(u2f::delete(app, &call)).await,
            Op::DeleteUser => {
                let user = path_user_id(req)?;
                let admin = app.admin(req, tenant).await?;
                let user = app.canonical(tenant, user).await?;
                let work = delete_user(app, tenant, &user);
                app.audited(&call, &user, &admin.sub, work).await
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Profile {
    email: Option<Email>,
    email_verified: Option<bool>,
    phone_number: Option<Phone>,
    phone_verified: Option<bool>,
    given_name: Option<Text<256>>,
    family_name: Option<Text<256>>,
    name: Option<Text<256>>,
    locale: Option<Text<35>>,
}

impl Profile {
    /// Cognito attributes for the fields given.
    fn attributes(&self) -> Vec<(String, String)> {
        let mut a = vec![];
        let mut push = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                a.push((name.to_string(), v));
            }
        };
        push("email", self.email.as_ref().map(|e| e.as_str().to_string()));
        push("email_verified", self.email_verified.map(|b| b.to_string()));
        push(
            "phone_number",
            self.phone_number.as_ref().map(|p| p.as_str().to_string()),
        );
        push(
            "phone_number_verified",
            self.phone_verified.map(|b| b.to_string()),
        );
        push(
            "given_name",
            self.given_name.as_ref().map(|t| t.as_str().to_string()),
        );
        push(
            "family_name",
            self.family_name.as_ref().map(|t| t.as_str().to_string()),
        );
        push("name", self.name.as_ref().map(|t| t.as_str().to_string()));
        push(
            "locale",
            self.locale.as_ref().map(|t| t.as_str().to_string()),
        );
        a
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateUser {
    #[serde(rename = "userID")]
    user_id: UserId,
    #[serde(flatten)]
    profile: Profile,
    temporary_password: Option<Password>,
    /// An import: a permanent password, no invitation.
    password: Option<Password>,
    send_welcome_message: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Deleted {
    #[serde(rename = "userID")]
    user_id: String,
    deleted: bool,
}

async fn read_user<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<User, ApiError> {
    let (found, state) = tokio::join!(
        app.user(tenant, user),
        app.locks.state(&tenant.user_pool_id, user),
    );
    Ok(User::of(&found?, &state?))
}

async fn create<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    body: CreateUser,
) -> Result<Reply, ApiError> {
    if body.password.is_some() && body.temporary_password.is_some() {
        return Err(ApiError::InvalidRequest(
            "give either `temporaryPassword` or `password` (an import), not both".into(),
        ));
    }
    if let Some(p) = body.password.as_ref().or(body.temporary_password.as_ref()) {
        app.check_password_policy(tenant, p).await?;
    }
    let import = body.password.is_some();
    let new = NewUser {
        username: body.user_id.clone(),
        attributes: body.profile.attributes(),
        temporary_password: body
            .temporary_password
            .as_ref()
            .map(|p| p.expose().to_string()),
        send_invitation: !import && body.send_welcome_message.unwrap_or(true),
    };
    let mut created = app
        .directory
        .create_user(tenant, &new)
        .await
        .map_err(DirectoryError::for_admin)?;
    if let Some(password) = &body.password {
        if let Err(e) = app
            .directory
            .set_password(tenant, &body.user_id, password.expose(), true)
            .await
        {
            // nothing half-made: an import whose password did not take is no user at all
            if let Err(undo) = app.directory.delete_user(tenant, &body.user_id).await {
                tracing::error!(cause = %undo, "an imported user was left without its password");
            }
            return Err(e.for_admin());
        }
        created.status = "CONFIRMED".into();
    }
    Reply::created(&User::of(&created, &Default::default()))
}

async fn update<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    admin: &Caller,
    user: &UserId,
    body: Profile,
) -> Result<Reply, ApiError> {
    let attributes = body.attributes();
    if attributes.is_empty() {
        return Err(ApiError::InvalidRequest(
            "give at least one field to change".into(),
        ));
    }
    // an email or phone number here is held to the rules of PUT …/email and …/phone: never
    // another user's address, and a new one held until verified where the pool holds it
    let contacts: Vec<(Contact, String)> = [
        (Contact::Email, body.email.as_ref().map(|e| e.as_str())),
        (
            Contact::Phone,
            body.phone_number.as_ref().map(|p| p.as_str()),
        ),
    ]
    .into_iter()
    .filter_map(|(c, v)| Some((c, v?.to_string())))
    .collect();
    // an admin's own address: the same recent sign-in as through the PUT routes
    if !contacts.is_empty() && access::is_self(admin, user) {
        access::ensure_recent_sign_in(admin)?;
    }
    for (contact, value) in &contacts {
        contact::ensure_not_taken(app, tenant, user, *contact, value).await?;
    }
    // an address not set verified gets a code from Cognito: a send of the budget, each
    let unverified = |c: &Contact| match c {
        Contact::Email => body.email_verified != Some(true),
        Contact::Phone => body.phone_verified != Some(true),
    };
    for _ in contacts.iter().filter(|(c, _)| unverified(c)) {
        app.spend_code_send(tenant, user).await?;
    }
    let before = if contacts.is_empty() {
        None
    } else {
        Some(contact::addresses(app, tenant, user).await?)
    };
    app.directory
        .update_attributes(tenant, user, &attributes)
        .await
        .map_err(DirectoryError::for_admin)?;
    let mut read = read_user(app, tenant, user).await?;
    for (contact, value) in &contacts {
        contact::note_what_is_held(app, tenant, user, &mut read, *contact, value).await;
    }
    if let Some(before) = &before {
        let after = contact::Addresses::of_user(&read);
        for (contact, value) in &contacts {
            let both = (before, &after);
            contact::tell_the_old_address(app, tenant, user, *contact, both, Some(value)).await;
        }
    }
    Reply::ok(&read)
}

async fn delete_user<P: Ports>(
    app: &App<P>,
    tenant: &Tenant,
    user: &UserId,
) -> Result<Reply, ApiError> {
    app.directory
        .delete_user(tenant, user)
        .await
        .map_err(DirectoryError::for_admin)?;
    // the audit trail stays; the lock and the lockout counter go with the user
    app.locks.forget(&tenant.user_pool_id, user).await?;
    Reply::ok(&Deleted {
        user_id: user.as_str().to_string(),
        deleted: true,
    })
}
