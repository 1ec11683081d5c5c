//! The access impact as lines, shared by the text and markdown renderers:
//! `+ chen@fabrikam.com  view  /Partners/Finance  via group contoso-finance`, one per
//! partner and folder, in the impact's order (email, then folder). A dashboard is named
//! as such: `+ ben@contoso.co.uk  view  dashboard /Partners/Finance/Q3 Revenue  via …`.
//!
//! **Architecture invariant:** no I/O; emails pass through [`super::redact`] when the
//! report asks for it, so no line shows a raw email then.

use crate::access::{AccessChange, ContentKind, Grant, GrantKind};

/// What an empty impact says.
pub(super) const NO_CHANGE: &str = "No change in who can see what.";

/// Every change as a display line (`+ email  level  folder  via …`), then the totals;
/// for reports that are not plans, such as drift.
pub fn section_lines(impact: &crate::access::AccessImpact, redact: bool) -> Vec<String> {
    if impact.is_empty() {
        return vec![NO_CHANGE.to_string()];
    }
    let mut lines = change_lines(&impact.changes, redact);
    lines.push(format!("{}.", impact.totals()));
    lines
}

/// The lines of `changes`, without totals.
fn change_lines(changes: &[AccessChange], redact: bool) -> Vec<String> {
    changes
        .iter()
        .map(|change| {
            let (sign, text) = line(change, redact);
            format!("{sign} {text}")
        })
        .collect()
}

/// [`section_lines`] of a bounded summary: its first changes, a line saying how many more
/// there are (`more` says where to see them all), and the totals.
pub fn summary_lines(summary: &crate::access::ImpactSummary, redact: bool, more: &str) -> Vec<String> {
    let counts = summary.counts;
    if counts.changes == 0 {
        return vec![NO_CHANGE.to_string()];
    }
    let mut lines = change_lines(&summary.first, redact);
    if counts.changes > summary.first.len() {
        lines.push(format!(
            "… and {} more ({more})",
            counts.changes - summary.first.len()
        ));
    }
    lines.push(format!("{}.", counts.totals()));
    lines
}

/// One change: a sign (`+` gain, `-` loss, `~` level change) and the text after it.
pub(super) fn line(change: &AccessChange, redact: bool) -> (char, String) {
    let email = super::redact::shown(&change.email, redact);
    let (sign, level) = match (change.before, change.after) {
        (None, Some(level)) => ('+', level.to_string()),
        (Some(level), None) => ('-', level.to_string()),
        (Some(before), Some(after)) if before == after => {
            let (gained, lost) = change.permission_delta();
            let mut text = format!("{after}, permissions");
            for permission in gained {
                text.push_str(&format!(" +{permission}"));
            }
            for permission in lost {
                text.push_str(&format!(" -{permission}"));
            }
            ('~', text)
        }
        (Some(before), Some(after)) => ('~', format!("{before} → {after}")),
        (None, None) => (' ', String::new()),
    };
    let via = via(&change.via, &change.folder, redact);
    let path = content(change.kind, &change.folder);
    (sign, format!("{email}  {level}  {path}  via {via}"))
}

/// A path as the impact names it: a folder by its path alone (`/Partners/Finance`), a
/// dashboard with its kind (`dashboard /Partners/Finance/Q3 Revenue`).
pub(super) fn content(kind: ContentKind, path: &str) -> String {
    match kind {
        ContentKind::Folder => path.to_string(),
        ContentKind::Dashboard => format!("dashboard {path}"),
    }
}

/// `group finance (shared on /Partners), user share`.
pub(super) fn via(grants: &[Grant], folder: &str, redact: bool) -> String {
    let parts: Vec<String> = grants
        .iter()
        .map(|grant| super::redact::shown(&grant_via(grant, folder), redact))
        .collect();
    parts.join(", ")
}

/// One path that grants `folder`: `group finance (shared on /Partners)`, `user share`.
/// The one place a grant's principal is read: by its name after the `principal:` prefix,
/// since the access index hands principals over as text (`group:finance`); the kind comes
/// from [`GrantKind`].
pub(super) fn grant_via(grant: &Grant, folder: &str) -> String {
    let name = grant.principal.name();
    let mut text = match grant.kind {
        GrantKind::Direct => "user share".to_string(),
        GrantKind::Group => format!("group {name}"),
        GrantKind::Portal => format!("portal {name}"),
        GrantKind::Org => format!("org {name}"),
    };
    if grant.shared_folder != folder {
        text.push_str(&format!(" (shared on {})", grant.shared_folder));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Access;

    fn grant(kind: GrantKind, principal: &str, shared_folder: &str) -> Grant {
        Grant {
            kind,
            principal: principal.parse().expect("a principal"),
            shared_folder: shared_folder.into(),
            level: Access::View,
            shared_level: Access::View,
            role: "viewer".into(),
            expires: None,
        }
    }

    fn check(before: Option<Access>, after: Option<Access>, via: Vec<Grant>, expected: &str) {
        check_on(
            ContentKind::Folder,
            "/Partners/Finance",
            before,
            after,
            via,
            expected,
        );
    }

    fn check_on(
        kind: ContentKind,
        path: &str,
        before: Option<Access>,
        after: Option<Access>,
        via: Vec<Grant>,
        expected: &str,
    ) {
        let change = AccessChange {
            email: "ana@contoso.com".into(),
            folder: path.into(),
            kind,
            before,
            after,
            via,
            ..AccessChange::default()
        };
        let (sign, text) = line(&change, false);
        assert_eq!(format!("{sign} {text}"), expected);
    }

    #[test]
    fn reads_like_the_issue() {
        use GrantKind::{Direct, Group, Portal};
        check(
            None,
            Some(Access::View),
            vec![grant(Group, "group:contoso-finance", "/Partners/Finance")],
            "+ ana@contoso.com  view  /Partners/Finance  via group contoso-finance",
        );
        check(
            Some(Access::View),
            None,
            vec![grant(Portal, "portal:contoso", "/Partners/Finance")],
            "- ana@contoso.com  view  /Partners/Finance  via portal contoso",
        );
        check(
            Some(Access::View),
            Some(Access::Edit),
            vec![grant(Direct, "user:ana@contoso.com", "/Partners/Finance")],
            "~ ana@contoso.com  view → edit  /Partners/Finance  via user share",
        );
        check(
            None,
            Some(Access::View),
            vec![
                grant(Direct, "user:ana@contoso.com", "/Partners/Finance"),
                grant(Group, "group:finance", "/Partners"),
            ],
            "+ ana@contoso.com  view  /Partners/Finance  via user share, group finance (shared on /Partners)",
        );
    }

    #[test]
    fn a_dashboard_is_named_as_one() {
        use GrantKind::{Direct, Group};
        check_on(
            ContentKind::Dashboard,
            "/Partners/Finance/Q3 Revenue",
            None,
            Some(Access::View),
            vec![
                grant(Direct, "user:ana@contoso.com", "/Partners/Finance/Q3 Revenue"),
                grant(Group, "group:finance", "/Partners/Finance"),
            ],
            "+ ana@contoso.com  view  dashboard /Partners/Finance/Q3 Revenue  via user share, group finance (shared on /Partners/Finance)",
        );
    }
}
