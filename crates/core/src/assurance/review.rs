//! Access reviews in git: `review start` writes `reviews/NAME.yaml` under the config
//! directory, every grant in scope grouped by owner with `decision: pending`; owners set
//! `keep` or `revoke` (and a `reason`) in pull requests; `validate` checks the file;
//! `review close` turns the revocations into config edits and writes the evidence.
//!
//! A review item is one share reaching one partner: `partner` through `via` (the share's
//! principal) on `shared_on`, with the folders and dashboards it covers. Revoking it
//! removes that path for that partner: a `user:` share is removed; a `group:` loses the
//! partner; a `portal:` or `org:` grant rests on the partner's membership, which is
//! removed (the plan then shows everything that goes with it).
//!
//! `reviews/` at the root of a config directory is reserved for review files and their
//! evidence: the loader never reads it as config ([`is_review_path`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Owners;
use super::report::{Report, Row, Scope};
use crate::config::diagnostic::RuleId;
use crate::config::yaml::{self, Node, Value};
use crate::config::{Diagnostic, Location};
use crate::model::{Access, CalendarDate};

/// The directory, under the config directory, holding review files.
pub const DIRECTORY: &str = "reviews";
/// The owner key of items whose folder has no owners.
pub const UNOWNED: &str = "(unowned)";

/// Whether a config-relative path is in the reserved `reviews/` directory.
pub fn is_review_path(path: &Path) -> bool {
    path.components()
        .next()
        .is_some_and(|first| first.as_os_str() == DIRECTORY)
        && path.components().count() > 1
}

/// A decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Pending,
    Keep,
    Revoke,
}

impl Decision {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "pending" => Some(Self::Pending),
            "keep" => Some(Self::Keep),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Keep => "keep",
            Self::Revoke => "revoke",
        }
    }
}

/// One share reaching one partner, as reviewed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub partner: String,
    /// The share's principal: `user:…`, `group:…`, `portal:…` or `org:…`.
    pub via: String,
    /// The folder or dashboard the share is on.
    pub shared_on: String,
    /// The highest level it gives on what it covers.
    pub level: Access,
    /// The folders and dashboards it covers.
    pub covers: Vec<String>,
}

impl Grant {
    fn key(&self) -> (&str, &str, &str) {
        (&self.partner, &self.via, &self.shared_on)
    }
}

/// The grants of report rows, one per (partner, via, shared on).
pub fn grants(rows: &[Row]) -> Vec<Grant> {
    let mut grants: BTreeMap<(String, String, String), Grant> = BTreeMap::new();
    for row in rows {
        let grant = grants
            .entry((row.partner.clone(), row.via.clone(), row.shared_on.clone()))
            .or_insert_with(|| Grant {
                partner: row.partner.clone(),
                via: row.via.clone(),
                shared_on: row.shared_on.clone(),
                level: row.level,
                covers: Vec::new(),
            });
        grant.level = grant.level.max(row.level);
        if !grant.covers.contains(&row.path) {
            grant.covers.push(row.path.clone());
        }
    }
    grants.into_values().collect()
}

/// The owners a grant is reviewed by: those of the folder it is shared on.
pub fn owner_of(owners: &Owners, grant: &Grant) -> Vec<String> {
    owners
        .of_path(&grant.shared_on)
        .map(|(_, list)| list.to_vec())
        .unwrap_or_default()
}

