//! `portalctl review start|close`: access reviews in git. `start` writes
//! `reviews/NAME.yaml` (every grant in scope, by owner, `decision: pending`); owners
//! decide in pull requests; `close` removes what was revoked from the config (editing
//! lines, so comments and layout stay) and writes `reviews/NAME.evidence.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::output::UserError;
use super::output::{say, say_raw};
use super::{ExitStatus, context};
use portalctl_core::assurance::edit;
use portalctl_core::assurance::report::{self, Origin, Scope};
use portalctl_core::assurance::review::{
    self, Decision, DecisionRecord, EditRecord, Evidence, Item, Reviewer,
};
use portalctl_core::config::{Diagnostic, Loaded};
use portalctl_core::model::{CalendarDate, Pointer, Principal};

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    command: ReviewCommand,
}

#[derive(Debug, Subcommand)]
enum ReviewCommand {
    /// Write reviews/NAME.yaml: every grant in scope, by owner, with `decision: pending`
    Start(StartArgs),
    /// Remove what was revoked from the config and write reviews/NAME.evidence.json
    Close(CloseArgs),
}

#[derive(Debug, Args)]
struct StartArgs {
    /// The review's name (letters, digits, `-`, `_`, `.`): the file is reviews/NAME.yaml
    name: String,
    /// Config directory
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Only a portal's members, an org's partners or a folder and below:
    /// `portal:NAME`, `org:NAME`, `folder:/PATH`
    #[arg(long, value_name = "SCOPE")]
    scope: Option<Scope>,
}

#[derive(Debug, Args)]
struct CloseArgs {
    /// The review's name
    name: String,
    /// Config directory
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Revoke the grants still pending instead of refusing
    #[arg(long)]
    revoke_pending: bool,
    /// Close even when a revocation also takes away grants decided `keep` (they rest on
    /// the group or portal membership it removes); the evidence records them
    #[arg(long)]
    allow_collateral: bool,
}

fn review_path(config: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(UserError::new(
            format!("`{name}` is not a review name"),
            "use letters, digits, `-`, `_` and `.`, e.g. `2026-q4-globex`",
        )
        .into());
    }
    if !config.is_dir() {
        return Err(UserError::new(
            format!("`{}` is not a config directory", config.display()),
            "reviews live in `reviews/` under the config directory",
        )
        .into());
    }
    Ok(config.join(review::DIRECTORY).join(format!("{name}.yaml")))
}

fn valid_config(path: &Path, today: CalendarDate) -> anyhow::Result<Loaded> {
    context::load_valid_config(path, today)?.ok_or_else(|| {
        UserError::new(
            format!("the config at `{}` is invalid", path.display()),
            "fix it first: `portalctl validate` shows the problems",
        )
        .into()
    })
}

pub fn run(args: ReviewArgs, session: &context::Session) -> anyhow::Result<ExitStatus> {
    match args.command {
        ReviewCommand::Start(args) => start(args, session.today),
        ReviewCommand::Close(args) => close(args, session.today),
    }
}

