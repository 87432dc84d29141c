//! End to end against the local emulator: per route, the handler's wall time next to the time
//! spent inside the SDK calls it made (measured by an interceptor on both SDK clients, from
//! the start of each operation to its end, overlapping calls counted once). Both come from the
//! same request, so the ratio is what the function adds on top of the backend it calls.

use std::time::{Duration, Instant};

use account_api_tests::measure::{covered, template};

use account_api_tests::stack::{
    Answer, SdkProbe, Stack, TenantFixture, api_request, dispatch, random_password, sign_in,
};
use serde_json::{Value, json};
use shared::AwsApp;

pub struct Row {
    pub route: String,
    pub status: u16,
    pub total: Vec<Duration>,
    pub backend: Vec<Duration>,
    pub ratio: Vec<f64>,
    pub calls: usize,
}

struct Bench<'a> {
    app: &'a AwsApp,
    probe: &'a SdkProbe,
    tenant: &'a TenantFixture,
    rows: Vec<Row>,
}

impl Bench<'_> {
    async fn call(
        &mut self,
        function: &str,
        method: &str,
        path: &str,
        body: Value,
        bearer: Option<&str>,
    ) -> Answer {
        let req = api_request(self.tenant, method, path, &body, bearer);
        self.probe.take_spans();
        let started = Instant::now();
        let resp = dispatch(self.app, function, req).await;
        let ended = Instant::now();
        let spans = self.probe.take_spans();
        let intervals: Vec<_> = spans.iter().map(|s| (s.start, s.end)).collect();
        let backend = covered(&intervals, started, ended);
        let total = ended - started;
        let answer = Answer::from(resp);
        let name = format!("{method} {}", template(path));
        let row = match self.rows.iter().position(|r| r.route == name) {
            Some(i) => &mut self.rows[i],
            None => {
                self.rows.push(Row {
                    route: name,
                    status: answer.status,
                    total: vec![],
                    backend: vec![],
                    ratio: vec![],
                    calls: spans.len(),
                });
                let last = self.rows.len() - 1;
                &mut self.rows[last]
            }
        };
        row.status = answer.status;
        row.total.push(total);
        row.backend.push(backend);
        row.ratio
            .push(total.as_secs_f64() / backend.as_secs_f64().max(1e-9));
        answer
    }
}

/// `runs` rounds over the routes that can repeat on the same fixtures.
pub async fn measure(runs: usize) -> Vec<Row> {
    let stack = Stack::connect().await;
    let t = stack.fresh_tenant().await;
    let (mut app, probe) = stack.probed_app().await;
    app.config.forgot_password_floor = Duration::ZERO;
    let password = random_password();
    for user in ["rhea", "toggle", "lockee"] {
        stack.create_user(&t, user, &password).await;
    }
    let (_, admin) = stack.admin_token(&t, &app).await;
    let first = sign_in(&app, &t, "rhea", &password).await;
    let refresh = first.data()["authenticationResult"]["refreshToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let admin = Some(admin.as_str());
    let mut b = Bench {
        app: &app,
        probe: &probe,
        tenant: &t,
        rows: vec![],
    };
    for _ in 0..runs {
        let login = json!({"userID": "rhea", "password": password});
        b.call("auth", "POST", "/user-authentication", login, None)
            .await;
        let body = json!({"userID": "rhea", "refreshToken": refresh});
        b.call("auth", "POST", "/user-refresh-tokens", body, None)
            .await;
        b.call(
            "password",
            "POST",
            "/forgot-password",
            json!({"userID": "rhea"}),
            None,
        )
        .await;
        b.call("lock", "GET", "/users/rhea/lock", Value::Null, admin)
            .await;
        b.call(
            "lock",
            "PUT",
            "/users/lockee/lock",
            json!({"reason": "bench"}),
            admin,
        )
        .await;
        b.call("lock", "PUT", "/users/lockee/unlock", Value::Null, admin)
            .await;
        b.call(
            "admin",
            "POST",
            "/users/toggle/admin-disable",
            Value::Null,
            admin,
        )
        .await;
        b.call(
            "admin",
            "POST",
            "/users/toggle/admin-enable",
            Value::Null,
            admin,
        )
        .await;
        b.call("users", "GET", "/users/rhea", Value::Null, admin)
            .await;
        b.call("users", "GET", "/users?limit=10", Value::Null, admin)
            .await;
        b.call(
            "users",
            "PATCH",
            "/users/rhea",
            json!({"givenName": "Rhea"}),
            admin,
        )
        .await;
        b.call(
            "users",
            "GET",
            "/users/rhea/events?limit=10",
            Value::Null,
            admin,
        )
        .await;
    }
    b.rows
}