/// What `review start` records about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub name: String,
    pub scope: Option<Scope>,
    pub started: CalendarDate,
    /// The commit the review starts from, or `working tree`.
    pub revision: String,
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// The review file: a header, then each owner's grants with `decision: pending`. Every
/// owner of a folder gets its grants (any one of them may decide); grants on folders
/// without owners go under `(unowned)`.
pub fn start_file(start: &Start, grants: &[Grant], owners: &Owners) -> String {
    let mut by_owner: BTreeMap<String, Vec<&Grant>> = BTreeMap::new();
    for grant in grants {
        let list = owner_of(owners, grant);
        let key = list.first().cloned().unwrap_or_else(|| UNOWNED.to_string());
        // One item per grant, under the first owner; the others are named in `owners:`.
        by_owner.entry(key).or_default().push(grant);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Access review `{}`: set each `decision` to `keep` or `revoke` (add a `reason` if you like),\n# in a pull request. `portalctl validate` checks this file; `portalctl review close {}` applies it.",
        start.name, start.name
    );
    let _ = writeln!(out, "review:");
    let _ = writeln!(out, "  name: {}", quote(&start.name));
    if let Some(scope) = &start.scope {
        let _ = writeln!(out, "  scope: {}", quote(&scope.to_string()));
    }
    let _ = writeln!(out, "  started: {}", start.started);
    let _ = writeln!(out, "  revision: {}", quote(&start.revision));
    let _ = writeln!(out, "  grants: {}", grants.len());
    if grants.is_empty() {
        let _ = writeln!(out, "owners: {{}}");
        return out;
    }
    let _ = writeln!(out, "owners:");
    for (owner, grants) in by_owner {
        let _ = writeln!(out, "  {}:", quote(&owner));
        for grant in grants {
            let _ = writeln!(out, "    - partner: {}", quote(&grant.partner));
            let _ = writeln!(out, "      via: {}", quote(&grant.via));
            let _ = writeln!(out, "      shared_on: {}", quote(&grant.shared_on));
            let _ = writeln!(out, "      level: {}", grant.level);
            let covers: Vec<String> = grant.covers.iter().map(|path| quote(path)).collect();
            let _ = writeln!(out, "      covers: [{}]", covers.join(", "));
            let also = owner_of(owners, grant);
            if also.len() > 1 {
                let others: Vec<String> = also.iter().skip(1).map(|o| quote(o)).collect();
                let _ = writeln!(out, "      also_owned_by: [{}]", others.join(", "));
            }
            let _ = writeln!(out, "      decision: pending");
        }
    }
    out
}

/// One item of a review file as read, with where its decision stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub owner: String,
    pub grant: Grant,
    /// Any owner of the folder may decide: `owner` and these.
    pub also_owned_by: Vec<String>,
    pub decision: Decision,
    pub reason: Option<String>,
    /// The line of the `decision:` value (its author is the reviewer).
    pub decision_line: u32,
    pub at: Location,
}

/// A review file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFile {
    pub name: String,
    pub scope: Option<Scope>,
    pub started: Option<CalendarDate>,
    pub revision: String,
    pub items: Vec<Item>,
}

fn text_of(node: Option<&Node>) -> Option<String> {
    match &node?.value {
        Value::String(text) => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list_of(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(|item| text_of(Some(item))).collect(),
        _ => Vec::new(),
    }
}

/// Parses a review file; every problem is a diagnostic at its place.
pub fn parse(file: &str, text: &str) -> (Option<ReviewFile>, Vec<Diagnostic>) {
    let loc = |at: yaml::Position| Location {
        file: file.to_string(),
        line: at.line,
        column: at.column,
    };
    let mut problems = Vec::new();
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(error) => {
            problems.push(Diagnostic::error(
                RuleId::ReviewFile,
                Some(loc(error.at)),
                error.message,
            ));
            return (None, problems);
        }
    };
    let Some(header) = root.get("review") else {
        problems.push(
            Diagnostic::error(
                RuleId::ReviewFile,
                Some(loc(root.at)),
                "a review file starts with a `review:` header",
            )
            .with_hint(Some("`portalctl review start NAME` writes one".into())),
        );
        return (None, problems);
    };
    let name = text_of(header.get("name")).unwrap_or_default();
    let scope = match text_of(header.get("scope")).map(|text| text.parse::<Scope>()) {
        None => None,
        Some(Ok(scope)) => Some(scope),
        Some(Err(why)) => {
            problems.push(Diagnostic::error(
                RuleId::ReviewFile,
                Some(loc(header.get("scope").map_or(header.at, |n| n.at))),
                why,
            ));
            None
        }
    };
    let started = text_of(header.get("started")).and_then(|text| text.parse().ok());
    let revision = text_of(header.get("revision")).unwrap_or_default();
    let mut items = Vec::new();
    match root.get("owners").map(|node| &node.value) {
        Some(Value::Map(entries)) => {
            for (owner, list) in entries {
                let Value::Seq(list) = &list.value else {
                    problems.push(Diagnostic::error(
                        RuleId::ReviewFile,
                        Some(loc(list.at)),
                        format!("the grants of `{}` are a list", owner.text),
                    ));
                    continue;
                };
                for node in list {
                    let field = |key: &str| text_of(node.get(key));
                    let missing: Vec<&str> = ["partner", "via", "shared_on", "level", "decision"]
                        .into_iter()
                        .filter(|key| field(key).is_none())
                        .collect();
                    if !missing.is_empty() {
                        problems.push(Diagnostic::error(
                            RuleId::ReviewFile,
                            Some(loc(node.at)),
                            format!("a review item needs {}", missing.join(", ")),
                        ));
                        continue;
                    }
                    let decision_node = node.get("decision").map_or(node.at, |n| n.at);
                    let decision_text = field("decision").unwrap_or_default();
                    let Some(decision) = Decision::parse(&decision_text) else {
                        problems.push(
                            Diagnostic::error(
                                RuleId::ReviewFile,
                                Some(loc(decision_node)),
                                format!("`{decision_text}` is not a decision"),
                            )
                            .with_hint(
                                crate::model::suggest::did_you_mean(
                                    decision_text.trim(),
                                    ["keep", "revoke", "pending"],
                                )
                                .or_else(|| Some("write `keep`, `revoke` or `pending`".into())),
                            ),
                        );
                        continue;
                    };
                    let level = match field("level").as_deref() {
                        Some("edit") => Access::Edit,
                        _ => Access::View,
                    };
                    items.push(Item {
                        owner: owner.text.clone(),
                        grant: Grant {
                            partner: crate::model::normalize_email(&field("partner").unwrap_or_default()),
                            via: field("via").unwrap_or_default(),
                            shared_on: field("shared_on").unwrap_or_default(),
                            level,
                            covers: list_of(node.get("covers")),
                        },
                        also_owned_by: list_of(node.get("also_owned_by")),
                        decision,
                        reason: field("reason").filter(|reason| !reason.trim().is_empty()),
                        decision_line: decision_node.line,
                        at: loc(node.at),
                    });
                }
            }
        }
        Some(_) | None => problems.push(Diagnostic::error(
            RuleId::ReviewFile,
            Some(loc(root.at)),
            "a review file lists the grants under `owners:`",
        )),
    }
    (
        Some(ReviewFile {
            name,
            scope,
            started,
            revision,
            items,
        }),
        problems,
    )
}

