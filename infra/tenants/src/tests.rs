#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The command's own tests: its arguments, the records and updates it builds, and the
//! `#allowed-origins` item it derives, the table's I/O against clients mocked with
//! `aws-smithy-mocks` (rules, taken in order, that pin each request and give its answer; a
//! request no rule expects fails the test). The whole command against the emulator is
//! `tests/tests/tenants_cli.rs`.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    operation::{
        delete_item::DeleteItemOutput,
        get_item::GetItemOutput,
        put_item::PutItemOutput,
        scan::{ScanError, ScanInput, ScanOutput},
        update_item::UpdateItemOutput,
    },
    types::AttributeValue,
};
use aws_smithy_mocks::{Rule, RuleBuilder, RuleMode, mock, mock_client};
use clap::Parser;
use serde_json::json;

use super::*;

const KEY: [&str; 8] = [
    "--table",
    "local-tenants",
    "--client-id",
    "acme",
    "--client-code",
    "ACME",
    "--database",
    "main",
];

fn cli(command: &str, extra: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(
        ["tenants", command]
            .into_iter()
            .chain(KEY)
            .chain(extra.iter().copied()),
    )
}

fn add(extra: &[&str]) -> Add {
    let mut args = vec![
        "--user-pool-id",
        "eu-west-1_AbC",
        "--app-client-id",
        "client1",
    ];
    args.extend_from_slice(extra);
    match cli("add", &args).unwrap().command {
        Command::Add(add) => add,
        other => panic!("{other:?}"),
    }
}

fn set_policy(extra: &[&str]) -> SetPolicy {
    match cli("set-policy", extra).unwrap().command {
        Command::SetPolicy(set) => set,
        other => panic!("{other:?}"),
    }
}

fn ss(values: &[&str]) -> AttributeValue {
    AttributeValue::Ss(values.iter().map(|v| v.to_string()).collect())
}

fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn an_origin_not_written_as_a_browser_sends_it_is_refused() {
    for bad in [
        "https://app.example.com/",
        "*",
        "http://app.example.com",
        "https://App.example.com",
        "https://app.example.com/signed-in",
        "https://app.example.com:443",
        "app.example.com",
    ] {
        let refused = checks::validate_add(&add(&[
            "--allowed-origin",
            "https://app.example.com",
            "--allowed-origin",
            bad,
        ]));
        match refused {
            Err(CliError::Invalid(why)) => {
                assert!(why.contains(&format!("--allowed-origin {bad:?}")), "{why}");
                assert!(
                    why.contains("https://app.example.com") && why.contains("no trailing slash"),
                    "{why}"
                );
                assert!(why.contains("http only to localhost"), "{why}");
            }
            other => panic!("{bad}: {other:?}"),
        }
        assert!(
            matches!(
                checks::validate_policy(&set_policy(&["--allowed-origin", bad]).policy),
                Err(CliError::Invalid(why)) if why.contains(bad)
            ),
            "set-policy {bad}"
        );
    }
    for good in [
        "https://app.example.com",
        "https://app.example.com:8443",
        "http://localhost:5173",
        "http://127.0.0.1:9001",
    ] {
        checks::validate_add(&add(&["--allowed-origin", good])).unwrap();
    }
}

#[test]
fn add_stores_its_origins_as_one_string_set_and_none_without_them() {
    let added = add(&[
        "--allowed-origin",
        "https://app.example.com",
        "--allowed-origin",
        "https://admin.example.com",
        "--allowed-origin",
        "https://app.example.com",
    ]);
    let written = record(&added, "acme#ACME#main");
    assert_eq!(
        written["allowedOrigins"],
        ss(&["https://admin.example.com", "https://app.example.com"])
    );
    // and the functions' reader takes it as written
    let described = describe("acme#ACME#main", &written).unwrap();
    assert_eq!(
        described["allowedOrigins"],
        json!(["https://admin.example.com", "https://app.example.com"])
    );
    let without = record(&add(&[]), "acme#ACME#main");
    assert!(!without.contains_key("allowedOrigins"), "{without:?}");
    assert_eq!(
        describe("acme#ACME#main", &without).unwrap()["allowedOrigins"],
        json!([])
    );
}

