#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End to end: sign-in with an identity provider. The local OpenID Connect provider
//! (`oidc-provider-mock`, on loopback) plays Okta or Google; the emulator plays the pool's
//! domain (`/oauth2/authorize`, `/oauth2/idpresponse`, `/oauth2/token`, verifying the
//! provider's ID token) and `AdminLinkProviderForUser`; the test plays the browser, following
//! every redirect from the API's `authUrl` to the tenant app's success page.

use account_api_tests::{
    idp::{Person, callback_request, query_of, through_provider},
    stack::{
        IDP_FAILURE_URL, IDP_SUCCESS_URL, LOCAL_IDP, Stack, TenantFixture, call, public,
        random_password, trail, unique,
    },
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::{AwsApp, testing::Answer};

/// An intent started: its id, the authorize URL, and the secret the app keeps in the session
/// of the browser that started it.
async fn start(app: &AwsApp, t: &TenantFixture) -> (String, String, String) {
    let started = public::<auth::Group>(
        app,
        t,
        "/idp-intents",
        json!({"idpName": LOCAL_IDP, "successUrl": IDP_SUCCESS_URL, "failureUrl": IDP_FAILURE_URL}),
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let intent = started.data()["intentID"].as_str().unwrap().to_string();
    let auth_url = started.data()["authUrl"].as_str().unwrap().to_string();
    let secret = started.data()["intentSecret"].as_str().unwrap().to_string();
    assert!(
        !auth_url.contains(&secret),
        "the intent secret is never in a URL"
    );
    (intent, auth_url, secret)
}

/// The browser back at the API's callback from the pool: where the API sends it next.
async fn callback(app: &AwsApp, pool_says: &str) -> Answer {
    Answer::from(app.handle::<auth::Group>(callback_request(pool_says)).await)
}

/// A whole intent for `person`, up to the success page: the intent, its token and its secret.
async fn finished(app: &AwsApp, t: &TenantFixture, person: &Person) -> (String, String, String) {
    let (intent, auth_url, secret) = start(app, t).await;
    let pool_says = through_provider(&auth_url, person, true).await;
    let back = callback(app, &pool_says).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let to = back.headers["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(IDP_SUCCESS_URL), "{to}");
    let q = query_of(&to);
    assert_eq!(q["intentID"], intent);
    // no token of the pool's in the URL: the intent's own opener only
    assert!(!to.contains("eyJ"), "a JWT in the redirect: {to}");
    (intent, q["intentToken"].clone(), secret)
}

async fn retrieve(
    app: &AwsApp,
    t: &TenantFixture,
    intent: &str,
    token: &str,
    secret: &str,
) -> Answer {
    public::<auth::Group>(
        app,
        t,
        &format!("/idp-intents/{intent}/retrieve"),
        json!({"intentToken": token, "intentSecret": secret}),
    )
    .await
}

async fn cognito_user(stack: &Stack, t: &TenantFixture, user: &str) -> Option<String> {
    match stack
        .cognito
        .admin_get_user()
        .user_pool_id(&t.user_pool_id)
        .username(user)
        .send()
        .await
    {
        Ok(u) => Some(
            u.user_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        ),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_user_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("AdminGetUser {user}: {e:?}"),
    }
}

#[tokio::test]
async fn a_whole_intent_finds_no_user_then_links_and_signs_in_as_the_user() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "kim", &password).await;
    let person = Person::new(&unique("kim-at-okta"));

    // 1. the identity is nobody's yet: the provider's information, no tokens; the user
    //    Cognito made of it is gone again (a link needs it gone), the intent is spent
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let first = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let info = &first.data()["idpInformation"];
    assert_eq!(info["idpName"], LOCAL_IDP);
    assert_eq!(info["idpUserID"], person.sub.as_str());
    assert_eq!(info["email"], person.email.as_str());
    assert_eq!(info["emailVerified"], true);
    assert_eq!(info["name"], person.name.as_str());
    assert!(first.data()["userID"].is_null());
    assert!(first.data()["authenticationResult"].is_null());
    let shadow = format!("{LOCAL_IDP}_{}", person.sub);
    // the removal is in the trail, under the name Cognito gave the user
    let (_, admin) = stack.admin_token(&t, &app).await;
    let removed = trail(&app, &t, &shadow.to_lowercase(), &admin).await;
    assert_eq!(
        removed,
        [("remove-idp-user".to_string(), "success".to_string())],
        "{removed:?}"
    );
    assert_eq!(
        cognito_user(&stack, &t, &shadow).await,
        None,
        "Cognito's own user of the identity is removed"
    );
    assert!(
        stack
            .state_item(format!("idp-intent#{intent}"))
            .await
            .is_none(),
        "the outcome is spent"
    );
    assert!(
        stack
            .state_item(format!("idp-link#{intent}"))
            .await
            .is_some(),
        "the link proof is kept"
    );
    let link_token = first.data()["linkToken"]
        .as_str()
        .expect("a link token")
        .to_string();
    assert_ne!(
        link_token, token,
        "the link token is a new secret, never in a URL"
    );
    let again = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(
        (again.status, again.slug()),
        (400, "invalid-intent"),
        "{}",
        again.body
    );

    // 2. kim links it to their own account with that intent: proof of holding the identity
    let own = stack.sign_in(&t, &app, "kim", &password).await;
    let bare = json!({"idpName": LOCAL_IDP, "idpUserID": person.sub});
    let refused = call::<users::Group>(&app, &t, "POST", "/users/kim/idp-links", bare, &own).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (400, "invalid-request"),
        "{}",
        refused.body
    );
    let wrong = json!({"idpName": LOCAL_IDP, "idpUserID": "someone-else", "intentID": intent, "linkToken": link_token});
    let refused = call::<users::Group>(&app, &t, "POST", "/users/kim/idp-links", wrong, &own).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (400, "invalid-intent"),
        "{}",
        refused.body
    );
    let proof = json!({"idpName": LOCAL_IDP, "idpUserID": person.sub, "intentID": intent, "linkToken": link_token});
    let linked = call::<users::Group>(
        &app,
        &t,
        "POST",
        "/users/kim/idp-links",
        proof.clone(),
        &own,
    )
    .await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    let identities = stack.user_attributes(&t, "kim").await["identities"].clone();
    assert!(identities.contains(&person.sub), "{identities}");
    let spent = call::<users::Group>(&app, &t, "POST", "/users/kim/idp-links", proof, &own).await;
    assert_eq!(
        (spent.status, spent.slug()),
        (400, "invalid-intent"),
        "the proof is spent: {}",
        spent.body
    );
    let listed =
        call::<users::Group>(&app, &t, "GET", "/users/kim/idp-links", Value::Null, &own).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.data()["links"][0]["idpName"], LOCAL_IDP);
    assert_eq!(listed.data()["links"][0]["idpUserID"], person.sub.as_str());
    let methods = call::<users::Group>(
        &app,
        &t,
        "GET",
        "/users/kim/authentication-methods",
        Value::Null,
        &own,
    )
    .await;
    assert_eq!(
        methods.data()["methods"],
        json!(["PASSWORD", "IDP"]),
        "{}",
        methods.body
    );

    // 3. the identity now signs in as kim: kim's tokens, which work
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let signed_in = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.data()["userID"], "kim");
    assert_eq!(
        signed_in.data()["idpInformation"]["idpUserID"],
        person.sub.as_str()
    );
    let access = signed_in.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let profile = call::<users::Group>(&app, &t, "GET", "/users/kim", Value::Null, &access).await;
    assert_eq!(
        profile.status, 200,
        "the intent's token is kim's: {}",
        profile.body
    );

    // 4. a lockout of kim's password budget does not stop a sign-in at the provider (it stops
    //    guessing, which this is not); an admin's lock does (the pool runs no trigger for it):
    //    refused at retrieve, and the tokens Cognito issued are revoked
    let until = shared::time::epoch_seconds(std::time::SystemTime::now()) + 600;
    stack
        .put_lock(&t, "kim", "lockout-policy", Some(until))
        .await;
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let through = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(through.data()["userID"], "kim", "{}", through.body);
    stack.put_lock(&t, "kim", "admin", None).await;
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let locked = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(
        (locked.status, locked.slug()),
        (403, "account-locked"),
        "{}",
        locked.body
    );
    assert!(locked.data().is_null());
    let kim_trail = trail(&app, &t, "kim", &admin).await;
    assert!(
        kim_trail.contains(&("retrieve-idp-intent".into(), "account-locked".into()))
            && kim_trail.contains(&("retrieve-idp-intent".into(), "success".into()))
            && kim_trail.contains(&("link-idp".into(), "success".into())),
        "{kim_trail:?}"
    );
    let unlock =
        call::<lock::Group>(&app, &t, "PUT", "/users/kim/unlock", Value::Null, &admin).await;
    assert_eq!(unlock.status, 200, "{}", unlock.body);

    // 5. an admin unlinks it: the identity is nobody's again
    let path = format!("/users/kim/idp-links/{LOCAL_IDP}/{}", person.sub);
    let unlinked = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &admin).await;
    assert_eq!(unlinked.status, 200, "{}", unlinked.body);
    assert_eq!(unlinked.data()["deleted"], true);
    let twice = call::<users::Group>(&app, &t, "DELETE", &path, Value::Null, &admin).await;
    assert_eq!(twice.data()["deleted"], false, "{}", twice.body);
    assert!(
        !stack
            .user_attributes(&t, "kim")
            .await
            .get("identities")
            .is_some_and(|i| i.contains(&person.sub))
    );
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let nobody = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(nobody.status, 200, "{}", nobody.body);
    assert!(nobody.data()["userID"].is_null(), "{}", nobody.body);

    // 6. an admin links an identity directly (no proof needed from an admin)
    let other = Person::new(&unique("lee-at-okta"));
    let direct = json!({"idpName": LOCAL_IDP, "idpUserID": other.sub});
    let linked =
        call::<users::Group>(&app, &t, "POST", "/users/kim/idp-links", direct, &admin).await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    let (intent, token, secret) = finished(&app, &t, &other).await;
    let as_kim = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(as_kim.data()["userID"], "kim", "{}", as_kim.body);
}