/// Checks a review against the config: every grant still exists, each is listed under
/// an owner of its folder, none twice.
pub fn check(review: &ReviewFile, current: &[Grant], owners: &Owners) -> Vec<Diagnostic> {
    let existing: BTreeSet<(&str, &str, &str)> = current.iter().map(Grant::key).collect();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for item in &review.items {
        let key = item.grant.key();
        if !seen.insert(key) {
            problems.push(Diagnostic::error(
                RuleId::ReviewFile,
                Some(item.at.clone()),
                format!(
                    "the grant of {} via {} on {} is listed twice",
                    item.grant.partner, item.grant.via, item.grant.shared_on
                ),
            ));
            continue;
        }
        if !existing.contains(&key) {
            problems.push(
                Diagnostic::error(
                    RuleId::ReviewFile,
                    Some(item.at.clone()),
                    format!(
                        "{} no longer has a grant via {} on {}",
                        item.grant.partner, item.grant.via, item.grant.shared_on
                    ),
                )
                .with_hint(Some(
                    "the config changed since the review started: remove the item, or start the review again"
                        .into(),
                )),
            );
            continue;
        }
        let rightful = owner_of(owners, &item.grant);
        let listed_under_owner = if rightful.is_empty() {
            item.owner == UNOWNED
        } else {
            rightful.contains(&item.owner)
        };
        if !listed_under_owner {
            problems.push(
                Diagnostic::error(
                    RuleId::ReviewFile,
                    Some(item.at.clone()),
                    format!(
                        "the grant of {} on {} is listed under `{}`, who does not own {}",
                        item.grant.partner, item.grant.shared_on, item.owner, item.grant.shared_on
                    ),
                )
                .with_hint(Some(if rightful.is_empty() {
                    format!(
                        "{} has no owners: list it under `{UNOWNED}`",
                        item.grant.shared_on
                    )
                } else {
                    format!("its owners are {}", rightful.join(", "))
                })),
            );
        }
    }
    problems
}

/// The owners whose approval a pull request touching a review file needs: every owner
/// of a folder one of its grants is shared on, handles included (for `portalctl
/// codeowners`). Grants on folders without owners add nobody.
pub fn approvers(review: &ReviewFile, owners: &Owners) -> BTreeSet<String> {
    review
        .items
        .iter()
        .flat_map(|item| owner_of(owners, &item.grant))
        .collect()
}

