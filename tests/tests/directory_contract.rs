#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One contract for the directory's capabilities, run on the in-memory directory (the fake
//! every handler test uses) and on the Cognito adapter against the emulator: what a test of a
//! handler assumes of the fake holds of Cognito too. Each suite names only the capabilities it
//! exercises. The Cognito half needs the emulator.

use account_api_tests::stack::{Stack, random_password, unique};
use shared::{
    adapters::memory::{InMemoryDirectory, MemUser},
    domain::{
        directory::{Contact, Contacts, DirectoryError, NewUser, Passwords, SignIn, UserAdmin},
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
    dir.create_user(
        tenant,
        &NewUser {
            username: other.clone(),
            attributes: vec![],
            temporary_password: Some(random_password()),
            send_invitation: false,
        },
    )
    .await
    .unwrap();
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
    dir.create_user(
        tenant,
        &NewUser {
            username: name.clone(),
            attributes: vec![],
            temporary_password: Some(temporary.clone()),
            send_invitation: false,
        },
    )
    .await
    .unwrap();
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
    dir.create_user(
        tenant,
        &NewUser {
            username: name.clone(),
            attributes: vec![("email".into(), format!("{prefix}-dee@example.com"))],
            temporary_password: None,
            send_invitation: false,
        },
    )
    .await
    .unwrap();
    dir.set_password(tenant, &name, &random_password(), true)
        .await
        .unwrap();
    let access_token = session(&name).await;
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
    // the fake takes any token it signed for the user
    let session = async |user: &UserId| shared::testing::access_token(user.as_str(), &[], 3600);
    contacts_contract(&dir, &tenant(), "mem", session, |_| {
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
    // the API's own session as the user: the one token with the self-service scope
    let session = async |user: &UserId| {
        let sub = app.enabled_account(&tenant, user).await.unwrap();
        app.session_as(&tenant, user, &sub, CodePurpose::UserAccess, "self")
            .await
            .unwrap()
            .access_token
    };
    contacts_contract(
        &app.directory,
        &tenant,
        &unique("con"),
        session,
        |attribute| probe.last_contact_code(attribute),
    )
    .await;
}
