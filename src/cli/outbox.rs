//! `portalctl outbox`: the mail the service enqueued, newest first, with the links it
//! carries — how a partner signs in on a laptop without an SMTP server. It holds sign-in
//! links: an `http` target needs an admin token.

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::explain::ExplainFormat;
use super::target::TargetArgs;
use portalctl_store::OutboxMessage;

/// The version of the `outbox --format json` document.
pub const OUTBOX_FORMAT_VERSION: u32 = 1;

/// `outbox --format json` (`schemas/output/outbox.schema.json`): the outbox, newest first.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl outbox --format json", rename = "OutboxDocument")]
pub struct OutboxDocument {
    #[schemars(extend("const" = OUTBOX_FORMAT_VERSION))]
    pub format_version: u32,
    /// The target as shown to users.
    pub target: String,
    /// Newest first, with their text and HTML parts (which carry the links).
    pub messages: Vec<OutboxMessage>,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Show at most N messages
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    /// Only messages not sent yet
    #[arg(long)]
    unsent: bool,
    /// How to print the messages
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

/// The links of a message's text part.
fn links(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|word| word.starts_with("https://") || word.starts_with("http://"))
        .collect()
}

fn whole_seconds(at: time::OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn line(message: &OutboxMessage) -> String {
    let state = match (&message.sent_at, &message.last_error) {
        (Some(at), _) => format!("sent {}", whole_seconds(*at)),
        (None, Some(error)) => format!("unsent ({} attempt(s), last error: {error})", message.attempts),
        (None, None) => "unsent".to_string(),
    };
    let mut text = format!(
        "#{}  {}  {}  to {}  portal {}  {state}\n    {}",
        message.id,
        whole_seconds(message.created_at),
        message.kind.as_str(),
        message.recipient,
        message.portal,
        message.subject
    );
    for link in links(&message.text) {
        text.push_str(&format!("\n    link: {link}"));
    }
    text
}

pub fn run(args: OutboxArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    anyhow::ensure!((1..=1000).contains(&args.limit), "`--limit` must be 1 to 1000");
    let provider = args.target.open(session.today)?;
    let messages = provider
        .outbox(args.limit, args.unsent)
        .with_context(|| format!("cannot read the outbox of `{}`", provider.target()))?;
    match args.format {
        ExplainFormat::Text => {
            println!("Outbox of {} (newest first):", provider.target());
            if messages.is_empty() {
                println!("  no messages");
            }
            for message in &messages {
                println!("{}", line(message));
            }
        }
        ExplainFormat::Json => {
            let document = OutboxDocument {
                format_version: OUTBOX_FORMAT_VERSION,
                target: provider.target().to_string(),
                messages,
            };
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_links_of_a_text() {
        assert_eq!(
            links("Sign in: http://127.0.0.1:7878/p/globex/link?token=abc\n\nbye https://acme.io/x"),
            [
                "http://127.0.0.1:7878/p/globex/link?token=abc",
                "https://acme.io/x"
            ]
        );
    }
}