/// Warnings for the decisions portalctl cannot check against their authors: those on
/// grants whose owners are all team handles (git names people, not teams) and those on
/// grants nobody owns. One warning per owner, naming the items by line.
pub fn unverified_deciders(review: &ReviewFile) -> Vec<Diagnostic> {
    let mut by_owner: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for item in review
        .items
        .iter()
        .filter(|item| item.decision != Decision::Pending)
    {
        let handles_only = std::iter::once(&item.owner)
            .chain(&item.also_owned_by)
            .all(|owner| owner.starts_with('@'));
        if item.owner == UNOWNED || handles_only {
            by_owner.entry(item.owner.as_str()).or_default().push(item);
        }
    }
    by_owner
        .into_iter()
        .map(|(owner, items)| {
            let lines: Vec<String> = items.iter().map(|item| item.decision_line.to_string()).collect();
            let what = format!(
                "{} decision(s) (line(s) {})",
                items.len(),
                lines.join(", ")
            );
            let (message, hint) = if owner == UNOWNED {
                (
                    format!("{what} are on grants nobody owns: any author's decision is accepted"),
                    "give their folders `owners:`, or let your own CODEOWNERS rules say who approves changes to this file",
                )
            } else {
                (
                    format!(
                        "{what} of `{owner}` cannot be checked against their authors: git names people, not teams"
                    ),
                    "`portalctl codeowners` writes a CODEOWNERS line for this file that makes the code host require the team's approval",
                )
            };
            let mut warning = Diagnostic::error(
                RuleId::ReviewFile,
                Some(Location {
                    line: items[0].decision_line,
                    ..items[0].at.clone()
                }),
                message,
            )
            .with_hint(Some(hint.into()));
            warning.severity = crate::config::diagnostic::Severity::Warning;
            warning
        })
        .collect()
}

/// Checks the review files of a config (`reviews/*.yaml` in `source`), adding their
/// problems (and texts, for snippets) to `loaded`. A closed review (one with
/// `reviews/NAME.evidence.json`) is only read: the grants it revoked are gone. Returns
/// each review read, with its path in `source`, for the checks that need git.
pub fn check_source(
    source: &dyn crate::config::ConfigSource,
    loaded: &mut crate::config::Loaded,
    today: CalendarDate,
) -> Vec<(std::path::PathBuf, ReviewFile)> {
    let Ok(paths) = source.yaml_files() else {
        return Vec::new();
    };
    let paths: Vec<std::path::PathBuf> = paths.into_iter().filter(|path| is_review_path(path)).collect();
    if paths.is_empty() {
        return Vec::new();
    }
    let current = (!loaded.has_errors()).then(|| {
        grants(&super::report::rows(
            &loaded.state,
            &loaded.assurance.owners,
            today,
            None,
        ))
    });
    let mut open = Vec::new();
    for path in paths {
        let shown = source.display(&path);
        let text = match source.read(&path) {
            Ok(text) => text,
            Err(error) => {
                loaded.diagnostics.push(Diagnostic::error(
                    crate::config::diagnostic::RuleId::UnreadableFile,
                    Some(Location {
                        file: shown,
                        line: 1,
                        column: 1,
                    }),
                    format!("cannot read the review file: {error}"),
                ));
                continue;
            }
        };
        let (parsed, problems) = parse(&shown, &text);
        loaded.diagnostics.extend(problems);
        let closed = source.read(&path.with_extension("evidence.json")).is_ok();
        if let (Some(parsed), Some(current), false) = (parsed, &current, closed) {
            loaded
                .diagnostics
                .extend(check(&parsed, current, &loaded.assurance.owners));
            loaded.diagnostics.extend(unverified_deciders(&parsed));
            open.push((path, parsed));
        }
        loaded.texts.insert(shown, text);
    }
    loaded.diagnostics.sort_by_key(Diagnostic::sort_key);
    open
}

/// Whether a reviewer (`Name <email>` from git) may decide an item: any owner of the
/// folder who is an email must be that email; handles (`@team`) cannot be matched to a
/// commit's author here, so any author is accepted and the code host's CODEOWNERS line
/// for the review file ([`approvers`], written by `portalctl codeowners`) enforces them;
/// [`unverified_deciders`] warns about each such decision.
pub fn may_decide(item: &Item, author_email: &str) -> bool {
    let owners: Vec<&String> = std::iter::once(&item.owner).chain(&item.also_owned_by).collect();
    if owners.iter().any(|owner| owner.starts_with('@')) || item.owner == UNOWNED {
        return true;
    }
    owners
        .iter()
        .any(|owner| owner.eq_ignore_ascii_case(author_email))
}

