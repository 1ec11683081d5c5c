//! The markdown rendering, for a pull-request comment: the access impact first (when
//! there is one, at most half the comment), then the summary table, then
//! the details folded in `<details>`, one fold per portal (the portal and its members)
//! and one for every other resource. The whole stays under [`MAX_CHARS`] characters (a
//! GitHub comment holds 65,536); what does not fit is cut at resource boundaries and a
//! closing note says how much was left out.
//!
//! **Architecture invariant:** a pure function to a `String`; no I/O.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::ControlFlow;

use super::lines::{self, Line};
use super::{Notice, PlanReport, impact, redact};
use crate::access::ImpactView;
use crate::model::ResourceKey;
use crate::plan::{Action, ResourceChange};

/// The most characters the comment may have.
pub const MAX_CHARS: usize = 60_000;
/// Room kept for the closing note about what was cut.
const NOTE_ROOM: usize = 500;
/// Notices of one kind listed before "and N more".
const MAX_NOTICES_PER_KIND: usize = 50;

/// Renders the plan as a pull-request comment of at most [`MAX_CHARS`] characters.
pub fn render(report: &PlanReport<'_>) -> String {
    render_within(report, MAX_CHARS)
}

fn render_within(report: &PlanReport<'_>, max_chars: usize) -> String {
    let plan = report.plan;
    let mut out = format!("## {}\n\n", report.command);
    // A template change first, once, with its values and the portals it reaches (their
    // own changes follow in the folds below).
    for template in crate::plan::template_changes(plan) {
        let _ = writeln!(out, "**{}**\n", escape(&template.summary()));
        let mut fields = String::new();
        for Line {
            sign,
            depth,
            text: line,
        } in lines::template_fields(&template)
        {
            let _ = writeln!(fields, "{sign} {}{line}", "    ".repeat(depth.saturating_sub(1)));
        }
        let fence = fence_for(std::slice::from_ref(&fields));
        let _ = writeln!(out, "{fence}diff\n{fields}{fence}\n");
        let _ = writeln!(
            out,
            "Portals: {}\n",
            escape(&super::text::folded_names(&template.portals))
        );
    }

    if let Some(impact) = report.access_impact {
        access_impact(&mut out, impact, report.redact_emails, max_chars / 2);
    }
    if let Some(approvals) = report.approvals.filter(|approvals| !approvals.is_empty()) {
        approvals_needed(&mut out, approvals, report.redact_emails);
    }

    let _ = write!(out, "**Target:** `{}`", report.target);
    if let Some(commit) = report.git_commit {
        let _ = write!(out, " · **Commit:** `{commit}`");
    }
    if let Some(digest) = report.config_digest {
        // The digest carries its `sha256:` prefix already.
        let short: String = digest.trim_start_matches("sha256:").chars().take(12).collect();
        let _ = write!(out, " · **Config:** `sha256:{short}`");
    }
    out.push_str("\n\n");

    let summary = plan.summary();
    if summary.is_empty() {
        out.push_str("**No changes.**\n\n");
    } else {
        out.push_str("| Resource | Add | Change | Destroy |\n|---|--:|--:|--:|\n");
        for (kind, counts) in &summary.by_kind {
            let _ = writeln!(
                out,
                "| {kind} | {} | {} | {} |",
                counts.create, counts.update, counts.delete
            );
        }
        let totals = summary.totals();
        let _ = writeln!(
            out,
            "| **Total** | **{}** | **{}** | **{}** |\n",
            totals.create, totals.update, totals.delete
        );
        let _ = writeln!(out, "{summary}\n");
        if !plan.mail.is_empty() {
            let _ = writeln!(out, "**Mail:** apply {}.\n", plan.mail);
        }
    }

    notices(&mut out, &Notice::all(plan), report.redact_emails);

    let budget = max_chars.saturating_sub(NOTE_ROOM);
    let mut omitted = 0;
    for (title, changes) in groups(&plan.resources) {
        let blocks: Vec<String> = changes
            .iter()
            .map(|change| redact::shown(&block(change), report.redact_emails))
            .collect();
        let fence = fence_for(&blocks);
        let open = format!(
            "<details><summary>{} ({})</summary>\n\n{fence}diff\n",
            title,
            counts(&changes)
        );
        let close = format!("{fence}\n\n</details>\n\n");
        let mut body = String::new();
        let mut shown = 0;
        if omitted == 0 {
            for block in &blocks {
                if out.len() + open.len() + body.len() + block.len() + close.len() > budget {
                    break;
                }
                body.push_str(block);
                shown += 1;
            }
        }
        omitted += blocks.len() - shown;
        if shown > 0 {
            out.push_str(&open);
            out.push_str(&body);
            out.push_str(&close);
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "> **Note:** {omitted} of {} resource changes are not shown: this comment is limited to {max_chars} characters. Run `portalctl plan` or use `--format json` for the full plan.\n",
            plan.resources.len()
        );
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// How many things of an owner's the section lists before "and N more".
const MAX_OWNED_LISTED: usize = 10;

/// The "Approvals needed" section: each owner (from `owners:` in the config) and the
/// portals, folders and orgs of theirs the plan touches.
fn approvals_needed(out: &mut String, approvals: &crate::assurance::owners::Approvals, redact: bool) {
    out.push_str("### Approvals needed\n\n| Owner | Because the plan touches |\n|---|---|\n");
    for (owner, owned) in &approvals.by_owner {
        let mut listed: Vec<String> = owned
            .iter()
            .take(MAX_OWNED_LISTED)
            .map(|owned| escape(&owned.to_string()))
            .collect();
        if owned.len() > MAX_OWNED_LISTED {
            listed.push(format!("and {} more", owned.len() - MAX_OWNED_LISTED));
        }
        let owner = redact::shown(owner, redact);
        let _ = writeln!(out, "| {} | {} |", escape(&owner), listed.join(", "));
    }
    out.push('\n');
}

/// The "Access impact" section: the totals, then one `diff` line per change, cut to
/// `budget` characters with a note saying how many were left out.
fn access_impact(out: &mut String, impact: &dyn ImpactView, redact: bool, budget: usize) {
    out.push_str("### Access impact\n\n");
    let counts = impact.counts();
    if counts.changes == 0 {
        let _ = writeln!(out, "{}\n", impact::NO_CHANGE);
        return;
    }
    let _ = writeln!(out, "**{}**\n", counts.totals());
    // The lines that may fit: those past the budget are never rendered, so an impact of
    // millions of changes costs what the comment shows.
    let mut lines: Vec<String> = Vec::new();
    let mut length = 0;
    impact.for_each_change(&mut |change| {
        let (sign, text) = impact::line(change, redact);
        let line = format!("{sign} {text}\n");
        length += line.len();
        if length > budget {
            return ControlFlow::Break(());
        }
        lines.push(line);
        ControlFlow::Continue(())
    });
    let fence = fence_for(&lines);
    let start = out.len();
    let _ = writeln!(out, "{fence}diff");
    let mut shown = 0;
    for line in &lines {
        if out.len() - start + line.len() + fence.len() + NOTE_ROOM > budget {
            break;
        }
        out.push_str(line);
        shown += 1;
    }
    let _ = writeln!(out, "{fence}\n");
    if shown < counts.changes {
        let _ = writeln!(
            out,
            "> **Note:** {} of {} access changes are not shown: this comment is limited to {} characters. Use `--format json` for all of them.\n",
            counts.changes - shown,
            counts.changes,
            MAX_CHARS
        );
    }
}

fn notices(out: &mut String, notices: &[Notice<'_>], redact: bool) {
    if notices.is_empty() {
        return;
    }
    out.push_str("### Notices\n\n");
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for notice in notices {
        let seen = per_kind.entry(notice.kind()).or_default();
        *seen += 1;
        if *seen <= MAX_NOTICES_PER_KIND {
            let _ = writeln!(out, "- {}", escape(&redact::shown(&notice.message(), redact)));
        }
    }
    for (kind, count) in per_kind {
        if count > MAX_NOTICES_PER_KIND {
            let _ = writeln!(
                out,
                "- … and {} more `{kind}` notices",
                count - MAX_NOTICES_PER_KIND
            );
        }
    }
    out.push('\n');
}

/// One fold per portal (its own change and its members'), in portal order, then one
/// for everything else; each keeps the plan's apply order.
fn groups(changes: &[ResourceChange]) -> Vec<(String, Vec<&ResourceChange>)> {
    let mut portals: BTreeMap<&str, Vec<&ResourceChange>> = BTreeMap::new();
    let mut others = Vec::new();
    for change in changes {
        match &change.key {
            ResourceKey::Portal(portal) | ResourceKey::Member { portal, .. } => {
                portals.entry(portal).or_default().push(change);
            }
            _ => others.push(change),
        }
    }
    let mut groups: Vec<(String, Vec<&ResourceChange>)> = portals
        .into_iter()
        .map(|(portal, changes)| (format!("Portal <code>{}</code>", escape(portal)), changes))
        .collect();
    if !others.is_empty() {
        groups.push(("Other resources".to_string(), others));
    }
    groups
}

fn counts(changes: &[&ResourceChange]) -> String {
    let count = |action: Action| changes.iter().filter(|c| c.action == action).count();
    let parts: Vec<String> = [
        (count(Action::Create), "to add"),
        (count(Action::Update), "to change"),
        (count(Action::Delete), "to destroy"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    parts.join(", ")
}

/// One resource as `diff` lines: the sign in the first column, so GitHub colours it.
fn block(change: &ResourceChange) -> String {
    let mut text = String::new();
    for Line {
        sign,
        depth,
        text: line,
    } in lines::describe(change)
    {
        let _ = writeln!(text, "{sign} {}{line}", "    ".repeat(depth));
    }
    text
}

/// A code fence longer than any run of backticks in the blocks.
fn fence_for(blocks: &[String]) -> String {
    let longest = blocks
        .iter()
        .flat_map(|block| block.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// Escapes what HTML or markdown would interpret outside code.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Folder, State};
    use crate::plan::{Plan, diff};
    use crate::render::fixture;

    #[test]
    fn renders_the_representative_plan() {
        let plan = fixture::plan();
        let impact = fixture::impact();
        let mut report = fixture::report(&plan, &impact);
        report.config_digest = Some("0b5a3cfa4e3c3e6f0d8c1e0b8f7b0f1b9a6e1d2c3b4a5968778695a4b3c2d1e0");
        insta::assert_snapshot!(render(&report));
    }

    #[test]
    fn a_template_change_comes_first_and_its_portals_stay_folded() {
        let plan = crate::render::fixture::template_plan();
        let text = render(&PlanReport::new(&plan, "sqlite:portalctl.db"));
        let summary = text
            .find("template partner-default: color on 12 portals")
            .unwrap();
        assert!(summary < text.find("<details>").unwrap());
        insta::assert_snapshot!(text);
        let terminal = crate::render::text::render(&PlanReport::new(&plan, "sqlite:portalctl.db"), false);
        insta::assert_snapshot!("template_change_text", terminal);
    }

    #[test]
    fn says_no_changes_when_empty() {
        let plan = Plan::default();
        assert_eq!(
            render(&PlanReport::new(&plan, "sqlite:portalctl.db")),
            "## portalctl plan\n\n**Target:** `sqlite:portalctl.db`\n\n**No changes.**\n"
        );
    }

    #[test]
    fn stays_under_the_limit_and_says_what_was_cut() {
        let mut desired = State::default();
        for n in 0..5_000 {
            desired.folders.insert(
                format!("/Partners/Folder{n:05}"),
                Folder {
                    description: Some("quarterly reports for the channel".into()),
                },
            );
        }
        let plan = diff(&State::default(), &desired);
        let text = render(&PlanReport::new(&plan, "sqlite:portalctl.db"));
        assert!(text.len() <= MAX_CHARS, "{}", text.len());
        assert!(text.contains("resource changes are not shown"), "{text}");
        assert!(text.contains("| folder | 5000 | 0 | 0 |"));
        assert!(text.trim_end().ends_with("for the full plan."));
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count()
        );
    }

    #[test]
    fn cuts_a_long_access_impact_with_a_note() {
        use crate::access::{AccessChange, Grant, GrantKind};
        use crate::model::Access;
        let changes = (0..5_000)
            .map(|n| AccessChange {
                email: format!("partner{n:05}@globex.com"),
                folder: "/Partners/Finance".into(),
                before: None,
                after: Some(Access::View),
                via: vec![Grant {
                    kind: GrantKind::Portal,
                    principal: "portal:globex".parse().expect("a principal"),
                    shared_folder: "/Partners".into(),
                    level: Access::View,
                    shared_level: Access::View,
                    role: "viewer".into(),
                    expires: None,
                }],
                ..AccessChange::default()
            })
            .collect();
        let impact = crate::access::AccessImpact { changes };
        let plan = fixture::plan();
        let mut report = PlanReport::new(&plan, "t");
        report.access_impact = Some(&impact);
        let text = render(&report);
        assert!(text.len() <= MAX_CHARS, "{}", text.len());
        assert!(
            text.starts_with(
                "## portalctl plan\n\n### Access impact\n\n**5000 partners gain access, 0 lose**"
            )
        );
        assert!(text.contains("access changes are not shown"), "{text}");
        assert!(text.contains("| **Total** |"));
    }

    #[test]
    fn redacts_every_email() {
        let plan = fixture::plan();
        let impact = fixture::impact();
        let mut report = PlanReport::new(&plan, "t");
        report.access_impact = Some(&impact);
        report.redact_emails = true;
        fixture::assert_no_email(&render(&report));
    }

    #[test]
    fn fences_outlast_backticks_in_descriptions() {
        assert_eq!(fence_for(&["a ```` b".to_string()]), "`````");
        assert_eq!(fence_for(&["plain".to_string()]), "```");
    }

    #[test]
    fn shows_no_sensitive_value() {
        fixture::assert_no_secret(&render(&PlanReport::new(&fixture::plan(), "t")));
    }
}