#[test]
fn set_policy_replaces_the_origins_or_removes_them() {
    let replaced = policy_update(&set_policy(&[
        "--allowed-origin",
        "https://b.example.com",
        "--allowed-origin",
        "https://a.example.com",
    ]))
    .unwrap();
    assert_eq!(replaced.expression, "SET #n0 = :v0");
    assert_eq!(replaced.names["#n0"], "allowedOrigins");
    assert_eq!(
        replaced.values[":v0"],
        ss(&["https://a.example.com", "https://b.example.com"])
    );

    let removed = policy_update(&set_policy(&["--no-allowed-origins"])).unwrap();
    assert_eq!(
        removed,
        Update {
            expression: "REMOVE #r0".into(),
            names: HashMap::from([("#r0".into(), "allowedOrigins".into())]),
            values: HashMap::new(),
        }
    );
    let both = policy_update(&set_policy(&[
        "--no-allowed-origins",
        "--max-otp-attempts",
        "3",
    ]))
    .unwrap();
    assert_eq!(both.expression, "SET #n0 = :v0 REMOVE #r0");
    assert_eq!(both.names["#n0"], "maxOtpAttempts");
    assert_eq!(both.names["#r0"], "allowedOrigins");

    // a list and no list at once is no request
    let conflict = cli(
        "set-policy",
        &[
            "--allowed-origin",
            "https://a.example.com",
            "--no-allowed-origins",
        ],
    );
    assert_eq!(
        conflict.unwrap_err().kind(),
        clap::error::ErrorKind::ArgumentConflict
    );
    // nor is nothing at all
    assert!(matches!(
        policy_update(&set_policy(&[])),
        Err(CliError::Invalid(why)) if why.contains("--no-allowed-origins")
    ));
}

#[test]
fn the_union_skips_items_that_are_not_records_and_lists_each_origin_once() {
    let items = [
        item(&[
            ("tenantKey", AttributeValue::S("acme#ACME#main".into())),
            (
                "allowedOrigins",
                ss(&["https://app.example.com", "https://admin.example.com"]),
            ),
        ]),
        item(&[
            ("tenantKey", AttributeValue::S("beta#BETA#main".into())),
            (
                "allowedOrigins",
                ss(&["https://app.example.com", "http://localhost:5173"]),
            ),
        ]),
        // no origins
        item(&[("tenantKey", AttributeValue::S("gamma#G#main".into()))]),
        // the derived item itself, and any other `#` key, is no tenant's
        item(&[
            ("tenantKey", AttributeValue::S(ALLOWED_ORIGINS_ITEM.into())),
            ("origins", ss(&["https://stale.example.com"])),
            ("allowedOrigins", ss(&["https://stale.example.com"])),
        ]),
        item(&[
            ("tenantKey", AttributeValue::S("#other".into())),
            ("allowedOrigins", ss(&["https://other.example.com"])),
        ]),
        item(&[("allowedOrigins", ss(&["https://keyless.example.com"]))]),
        // a value no browser sends never matches, so it is not listed
        item(&[
            ("tenantKey", AttributeValue::S("delta#D#main".into())),
            (
                "allowedOrigins",
                ss(&["https://Bad.example.com/", "https://delta.example.com"]),
            ),
        ]),
    ];
    assert_eq!(
        union_of_origins(&items),
        [
            "http://localhost:5173",
            "https://admin.example.com",
            "https://app.example.com",
            "https://delta.example.com",
        ]
    );
    assert!(union_of_origins(&items[2..6]).is_empty());
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The command's clients: DynamoDB answering from `rules` in their order, Cognito from none
/// (any request to either that no rule expects panics, failing the test).
fn clients(rules: &[&Rule]) -> Clients {
    Clients {
        dynamodb: mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules),
        cognito: mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::Sequential,
            Vec::<&Rule>::new()
        ),
    }
}

/// A `Scan` of the whole table as [`refresh_allowed_origins`] makes it, from `start`.
fn origins_scan(
    start: Option<HashMap<String, AttributeValue>>,
) -> RuleBuilder<ScanInput, ScanOutput, ScanError> {
    mock!(Client::scan).match_requests(move |r| {
        r.table_name() == Some("local-tenants")
            && r.consistent_read() == Some(true)
            && r.projection_expression() == Some("tenantKey, allowedOrigins")
            && r.exclusive_start_key() == start.as_ref()
    })
}

