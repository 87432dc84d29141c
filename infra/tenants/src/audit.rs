//! `replay-audit`: writes the audit entries a function could not write into the stage's audit
//! table. A function that cannot write an entry (the table unavailable through its retries)
//! logs it whole instead (`shared::App::record`, the line `audit entry not written`) and the
//! stage alarms (`AuditWriteFailures`); this reads those lines back and writes each entry as
//! the function would have. Writing one twice is harmless: its key is its user, time and
//! activity, so the second write is the same item.
//!
//! ```text
//! aws logs filter-log-events --log-group-name /aws/lambda/account-api-dev-lock \
//!     --filter-pattern '"audit entry not written"' --output json > held.json
//! cargo run -p tenants -- replay-audit --stage dev --from held.json
//! ```

use std::{io::Read, path::PathBuf, time::Duration};

use clap::Args;
use shared::{
    adapters::dynamodb::DynamoAudit,
    domain::audit::{AuditLog, Fallback},
    domain::store::Chain,
};

use crate::{CliError, Clients};

#[derive(Debug, Args)]
pub struct ReplayAudit {
    /// The stage whose audit table is meant (`account-api-<stage>-audit`).
    #[arg(long, required_unless_present = "table", conflicts_with = "table")]
    pub stage: Option<String>,
    /// The audit table itself (the local stack's, say), instead of a stage.
    #[arg(long)]
    pub table: Option<String>,
    /// The functions' log lines, or CloudWatch Logs' records of them (JSON lines, or the output
    /// of `aws logs filter-log-events --output json`); `-` reads standard input.
    #[arg(long)]
    pub from: PathBuf,
    /// How long the entries are kept, in days (the functions' AUDIT_RETENTION_DAYS).
    #[arg(long, default_value_t = 400)]
    pub retention_days: u64,
}

impl ReplayAudit {
    fn table(&self) -> Result<String, CliError> {
        crate::stage_table(self.stage.as_deref(), self.table.as_deref(), "audit")
    }

    fn text(&self) -> Result<String, CliError> {
        let mut text = String::new();
        let read = if self.from.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut text).map(|_| ())
        } else {
            std::fs::read_to_string(&self.from).map(|t| text = t)
        };
        read.map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", self.from.display())))?;
        Ok(text)
    }
}

/// Writes every entry `replay.from` holds; stops at the first that cannot be written, saying
/// how many were (run it again: the written ones are written again harmlessly).
pub async fn replay(replay: ReplayAudit, clients: &Clients) -> Result<String, CliError> {
    let table = replay.table()?;
    let held = Fallback::read_all(&replay.text()?).map_err(CliError::Invalid)?;
    let audit = DynamoAudit::new(
        clients.dynamodb.clone(),
        &table,
        Duration::from_secs(replay.retention_days * 86_400),
    );
    for (done, entry) in held.iter().enumerate() {
        if let Err(e) = audit.append(&entry.pool_id, &entry.event).await {
            return Err(CliError::Aws(format!(
                "wrote {done} of {} entries to {table}, then: {} (run it again)",
                held.len(),
                Chain(&e)
            )));
        }
    }
    Ok(format!(
        "wrote {} audit entr{} to {table}",
        held.len(),
        if held.len() == 1 { "y" } else { "ies" }
    ))
}
