#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A user's links to identity providers on the real Cognito adapter: the exact
//! AdminLinkProviderForUser and AdminDisableProviderForUser requests, the `identities`
//! attribute as AdminGetUser answers it, and Cognito's documented refusals.

use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{
        admin_disable_provider_for_user::AdminDisableProviderForUserOutput,
        admin_get_user::AdminGetUserOutput,
        admin_link_provider_for_user::{
            AdminLinkProviderForUserError, AdminLinkProviderForUserOutput,
        },
    },
    types::{
        AttributeType, UserStatusType,
        error::{AliasExistsException, InvalidParameterException, LimitExceededException},
    },
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shared::{
    App,
    domain::tenant::CachedTenants,
    domain::tenant::Federation,
    testing::{self, Answer, InMemoryTenants, WithCognito, access_token, cognito_app, tenant},
};

const POOL: &str = "us-east-1_test";

/// demo-user as AdminGetUser answers it, with one linked identity (the attribute is a JSON
/// string whose `primary` is a boolean and `dateCreated` a number, as Cognito writes it).
fn the_user(linked: bool) -> Rule {
    mock!(Client::admin_get_user)
        .match_requests(|r| r.user_pool_id() == Some(POOL) && r.username() == Some("demo-user"))
        .then_output(move || {
            let mut out = AdminGetUserOutput::builder()
                .username("demo-user")
                .enabled(true)
                .user_status(UserStatusType::Confirmed)
                .user_attributes(AttributeType::builder().name("sub").value("sub-demo-user").build().unwrap());
            if linked {
                out = out.user_attributes(
                    AttributeType::builder()
                        .name("identities")
                        .value(r#"[{"userId":"okta-1","providerName":"Okta","providerType":"OIDC","issuer":null,"primary":false,"dateCreated":1795000000000}]"#)
                        .build()
                        .unwrap(),
                );
            }
            out.build().unwrap()
        })
}

fn app_with(rules: &[&Rule]) -> App<WithCognito> {
    // the caller's account, as the bearer check reads it (AdminGetUser), after the rules
    // of the users a test describes
    let live = shared::testing::cognito_mocks::caller_is_live();
    // a pool without alias attributes: a userID is the username (canonical, no lookup)
    let pool = mock!(Client::describe_user_pool).then_output(|| {
        aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolOutput::builder()
            .user_pool(aws_sdk_cognitoidentityprovider::types::UserPoolType::builder().build())
            .build()
    });
    let mut rules = rules.to_vec();
    rules.push(&live);
    rules.push(&pool);
    let mut app = cognito_app(mock_client!(
        aws_sdk_cognitoidentityprovider,
        RuleMode::MatchAny,
        rules
    ));
    let mut t = tenant();
    t.federation = Some(Federation {
        domain: "https://demo.auth.us-east-1.amazoncognito.com".into(),
        callback_url: "https://api.example.com/v1/idp-intents/callback".into(),
        providers: vec!["Okta".into()],
        redirect_urls: vec!["https://app.example.com/done".into()],
    });
    app.tenants = CachedTenants::new(InMemoryTenants::with(t), app.config.tenant_cache_ttl);
    app
}

/// An admin's token, one per run (the mocks see the same token every time).
fn admin() -> String {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| access_token("boss", &["admins"], 600))
        .clone()
}

async fn call(app: &App<WithCognito>, method: &str, path: &str, body: Value) -> Answer {
    let req = testing::api_request(method, path, &body, &testing::demo_headers(Some(&admin())));
    Answer::from(app.handle::<users::Group>(req).await)
}

fn link_request() -> Rule {
    mock!(Client::admin_link_provider_for_user)
        .match_requests(|r| {
            let destination = r.destination_user().unwrap();
            let source = r.source_user().unwrap();
            r.user_pool_id() == Some(POOL)
                && destination.provider_name() == Some("Cognito")
                && destination.provider_attribute_value() == Some("demo-user")
                && destination.provider_attribute_name().is_none()
                && source.provider_name() == Some("Okta")
                && source.provider_attribute_name() == Some("Cognito_Subject")
                && source.provider_attribute_value() == Some("okta-1")
        })
        .then_output(|| AdminLinkProviderForUserOutput::builder().build())
}