#[tokio::test]
async fn the_origins_item_is_the_union_of_every_page_of_records() {
    let first = origins_scan(None).then_output(|| {
        ScanOutput::builder()
            .items(item(&[
                ("tenantKey", s("acme#ACME#main")),
                (
                    "allowedOrigins",
                    ss(&["https://app.example.com", "https://admin.example.com"]),
                ),
            ]))
            .items(item(&[
                ("tenantKey", s(ALLOWED_ORIGINS_ITEM)),
                ("origins", ss(&["https://gone.example.com"])),
            ]))
            .last_evaluated_key("tenantKey", s(ALLOWED_ORIGINS_ITEM))
            .build()
    });
    let second =
        origins_scan(Some(item(&[("tenantKey", s("#allowed-origins"))]))).then_output(|| {
            ScanOutput::builder()
                .items(item(&[
                    ("tenantKey", s("beta#BETA#main")),
                    (
                        "allowedOrigins",
                        ss(&["https://app.example.com", "http://localhost:5173"]),
                    ),
                ]))
                .build()
        });
    let put = mock!(Client::put_item)
        .match_requests(|r| {
            r.table_name() == Some("local-tenants")
                && r.item()
                    == Some(&item(&[
                        ("tenantKey", s("#allowed-origins")),
                        (
                            "origins",
                            ss(&[
                                "http://localhost:5173",
                                "https://admin.example.com",
                                "https://app.example.com",
                            ]),
                        ),
                    ]))
        })
        .then_output(|| PutItemOutput::builder().build());
    let clients = clients(&[&first, &second, &put]);
    let n = refresh_allowed_origins(&clients.dynamodb, "local-tenants")
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        (first.num_calls(), second.num_calls(), put.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn set_policy_without_origins_removes_the_attribute_and_then_the_item() {
    let acme = || item(&[("tenantKey", s("acme#ACME#main"))]);
    let update = mock!(Client::update_item)
        .match_requests(move |r| {
            r.table_name() == Some("local-tenants")
                && r.key() == Some(&acme())
                && r.update_expression() == Some("REMOVE #r0")
                && r.expression_attribute_names()
                    == Some(&HashMap::from([("#r0".into(), "allowedOrigins".into())]))
                && r.expression_attribute_values().is_none()
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let get = mock!(Client::get_item)
        .match_requests(move |r| r.key() == Some(&acme()) && r.consistent_read() == Some(true))
        .then_output(|| {
            GetItemOutput::builder()
                .set_item(Some(item(&[
                    ("tenantKey", s("acme#ACME#main")),
                    ("userPoolId", s("eu-west-1_AbC")),
                    ("appClientId", s("client1")),
                ])))
                .build()
        });
    let scan = origins_scan(None).then_output(move || {
        ScanOutput::builder()
            .items(item(&[
                ("tenantKey", s(ALLOWED_ORIGINS_ITEM)),
                ("origins", ss(&["https://app.example.com"])),
            ]))
            .items(acme())
            .build()
    });
    let delete = mock!(Client::delete_item)
        .match_requests(|r| {
            r.table_name() == Some("local-tenants")
                && r.key() == Some(&item(&[("tenantKey", s("#allowed-origins"))]))
        })
        .then_output(|| DeleteItemOutput::builder().build());
    let out = run(
        cli("set-policy", &["--no-allowed-origins"]).unwrap(),
        &clients(&[&update, &get, &scan, &delete]),
    )
    .await
    .unwrap();
    assert_eq!(
        [&update, &get, &scan, &delete].map(Rule::num_calls),
        [1, 1, 1, 1]
    );
    assert!(
        out.ends_with(
            "local-tenants now lets browsers call from no web origin in all (#allowed-origins)"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn a_refused_origin_writes_nothing_and_list_skips_the_origins_item() {
    let scan = mock!(Client::scan)
        .match_requests(|r| {
            r.table_name() == Some("local-tenants") && r.exclusive_start_key().is_none()
        })
        .then_output(|| {
            ScanOutput::builder()
                .items(item(&[
                    ("tenantKey", s(ALLOWED_ORIGINS_ITEM)),
                    ("origins", ss(&["https://app.example.com"])),
                ]))
                .items(item(&[
                    ("tenantKey", s("acme#ACME#main")),
                    ("userPoolId", s("eu-west-1_AbC")),
                    ("appClientId", s("client1")),
                    ("allowedOrigins", ss(&["https://app.example.com"])),
                ]))
                .build()
        });
    let clients = clients(&[&scan]);
    let refused = run(
        cli(
            "set-policy",
            &["--allowed-origin", "https://app.example.com/"],
        )
        .unwrap(),
        &clients,
    )
    .await;
    assert!(
        matches!(&refused, Err(CliError::Invalid(why)) if why.contains("\"https://app.example.com/\"")),
        "{refused:?}"
    );
    // no request: any other than this Scan would have found no rule
    assert_eq!(scan.num_calls(), 0);

    let listed = run(
        Cli::try_parse_from(["tenants", "list", "--table", "local-tenants"]).unwrap(),
        &clients,
    )
    .await
    .unwrap();
    assert_eq!(scan.num_calls(), 1);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].starts_with("acme#ACME#main\t"), "{listed}");
    assert!(lines[0].ends_with("\torigins 1"), "{listed}");
    assert_eq!(lines[1], "1 tenants in local-tenants");
}

#[test]
fn prod_takes_no_origin_on_the_users_own_machine() {
    let local = vec!["http://localhost:3000".to_string()];
    let https = vec!["https://app.example.com".to_string()];
    let err = checks::refuse_loopback_origins_in_prod(Some("prod"), &local).unwrap_err();
    assert!(
        err.to_string().contains("prod takes https origins only"),
        "{err}"
    );
    assert!(checks::refuse_loopback_origins_in_prod(Some("prod"), &https).is_ok());
    assert!(checks::refuse_loopback_origins_in_prod(Some("dev"), &local).is_ok());
    assert!(checks::refuse_loopback_origins_in_prod(None, &local).is_ok());
}

/// `tenants add`'s refusal of a pool or app client that would let tokens or sign-ins around
/// the API (`checks::pool_keeps_tokens_to_the_api`).
mod keeps_tokens_to_the_api {
    use super::CliError;

    use crate::checks::pool_keeps_tokens_to_the_api;
    use aws_sdk_cognitoidentityprovider::types::{
        ExplicitAuthFlowsType, LambdaConfigType, PreTokenGenerationLambdaVersionType,
        PreTokenGenerationVersionConfigType, PreventUserExistenceErrorTypes, UserPoolClientType,
        UserPoolType,
    };

    fn pool(pre_authentication: Option<&str>) -> UserPoolType {
        let pre_token = PreTokenGenerationVersionConfigType::builder()
            .lambda_version(PreTokenGenerationLambdaVersionType::V20)
            .lambda_arn("arn:aws:lambda:eu-west-1:1:function:custom-auth")
            .build()
            .unwrap();
        UserPoolType::builder()
            .lambda_config(
                LambdaConfigType::builder()
                    .set_pre_authentication(pre_authentication.map(str::to_string))
                    .pre_token_generation_config(pre_token)
                    .build(),
            )
            .build()
    }

    fn client(secret: Option<&str>) -> UserPoolClientType {
        UserPoolClientType::builder()
            .client_id("c")
            .set_client_secret(secret.map(str::to_string))
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
            .build()
    }

    const TRIGGER: Option<&str> = Some("arn:aws:lambda:eu-west-1:1:function:pre-authentication");

    fn refusal(pool: &UserPoolType, client: &UserPoolClientType) -> String {
        match pool_keeps_tokens_to_the_api("p", Some(pool), Some(client)) {
            Err(CliError::Invalid(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_pool_and_client_as_the_templates_make_them_are_accepted() {
        let accepted =
            pool_keeps_tokens_to_the_api("p", Some(&pool(TRIGGER)), Some(&client(Some("s"))));
        assert!(accepted.is_ok(), "{accepted:?}");
    }

    #[test]
    fn an_app_client_without_a_secret_is_refused() {
        for secret in [None, Some("")] {
            let why = refusal(&pool(TRIGGER), &client(secret));
            assert!(why.contains("no client secret"), "{why}");
        }
    }

    #[test]
    fn a_pool_without_the_pre_authentication_trigger_is_refused() {
        for trigger in [None, Some("")] {
            let why = refusal(&pool(trigger), &client(Some("s")));
            assert!(why.contains("pre authentication trigger"), "{why}");
        }
    }
}
