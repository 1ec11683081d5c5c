//! `portalctl history`: the service's audit log, newest first.

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::explain::ExplainFormat;
use super::target::TargetArgs;
use portalctl_core::render::history::{History, ReadAudit};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show at most N entries
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    /// Only the batches that changed this partner: their membership, a group entry or a
    /// `user:` share (and, in text, only those changes)
    #[arg(long, value_name = "EMAIL")]
    email: Option<String>,
    /// Show the read audit instead: each read of sensitive attribute values in clear
    /// (`reveal=sensitive`, e.g. by `import`), who made it, what it read and when
    #[arg(long, conflicts_with = "email")]
    reveals: bool,
    /// How to print the log
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: HistoryArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open(session.today)?;
    let target = provider.target();
    let rendered = if args.reveals {
        let reveals = provider
            .reveals(0)
            .with_context(|| format!("cannot read the read audit of `{target}`"))?;
        let audit = ReadAudit::new(target, reveals, args.limit);
        match args.format {
            ExplainFormat::Text => audit.render_text(),
            ExplainFormat::Json => audit.render_json(),
        }
    } else {
        let log = provider
            .audit(0)
            .with_context(|| format!("cannot read the audit log of `{target}`"))?;
        let history = History::new(target, log, args.email.as_deref(), args.limit);
        match args.format {
            ExplainFormat::Text => history.render_text(),
            ExplainFormat::Json => history.render_json(),
        }
    };
    super::output::print_stdout(&rendered);
    Ok(ExitStatus::Success)
}
