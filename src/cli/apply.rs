//! `portalctl apply`: make the target match a config or a saved plan, in one atomic batch.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::context::Session;
use super::output::UserError;
use super::output::{say, say_raw};
use super::plan::SafetyArgs;
use super::progress::Progress;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_client::{Provider, ProviderError};
use portalctl_core::access::{self, ImpactSummary};
use portalctl_core::model::Change;
use portalctl_core::plan::file::PlanFile;
use portalctl_core::plan::safety;
use portalctl_core::render::{self, PlanReport};
use portalctl_store::ChangeMeta;

/// How much of the plan `apply` prints before applying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Show {
    /// The access impact (its first lines) and the counts per kind: readable CI logs
    Summary,
    /// Every change, as `portalctl plan` prints it
    Full,
}

/// Impact lines shown in summary mode before `… and N more`.
const SUMMARY_IMPACT_LINES: usize = 50;

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
    /// What to print of the plan [default: `full` when stdout is a terminal, else `summary`]
    #[arg(long, value_enum, value_name = "WHAT")]
    show: Option<Show>,
    /// With a saved plan that writes sensitive values: the config that gives them back
    /// (a plan file holds only their digests) [default: the config the plan was made
    /// from, which it names]
    #[arg(long, value_name = "DIR")]
    config: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    safety: SafetyArgs,
}

/// Whether `path` is a saved plan rather than a config, by its content whatever its
/// name (`tfplan`, `plan.out`, `plan.json`): a JSON object with the plan file's
/// `format_version` and `changes`. A config is YAML, which a JSON object with those two
/// keys would not be meant as.
fn is_plan_file(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|value| {
        value
            .as_object()
            .is_some_and(|object| object.contains_key("format_version") && object.contains_key("changes"))
    })
}

pub fn run(args: ApplyArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let cleanup = super::target::NewStoreCleanup::before_open(&args.target.target);
    let status = if is_plan_file(&args.path) {
        apply_saved(&args, session)?
    } else {
        apply_config(&args, session)?
    };
    if status == ExitStatus::Success {
        cleanup.disarm();
    }
    Ok(status)
}

/// The access impact as `--show` asks for it.
enum ShownImpact {
    Full(Box<access::ImpactWalk>),
    Summary(ImpactSummary),
}

