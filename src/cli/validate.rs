//! `portalctl validate`: load, schema-check and rule-check a config; no network.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::context::Session;
use super::output::{print_stdout, say_raw};
use super::{ExitStatus, context};
use portalctl_core::render::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Readable messages with source snippets
    Text,
    /// One JSON document: `{format_version, valid, errors, warnings, diagnostics}`
    Json,
    /// GitHub Actions annotations, shown on the pull request's lines
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Config directory (every *.yaml/*.yml below it) or a single file
    #[arg(default_value = ".")]
    path: PathBuf,
    /// How to print the problems
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Text)]
    format: DiagnosticFormat,
    /// Also fail when this CODEOWNERS file lacks the current `portalctl codeowners` block
    #[arg(long, value_name = "FILE")]
    codeowners: Option<PathBuf>,
}

pub fn run(args: ValidateArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let mut loaded = context::load_config(&args.path, session.today)?;
    context::check_assertions(&mut loaded, session.today);
    super::review::check_all(&args.path, &mut loaded, session.today);
    if let Some(file) = &args.codeowners
        && !loaded.has_errors()
        && let Some(stale) = super::codeowners::check(&args.path, &loaded, file)
    {
        loaded.diagnostics.push(stale);
    }
    let valid = !loaded.has_errors();
    let path = args.path.display().to_string();
    match args.format {
        DiagnosticFormat::Text => {
            say_raw!(
                "{}",
                validate::render_text(&loaded, &path, super::output::stderr_color())
            );
        }
        DiagnosticFormat::Json => print_stdout(&validate::render_json(&loaded)),
        DiagnosticFormat::Github => print_stdout(&validate::render_github(&loaded)),
    }
    // Freeing 100k members one by one costs more than the process exit that follows.
    session.retain(loaded);
    Ok(if valid {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

pub use portalctl_core::render::count;
