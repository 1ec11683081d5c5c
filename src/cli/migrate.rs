//! `portalctl migrate`: move a store from a SQLite file to a PostgreSQL database, with its
//! whole audit log and revisions, so replicas can take over from a single `serve`.

use std::path::PathBuf;

use clap::Args;

use super::ExitStatus;
use super::output::say;
use portalctl_store::DatabaseUrl;
use portalctl_store::copy::{CopyError, sqlite_to_postgres};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite store to copy: `sqlite:FILE` (stop `serve` on it first)
    #[arg(long, value_name = "sqlite:FILE", value_parser = parse_sqlite)]
    from: PathBuf,
    /// The PostgreSQL database to copy into: `postgres://user@host:port/db`
    #[arg(long, value_name = "URL", value_parser = DatabaseUrl::parse)]
    to: DatabaseUrl,
    /// Overwrite a destination that already holds a store
    #[arg(long)]
    replace: bool,
}

fn parse_sqlite(text: &str) -> Result<PathBuf, String> {
    match text.strip_prefix("sqlite:") {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err("expected `sqlite:FILE`".into()),
    }
}

pub fn run(args: MigrateArgs) -> anyhow::Result<ExitStatus> {
    match sqlite_to_postgres(&args.from, &args.to, args.replace) {
        Ok(summary) => {
            say!(
                "copied `{}` to {}: revision {}, {} resource rows, {} audit entries, {} read audit entries, {} console actions",
                args.from.display(),
                args.to,
                summary.revision,
                summary.resources,
                summary.audit_entries,
                summary.reveals,
                summary.console_actions
            );
            Ok(ExitStatus::Success)
        }
        Err(error @ CopyError::NotEmpty { .. }) => Err(anyhow::anyhow!("{}: {error}", args.to)),
        Err(error) => Err(anyhow::Error::new(error).context(format!(
            "cannot copy `{}` to {}",
            args.from.display(),
            args.to
        ))),
    }
}
