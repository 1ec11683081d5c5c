//! `portalctl outbox`: the mail the service enqueued (invitations, sign-in and verification
//! links, approval results, removal notices), newest first, with the links each carries,
//! so that without an SMTP server the two-command start still works on a laptop.

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::explain::ExplainFormat;
use super::target::TargetArgs;
use portalctl_store::{OutboxMessage, OutboxQuery};

/// The version of the `outbox --format json` document.
pub const OUTBOX_FORMAT_VERSION: u32 = 1;

/// `outbox --format json` (`schemas/output/outbox.schema.json`): messages newest first.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl outbox --format json", rename = "OutboxDocument")]
pub struct OutboxDocument {
    #[schemars(extend("const" = OUTBOX_FORMAT_VERSION))]
    pub format_version: u32,
    /// The target as shown to users.
    pub target: String,
    /// Newest first.
    pub messages: Vec<OutboxEntry>,
}

/// One message, with the links found in its text part.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct OutboxEntry {
    #[serde(flatten)]
    pub message: OutboxMessage,
    /// The `http(s)://` links of the text part, in order.
    pub links: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Only messages not sent yet
    #[arg(long)]
    unsent: bool,
    /// Only messages of this portal
    #[arg(long, value_name = "PORTAL")]
    portal: Option<String>,
    /// Only messages to this address
    #[arg(long, value_name = "EMAIL")]
    to: Option<String>,
    /// Show at most N messages
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    limit: u16,
    /// How to print the messages
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

/// The `http://` and `https://` links in `text`, in order, without trailing punctuation.
pub fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|word| word.starts_with("https://") || word.starts_with("http://"))
        .map(|word| word.trim_end_matches(['.', ',', ')', ';', '>', '"']).to_string())
        .collect()
}

pub fn run(args: OutboxArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open(session.today)?;
    let query = OutboxQuery {
        before: None,
        limit: usize::from(args.limit),
        unsent_only: args.unsent,
        portal: args.portal.clone(),
        recipient: args.to.as_deref().map(portalctl_core::model::normalize_email),
    };
    let messages = provider
        .outbox(&query)
        .with_context(|| format!("cannot read the outbox of `{}`", provider.target()))?;
    match args.format {
        ExplainFormat::Text => {
            println!("Outbox of {} (newest first):", provider.target());
            if messages.is_empty() {
                println!("  no messages");
            }
            for message in &messages {
                println!("{}", describe(message));
            }
        }
        ExplainFormat::Json => {
            let document = OutboxDocument {
                format_version: OUTBOX_FORMAT_VERSION,
                target: provider.target().to_string(),
                messages: messages
                    .into_iter()
                    .map(|message| OutboxEntry {
                        links: links_in(&message.text),
                        message,
                    })
                    .collect(),
            };
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(ExitStatus::Success)
}

/// `#12  2026-12-07T05:01:00Z  invitation  to alice@globex.com  portal globex  sent
/// 2026-12-07T05:01:02Z` (or `unsent`, `unsent (2 attempt(s), next …)`, `given up after 10
/// attempt(s)`), then the subject, the last error and each link, indented.
fn describe(message: &OutboxMessage) -> String {
    use std::fmt::Write as _;
    use time::format_description::well_known::Rfc3339;
    let at = |time: time::OffsetDateTime| {
        time.replace_nanosecond(0)
            .unwrap_or(time)
            .format(&Rfc3339)
            .unwrap_or_default()
    };
    let status = match message.sent_at {
        Some(sent) => format!("sent {}", at(sent)),
        None if message.next_attempt_at.year() >= 9999 => {
            format!("given up after {} attempt(s)", message.attempts)
        }
        None if message.last_error.is_none() => "unsent".to_string(),
        None => format!(
            "unsent ({} attempt(s), next {})",
            message.attempts,
            at(message.next_attempt_at)
        ),
    };
    let mut text = format!(
        "#{}  {}  {}  to {}  portal {}  {status}\n    {}",
        message.id,
        at(message.created_at),
        message.kind.as_str(),
        message.recipient,
        message.portal,
        message.subject
    );
    if let Some(error) = &message.last_error {
        let _ = write!(text, "\n    last error: {error}");
    }
    for link in links_in(&message.text) {
        let _ = write!(text, "\n    link: {link}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::links_in;

    #[test]
    fn finds_the_links_of_a_text() {
        assert_eq!(
            links_in("Sign in: https://portals.acme.io/p/globex/link?token=ab.\nHelp: http://x.io/h)"),
            vec!["https://portals.acme.io/p/globex/link?token=ab", "http://x.io/h"]
        );
        assert!(links_in("no link here, https:/broken").is_empty());
    }
}
