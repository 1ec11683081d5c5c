//! The terminal rendering: Terraform-like `+` create, `~` update, `-` delete, one block
//! per resource with its changed fields, notices, and a closing summary line.
//!
//! **Architecture invariant:** pure: it writes to the writer it is given (or a `String`),
//! nothing else; colour is a parameter (the caller looks at the TTY and `NO_COLOR`), and
//! the output reads right without it. The access impact is written change by change, so
//! a plan of millions of access changes is never held as text.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use super::lines::{self, Line};
use super::{Notice, PlanReport, impact, redact};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";

/// Renders the plan for a terminal; `color` adds ANSI colours.
pub fn render(report: &PlanReport<'_>, color: bool) -> String {
    let mut out = Vec::new();
    render_to(report, color, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the rendering is UTF-8")
}

/// [`render`], written to `out` as it goes.
///
/// # Errors
/// `out`'s.
pub fn render_to(report: &PlanReport<'_>, color: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if report.redact_emails {
        // Addresses, member sets and notices carry emails too: redact the whole page.
        let mut redacting = redact::RedactingWriter::new(out);
        write_page(report, &Paint { color }, &mut redacting)?;
        redacting.finish()
    } else {
        write_page(report, &Paint { color }, out)?;
        out.flush()
    }
}

fn write_page(report: &PlanReport<'_>, paint: &Paint, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if let Some(impact) = report.access_impact {
        if impact.is_empty() {
            writeln!(out, "Access impact: {}\n", impact::NO_CHANGE)?;
        } else {
            out.write_all(b"Access impact:\n")?;
            let mut failed = Ok(());
            impact.for_each_change(&mut |change| {
                let (sign, text) = impact::line(change, report.redact_emails);
                failed = writeln!(out, "  {} {text}", paint.sign(sign));
                if failed.is_ok() {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            });
            failed?;
            writeln!(out, "\n  {}\n", paint.wrap(BOLD, &impact.counts().totals()))?;
        }
    }
    write_rest_of_page(report, paint, out)
}

/// Everything after the access impact, written in pieces of about 64 KB: an apply from
/// empty at a million partners describes a million resources.
fn write_rest_of_page(
    report: &PlanReport<'_>,
    paint: &Paint,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    const PIECE: usize = 1 << 16;
    let mut out = String::new();
    let _ = writeln!(out, "Target: {}", report.target);
    if let Some(commit) = report.git_commit {
        let _ = writeln!(out, "Commit: {commit}");
    }
    out.push('\n');

    let plan = report.plan;
    let templates = crate::plan::template_changes(plan);
    if !templates.is_empty() {
        // One entry per template change, with each field's old → new; the portals that
        // only follow it are folded into a list under it instead of a block each.
        out.push_str("Templates:\n");
        for template in &templates {
            let _ = writeln!(
                out,
                "  {} {}",
                paint.sign('~'),
                paint.wrap(BOLD, &template.summary())
            );
            for line in lines::template_fields(template) {
                let _ = writeln!(out, "{}", paint.line(&line));
            }
            let _ = writeln!(out, "      {}", folded_names(&template.portals));
        }
        out.push('\n');
    }
    if !plan.is_empty() {
        out.push_str("portalctl will make these changes:\n\n");
        for change in &plan.resources {
            if crate::plan::templates::only_from_template(change) {
                continue;
            }
            for line in lines::describe(change) {
                let _ = writeln!(out, "{}", paint.line(&line));
            }
            out.push('\n');
            if out.len() >= PIECE {
                sink.write_all(out.as_bytes())?;
                out.clear();
            }
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
    if !plan.mail.is_empty() {
        let _ = writeln!(out, "Mail: apply {}.", plan.mail);
    }
    sink.write_all(out.as_bytes())
}

/// Portal names, at most ten, then how many more.
pub(super) fn folded_names(portals: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = portals.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if portals.len() > SHOWN {
        let _ = write!(text, " and {} more", portals.len() - SHOWN);
    }
    text
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

    fn sign(&self, sign: char) -> String {
        let code = match sign {
            '+' => GREEN,
            '-' => RED,
            '~' => YELLOW,
            _ => "",
        };
        if code.is_empty() {
            sign.to_string()
        } else {
            self.wrap(code, &sign.to_string())
        }
    }

    fn line(&self, line: &Line) -> String {
        let indent = "  ".repeat(1 + 2 * line.depth);
        let sign = self.sign(line.sign);
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
        let impact = fixture::impact();
        let report = fixture::report(&plan, &impact);
        insta::assert_snapshot!(render(&report, false));
    }

    #[test]
    fn says_so_when_the_impact_is_empty_and_leaves_it_out_when_absent() {
        let plan = Plan::default();
        let empty = crate::access::AccessImpact::default();
        let mut report = PlanReport::new(&plan, "t");
        assert!(!render(&report, false).contains("Access impact"));
        report.access_impact = Some(&empty);
        assert!(
            render(&report, false)
                .starts_with("Access impact: No change in who can see what.\n\nTarget: t\n")
        );
    }

    #[test]
    fn redacts_every_email() {
        let plan = fixture::plan();
        let impact = fixture::impact();
        let mut report = PlanReport::new(&plan, "t");
        report.access_impact = Some(&impact);
        report.redact_emails = true;
        for color in [false, true] {
            fixture::assert_no_email(&render(&report, color));
        }
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
