//! `portalctl apply`: make the target match a config or a saved plan, in one atomic batch.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use sha2::{Digest as _, Sha256};

use super::output::UserError;
use super::plan::SafetyArgs;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_client::{Provider, ProviderError};
use portalctl_core::model::Change;
use portalctl_core::plan::file::PlanFile;
use portalctl_core::plan::safety;
use portalctl_core::render::{self, PlanReport};
use portalctl_store::ChangeMeta;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A config directory or file, or a plan saved by `portalctl plan --out`
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Apply without asking (required when stdin is not a terminal)
    #[arg(long)]
    auto_approve: bool,
    /// Refuse when the config has uncommitted changes in git (for CI)
    #[arg(long)]
    require_clean: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    safety: SafetyArgs,
}

/// Whether `path` is a saved plan rather than a config.
fn is_plan_file(path: &Path) -> bool {
    path.is_file()
        && path.extension().is_some_and(|e| e == "json")
        && std::fs::read(path)
            .is_ok_and(|bytes| bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'))
}

pub fn run(args: ApplyArgs) -> anyhow::Result<ExitStatus> {
    if is_plan_file(&args.path) {
        apply_saved(&args)
    } else {
        apply_config(&args)
    }
}

/// The meta sent with the batch: which commit, who, whether the tree was dirty.
fn meta_for(config_path: &Path, require_clean: bool, changes: &[Change]) -> anyhow::Result<ChangeMeta> {
    let commit = portalctl_sources::git::commit_info(config_path)
        .context("cannot read the git repository of the config")?;
    if require_clean {
        match &commit {
            None => {
                return Err(UserError::new(
                    format!(
                        "`{}` is not in a git repository, so it cannot be checked for a clean tree",
                        config_path.display()
                    ),
                    "drop `--require-clean`, or apply from a git checkout",
                )
                .into());
            }
            Some(info) if info.dirty => {
                return Err(UserError::new(
                    format!(
                        "`{}` has uncommitted changes; `--require-clean` refuses to apply them",
                        config_path.display()
                    ),
                    "commit (and review) the changes first, or drop `--require-clean`",
                )
                .into());
            }
            Some(_) => {}
        }
    }
    let digest = Sha256::digest(serde_json::to_vec(changes).unwrap_or_default());
    let plan_id: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(ChangeMeta {
        commit: commit.as_ref().map(|c| c.id.clone()),
        author: commit.as_ref().map(|c| c.author.clone()),
        plan_id: Some(plan_id),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        dirty: commit.as_ref().map(|c| c.dirty),
    })
}

fn refuse_unsafe(
    plan: &portalctl_core::plan::Plan,
    live: &portalctl_core::model::State,
    safety_args: &SafetyArgs,
) -> anyhow::Result<()> {
    let refusals = safety::check(plan, live, &safety_args.limits());
    if let Some(first) = refusals.first() {
        for refusal in &refusals[1..] {
            super::output::problem(&refusal.to_string(), Some(&refusal.hint()));
        }
        return Err(UserError::new(
            format!("refusing to apply: {first}; nothing was changed"),
            first.hint(),
        )
        .into());
    }
    Ok(())
}

fn apply_config(args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let Some(context::Planned {
        loaded,
        provider,
        live,
        plan,
    }) = context::plan_against_live(&args.path, &args.target)?
    else {
        return Ok(ExitStatus::Failure);
    };
    let today = context::today()?;
    let impact =
        portalctl_core::access::impact(&live.state, &loaded.state.without_expired(today), &plan, today);
    let mut report = PlanReport::new(&plan, provider.target());
    report.access_impact = Some(&impact);
    let color = super::output::stderr_color();
    eprint!("{}", render::text::render(&report, color));
    if plan.is_empty() {
        eprintln!("nothing to do: {} already matches the config", provider.target());
        return Ok(ExitStatus::Success);
    }
    refuse_unsafe(&plan, &live.state, &args.safety)?;
    let changes = plan.changes();
    let meta = meta_for(&args.path, args.require_clean, &changes)?;
    confirm(args.auto_approve, provider.target(), changes.len())?;
    send(provider.as_ref(), live.revision, &changes, &meta)?;
    std::mem::forget(loaded);
    Ok(ExitStatus::Success)
}

fn apply_saved(args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let today = context::today()?;
    let text = std::fs::read_to_string(&args.path)
        .with_context(|| format!("cannot read the plan file `{}`", args.path.display()))?;
    let mut saved = PlanFile::from_json(&text)
        .with_context(|| format!("`{}` is not a saved plan", args.path.display()))?;
    let provider = args.target.open()?;
    if saved.target != provider.target() {
        return Err(UserError::new(
            format!(
                "the plan was made for `{}`, not `{}`",
                saved.target,
                provider.target()
            ),
            format!(
                "apply it with `--target {}`, or plan again against this target",
                saved.target
            ),
        )
        .into());
    }
    let config_path = PathBuf::from(&saved.config_path);
    let Some(loaded) = context::load_valid_config(&config_path)? else {
        return Ok(ExitStatus::Failure);
    };
    let live = context::read_live(provider.as_ref())?;
    if let Err(error) = saved.check_current(&loaded.digest, Some(live.revision)) {
        return Err(UserError::new(
            format!("{error}; nothing was changed"),
            "run `portalctl plan --out …` again",
        )
        .into());
    }
    saved
        .restore_sensitive(&loaded.state)
        .context("cannot restore the plan's sensitive values from the config")?;
    // The safety rules judge what the saved changes would do to live as it is now.
    let plan = portalctl_core::plan::plan(&live.state, &loaded.state, today);
    if plan.changes() != saved.changes {
        return Err(UserError::new(
            "the saved plan no longer matches what the config would change; nothing was changed",
            "run `portalctl plan --out …` again",
        )
        .into());
    }
    refuse_unsafe(&plan, &live.state, &args.safety)?;
    if saved.changes.is_empty() {
        eprintln!("nothing to do: the saved plan has no changes");
        return Ok(ExitStatus::Success);
    }
    let meta = meta_for(&config_path, args.require_clean, &saved.changes)?;
    send(provider.as_ref(), live.revision, &saved.changes, &meta)?;
    std::mem::forget(loaded);
    Ok(ExitStatus::Success)
}

/// Asks `y/N` on a terminal; without one, `--auto-approve` is required.
fn confirm(auto_approve: bool, target: &str, count: usize) -> anyhow::Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(UserError::new(
            "apply needs a confirmation, and stdin is not a terminal; nothing was changed",
            "review the plan (`portalctl plan`), then run `portalctl apply --auto-approve`",
        )
        .into());
    }
    eprint!("apply {count} change(s) to {target}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        Ok(())
    } else {
        Err(UserError::new("apply cancelled; nothing was changed", "answer `y` to apply").into())
    }
}

/// Sends the batch, with a spinner on a terminal, and prints the summary line.
fn send(provider: &dyn Provider, revision: u64, changes: &[Change], meta: &ChangeMeta) -> anyhow::Result<()> {
    let spinner = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!(
            "applying {} change(s) to {}",
            changes.len(),
            provider.target()
        ));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let result = provider.apply(revision, changes, meta);
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    match result {
        Ok(new_revision) => {
            eprintln!(
                "applied {} change(s) to {}: now at revision {new_revision}{}",
                changes.len(),
                provider.target(),
                meta.commit.as_deref().map(|c| format!(" (commit {})", &c[..c.len().min(12)])).unwrap_or_default()
            );
            Ok(())
        }
        Err(ProviderError::Stale { expected, current }) => Err(UserError::new(
            format!(
                "plan is stale: live state moved from revision {expected} to {current} since the plan was made; nothing was changed"
            ),
            "run `portalctl plan` again and review the new plan",
        )
        .into()),
        Err(error) => Err(anyhow::Error::new(error).context(format!("apply to {} failed; nothing was changed", provider.target()))),
    }
}