/// The account-state items a tenant's intents keep (their bodies name the tenant).
async fn kept_states(stack: &Stack, t: &TenantFixture) -> usize {
    stack
        .dynamodb
        .scan()
        .table_name(&stack.config.account_state_table)
        .filter_expression("begins_with(pk, :p) AND contains(body, :t)")
        .expression_attribute_values(":p", AttributeValue::S("idp-state#".into()))
        .expression_attribute_values(
            ":t",
            AttributeValue::S(format!("{}/{}/{}", t.client_id, t.client_code, t.database)),
        )
        .send()
        .await
        .expect("scan the account-state table")
        .count() as usize
}

#[tokio::test]
async fn bad_intents_are_refused_with_their_slug_and_keep_nothing() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;

    // a redirect off the allow-list, a provider the tenant does not offer: nothing kept
    for (body, want) in [
        (
            json!({"idpName": LOCAL_IDP, "successUrl": "https://evil.example.com/", "failureUrl": IDP_FAILURE_URL}),
            "redirect-not-allowed",
        ),
        (
            json!({"idpName": LOCAL_IDP, "successUrl": IDP_SUCCESS_URL, "failureUrl": format!("{IDP_FAILURE_URL}?next=x")}),
            "redirect-not-allowed",
        ),
        (
            json!({"idpName": "Nobody", "successUrl": IDP_SUCCESS_URL, "failureUrl": IDP_FAILURE_URL}),
            "invalid-request",
        ),
    ] {
        let refused = public::<auth::Group>(&app, &t, "/idp-intents", body.clone()).await;
        assert_eq!(
            (refused.status, refused.slug()),
            (400, want),
            "{body}: {}",
            refused.body
        );
    }
    assert_eq!(
        kept_states(&stack, &t).await,
        0,
        "a refused start kept a state"
    );

    // the provider refuses (the person declines): to the failure page with the slug, the
    // state spent, no outcome
    let (intent, auth_url, _) = start(&app, &t).await;
    assert_eq!(kept_states(&stack, &t).await, 1);
    let pool_says = through_provider(&auth_url, &Person::new(&unique("no")), false).await;
    assert!(query_of(&pool_says).contains_key("error"), "{pool_says}");
    let back = callback(&app, &pool_says).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let to = back.headers["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(IDP_FAILURE_URL), "{to}");
    assert_eq!(query_of(&to)["error"], "idp-failed");
    assert_eq!(query_of(&to)["intentID"], intent);
    assert_eq!(kept_states(&stack, &t).await, 0);
    assert!(
        stack
            .state_item(format!("idp-intent#{intent}"))
            .await
            .is_none()
    );

    // a state replayed, or made up: 400 invalid-intent, and no redirect
    let replayed = callback(&app, &pool_says).await;
    assert_eq!(
        (replayed.status, replayed.slug()),
        (400, "invalid-intent"),
        "{}",
        replayed.body
    );
    assert!(replayed.headers.get("location").is_none());
    let made_up = callback(
        &app,
        "http://127.0.0.1/idp-intents/callback?code=abc&state=made-up",
    )
    .await;
    assert_eq!(
        (made_up.status, made_up.slug()),
        (400, "invalid-intent"),
        "{}",
        made_up.body
    );

    // a callback whose code the pool does not take (another code than its own): idp-failed
    let (intent, auth_url, _) = start(&app, &t).await;
    let pool_says = through_provider(&auth_url, &Person::new(&unique("forged")), true).await;
    let state = query_of(&pool_says)["state"].clone();
    let forged = callback(
        &app,
        &format!("http://127.0.0.1/idp-intents/callback?code=not-the-pools&state={state}"),
    )
    .await;
    assert_eq!(forged.status, 302, "{}", forged.body);
    let to = forged.headers["location"].to_str().unwrap().to_string();
    assert_eq!(
        (
            query_of(&to)["error"].as_str(),
            query_of(&to)["intentID"].as_str()
        ),
        ("idp-failed", intent.as_str())
    );
    assert!(
        stack
            .state_item(format!("idp-intent#{intent}"))
            .await
            .is_none()
    );

    // a wrong intent token, another tenant's headers: refused, and the intent still there
    let person = Person::new(&unique("pat"));
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let wrong = retrieve(
        &app,
        &t,
        &intent,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &secret,
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.slug()),
        (400, "invalid-intent"),
        "{}",
        wrong.body
    );
    // the success page's URL opened in another browser (a link an attacker sends a victim):
    // that browser's session holds another intent's secret, or none
    let (_, _, other_secret) = start(&app, &t).await;
    let elsewhere = retrieve(&app, &t, &intent, &token, &other_secret).await;
    assert_eq!(
        (elsewhere.status, elsewhere.slug()),
        (400, "invalid-intent"),
        "another browser's secret: {}",
        elsewhere.body
    );
    let other = stack.fresh_tenant().await;
    let elsewhere = retrieve(&app, &other, &intent, &token, &secret).await;
    assert_eq!(
        (elsewhere.status, elsewhere.slug()),
        (400, "invalid-intent"),
        "{}",
        elsewhere.body
    );
    let bad_id = retrieve(&app, &t, "not-an-intent", &token, &secret).await;
    assert_eq!(
        (bad_id.status, bad_id.slug()),
        (400, "invalid-request"),
        "{}",
        bad_id.body
    );
    assert!(
        stack
            .state_item(format!("idp-intent#{intent}"))
            .await
            .is_some()
    );

    // past its time: intent-expired (the item still there until DynamoDB's TTL sweeps it)
    stack
        .dynamodb
        .update_item()
        .table_name(&stack.config.account_state_table)
        .key("pk", AttributeValue::S(format!("idp-intent#{intent}")))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let late = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(
        (late.status, late.slug()),
        (400, "intent-expired"),
        "{}",
        late.body
    );

    // and a state past its time: intent-expired at the callback, nothing kept
    let (intent, auth_url, _) = start(&app, &t).await;
    let pool_says = through_provider(&auth_url, &person, true).await;
    let state = query_of(&pool_says)["state"].clone();
    let hash = shared::domain::lock::OneTimeCode::hash_of(&state);
    stack
        .dynamodb
        .update_item()
        .table_name(&stack.config.account_state_table)
        .key("pk", AttributeValue::S(format!("idp-state#{hash}")))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let late = callback(&app, &pool_says).await;
    assert_eq!(
        (late.status, late.slug()),
        (400, "intent-expired"),
        "{}",
        late.body
    );
    assert!(
        stack
            .state_item(format!("idp-intent#{intent}"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_tenant_without_federation_offers_no_intents() {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    for field in ["authDomain", "idpCallbackUrl"] {
        stack
            .dynamodb
            .update_item()
            .table_name(&stack.config.tenants_table)
            .key(
                "tenantKey",
                AttributeValue::S(format!("{}#{}#{}", t.client_id, t.client_code, t.database)),
            )
            .update_expression(format!("REMOVE {field}"))
            .send()
            .await
            .unwrap();
    }
    let app = stack.app().await;
    let refused = public::<auth::Group>(
        &app,
        &t,
        "/idp-intents",
        json!({"idpName": LOCAL_IDP, "successUrl": IDP_SUCCESS_URL, "failureUrl": IDP_FAILURE_URL}),
    )
    .await;
    assert_eq!(
        (refused.status, refused.slug()),
        (409, "conflict"),
        "{}",
        refused.body
    );
}

/// A user who holds a security key presents it after the provider too: the retrieve names the
/// user but carries no tokens, only the `U2F` challenge; the key's answer releases them, and
/// a wrong answer does not.
#[tokio::test]
async fn an_identity_provider_sign_in_of_a_user_with_a_security_key_waits_for_the_key() {
    use account_api_tests::authenticator::{get, origin, register_key, security_key};
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let app = stack.app().await;
    let password = random_password();
    stack.create_user(&t, "lou", &password).await;
    let own = stack.sign_in(&t, &app, "lou", &password).await;
    let mut key = security_key();
    register_key(&app, &t, "lou", &own, &mut key).await;
    let person = Person::new(&unique("lou-at-okta"));
    let (_, admin) = stack.admin_token(&t, &app).await;
    let link = json!({"idpName": LOCAL_IDP, "idpUserID": person.sub});
    let linked = call::<users::Group>(&app, &t, "POST", "/users/lou/idp-links", link, &admin).await;
    assert_eq!(linked.status, 200, "{}", linked.body);

    let answer = |challenge: Value, credential: Value| {
        let app = &app;
        let t = &t;
        async move {
            let body = json!({"userID": "lou", "challengeName": "U2F",
                              "session": challenge["session"], "credential": credential});
            public::<auth::Group>(app, t, "/respond-to-auth-challenge", body).await
        }
    };
    // the provider signed the person in: no tokens yet, the key's challenge
    let (intent, token, secret) = finished(&app, &t, &person).await;
    let retrieved = retrieve(&app, &t, &intent, &token, &secret).await;
    assert_eq!(retrieved.status, 200, "{}", retrieved.body);
    let data = retrieved.data().clone();
    assert_eq!(data["userID"], "lou", "{data}");
    assert!(data["authenticationResult"].is_null(), "{data}");
    assert_eq!(data["challengeName"], "U2F", "{data}");
    // an answer whose signature does not verify does not release them
    let mut wrong = get(&mut key, &data["credentialRequestOptions"], &origin()).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut signature =
        base64::Engine::decode(&b64, wrong["response"]["signature"].as_str().unwrap()).unwrap();
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    wrong["response"]["signature"] = json!(base64::Engine::encode(&b64, signature));
    let refused = answer(data.clone(), wrong).await;
    assert_eq!(
        (refused.status, refused.slug()),
        (401, "invalid-credentials"),
        "{}",
        refused.body
    );

    let (intent, token, secret) = finished(&app, &t, &person).await;
    let retrieved = retrieve(&app, &t, &intent, &token, &secret).await;
    let data = retrieved.data().clone();
    assert_eq!(data["challengeName"], "U2F", "{data}");
    let right = get(&mut key, &data["credentialRequestOptions"], &origin()).await;
    let done = answer(data, right).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let access = done.data()["authenticationResult"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let me = call::<users::Group>(&app, &t, "GET", "/users/lou", Value::Null, &access).await;
    assert_eq!(me.status, 200, "{}", me.body);
}
