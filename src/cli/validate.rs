//! `portalctl validate`: load, schema-check and rule-check a config; no network.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ExitStatus, context};
use portalctl_core::config::diagnostic::{DiagnosticsReport, render_github, render_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Readable messages with source snippets
    Text,
    /// One JSON document (see `DiagnosticsReport`)
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
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitStatus> {
    let loaded = context::load_config(&args.path)?;
    let valid = !loaded.has_errors();
    match args.format {
        DiagnosticFormat::Text => {
            let text = render_text(
                &loaded.diagnostics,
                super::output::stderr_color(),
                &|file, line| loaded.source_line(file, line),
            );
            eprint!("{text}");
            let errors = loaded.errors().count();
            let warnings = loaded.diagnostics.len() - errors;
            if valid {
                let state = &loaded.state;
                eprintln!(
                    "{} is valid: {} portals, {} members, {} groups, {} folders, {} shares{}",
                    args.path.display(),
                    state.portals.len(),
                    state.members.len(),
                    state.groups.len(),
                    state.folders.len(),
                    state.shares.len(),
                    if warnings > 0 {
                        format!(" ({warnings} warnings)")
                    } else {
                        String::new()
                    }
                );
            } else {
                eprintln!(
                    "{} is invalid: {errors} error{}{}",
                    args.path.display(),
                    if errors == 1 { "" } else { "s" },
                    if warnings > 0 {
                        format!(", {warnings} warnings")
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
    std::mem::forget(loaded);
    Ok(if valid {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
