#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! An audit entry is not lost when the audit table fails at the wrong moment: it is tried again
//! within the request, and what still cannot be written goes to the error log whole, in a line
//! `Fallback` reads back into the very entry (for `tenants replay-audit`). Over the lock
//! routes on in-memory ports; the log is the functions' own JSON subscriber.

use std::sync::atomic::Ordering;

use serde_json::Value;
use shared::{
    domain::audit::Fallback,
    testing::{self, Answer, InMemoryDirectory, MemApp, MemUser, access_token, demo_headers},
};

fn app() -> MemApp {
    let directory = InMemoryDirectory::with_user("demo-user", MemUser::confirmed("x"));
    directory.add("boss", MemUser::confirmed("y"));
    testing::app(directory)
}

async fn unlock(app: &MemApp) -> Answer {
    let token = access_token("boss", &["admins"], 600);
    let req = testing::api_request(
        "PUT",
        "/users/demo-user/unlock",
        &Value::Null,
        &demo_headers(Some(&token)),
    );
    Answer::from(app.handle::<lock::Group>(req).await)
}

#[tokio::test(flavor = "current_thread")]
async fn an_entry_the_table_refused_once_is_written_on_the_retry() {
    let app = app();
    app.audit.failing.store(1, Ordering::SeqCst);
    let a = unlock(&app).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        app.audit.actions(),
        vec![("unlock".to_string(), "success".to_string())]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_entry_the_table_keeps_refusing_is_logged_whole_and_reads_back_as_itself() {
    let captured = shared::testing::CapturedLog::default();
    let _guard = tracing::subscriber::set_default(captured.subscriber());
    let app = app();
    // the first write and both retries
    app.audit.failing.store(3, Ordering::SeqCst);
    let a = unlock(&app).await;
    assert_eq!(a.status, 200, "the caller's answer stands: {}", a.body);
    assert!(app.audit.actions().is_empty());
    assert_eq!(
        app.audit.failing.load(Ordering::SeqCst),
        0,
        "tried three times"
    );

    let log = captured.text();
    let held = Fallback::read_all(&log).unwrap();
    assert_eq!(held.len(), 1, "{log}");
    let Fallback { pool_id, event } = &held[0];
    assert_eq!(pool_id, &testing::tenant().user_pool_id);
    assert_eq!(
        (
            event.user_id.as_str(),
            event.action.as_str(),
            event.outcome.as_str()
        ),
        ("demo-user", "unlock", "success")
    );
    assert_eq!(event.activity_id, a.activity_id);
    assert!(event.at.ends_with('Z') && event.at_nanos > 0, "{event:?}");
    // as CloudWatch Logs hands the same line back (a record with the line in `message`)
    let line = log.lines().find(|l| l.contains(Fallback::MESSAGE)).unwrap();
    let record = serde_json::json!({ "timestamp": 1, "message": line }).to_string();
    assert_eq!(Fallback::read_all(&record).unwrap(), held);
    let exported = serde_json::json!({ "events": [{ "message": line }], "searchedLogStreams": [] });
    assert_eq!(Fallback::read_all(&exported.to_string()).unwrap(), held);
}

#[test]
fn a_line_that_claims_an_entry_but_lacks_a_field_is_an_error_and_others_are_skipped() {
    let other = r#"{"message":"request done","status":200}"#;
    let broken = r#"{"message":"audit entry not written","audit.pool":"p","audit.user":"u"}"#;
    assert_eq!(Fallback::read_all(other).unwrap(), vec![]);
    assert_eq!(Fallback::read_all("not json at all").unwrap(), vec![]);
    let err = Fallback::read_all(&format!("{other}\n{broken}")).unwrap_err();
    assert!(
        err.starts_with("line 2:") && err.contains("audit.at"),
        "{err}"
    );
}