/// The summary mode's page: the access impact (bounded), then counts per kind.
fn summary_text(report: &PlanReport<'_>, impact: &ImpactSummary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    out.push_str("Access impact:\n");
    let more = "`--show full` or `portalctl plan --format json` lists them all";
    for line in render::impact::summary_lines(impact, report.redact_emails, more) {
        let _ = writeln!(out, "  {line}");
    }
    out.push('\n');
    let _ = writeln!(out, "Target: {}", report.target);
    for (kind, counts) in &report.plan.summary().by_kind {
        let _ = writeln!(
            out,
            "  {kind}: {} to add, {} to change, {} to destroy",
            counts.create, counts.update, counts.delete
        );
    }
    let _ = writeln!(out, "{}", report.plan.summary());
    out
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
    Ok(ChangeMeta {
        commit: commit.as_ref().map(|c| c.id.clone()),
        author: commit.as_ref().map(|c| c.author.clone()),
        plan_id: Some(portalctl_core::api::plan_id(changes)),
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

fn apply_config(args: &ApplyArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let Some(planned) = context::plan_against_live(&args.path, &args.target, session)? else {
        return Ok(ExitStatus::Failure);
    };
    let today = session.today;
    let show = args.show.unwrap_or(if std::io::stdout().is_terminal() {
        Show::Full
    } else {
        Show::Summary
    });
    let desired = planned.loaded.state.without_expired(today);
    let after = planned.plan.state_after(&planned.live.state, &desired);
    let mut report = PlanReport::new(&planned.plan, planned.provider.target());
    // The summary keeps only the impact lines it shows: the whole impact of an apply
    // from empty at a million partners is millions of changes. The full impact is
    // compared partner by partner as it is printed.
    let impact = match show {
        Show::Full => ShownImpact::Full(Box::new(access::ImpactWalk::new(
            &planned.live.state,
            &after,
            &planned.plan,
            today,
        ))),
        Show::Summary => ShownImpact::Summary(access::impact_summary(
            &planned.live.state,
            &after,
            &planned.plan,
            today,
            SUMMARY_IMPACT_LINES,
        )),
    };
    drop(after);
    drop(desired);
    planned.progress.clear();
    match &impact {
        ShownImpact::Full(walk) => {
            report.access_impact = Some(walk.as_ref());
            super::output::write_stderr_with(|out| {
                render::text::render_to(&report, super::output::stderr_color(), out)
            });
        }
        ShownImpact::Summary(summary) => say_raw!("{}", summary_text(&report, summary)),
    }
    if planned.plan.is_empty() {
        say!(
            "nothing to do: {} already matches the config",
            planned.provider.target()
        );
        return Ok(ExitStatus::Success);
    }
    refuse_unsafe(&planned.plan, &planned.live.state, &args.safety)?;
    let revision = planned.live.revision;
    let changes = planned.plan.into_changes();
    // The config, the live state and the impact are not needed past this point, and at
    // 100k partners they are several copies of the state: free them while the batch is
    // sent rather than hold them through the commit, the command's peak.
    let release = std::thread::spawn(move || drop((planned.loaded, planned.live, impact)));
    let meta = meta_for(&args.path, args.require_clean, &changes)?;
    confirm(args.auto_approve, planned.provider.target(), changes.len())?;
    send(planned.provider.as_ref(), revision, &changes, &meta)?;
    let _ = release.join();
    session.retain(changes);
    Ok(ExitStatus::Success)
}

fn apply_saved(args: &ApplyArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let today = session.today;
    let text = std::fs::read_to_string(&args.path)
        .with_context(|| format!("cannot read the plan file `{}`", args.path.display()))?;
    let mut saved = PlanFile::from_json(&text)
        .with_context(|| format!("`{}` is not a saved plan", args.path.display()))?;
    let provider = args.target.open(today)?;
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
    let mut live = context::read_live(provider.as_ref())?;
    if let Err(error) = saved.check_current(Some(live.revision)) {
        return Err(UserError::new(
            format!("{error}; nothing was changed"),
            "run `portalctl plan --out …` again",
        )
        .into());
    }
    // A plan file holds sensitive values as digests: the config the plan was made from
    // (`--config`, else the one the plan names, if it is still there) gives them back,
    // each checked against its digest.
    let needs = saved.sensitive_needs();
    let named = saved.sensitive_values_from.as_ref().map(PathBuf::from);
    let config = match (args.config.as_ref().or(named.as_ref()), needs.is_empty()) {
        (_, true) => None,
        (None, false) => {
            return Err(UserError::new(
                format!(
                    "the plan writes {} ({}), which a plan file never holds, and names no config to read them from (a plan of format version 2); nothing was changed",
                    super::validate::count(needs.len(), "sensitive value"),
                    list(&needs)
                ),
                format!(
                    "pass a config that holds them, as the plan was made from: `portalctl apply {} --config DIR`",
                    args.path.display()
                ),
            )
            .into());
        }
        (Some(path), false) => {
            if !path.exists() {
                return Err(UserError::new(
                    format!(
                        "the plan writes {} ({}), which a plan file never holds; it reads them from {}, `{}`, which does not exist here; nothing was changed",
                        super::validate::count(needs.len(), "sensitive value"),
                        list(&needs),
                        if args.config.is_some() { "the config given" } else { "the config it was made from" },
                        path.display()
                    ),
                    format!(
                        "pass a config that holds them, as the plan was made from: `portalctl apply {} --config DIR`",
                        args.path.display()
                    ),
                )
                .into());
            }
            let Some(loaded) = context::load_valid_config(path, today)? else {
                return Ok(ExitStatus::Failure);
            };
            if let Err(error) = saved.restore_sensitive(&loaded.state) {
                return Err(UserError::new(
                    format!(
                        "{error} (read from `{}`): the plan writes only the values it was made with; nothing was changed",
                        path.display()
                    ),
                    format!(
                        "pass the config the plan was made from: `portalctl apply {} --config DIR`, or run `portalctl plan --out …` again on the config as it is now",
                        args.path.display()
                    ),
                )
                .into());
            }
            Some(loaded)
        }
    };
    // The safety rules judge what the saved changes do to live as it is (the revision
    // the plan was made at).
    let mut after = live.state.clone();
    after
        .apply(&saved.changes)
        .map_err(|error| anyhow::anyhow!("the saved plan does not apply to the live state: {error:?}"))?;
    let plan = portalctl_core::plan::diff(&live.state, &after);
    refuse_unsafe(&plan, &live.state, &args.safety)?;
    if saved.changes.is_empty() {
        say!("nothing to do: the saved plan has no changes");
        return Ok(ExitStatus::Success);
    }
    let meta = meta_of_saved(&saved, args.require_clean)?;
    send(provider.as_ref(), live.revision, &saved.changes, &meta)?;
    live.state = after;
    session.retain((config, live, plan));
    Ok(ExitStatus::Success)
}

/// The sensitive values a plan needs, by owner and attribute (never by value).
fn list(needs: &[portalctl_core::plan::SensitiveValue]) -> String {
    needs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The meta sent with a saved plan's batch: the commit the plan was made from, as the
/// plan file recorded it.
fn meta_of_saved(saved: &PlanFile, require_clean: bool) -> anyhow::Result<ChangeMeta> {
    if require_clean && saved.git_dirty != Some(false) {
        return Err(UserError::new(
            if saved.git_dirty == Some(true) {
                "the plan was made from a config with uncommitted changes; `--require-clean` refuses it"
            } else {
                "the plan was not made in a git repository, so `--require-clean` cannot vouch for it"
            },
            "plan again from a clean git checkout, or drop `--require-clean`",
        )
        .into());
    }
    Ok(ChangeMeta {
        commit: saved.git_commit.clone(),
        author: saved.git_author.clone(),
        plan_id: Some(portalctl_core::api::plan_id(&saved.changes)),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        dirty: saved.git_dirty,
    })
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
    say_raw!(
        "apply {} to {target}? [y/N] ",
        super::validate::count(count, "change")
    );
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
    let progress = Progress::on_terminal();
    progress.step(format!(
        "applying {} to {}",
        super::validate::count(changes.len(), "change"),
        provider.target()
    ));
    let result = provider.apply(revision, changes, meta);
    progress.clear();
    match result {
        Ok(new_revision) => {
            say!(
                "applied {} to {}: now at revision {new_revision}{}",
                super::validate::count(changes.len(), "change"),
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
