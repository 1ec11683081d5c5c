//! `portalctl validate`: load, schema-check and rule-check a config; no network.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::context::Session;
use super::output::{say, say_raw};
use super::{ExitStatus, context};
use portalctl_core::config::diagnostic::{DiagnosticsReport, render_github, render_text};

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
    match args.format {
        DiagnosticFormat::Text => {
            let text = render_text(
                &loaded.diagnostics,
                super::output::stderr_color(),
                &|file, line| loaded.source_line(file, line),
            );
            say_raw!("{text}");
            for skipped in &loaded.skipped {
                say!("note: {}\n", skipped.message());
            }
            let errors = loaded.errors().count();
            let warnings = loaded.diagnostics.len() - errors;
            if valid {
                let state = &loaded.state;
                say!(
                    "{} is valid: {}, {}, {}, {}, {}{}{}",
                    args.path.display(),
                    count(state.portals.len(), "portal"),
                    count(state.members.len(), "member"),
                    count(state.groups.len(), "group"),
                    count(state.folders.len(), "folder"),
                    if state.dashboards.is_empty() {
                        String::new()
                    } else {
                        format!("{}, ", count(state.dashboards.len(), "dashboard"))
                    },
                    count(state.shares.len(), "share"),
                    if warnings > 0 {
                        format!(" ({})", count(warnings, "warning"))
                    } else {
                        String::new()
                    }
                );
            } else {
                say!(
                    "{} is invalid: {}{}",
                    args.path.display(),
                    count(errors, "error"),
                    if warnings > 0 {
                        format!(", {}", count(warnings, "warning"))
                    } else {
                        String::new()
                    }
                );
            }
        }
        DiagnosticFormat::Json => {
            let report = DiagnosticsReport::new(&loaded.diagnostics);
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        DiagnosticFormat::Github => print!("{}", render_github(&loaded.diagnostics)),
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
