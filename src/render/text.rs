//! The terminal rendering: Terraform-like `+` create, `~` update, `-` delete, one block
//! per resource with its changed fields, notices, and a closing summary line.
//!
//! **Architecture invariant:** a pure function to a `String`; colour is a parameter (the
//! caller looks at the TTY and `NO_COLOR`), and the output reads right without it.

use std::fmt::Write as _;

use super::lines::{self, Line};
use super::{Notice, PlanReport};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";

/// Renders the plan for a terminal; `color` adds ANSI colours.
pub fn render(report: &PlanReport<'_>, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();

    // Slot: access impact. It goes first, before the context; nothing is written yet.

    let _ = writeln!(out, "Target: {}", report.target);
    if let Some(commit) = report.git_commit {
        let _ = writeln!(out, "Commit: {commit}");
    }
    out.push('\n');

    let plan = report.plan;
    if !plan.is_empty() {
        out.push_str("portalctl will make these changes:\n\n");
        for change in &plan.resources {
            for line in lines::describe(change) {
                let _ = writeln!(out, "{}", paint.line(&line));
            }
            out.push('\n');
        }
    }

    let notices = Notice::all(plan);
    if !notices.is_empty() {
        out.push_str("Notices:\n");
        for notice in &notices {
            let _ = writeln!(out, "  {} {}", paint.wrap(YELLOW, "!"), notice.message());
        }
        out.push('\n');
    }

    let summary = plan.summary().to_string();
    let _ = writeln!(out, "{}", paint.wrap(BOLD, &summary));
    out
}

struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn line(&self, line: &Line) -> String {
        let indent = "  ".repeat(1 + 2 * line.depth);
        let code = match line.sign {
            '+' => GREEN,
            '-' => RED,
            '~' => YELLOW,
            _ => "",
        };
        let sign = if code.is_empty() {
            line.sign.to_string()
        } else {
            self.wrap(code, &line.sign.to_string())
        };
        let text = if line.depth == 0 {
            self.wrap(BOLD, &line.text)
        } else {
            line.text.clone()
        };
        format!("{indent}{sign} {text}").trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::render::fixture;

    #[test]
    fn renders_the_representative_plan() {
        let plan = fixture::plan();
        let mut report = PlanReport::new(&plan, "sqlite:portalctl.db");
        report.git_commit = Some("3b18e512dba79e4c8300dd08aeb37f8e728b8dad");
        insta::assert_snapshot!(render(&report, false));
    }

    #[test]
    fn says_no_changes_when_empty() {
        let plan = Plan::default();
        assert_eq!(
            render(&PlanReport::new(&plan, "sqlite:portalctl.db"), false),
            "Target: sqlite:portalctl.db\n\nNo changes.\n"
        );
    }

    #[test]
    fn colours_only_when_asked() {
        let plan = fixture::plan();
        let report = PlanReport::new(&plan, "sqlite:portalctl.db");
        assert!(!render(&report, false).contains('\x1b'));
        let coloured = render(&report, true);
        assert!(coloured.contains(GREEN) && coloured.contains(RED) && coloured.contains(YELLOW));
    }

    #[test]
    fn shows_no_sensitive_value() {
        let plan = fixture::plan();
        for color in [false, true] {
            fixture::assert_no_secret(&render(&PlanReport::new(&plan, "t"), color));
        }
    }
}
