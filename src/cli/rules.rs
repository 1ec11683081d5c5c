//! `portalctl rules [NAME]`: list the rules every diagnostic names, or explain one with a
//! config that breaks it (and what `validate` says on it), like `rustc --explain`.

use clap::{Args, ValueEnum};

use portalctl_core::config::diagnostic::render_text;
use portalctl_core::config::{MemorySource, load, refuse_redaction_placeholders};
use portalctl_core::model::rules::{RULES, Rule};
use portalctl_core::model::suggest::did_you_mean;
use portalctl_core::render::rules::{RuleEntry, RulesDocument, explain_text, list_text, markdown};

use super::ExitStatus;
use super::context::Session;
use super::output::UserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// Readable text
    Text,
    /// One JSON document: `{format_version, rules: [{name, judged, summary, example}]}`,
    /// or with NAME the one rule
    Json,
    /// The Markdown of `docs/rules.md` (every rule; NAME is not taken)
    Markdown,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// The rule to explain, as diagnostics name it (e.g. `seat-limit`); without it, every
    /// rule is listed
    name: Option<String>,
    /// How to print
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
}

pub fn run(args: RulesArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let rule = match &args.name {
        None => None,
        Some(name) => Some(Rule::named(name).ok_or_else(|| {
            let hint = did_you_mean(name, RULES.iter().map(|rule| rule.name))
                .unwrap_or_else(|| "`portalctl rules` lists every rule".into());
            UserError::new(format!("no rule is named `{name}`"), hint)
        })?),
    };
    match (args.format, rule) {
        (RulesFormat::Text, None) => print!("{}", list_text()),
        (RulesFormat::Text, Some(rule)) => {
            print!("{}", explain_text(rule, reported(rule, session).as_deref()));
        }
        (RulesFormat::Json, None) => println!("{}", serde_json::to_string_pretty(&RulesDocument::new())?),
        (RulesFormat::Json, Some(rule)) => {
            println!("{}", serde_json::to_string_pretty(&RuleEntry::new(rule))?);
        }
        (RulesFormat::Markdown, None) => print!("{}", markdown()),
        (RulesFormat::Markdown, Some(_)) => {
            return Err(UserError::new(
                "`--format markdown` writes every rule",
                "leave out the rule's name: `portalctl rules --format markdown > docs/rules.md`",
            )
            .into());
        }
    }
    Ok(ExitStatus::Success)
}

/// What `validate` reports on the rule's example, loaded from memory the way a config
/// directory is; `None` for rules only the service can break (their example is valid).
fn reported(rule: &Rule, session: &Session) -> Option<String> {
    let mut source = MemorySource::default();
    for (file, text) in rule.example_files() {
        source = source.with(file, &text);
    }
    let mut loaded = load(&source, session.today).ok()?;
    refuse_redaction_placeholders(&mut loaded);
    if loaded.diagnostics.is_empty() {
        return None;
    }
    Some(render_text(&loaded.diagnostics, false, &|file, line| {
        loaded.source_line(file, line)
    }))
}
