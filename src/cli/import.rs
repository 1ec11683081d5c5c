//! `portalctl import`: write the live state as config files, so `plan` on them is a no-op.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::output::UserError;
use super::output::say;
use super::target::TargetArgs;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The directory to write the config into (created; must be empty)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write placeholders instead of sensitive attribute values
    #[arg(long)]
    redact_sensitive: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: ImportArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    if args.out.exists() && std::fs::read_dir(&args.out).map_or(true, |mut entries| entries.next().is_some())
    {
        return Err(UserError::new(
            format!(
                "`{}` exists and is not empty; import writes a fresh config",
                args.out.display()
            ),
            "choose a new directory with `--out`",
        )
        .into());
    }
    let provider = args.target.open(session.today)?;
    let live = super::context::read_live(provider.as_ref())?;
    let export = portalctl_core::export::export(&live.state, args.redact_sensitive);
    for (path, text) in &export.files {
        let full = args.out.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&full, text).with_context(|| format!("cannot write `{}`", full.display()))?;
    }
    say!(
        "imported {} (revision {}) into {}: {} files, {} portals, {} members, {} groups, {} folders{}",
        provider.target(),
        live.revision,
        args.out.display(),
        export.files.len(),
        live.state.portals.len(),
        live.state.members.len() - export.pending.len(),
        live.state.groups.len(),
        live.state.folders.len(),
        if live.state.dashboards.is_empty() {
            String::new()
        } else {
            format!(", {} dashboards", live.state.dashboards.len())
        }
    );
    if !export.pending.is_empty() {
        say!(
            "left out {}: listing one in the config approves it",
            portalctl_core::render::pending_list(&export.pending)
        );
    }
    if !export.sensitive.is_empty() {
        let mut files: Vec<&str> = export
            .sensitive
            .iter()
            .map(|(file, _, _)| file.as_str())
            .collect();
        files.dedup();
        if args.redact_sensitive {
            say!(
                "{} sensitive value(s) were written as `{}`; fill them in before `plan`:",
                export.sensitive.len(),
                portalctl_core::export::SENSITIVE_PLACEHOLDER
            );
            for (file, member, attribute) in export.sensitive.iter().take(20) {
                say!(
                    "  {}: {member}, attribute `{attribute}`",
                    args.out.join(file).display()
                );
            }
            if export.sensitive.len() > 20 {
                say!("  … and {} more", export.sensitive.len() - 20);
            }
        } else {
            say!("these files hold sensitive attribute values; keep them out of public places:");
            for file in files {
                say!("  {}", args.out.join(file).display());
            }
        }
    }
    Ok(ExitStatus::Success)
}
