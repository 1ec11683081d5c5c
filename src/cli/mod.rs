//! The command line: one enum of commands, each in its own file, each a thin shell around
//! library functions. Errors are sorted here into exit codes.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod apply;
mod approve;
mod codeowners;
mod context;
mod diff;
mod drift;
mod explain;
mod history;
mod import;
mod migrate;
mod outbox;
pub mod output;
mod plan;
mod progress;
mod report;
mod review;
mod rules;
mod schema;
mod serve;
mod shell;
mod target;
mod token;
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

impl ExitStatus {
    /// The process exit code: the one place the numbers are written.
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// Shown after every command's `--help`: what scripts and CI need to know.
const AFTER_HELP: &str = "\
Exit codes:
  0  success: valid, no changes, applied, no drift
  1  error: invalid input, refused operation, unreachable target, failed webhook notice
  2  differences: `plan` has changes, `drift` found drift, `diff` differs

Environment:
  PORTALCTL_TARGET  the target when `--target` is not given [default: sqlite:portalctl.db]
  PORTALCTL_TOKEN   the bearer token when `--token-file` is not given (never printed)
  PORTALCTL_DB      the database of `serve` when `--db` is not given
  PORTALCTL_TODAY   pin today's date (YYYY-MM-DD) for expiry: tests, replaying an old plan
  NO_COLOR          no colour, whatever the terminal
  FORCE_COLOR, CLICOLOR_FORCE  colour even when not on a terminal
  RUST_LOG          log filter of `serve` (e.g. `info`, `portalctl_server=debug`)";

#[derive(Debug, Parser)]
#[command(
    name = "portalctl",
    version,
    about = "Access-as-code for partner portals",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a config, check its schema and rules; no network
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of the config files, or with --output of a JSON output
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
    /// Every grant (who has access to what, and why) as CSV, JSON or HTML, from git or live
    Report(report::ReportArgs),
    /// Access reviews in git: `review start NAME`, owners decide, `review close NAME`
    Review(review::ReviewArgs),
    /// Print (or `--write`) the CODEOWNERS lines naming the owners of each config file
    Codeowners(codeowners::CodeownersArgs),
    /// Approve a self-registration awaiting approval: `portalctl approve PORTAL EMAIL`
    Approve(approve::ApproveArgs),
    /// Show the mail the service enqueued (sign-in and verification links, invitations), newest first, with its links
    Outbox(outbox::OutboxArgs),
    /// Create, list and revoke the tokens the service issues (scopes admin, read, apply, scim)
    Token(token::TokenArgs),
    /// List the rules diagnostics name, or explain one with an example: `portalctl rules seat-limit`
    Rules(rules::RulesArgs),
    /// Run the portal access service (admin API, access decisions, audit log)
    Serve(Box<serve::ServeArgs>),
    /// Copy a SQLite store to PostgreSQL with its whole history: `--from sqlite:FILE --to postgres://...`
    Migrate(migrate::MigrateArgs),
    /// Print a shell completion script: `portalctl completions bash > /etc/bash_completion.d/portalctl`
    Completions(shell::CompletionsArgs),
    /// Print the man page (roff): `portalctl man > portalctl.1`
    Man(shell::ManArgs),
}

/// How a run ended: the exit status, and what the command kept alive until the process
/// exits. Freeing a 100k-member config costs more than exiting, so [`Finished::exit`]
/// exits without freeing it; an in-process caller that drops a `Finished` frees it all.
pub struct Finished {
    pub status: ExitStatus,
    session: Option<context::Session>,
}

impl Finished {
    /// Exits the process with the status, without running the kept values' destructors.
    pub fn exit(self) -> ! {
        let _ = std::io::Write::flush(&mut std::io::stdout());
        std::process::exit(i32::from(self.status.code()))
    }
}

impl From<Finished> for ExitCode {
    fn from(finished: Finished) -> Self {
        drop(finished.session);
        finished.status.into()
    }
}

/// The full command tree, for parsing, completions and the man page: every command's
/// `--help` ends with the exit codes and environment variables.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommands(|sub| {
        let own = sub
            .get_after_help()
            .map(|text| format!("{text}\n\n"))
            .unwrap_or_default();
        sub.after_help(format!("{own}{AFTER_HELP}"))
    })
}

/// Parses the arguments and runs the command.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Finished {
    let finished = |status| Finished {
        status,
        session: None,
    };
    let cli = match command()
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => {
            let status = if error.use_stderr() {
                ExitStatus::Failure
            } else {
                ExitStatus::Success
            };
            let _ = error.print();
            return finished(status);
        }
    };
    // Today and the clock are read once, here, and passed down.
    let session = match context::Session::from_env() {
        Ok(session) => session,
        Err(error) => {
            output::error(&error);
            return finished(ExitStatus::Failure);
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate::run(args, &session),
        Command::Schema(args) => schema::run(args),
        Command::Plan(args) => plan::run(args, &session),
        Command::Apply(args) => apply::run(args, &session),
        Command::Drift(args) => drift::run(args, &session),
        Command::Import(args) => import::run(args, &session),
        Command::Diff(args) => diff::run(args, &session),
        Command::Explain(args) => explain::run(args, &session),
        Command::History(args) => history::run(args, &session),
        Command::Report(args) => report::run(args, &session),
        Command::Review(args) => review::run(args, &session),
        Command::Codeowners(args) => codeowners::run(args, &session),
        Command::Approve(args) => approve::run(args, &session),
        Command::Outbox(args) => outbox::run(args, &session),
        Command::Token(args) => token::run(args, &session),
        Command::Rules(args) => rules::run(args, &session),
        Command::Serve(args) => serve::run(*args),
        Command::Migrate(args) => migrate::run(args),
        Command::Completions(args) => shell::completions(&args),
        Command::Man(args) => shell::man(&args),
    };
    let status = match result {
        Ok(status) => status,
        Err(error) => {
            output::error(&error);
            ExitStatus::Failure
        }
    };
    Finished {
        status,
        session: Some(session),
    }
}