/// Who made a decision and when, from the git history of the review file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reviewer {
    /// `Name <email>` of the commit's author.
    pub author: String,
    /// The commit that set the decision.
    pub commit: String,
    /// When that commit was authored, RFC 3339.
    pub date: String,
}

/// One decision as the evidence records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    pub owner: String,
    pub grant: Grant,
    pub decision: Decision,
    pub reason: Option<String>,
    /// Who decided (absent for pending grants revoked by `--revoke-pending`).
    pub reviewer: Option<Reviewer>,
}

/// A config edit `review close` made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRecord {
    pub file: String,
    /// The lines removed, as numbered before the edit.
    pub lines: Vec<u32>,
    /// What they held.
    pub removes: Vec<String>,
}

/// A grant the review's edits take away although nobody revoked it: it rested on the
/// group membership or portal membership that a revocation removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Collateral {
    pub grant: Grant,
    /// `keep` when the review decided to keep it (closing then needs
    /// `--allow-collateral`); absent when the review does not list it (outside its scope).
    pub decision: Option<Decision>,
    /// The owner it is listed under in the review, when it is.
    pub owner: Option<String>,
}

/// The grants in `before` that are not in `after` and that the review does not revoke:
/// what removing a group or portal membership takes away besides the revoked grant.
/// `revoking_pending` says whether pending items are revoked too.
pub fn collateral(
    review: &ReviewFile,
    before: &[Grant],
    after: &[Grant],
    revoking_pending: bool,
) -> Vec<Collateral> {
    let remaining: BTreeSet<(&str, &str, &str)> = after.iter().map(Grant::key).collect();
    let listed: BTreeMap<(&str, &str, &str), &Item> =
        review.items.iter().map(|item| (item.grant.key(), item)).collect();
    before
        .iter()
        .filter(|grant| !remaining.contains(&grant.key()))
        .filter_map(|grant| {
            let item = listed.get(&grant.key());
            let revoked = item.is_some_and(|item| {
                item.decision == Decision::Revoke || (revoking_pending && item.decision == Decision::Pending)
            });
            (!revoked).then(|| Collateral {
                grant: grant.clone(),
                decision: item.map(|item| item.decision),
                owner: item.map(|item| item.owner.clone()),
            })
        })
        .collect()
}

/// The evidence of a closed review (`reviews/NAME.evidence.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "portalctl review evidence")]
pub struct Evidence {
    pub format_version: u32,
    pub name: String,
    pub scope: Option<Scope>,
    pub started: Option<CalendarDate>,
    /// The commit the review started from.
    pub started_at: String,
    pub closed: CalendarDate,
    /// The commit the review file was closed at.
    pub closed_at: Option<String>,
    /// Whether pending grants were revoked (`--revoke-pending`).
    pub revoked_pending: bool,
    pub decisions: Vec<DecisionRecord>,
    pub edits: Vec<EditRecord>,
    /// Whether the review was closed with `--allow-collateral`.
    pub allowed_collateral: bool,
    /// The grants the edits took away besides those revoked (see [`collateral`]).
    pub collateral: Vec<Collateral>,
    /// The scope's grants before the revocations.
    pub before: Report,
    /// The scope's grants after them (the edited config).
    pub after: Report,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reviews_directory_is_reserved_at_the_root_only() {
        assert!(is_review_path(Path::new("reviews/q4.yaml")));
        assert!(!is_review_path(Path::new("reviews.yaml")));
        assert!(!is_review_path(Path::new("portals/reviews/q4.yaml")));
    }

    #[test]
    fn a_started_file_reads_back() {
        let grant = Grant {
            partner: "a@x.com".into(),
            via: "group:g".into(),
            shared_on: "/F".into(),
            level: Access::Edit,
            covers: vec!["/F".into(), "/F/Q3 \"x\"".into()],
        };
        let start = Start {
            name: "q4".into(),
            scope: Some(Scope::Portal("p".into())),
            started: "2026-12-01".parse().unwrap(),
            revision: "abc".into(),
        };
        let text = start_file(&start, std::slice::from_ref(&grant), &Owners::default());
        let (file, problems) = parse("r.yaml", &text);
        assert!(problems.is_empty(), "{problems:?}\n{text}");
        let file = file.unwrap();
        assert_eq!(file.name, "q4");
        assert_eq!(file.scope, start.scope);
        assert_eq!(file.items.len(), 1);
        assert_eq!(file.items[0].grant, grant);
        assert_eq!(file.items[0].owner, UNOWNED);
        assert_eq!(file.items[0].decision, Decision::Pending);
        assert!(check(&file, &[grant], &Owners::default()).is_empty());
        assert_eq!(check(&file, &[], &Owners::default()).len(), 1);
    }

