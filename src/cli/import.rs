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
    // The YAML is where sensitive values live: ask for them (an `admin` token may); a
    // token that may not gets digests, written as placeholders to fill in.
    let live = match provider.read_revealed() {
        Err(portalctl_client::ProviderError::Forbidden(_)) => {
            super::output::warning(
                "this token may not read sensitive values: they are written as placeholders to fill in",
            );
            super::context::read_live(provider.as_ref())?
        }
        other => other.with_context(|| format!("cannot read the live state from `{}`", provider.target()))?,
    };
    let export = portalctl_core::export::export(&live.state, args.redact_sensitive);
    for (path, text) in &export.files {
        let full = args.out.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&full, text).with_context(|| format!("cannot write `{}`", full.display()))?;
    }
    let count = super::validate::count;
    let state = &live.state;
    say!(
        "imported {} (revision {}) into {}: {}, {}, {}, {}, {}{}",
        provider.target(),
        live.revision,
        args.out.display(),
        count(export.files.len(), "file"),
        count(state.portals.len(), "portal"),
        count(
            state.members.len()
                - export.pending.len()
                - export.self_registered.len()
                - export.partner_managed.len(),
            "member"
        ),
        count(state.groups.len(), "group"),
        count(state.folders.len(), "folder"),
        if state.dashboards.is_empty() {
            String::new()
        } else {
            format!(", {}", count(state.dashboards.len(), "dashboard"))
        }
    );
    if !export.self_registered.is_empty() {
        let listed: Vec<String> = export
            .self_registered
            .iter()
            .map(|(portal, email)| format!("{email} in portal {portal}"))
            .collect();
        say!(
            "left out {} self-registered member(s) and the group entries their registration made: they are owned live and kept by `apply` ({})",
            export.self_registered.len(),
            listed.join(", ")
        );
    }
    if !export.partner_managed.is_empty() {
        say!(
            "left out {}: owned live and kept by `apply`",
            portalctl_core::render::managed_list(&export.partner_managed)
        );
    }
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
        if export.redacted {
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