fn start(args: StartArgs, today: CalendarDate) -> anyhow::Result<ExitStatus> {
    let file = review_path(&args.path, &args.name)?;
    if file.exists() {
        return Err(UserError::new(
            format!("`{}` exists already", file.display()),
            "pick another name, or close that review",
        )
        .into());
    }
    let loaded = valid_config(&args.path, today)?;
    if let Some(scope) = &args.scope {
        scope.check(&loaded.state).map_err(|why| {
            UserError::new(why, "`--scope` takes `portal:NAME`, `org:NAME` or `folder:/PATH`")
        })?;
    }
    let owners = &loaded.assurance.owners;
    let rows = report::rows(&loaded.state, owners, today, args.scope.as_ref());
    let grants = review::grants(&rows);
    let revision = portalctl_sources::git::commit_info(&args.path)
        .ok()
        .flatten()
        .map_or_else(
            || "working tree (not in git)".to_string(),
            |info| {
                if info.dirty {
                    format!("{} (with uncommitted changes)", info.id)
                } else {
                    info.id
                }
            },
        );
    let text = review::start_file(
        &review::Start {
            name: args.name.clone(),
            scope: args.scope.clone(),
            started: today,
            revision,
        },
        &grants,
        owners,
    );
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    std::fs::write(&file, text).with_context(|| format!("cannot write `{}`", file.display()))?;
    let owners_count = grants
        .iter()
        .map(|grant| review::owner_of(owners, grant).first().cloned())
        .collect::<BTreeSet<_>>()
        .len();
    say!(
        "wrote {}: {} grant(s) for {} owner(s) to decide; commit it, with the CODEOWNERS line \
         `portalctl codeowners --write FILE` adds for it, and open a pull request",
        file.display(),
        grants.len(),
        owners_count
    );
    Ok(ExitStatus::Success)
}

/// The review files under a config directory, checked against the config, and the
/// decisions checked against their authors in git: for `validate`.
pub fn check_all(path: &Path, loaded: &mut Loaded, today: CalendarDate) {
    if !path.is_dir() {
        return;
    }
    let source = portalctl_sources::DirSource::new(path);
    for (relative, parsed) in review::check_source(&source, loaded, today) {
        loaded
            .diagnostics
            .extend(reviewer_problems(&path.join(relative), &parsed));
    }
    loaded.diagnostics.sort_by_key(Diagnostic::sort_key);
}

fn evidence_path(review_file: &Path) -> PathBuf {
    review_file.with_extension("evidence.json")
}

/// Decisions made by someone who may not make them (when git can tell).
fn reviewer_problems(file: &Path, parsed: &review::ReviewFile) -> Vec<Diagnostic> {
    let Ok((authors, dirty)) = portalctl_sources::git::blame(file) else {
        return Vec::new(); // not committed yet, or not in git
    };
    if dirty {
        return Vec::new(); // line numbers would not match
    }
    parsed
        .items
        .iter()
        .filter(|item| item.decision != Decision::Pending)
        .filter_map(|item| {
            let author = authors.get(&item.decision_line)?;
            (!review::may_decide(item, &author.email)).then(|| {
                Diagnostic::error(
                    portalctl_core::config::diagnostic::RuleId::ReviewFile,
                    Some(portalctl_core::config::Location {
                        line: item.decision_line,
                        ..item.at.clone()
                    }),
                    format!(
                        "`{}` decided on the grant of {} on {}, which only `{}` may decide",
                        author.email,
                        item.grant.partner,
                        item.grant.shared_on,
                        std::iter::once(&item.owner)
                            .chain(&item.also_owned_by)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("`, `")
                    ),
                )
                .with_hint(Some(
                    "an owner of the folder sets the decision in a commit of their own".into(),
                ))
            })
        })
        .collect()
}

