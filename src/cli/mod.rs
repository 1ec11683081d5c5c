//! The command line: one enum of commands, each in its own file, each a thin shell around
//! library functions. Errors are sorted here into exit codes.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod apply;
mod context;
mod diff;
mod drift;
mod explain;
mod history;
mod import;
pub mod output;
mod plan;
mod schema;
mod serve;
mod target;
mod validate;

/// Process exit statuses, as the README documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success: valid, no changes, applied.
    Success,
    /// An error: invalid input, refused operation, failure.
    Failure,
    /// Success with differences: `plan` has changes, `drift` found drift, `diff` differs.
    Changes,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Changes => ExitCode::from(2),
        }
    }
}

#[derive(Debug, Parser)]
#[command(name = "portalctl", version, about = "Access-as-code for partner portals")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a config, check its schema and rules; no network
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of the config files
    Schema(schema::SchemaArgs),
    /// Show what apply would change, and who would gain or lose access
    Plan(plan::PlanArgs),
    /// Apply a config or a saved plan to the target, all or nothing
    Apply(apply::ApplyArgs),
    /// Report where live state differs from git, and who changed it
    Drift(drift::DriftArgs),
    /// Write the live state as config files (`plan` on them then shows no changes)
    Import(import::ImportArgs),
    /// Compare the config at two git revisions, offline, with access impact
    Diff(diff::DiffArgs),
    /// Show everything one partner can see, and every path that grants it
    Explain(explain::ExplainArgs),
    /// Show the target's audit log, newest first
    History(history::HistoryArgs),
    /// Run the portal access service (admin API, access decisions, audit log)
    Serve(serve::ServeArgs),
}

/// Parses the arguments and runs the command.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 1 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Drift(args) => drift::run(args),
        Command::Import(args) => import::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Explain(args) => explain::run(args),
        Command::History(args) => history::run(args),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            output::error(&error);
            ExitStatus::Failure.into()
        }
    }
}