    fn item(owner: &str, also: &[&str], via: &str, shared_on: &str, decision: Decision, line: u32) -> Item {
        Item {
            owner: owner.into(),
            grant: Grant {
                partner: "a@x.com".into(),
                via: via.into(),
                shared_on: shared_on.into(),
                level: Access::View,
                covers: vec![shared_on.into()],
            },
            also_owned_by: also.iter().map(|o| (*o).to_string()).collect(),
            decision,
            reason: None,
            decision_line: line,
            at: Location {
                file: "reviews/q.yaml".into(),
                line: line - 5,
                column: 7,
            },
        }
    }

    fn review(items: Vec<Item>) -> ReviewFile {
        ReviewFile {
            name: "q".into(),
            scope: None,
            started: None,
            revision: String::new(),
            items,
        }
    }

    #[test]
    fn collateral_is_what_goes_without_being_revoked() {
        let file = review(vec![
            item("@f", &[], "group:g", "/F", Decision::Revoke, 10),
            item("@d", &[], "group:g", "/D", Decision::Keep, 20),
            item("@e", &[], "user:a@x.com", "/E", Decision::Pending, 30),
        ]);
        let grants: Vec<Grant> = file.items.iter().map(|item| item.grant.clone()).collect();
        let outside = Grant {
            shared_on: "/Out".into(),
            ..grants[0].clone()
        };
        let before: Vec<Grant> = grants.iter().cloned().chain([outside.clone()]).collect();
        // The group goes: its two grants and the one outside the review; the pending one goes
        // too when pending items are revoked.
        let lost = collateral(&file, &before, &[], false);
        let kept = Collateral {
            grant: grants[1].clone(),
            decision: Some(Decision::Keep),
            owner: Some("@d".into()),
        };
        let pending = Collateral {
            grant: grants[2].clone(),
            decision: Some(Decision::Pending),
            owner: Some("@e".into()),
        };
        let unlisted = Collateral {
            grant: outside,
            decision: None,
            owner: None,
        };
        assert_eq!(lost, [kept.clone(), pending, unlisted.clone()]);
        assert_eq!(collateral(&file, &before, &[], true), [kept, unlisted]);
        assert!(collateral(&file, &before, &before, false).is_empty());
    }

    #[test]
    fn decisions_of_teams_and_of_nobody_are_named_as_unverified() {
        let file = review(vec![
            item("@acme/ops", &[], "group:g", "/F", Decision::Keep, 10),
            item("@acme/ops", &[], "group:g", "/G", Decision::Pending, 20),
            item("@acme/ops", &[], "group:h", "/F", Decision::Revoke, 30),
            item(
                "@acme/ops",
                &["olga@acme.io"],
                "group:i",
                "/F",
                Decision::Keep,
                40,
            ),
            item("fred@acme.io", &[], "group:g", "/H", Decision::Keep, 50),
            item(UNOWNED, &[], "group:g", "/U", Decision::Keep, 60),
        ]);
        let warnings = unverified_deciders(&file);
        let shown: Vec<(u32, &str)> = warnings
            .iter()
            .map(|w| (w.location.as_ref().unwrap().line, w.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    60,
                    "1 decision(s) (line(s) 60) are on grants nobody owns: any author's decision is accepted"
                ),
                (
                    10,
                    "2 decision(s) (line(s) 10, 30) of `@acme/ops` cannot be checked against their authors: git names people, not teams"
                ),
            ]
        );
        assert!(warnings.iter().all(|w| !w.is_error()));
    }

    #[test]
    fn a_bad_decision_is_placed_with_a_hint() {
        let text = "review:\n  name: q\nowners:\n  \"@a\":\n    - partner: a@x.com\n      via: user:a@x.com\n      shared_on: /F\n      level: view\n      decision: revok\n";
        let (_, problems) = parse("r.yaml", text);
        assert_eq!(problems.len(), 1);
        let location = problems[0].location.clone().unwrap();
        assert_eq!((location.line, location.column), (9, 17));
        assert_eq!(problems[0].hint.as_deref(), Some("did you mean `revoke`?"));
    }
}