#[tokio::test]
async fn an_admin_links_an_identity_by_its_subject() {
    let (user, link) = (the_user(false), link_request());
    let app = app_with(&[&user, &link]);
    let a = call(
        &app,
        "POST",
        "/users/demo-user/idp-links",
        json!({"idpName": "Okta", "idpUserID": "okta-1"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["idpName"], "Okta");
    assert_eq!(a.data()["idpUserID"], "okta-1");
    assert_eq!(link.num_calls(), 1);
    // a provider the tenant does not offer never reaches Cognito
    let a = call(
        &app,
        "POST",
        "/users/demo-user/idp-links",
        json!({"idpName": "Other", "idpUserID": "x"}),
    )
    .await;
    assert_eq!((a.status, a.slug()), (400, "invalid-request"), "{}", a.body);
    assert_eq!(link.num_calls(), 1);
}

#[tokio::test]
async fn cognitos_refusals_of_a_link_are_conflicts() {
    let refusals: [fn() -> AdminLinkProviderForUserError; 3] = [
        // the identity signed in before: it is a user of its own
        || {
            AdminLinkProviderForUserError::InvalidParameterException(
                InvalidParameterException::builder()
                    .message("Merging is not currently supported, provide a SourceUser that has not been signed up in order to link")
                    .build(),
            )
        },
        || {
            AdminLinkProviderForUserError::AliasExistsException(
                AliasExistsException::builder()
                    .message("Alias already exists")
                    .build(),
            )
        },
        || {
            AdminLinkProviderForUserError::LimitExceededException(
                LimitExceededException::builder()
                    .message("Limit exceeded")
                    .build(),
            )
        },
    ];
    for refusal in refusals {
        let user = the_user(false);
        let link = mock!(Client::admin_link_provider_for_user).then_error(refusal);
        let app = app_with(&[&user, &link]);
        let a = call(
            &app,
            "POST",
            "/users/demo-user/idp-links",
            json!({"idpName": "Okta", "idpUserID": "okta-1"}),
        )
        .await;
        assert_eq!((a.status, a.slug()), (409, "conflict"), "{}", a.body);
        assert_eq!(link.num_calls(), 1);
    }
}

#[tokio::test]
async fn the_users_links_are_listed_and_only_its_own_are_unlinked() {
    let user = the_user(true);
    let disable = mock!(Client::admin_disable_provider_for_user)
        .match_requests(|r| {
            let u = r.user().unwrap();
            r.user_pool_id() == Some(POOL)
                && u.provider_name() == Some("Okta")
                && u.provider_attribute_name() == Some("Cognito_Subject")
                && u.provider_attribute_value() == Some("okta-1")
        })
        .then_output(|| AdminDisableProviderForUserOutput::builder().build());
    let app = app_with(&[&user, &disable]);
    let a = call(&app, "GET", "/users/demo-user/idp-links", Value::Null).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.data()["links"],
        json!([{"idpName": "Okta", "idpUserID": "okta-1", "idpType": "OIDC", "linkedAt": "2026-11-18T11:06:40Z"}])
    );
    // another user's identity (or none at all): nothing asked of Cognito
    let a = call(
        &app,
        "DELETE",
        "/users/demo-user/idp-links/Okta/okta-2",
        Value::Null,
    )
    .await;
    assert_eq!(
        (a.status, &a.data()["deleted"]),
        (200, &json!(false)),
        "{}",
        a.body
    );
    assert_eq!(disable.num_calls(), 0);
    let a = call(
        &app,
        "DELETE",
        "/users/demo-user/idp-links/Okta/okta-1",
        Value::Null,
    )
    .await;
    assert_eq!(
        (a.status, &a.data()["deleted"]),
        (200, &json!(true)),
        "{}",
        a.body
    );
    assert_eq!(disable.num_calls(), 1);
}
