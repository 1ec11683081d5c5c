//! `portalctl explain`: everything one partner can see, and every path that grants it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::output::UserError;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_core::model::normalize_email;
use portalctl_core::render::explain::{explain, render_json, render_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// Readable lines
    Text,
    /// A versioned JSON document
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The partner's email
    email: String,
    /// Config directory or file (ignored with --live)
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Ask the live target instead of the YAML
    #[arg(long)]
    live: bool,
    /// How to print the answer
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: ExplainArgs, session: &context::Session) -> anyhow::Result<ExitStatus> {
    let today = session.today;
    let (state, source) = if args.live {
        let provider = args.target.open(today)?;
        let live = super::context::read_live(provider.as_ref())?;
        (
            live.state,
            format!("live on {} at revision {}", provider.target(), live.revision),
        )
    } else {
        let Some(loaded) = context::load_valid_config(&args.path, today)? else {
            return Ok(ExitStatus::Failure);
        };
        (loaded.state, format!("config at {}", args.path.display()))
    };
    let Some(explanation) = explain(&state, &args.email, today, source.clone()) else {
        let email = normalize_email(&args.email);
        let partners: std::collections::BTreeSet<&str> = state
            .members
            .keys()
            .map(|(_, partner)| partner.as_str())
            .collect();
        let hint = portalctl_core::model::suggest::did_you_mean(&email, partners.iter().copied())
            .unwrap_or_else(|| "check the spelling, or look in another config or target".to_string());
        return Err(UserError::new(
            format!("`{email}` is not a partner in the {source}: no portal lists them"),
            hint,
        )
        .into());
    };
    let rendered = match args.format {
        ExplainFormat::Text => render_text(&explanation),
        ExplainFormat::Json => render_json(&explanation),
    };
    super::output::print_stdout(&rendered);
    session.retain(state);
    Ok(ExitStatus::Success)
}
