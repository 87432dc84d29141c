#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One contract for the directory's capabilities, run on the in-memory directory (the fake
//! every handler test uses) and on the Cognito adapter against the emulator: what a test of a
//! handler assumes of the fake holds of Cognito too. Each suite names only the capabilities it
//! exercises. The Cognito half needs the emulator.

use account_api_tests::{
    authenticator::{browser, origin},
    factors::totp_code,
    stack::{Stack, random_password, unique},
};
use passkey::{client::DefaultClientData, types::webauthn};
use shared::{
    adapters::memory::{InMemoryDirectory, MemUser},
    domain::{
        directory::{
            Challenge, Contact, Contacts, DirectoryError, Factor, Factors, IdentityLinks, MfaMode,
            NewUser, Passkeys, Passwords, SignIn, UserAdmin,
        },
        lock::CodePurpose,
        tenant::{Tenant, TenantKey},
        user_id::UserId,
    },
    testing::tenant,
};

fn id(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

/// Users as an admin manages them: created, found (by any case of the name), updated,
/// disabled and enabled, listed by prefix, deleted; a user who is not there is `None` or
/// `UserNotFound`, never another error.
async fn user_admin_contract(dir: &impl UserAdmin, tenant: &Tenant, prefix: &str) {
    let name = id(&format!("{prefix}-ann"));
    assert_eq!(dir.find_user(tenant, &name).await.unwrap(), None);

    let created = dir
        .create_user(
            tenant,
            &NewUser {
                username: name.clone(),
                attributes: vec![
                    ("email".into(), format!("{prefix}-ann@example.com")),
                    ("email_verified".into(), "true".into()),
                    ("given_name".into(), "Ann".into()),
                ],
                temporary_password: Some(random_password()),
                send_invitation: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(created.username, name.as_str());
    assert_eq!(created.status, "FORCE_CHANGE_PASSWORD");
    assert!(created.enabled);
    assert_eq!(created.attribute("given_name"), Some("Ann"));

    let again = dir
        .create_user(
            tenant,
            &NewUser {
                username: name.clone(),
                attributes: vec![],
                temporary_password: None,
                send_invitation: false,
            },
        )
        .await;
    assert!(
        matches!(again, Err(DirectoryError::Conflict(_))),
        "a second user of one name: {again:?}"
    );

    let found = dir.find_user(tenant, &name).await.unwrap().unwrap();
    assert_eq!(found.username, name.as_str());
    assert_eq!(
        found.attribute("email"),
        Some(format!("{prefix}-ann@example.com").as_str())
    );
    assert!(found.verified("email_verified"));
    assert!(found.sub.is_some(), "a user has a sub");
    assert_eq!(
        dir.canonical_username(tenant, &name).await.unwrap(),
        name,
        "a username names itself"
    );

    dir.update_attributes(tenant, &name, &[("family_name".into(), "Lee".into())])
        .await
        .unwrap();
    let found = dir.find_user(tenant, &name).await.unwrap().unwrap();
    assert_eq!(found.attribute("family_name"), Some("Lee"));
    assert_eq!(
        found.attribute("given_name"),
        Some("Ann"),
        "other attributes stay"
    );

    dir.set_enabled(tenant, &name, false).await.unwrap();
    assert!(!dir.find_user(tenant, &name).await.unwrap().unwrap().enabled);
    dir.set_enabled(tenant, &name, true).await.unwrap();
    assert!(dir.find_user(tenant, &name).await.unwrap().unwrap().enabled);

    let other = id(&format!("{prefix}-bob"));
    invited(dir, tenant, &other, &random_password()).await;
    let filter = format!("username ^= \"{prefix}-\"");
    let page = dir
        .list_users(tenant, Some(&filter), 60, None)
        .await
        .unwrap();
    let mut names: Vec<_> = page.users.iter().map(|u| u.username.clone()).collect();
    names.sort();
    assert_eq!(names, [name.to_string(), other.to_string()]);
    let first = dir
        .list_users(tenant, Some(&filter), 1, None)
        .await
        .unwrap();
    assert_eq!(first.users.len(), 1);
    let token = first.pagination_token.expect("a second page");
    let second = dir
        .list_users(tenant, Some(&filter), 1, Some(&token))
        .await
        .unwrap();
    assert_eq!(second.users.len(), 1);
    assert_ne!(second.users[0].username, first.users[0].username);

    let absent = id(&format!("{prefix}-nobody"));
    assert!(matches!(
        dir.update_attributes(tenant, &absent, &[("given_name".into(), "X".into())])
            .await,
        Err(DirectoryError::UserNotFound)
    ));
    assert!(matches!(
        dir.set_enabled(tenant, &absent, false).await,
        Err(DirectoryError::UserNotFound)
    ));
    assert!(matches!(
        dir.delete_user(tenant, &absent).await,
        Err(DirectoryError::UserNotFound)
    ));

    dir.delete_user(tenant, &other).await.unwrap();
    assert_eq!(dir.find_user(tenant, &other).await.unwrap(), None);
}

/// A password set by an admin signs in; a wrong one, or an unknown user, is `NotAuthorized`
/// alike; a disabled user is `UserDisabled` only with the right password; a temporary password
/// asks for a new one, and the answer signs in.
async fn sign_in_contract(
    dir: &(impl UserAdmin + Passwords + SignIn),
    tenant: &Tenant,
    prefix: &str,
) {
    let name = id(&format!("{prefix}-cy"));
    let temporary = random_password();
    invited(dir, tenant, &name, &temporary).await;
    let asked = dir.password_auth(tenant, &name, &temporary).await.unwrap();
    assert_eq!(
        asked.challenge_name.as_deref(),
        Some("NEW_PASSWORD_REQUIRED")
    );
    assert!(asked.authentication_result.is_none());
    let chosen = random_password();
    let answered = dir
        .complete_new_password(tenant, &name, asked.session.as_deref().unwrap(), &chosen)
        .await
        .unwrap();
    assert!(answered.authentication_result.is_some(), "{answered:?}");
    assert_eq!(
        dir.find_user(tenant, &name).await.unwrap().unwrap().status,
        "CONFIRMED"
    );

    let password = random_password();
    dir.set_password(tenant, &name, &password, true)
        .await
        .unwrap();
    let signed_in = dir.password_auth(tenant, &name, &password).await.unwrap();
    let tokens = signed_in.authentication_result.expect("tokens");
    assert!(!tokens.access_token.is_empty());
    let refreshed = dir
        .refresh(tenant, &name, tokens.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    assert!(refreshed.authentication_result.is_some());

    for (who, secret) in [
        (name.clone(), "Wrong-Passw0rd!".to_string()),
        (id(&format!("{prefix}-nobody")), password.clone()),
    ] {
        let refused = dir.password_auth(tenant, &who, &secret).await;
        assert!(
            matches!(refused, Err(DirectoryError::NotAuthorized)),
            "{who}: {refused:?}"
        );
    }

    dir.set_enabled(tenant, &name, false).await.unwrap();
    let disabled = dir.password_auth(tenant, &name, &password).await;
    assert!(
        matches!(disabled, Err(DirectoryError::UserDisabled)),
        "{disabled:?}"
    );
    dir.set_enabled(tenant, &name, true).await.unwrap();

    dir.set_password(tenant, &name, &temporary, false)
        .await
        .unwrap();
    assert_eq!(
        dir.find_user(tenant, &name).await.unwrap().unwrap().status,
        "FORCE_CHANGE_PASSWORD"
    );
    let weak = dir.set_password(tenant, &name, "short", true).await;
    assert!(
        matches!(weak, Err(DirectoryError::InvalidPassword(_))),
        "{weak:?}"
    );
}

/// A contact verified with the code sent for it: the delivery names the attribute and its
/// medium, a wrong code is `CodeMismatch` and changes nothing, the right one marks the address
/// verified, and a token that is not the user's is `NotAuthorized`. `session` signs the user in
/// for the self-service calls (on Cognito only the API's own session carries their scope);
/// `code_sent` reads the code the directory sent for an attribute (the fake's is fixed; the
/// emulator's is in its answer).
async fn contacts_contract(
    dir: &(impl UserAdmin + Passwords + Contacts),
    tenant: &Tenant,
    prefix: &str,
    session: impl AsyncFn(&UserId) -> String,
    code_sent: impl Fn(&str) -> Option<String>,
) {
    let name = id(&format!("{prefix}-dee"));
    let (_, access_token) = signed_up(dir, tenant, &name, &session).await;
    assert!(
        !dir.find_user(tenant, &name)
            .await
            .unwrap()
            .unwrap()
            .verified("email_verified")
    );

    let delivery = dir
        .send_contact_code(tenant, &access_token, Contact::Email)
        .await
        .unwrap();
    assert_eq!(delivery.attribute_name.as_deref(), Some("email"));
    assert_eq!(delivery.delivery_medium.as_deref(), Some("EMAIL"));
    let code = code_sent("email").expect("a code was sent");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = dir
        .verify_contact(tenant, &access_token, Contact::Email, wrong)
        .await;
    assert!(
        matches!(refused, Err(DirectoryError::CodeMismatch)),
        "{refused:?}"
    );
    assert!(
        !dir.find_user(tenant, &name)
            .await
            .unwrap()
            .unwrap()
            .verified("email_verified")
    );

    dir.verify_contact(tenant, &access_token, Contact::Email, &code)
        .await
        .unwrap();
    assert!(
        dir.find_user(tenant, &name)
            .await
            .unwrap()
            .unwrap()
            .verified("email_verified")
    );

    let forged = dir
        .send_contact_code(tenant, "not-a-token", Contact::Email)
        .await;
    assert!(
        matches!(forged, Err(DirectoryError::NotAuthorized)),
        "{forged:?}"
    );
}

/// A user of no attributes with a temporary password, as an admin makes one.
async fn invited(dir: &impl UserAdmin, tenant: &Tenant, name: &UserId, temporary: &str) {
    let user = NewUser {
        username: name.clone(),
        attributes: vec![],
        temporary_password: Some(temporary.to_string()),
        send_invitation: false,
    };
    dir.create_user(tenant, &user).await.unwrap();
}

/// A user with an email address and a password, and a session of theirs for the
/// self-service calls.
async fn signed_up(
    dir: &(impl UserAdmin + Passwords),
    tenant: &Tenant,
    name: &UserId,
    session: &impl AsyncFn(&UserId) -> String,
) -> (String, String) {
    dir.create_user(
        tenant,
        &NewUser {
            username: name.clone(),
            attributes: vec![("email".into(), format!("{name}@example.com"))],
            temporary_password: None,
            send_invitation: false,
        },
    )
    .await
    .unwrap();
    let password = random_password();
    dir.set_password(tenant, name, &password, true)
        .await
        .unwrap();
    (password, session(name).await)
}

/// An authenticator app as a second factor: it cannot be turned on before a code from it is
/// verified, a code needs an authenticator started, a wrong code is `CodeMismatch`; once on
/// and preferred, a password sign-in is asked for it (`SOFTWARE_TOKEN_MFA`, no tokens), a
/// wrong answer is `CodeMismatch` and the right one signs in; turned off, the password alone
/// signs in again. `code_for` is the authenticator app: a code for the secret the directory
/// gave.
async fn factors_contract(
    dir: &(impl UserAdmin + Passwords + SignIn + Factors),
    tenant: &Tenant,
    prefix: &str,
    session: impl AsyncFn(&UserId) -> String,
    code_for: impl Fn(&str) -> String,
) {
    assert_eq!(dir.mfa_mode(tenant).await.unwrap(), MfaMode::Optional);
    let name = id(&format!("{prefix}-eve"));
    let (password, token) = signed_up(dir, tenant, &name, &session).await;

    let early = dir
        .set_factor(tenant, &name, Factor::Totp, true, true)
        .await;
    assert!(
        matches!(early, Err(DirectoryError::InvalidParameter)),
        "TOTP on before any authenticator: {early:?}"
    );
    let unstarted = dir
        .confirm_totp(
            tenant,
            &token,
            &code_for(InMemoryDirectory::TOTP_SECRET),
            None,
        )
        .await;
    assert!(
        matches!(unstarted, Err(DirectoryError::Conflict(_))),
        "a code before any authenticator was started: {unstarted:?}"
    );

    let secret = dir.start_totp(tenant, &token).await.unwrap();
    let right = code_for(&secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = dir.confirm_totp(tenant, &token, wrong, None).await;
    assert!(
        matches!(refused, Err(DirectoryError::CodeMismatch)),
        "{refused:?}"
    );
    assert!(
        matches!(
            dir.set_factor(tenant, &name, Factor::Totp, true, true)
                .await,
            Err(DirectoryError::InvalidParameter)
        ),
        "a wrong code verifies nothing"
    );
    dir.confirm_totp(tenant, &token, &right, Some("phone"))
        .await
        .unwrap();
    dir.set_factor(tenant, &name, Factor::Totp, true, true)
        .await
        .unwrap();
    let user = dir.find_user(tenant, &name).await.unwrap().unwrap();
    assert_eq!(user.factors, [Factor::Totp]);
    assert_eq!(user.preferred_factor, Some(Factor::Totp));

    let asked = dir.password_auth(tenant, &name, &password).await.unwrap();
    assert_eq!(asked.challenge_name.as_deref(), Some("SOFTWARE_TOKEN_MFA"));
    assert!(
        asked.authentication_result.is_none(),
        "no tokens before the code"
    );
    let session_id = asked.session.clone().expect("a session");
    let wrong_answer = dir
        .answer_challenge(
            tenant,
            &name,
            Challenge::SoftwareTokenMfa,
            &session_id,
            wrong,
        )
        .await;
    assert!(
        matches!(wrong_answer, Err(DirectoryError::CodeMismatch)),
        "{wrong_answer:?}"
    );
    let asked = dir.password_auth(tenant, &name, &password).await.unwrap();
    let answered = dir
        .answer_challenge(
            tenant,
            &name,
            Challenge::SoftwareTokenMfa,
            asked.session.as_deref().unwrap(),
            &code_for(&secret),
        )
        .await
        .unwrap();
    assert!(answered.authentication_result.is_some(), "{answered:?}");

    dir.set_factor(tenant, &name, Factor::Totp, false, false)
        .await
        .unwrap();
    let user = dir.find_user(tenant, &name).await.unwrap().unwrap();
    assert!(user.factors.is_empty(), "{:?}", user.factors);
    assert_eq!(user.preferred_factor, None);
    let signed_in = dir.password_auth(tenant, &name, &password).await.unwrap();
    assert!(signed_in.authentication_result.is_some(), "{signed_in:?}");

    let forged = dir.start_totp(tenant, "not-a-token").await;
    assert!(
        matches!(forged, Err(DirectoryError::NotAuthorized)),
        "{forged:?}"
    );
}

/// Passkeys a user registers: the options name the pool's relying party and a challenge the
/// browser answers; the registration is listed (its id, the relying party) until deleted, the
/// options exclude it from a second registration, a registration answering no challenge (or
/// one spent) is `InvalidParameter`, deleting one that is not there is `ResourceNotFound`, and
/// a token that is not the user's is `NotAuthorized`.
async fn passkeys_contract(
    dir: &(impl UserAdmin + Passwords + Passkeys),
    tenant: &Tenant,
    prefix: &str,
    session: impl AsyncFn(&UserId) -> String,
) {
    let relying_party = dir
        .passkey_relying_party(tenant)
        .await
        .unwrap()
        .expect("the local pools have a relying party");
    let name = id(&format!("{prefix}-fay"));
    let (_, token) = signed_up(dir, tenant, &name, &session).await;
    assert!(dir.list_passkeys(tenant, &token).await.unwrap().is_empty());

    let options = dir.start_passkey(tenant, &token).await.unwrap();
    assert_eq!(options["rp"]["id"], relying_party.id.as_str(), "{options}");
    let public_key: webauthn::PublicKeyCredentialCreationOptions =
        serde_json::from_value(options.clone()).unwrap();
    let mut authenticator = browser();
    let created = authenticator
        .register(
            &origin(),
            webauthn::CredentialCreationOptions { public_key },
            DefaultClientData,
        )
        .await
        .unwrap();
    let credential = serde_json::to_value(&created).unwrap();
    dir.complete_passkey(tenant, &token, &credential)
        .await
        .unwrap();
    let replayed = dir.complete_passkey(tenant, &token, &credential).await;
    assert!(
        matches!(replayed, Err(DirectoryError::InvalidParameter)),
        "a spent challenge: {replayed:?}"
    );

    let listed = dir.list_passkeys(tenant, &token).await.unwrap();
    let credential_id = credential["id"].as_str().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].credential_id, credential_id);
    assert_eq!(
        listed[0].relying_party_id.as_deref(),
        Some(relying_party.id.as_str())
    );
    assert!(listed[0].created_at.is_some());

    let again = dir.start_passkey(tenant, &token).await.unwrap();
    assert_eq!(
        again["excludeCredentials"][0]["id"], credential_id,
        "a second registration excludes the first: {again}"
    );
    let unanswered = dir.complete_passkey(tenant, &token, &credential).await;
    assert!(
        matches!(unanswered, Err(DirectoryError::InvalidParameter)),
        "an answer to another challenge: {unanswered:?}"
    );

    dir.delete_passkey(tenant, &token, credential_id)
        .await
        .unwrap();
    assert!(dir.list_passkeys(tenant, &token).await.unwrap().is_empty());
    let gone = dir.delete_passkey(tenant, &token, credential_id).await;
    assert!(
        matches!(gone, Err(DirectoryError::ResourceNotFound)),
        "{gone:?}"
    );
    let forged = dir.list_passkeys(tenant, "not-a-token").await;
    assert!(
        matches!(forged, Err(DirectoryError::NotAuthorized)),
        "{forged:?}"
    );
}

/// The provider identities linked to `user`, as the directory shows them (`identities`).
async fn linked(dir: &impl UserAdmin, tenant: &Tenant, user: &UserId) -> Vec<(String, String)> {
    let found = dir.find_user(tenant, user).await.unwrap().unwrap();
    let value = serde_json::Value::String(found.attribute("identities").unwrap_or("[]").into());
    shared::domain::federation::identities(&value)
        .into_iter()
        .map(|i| (i.idp_name, i.idp_user_id))
        .collect()
}

/// A provider's identity linked to a user: shown in the user's `identities`, linked again
/// harmlessly, refused for a second user while it is the first's (`Conflict`), unlinked (and
/// unlinked again harmlessly), then free for another user; a user who is not there is
/// `UserNotFound`, a provider the pool does not have `InvalidParameter`; a code the pool's
/// domain never issued is `NotAuthorized`.
async fn identity_links_contract(
    dir: &(impl UserAdmin + IdentityLinks),
    tenant: &Tenant,
    prefix: &str,
) {
    let federation = tenant.federation.clone().expect("a tenant with a provider");
    let idp = federation.providers[0].clone();
    let (gil, hal) = (id(&format!("{prefix}-gil")), id(&format!("{prefix}-hal")));
    for user in [&gil, &hal] {
        invited(dir, tenant, user, &random_password()).await;
    }
    let subject = format!("{prefix}-subject");

    let nobody = dir
        .link_identity(tenant, &id(&format!("{prefix}-nobody")), &idp, &subject)
        .await;
    assert!(
        matches!(nobody, Err(DirectoryError::UserNotFound)),
        "{nobody:?}"
    );
    let unknown = dir.link_identity(tenant, &gil, "NoSuchIdp", &subject).await;
    assert!(
        matches!(unknown, Err(DirectoryError::InvalidParameter)),
        "{unknown:?}"
    );
    assert!(linked(dir, tenant, &gil).await.is_empty());

    dir.link_identity(tenant, &gil, &idp, &subject)
        .await
        .unwrap();
    dir.link_identity(tenant, &gil, &idp, &subject)
        .await
        .unwrap();
    assert_eq!(
        linked(dir, tenant, &gil).await,
        [(idp.clone(), subject.clone())]
    );
    let taken = dir.link_identity(tenant, &hal, &idp, &subject).await;
    assert!(
        matches!(taken, Err(DirectoryError::Conflict(_))),
        "{taken:?}"
    );
    assert!(linked(dir, tenant, &hal).await.is_empty());

    dir.unlink_identity(tenant, &idp, &subject).await.unwrap();
    dir.unlink_identity(tenant, &idp, &subject).await.unwrap();
    assert!(linked(dir, tenant, &gil).await.is_empty());
    dir.link_identity(tenant, &hal, &idp, &subject)
        .await
        .unwrap();
    assert_eq!(linked(dir, tenant, &hal).await, [(idp.clone(), subject)]);

    let made_up = dir
        .exchange_code(
            tenant,
            &federation,
            "not-a-code-the-pool-issued",
            "a-verifier",
        )
        .await;
    assert!(
        matches!(made_up, Err(DirectoryError::NotAuthorized)),
        "{:?}",
        made_up.map(|_| "tokens")
    );
}

#[tokio::test]
async fn the_in_memory_directory_keeps_the_user_admin_contract() {
    user_admin_contract(&InMemoryDirectory::default(), &tenant(), "mem").await;
}

#[tokio::test]
async fn the_cognito_directory_keeps_the_user_admin_contract() {
    let stack = Stack::connect().await;
    let (t, app) = (stack.fresh_tenant().await, stack.app().await);
    let tenant = resolve(&app, &t).await;
    user_admin_contract(&app.directory, &tenant, &unique("adm")).await;
}

#[tokio::test]
async fn the_in_memory_directory_keeps_the_sign_in_contract() {
    let dir = InMemoryDirectory::default();
    dir.add("unused", MemUser::confirmed("Unused-Passw0rd!"));
    sign_in_contract(&dir, &tenant(), "mem").await;
}

#[tokio::test]
async fn the_cognito_directory_keeps_the_sign_in_contract() {
    let stack = Stack::connect().await;
    let (t, app) = (stack.fresh_tenant().await, stack.app().await);
    let tenant = resolve(&app, &t).await;
    sign_in_contract(&app.directory, &tenant, &unique("sig")).await;
}

async fn resolve(
    app: &shared::AwsApp,
    t: &account_api_tests::stack::TenantFixture,
) -> std::sync::Arc<Tenant> {
    app.tenants
        .resolve(&TenantKey {
            client_id: t.client_id.clone(),
            client_code: t.client_code.clone(),
            database: t.database.clone(),
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_in_memory_directory_keeps_the_contacts_contract() {
    let dir = InMemoryDirectory::default();
    contacts_contract(&dir, &tenant(), "mem", fake_session, |_| {
        Some(InMemoryDirectory::MFA_CODE.to_string())
    })
    .await;
}

#[tokio::test]
async fn the_cognito_directory_keeps_the_contacts_contract() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (app, probe) = stack.probed_app().await;
    let tenant = resolve(&app, &t).await;
    let session = async |user: &UserId| api_session(&app, &tenant, user).await;
    contacts_contract(
        &app.directory,
        &tenant,
        &unique("con"),
        session,
        |attribute| probe.last_contact_code(attribute),
    )
    .await;
}

/// The API's own session as the user: on Cognito, the one token with the self-service scope.
async fn api_session(app: &shared::AwsApp, tenant: &Tenant, user: &UserId) -> String {
    let sub = app.enabled_account(tenant, user).await.unwrap();
    app.session_as(tenant, user, &sub, CodePurpose::UserAccess, "self")
        .await
        .unwrap()
        .access_token
}

/// The fake takes any token it signed for the user.
async fn fake_session(user: &UserId) -> String {
    shared::testing::access_token(user.as_str(), &[], 3600)
}

#[tokio::test]
async fn the_in_memory_directory_keeps_the_factors_contract() {
    let dir = InMemoryDirectory::default();
    // the fake's authenticator shows one code, whatever its secret
    factors_contract(&dir, &tenant(), "mem", fake_session, |_| {
        InMemoryDirectory::MFA_CODE.to_string()
    })
    .await;
}

#[tokio::test]
async fn the_cognito_directory_keeps_the_factors_contract() {
    let stack = Stack::connect().await;
    let (t, app) = (stack.fresh_tenant().await, stack.app().await);
    let tenant = resolve(&app, &t).await;
    let session = async |user: &UserId| api_session(&app, &tenant, user).await;
    factors_contract(&app.directory, &tenant, &unique("fac"), session, totp_code).await;
}

#[tokio::test]
async fn the_in_memory_directory_keeps_the_passkeys_contract() {
    passkeys_contract(
        &InMemoryDirectory::default(),
        &tenant(),
        "mem",
        fake_session,
    )
    .await;
}

#[tokio::test]
async fn the_cognito_directory_keeps_the_passkeys_contract() {
    let stack = Stack::connect().await;
    let (t, app) = (stack.fresh_tenant().await, stack.app().await);
    let tenant = resolve(&app, &t).await;
    let session = async |user: &UserId| api_session(&app, &tenant, user).await;
    passkeys_contract(&app.directory, &tenant, &unique("pky"), session).await;
}

#[tokio::test]
async fn the_in_memory_directory_keeps_the_identity_links_contract() {
    identity_links_contract(&InMemoryDirectory::default(), &tenant(), "mem").await;
}

#[tokio::test]
async fn the_cognito_directory_keeps_the_identity_links_contract() {
    let stack = Stack::connect().await;
    let (t, app) = (stack.fresh_tenant().await, stack.app().await);
    let tenant = resolve(&app, &t).await;
    identity_links_contract(&app.directory, &tenant, &unique("lnk")).await;
}