fn rfc3339(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// A list entry (or CSV row) to remove: its file, its line and column, what it holds.
struct Removal {
    file: String,
    place: (u32, u32),
    what: String,
}

/// The list entries to remove for a revoked grant.
fn removals(item: &Item, loaded: &Loaded) -> Result<Vec<Removal>, String> {
    let grant = &item.grant;
    let email = &grant.partner;
    let principal: Principal = grant
        .via
        .parse()
        .map_err(|_| format!("`{}` is not a principal", grant.via))?;
    let map = &loaded.source_map;
    let mut places: Vec<(Pointer, String)> = Vec::new();
    match &principal {
        Principal::User(_) => places.push((
            Pointer::root()
                .join("shares")
                .join(&grant.shared_on)
                .join(&principal.to_string()),
            format!("the share of {} with {}", grant.shared_on, grant.via),
        )),
        Principal::Group(group) => places.push((
            Pointer::root()
                .join("groups")
                .join(group)
                .join("members")
                .join(email),
            format!("{email} in group {group}"),
        )),
        Principal::Portal(portal) => places.push((
            Pointer::member(portal, email),
            format!("member {email} of portal {portal}"),
        )),
        Principal::Org(org) => {
            for ((portal, member_email), member) in &loaded.state.members {
                if member_email == email && member.org.as_deref() == Some(org.as_str()) {
                    places.push((
                        Pointer::member(portal, email),
                        format!("member {email} of portal {portal} (org {org})"),
                    ));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (pointer, what) in places {
        let location = map
            .exact(&pointer)
            .ok_or_else(|| format!("cannot find where {what} is written"))?;
        let place = if location.file.ends_with(".csv")
            || !matches!(principal, Principal::Portal(_) | Principal::Org(_))
        {
            // A CSV row; a share item or a group entry is recorded where it starts.
            (location.line, location.column)
        } else {
            // A roster entry is recorded at its `email`: find its `- `.
            let text = loaded
                .texts
                .get(&location.file)
                .ok_or_else(|| format!("cannot read `{}`", location.file))?;
            let line = edit::item_line(text, location.line, location.column)
                .ok_or_else(|| format!("{what} at {location} is not an item of a block list"))?;
            let dash = text
                .lines()
                .nth(line as usize - 1)
                .and_then(|own| own.find('-'))
                .unwrap_or(0);
            (line, u32::try_from(dash + 1).unwrap_or(1))
        };
        out.push(Removal {
            file: location.file,
            place,
            what,
        });
    }
    Ok(out)
}

fn close(args: CloseArgs, today: CalendarDate) -> anyhow::Result<ExitStatus> {
    let file = review_path(&args.path, &args.name)?;
    let evidence_file = evidence_path(&file);
    if evidence_file.exists() {
        return Err(UserError::new(
            format!("the review `{}` is closed already", args.name),
            format!("its evidence is `{}`", evidence_file.display()),
        )
        .into());
    }
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|_| {
        UserError::new(
            format!("there is no review `{}` (no `{shown}`)", args.name),
            "start one with `portalctl review start NAME`",
        )
    })?;
    let mut loaded = valid_config(&args.path, today)?;
    let (parsed, mut problems) = review::parse(&shown, &text);
    let current = review::grants(&report::rows(
        &loaded.state,
        &loaded.assurance.owners,
        today,
        None,
    ));
    if let Some(parsed) = &parsed {
        problems.extend(review::check(parsed, &current, &loaded.assurance.owners));
    }
    let (authors, dirty) = portalctl_sources::git::blame(&file).map_err(|error| {
        UserError::new(
            format!("cannot read the git history of `{shown}`: {error}"),
            "decisions are made in commits: commit the review file first",
        )
    })?;
    if dirty {
        return Err(UserError::new(
            format!("`{shown}` has uncommitted changes"),
            "commit the decisions first: the evidence names each reviewer from the git history",
        )
        .into());
    }
    if let Some(parsed) = &parsed {
        problems.extend(reviewer_problems(&file, parsed));
    }
    if !problems.is_empty() || parsed.is_none() {
        loaded.texts.insert(shown.clone(), text.clone());
        let rendered = portalctl_core::config::diagnostic::render_text(
            &problems,
            super::output::stderr_color(),
            &|file, line| loaded.source_line(file, line),
        );
        say_raw!("{rendered}");
        return Err(UserError::new(
            format!(
                "the review `{}` has {} problem(s); nothing was changed",
                args.name,
                problems.len()
            ),
            "fix the review file (`portalctl validate` shows the same problems)",
        )
        .into());
    }
    let parsed = parsed.expect("checked above");
    let pending: Vec<&Item> = parsed
        .items
        .iter()
        .filter(|item| item.decision == Decision::Pending)
        .collect();
    if !pending.is_empty() && !args.revoke_pending {
        let mut by_owner: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &pending {
            *by_owner.entry(item.owner.as_str()).or_default() += 1;
        }
        let who: Vec<String> = by_owner
            .iter()
            .map(|(owner, count)| format!("{owner} ({count})"))
            .collect();
        return Err(UserError::new(
            format!(
                "the review `{}` has {} pending decision(s): {}",
                args.name,
                pending.len(),
                who.join(", ")
            ),
            "wait for the owners, or close with `--revoke-pending` to revoke what nobody vouched for",
        )
        .into());
    }
    // Before: the scope as it is.
    let origin = |revision: String, commit: Option<String>| Origin {
        source: "git".into(),
        revision,
        commit,
        generated_at: super::report::now_rfc3339(),
        today_from: "clock".into(),
    };
    // The review's scope of a config, reported whole (before and after the revocations).
    let scope_report = |config: &Loaded, origin: Origin| {
        report::whole(
            &report::Grants::new(
                &config.state,
                &config.assurance.owners,
                today,
                parsed.scope.as_ref(),
            ),
            origin,
            today,
            parsed.scope.clone(),
        )
    };
    let head = portalctl_sources::git::commit_info(&args.path).ok().flatten();
    let before = scope_report(
        &loaded,
        origin(
            "before the review's revocations".into(),
            head.as_ref().map(|c| c.id.clone()),
        ),
    );
    // The edits, file by file, lines as numbered now.
    let revoked: Vec<&Item> = parsed
        .items
        .iter()
        .filter(|item| item.decision == Decision::Revoke || item.decision == Decision::Pending)
        .collect();
    let mut by_file: BTreeMap<String, BTreeMap<(u32, u32), BTreeSet<String>>> = BTreeMap::new();
    for item in &revoked {
        let found = removals(item, &loaded).map_err(|why| {
            UserError::new(
                format!(
                    "cannot revoke the grant of {} via {}: {why}",
                    item.grant.partner, item.grant.via
                ),
                "remove it from the config by hand, then close again",
            )
        })?;
        for Removal { file, place, what } in found {
            by_file
                .entry(file)
                .or_default()
                .entry(place)
                .or_default()
                .insert(what);
        }
    }
    let mut edited: Vec<(String, String)> = Vec::new();
    let mut edits = Vec::new();
    for (file, lines) in &by_file {
        let text = loaded
            .texts
            .get(file)
            .cloned()
            .map_or_else(|| std::fs::read_to_string(file), Ok)
            .with_context(|| format!("cannot read `{file}`"))?;
        let places: BTreeSet<(u32, u32)> = lines.keys().copied().collect();
        let numbers: BTreeSet<u32> = places.iter().map(|(line, _)| *line).collect();
        let updated = if file.ends_with(".csv") {
            edit::remove_csv_rows(&text, &numbers)
        } else {
            edit::remove_yaml_entries(&text, &places)
        }
        .map_err(|error| {
            UserError::new(
                format!("cannot edit `{file}`: {error}"),
                "remove the grant by hand, then close again",
            )
        })?;
        edited.push((file.clone(), updated));
        edits.push(EditRecord {
            file: file.clone(),
            lines: numbers.into_iter().collect(),
            removes: lines.values().flatten().cloned().collect(),
        });
    }
    // After: the config as the edits would leave it, checked before anything is written.
    let source = portalctl_sources::DirSource::new(&args.path);
    let overlay = portalctl_core::config::Overlay {
        inner: &source,
        replaced: edited.iter().cloned().collect(),
    };
    let mut after_loaded = context::load_source(&overlay, today)
        .with_context(|| format!("cannot read the config at `{}`", args.path.display()))?;
    let all_grants = |state, owners| review::grants(&report::rows(state, owners, today, None));
    let collateral = review::collateral(
        &parsed,
        &all_grants(&loaded.state, &loaded.assurance.owners),
        &all_grants(&after_loaded.state, &after_loaded.assurance.owners),
        args.revoke_pending,
    );
    let kept: Vec<&review::Collateral> = collateral
        .iter()
        .filter(|lost| lost.decision == Some(Decision::Keep))
        .collect();
    if !kept.is_empty() && !args.allow_collateral {
        for lost in &kept {
            say!(
                "  {} via {} on {} (kept by {})",
                lost.grant.partner,
                lost.grant.via,
                lost.grant.shared_on,
                lost.owner.as_deref().unwrap_or(review::UNOWNED)
            );
        }
        return Err(UserError::new(
            format!(
                "the review `{}` revokes grants that take away {} grant(s) decided `keep` (above); nothing was changed",
                args.name,
                kept.len()
            ),
            "a revoked group or portal membership takes every grant resting on it: decide the revocation again, \
             or close with `--allow-collateral` to take them too (the evidence records them)",
        )
        .into());
    }
    context::check_assertions(&mut after_loaded, today);
    if after_loaded.has_errors() {
        say_raw!(
            "{}",
            portalctl_core::render::validate::diagnostics_text(&after_loaded, super::output::stderr_color())
        );
        return Err(UserError::new(
            format!(
                "the review `{}`'s revocations would leave the config invalid: {} error(s) (above); nothing was changed",
                args.name,
                after_loaded.errors().count()
            ),
            "decide `keep` on what the config needs, or change the config (e.g. an assertion) in a commit of its own first",
        )
        .into());
    }
    for lost in collateral.iter().filter(|lost| lost.decision.is_none()) {
        super::output::warning(&format!(
            "revoking also takes {} via {} on {}, which the review does not list",
            lost.grant.partner, lost.grant.via, lost.grant.shared_on
        ));
    }
    let after = scope_report(
        &after_loaded,
        origin("after the review's revocations (uncommitted edits)".into(), None),
    );
    let decisions = parsed
        .items
        .iter()
        .map(|item| DecisionRecord {
            owner: item.owner.clone(),
            grant: item.grant.clone(),
            decision: item.decision,
            reason: item.reason.clone(),
            reviewer: (item.decision != Decision::Pending)
                .then(|| authors.get(&item.decision_line))
                .flatten()
                .map(|author| Reviewer {
                    author: format!("{} <{}>", author.name, author.email),
                    commit: author.commit.clone(),
                    date: rfc3339(author.time),
                }),
        })
        .collect();
    let evidence = Evidence {
        format_version: 1,
        name: parsed.name.clone(),
        scope: parsed.scope.clone(),
        started: parsed.started,
        started_at: parsed.revision.clone(),
        closed: today,
        closed_at: head.map(|c| c.id),
        revoked_pending: args.revoke_pending && !pending.is_empty(),
        decisions,
        edits,
        allowed_collateral: args.allow_collateral,
        collateral,
        before,
        after,
    };
    let mut json = serde_json::to_string_pretty(&evidence)?;
    json.push('\n');
    for (file, updated) in &edited {
        std::fs::write(file, updated).with_context(|| format!("cannot write `{file}`"))?;
    }
    std::fs::write(&evidence_file, json)
        .with_context(|| format!("cannot write `{}`", evidence_file.display()))?;
    let kept = parsed
        .items
        .iter()
        .filter(|item| item.decision == Decision::Keep)
        .count();
    let taken = if evidence.collateral.is_empty() {
        String::new()
    } else {
        format!(
            ", {} more taken with them (`collateral` in the evidence)",
            evidence.collateral.len()
        )
    };
    say!(
        "closed the review `{}`: {kept} kept, {} revoked{taken} ({} file(s) edited); evidence in {}",
        args.name,
        revoked.len(),
        edited.len(),
        evidence_file.display()
    );
    say!(
        "next: `portalctl plan {}` shows the revocations; commit and apply them",
        args.path.display()
    );
    drop(after_loaded);
    Ok(ExitStatus::Success)
}
