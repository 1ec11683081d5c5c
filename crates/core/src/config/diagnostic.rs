//! Diagnostics: one problem with its place in a file, rendered as text (with a source
//! snippet and a caret, as compilers do), JSON, or GitHub Actions annotations.

use std::fmt::Write as _;

use serde::Serialize;

pub use crate::model::rules::{RuleId, Severity};

/// A place in a file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Diagnostic {
    #[serde(serialize_with = "severity_name")]
    #[schemars(with = "SeverityName")]
    pub severity: Severity,
    /// The rule broken, by its stable kebab-case name: `portalctl rules NAME` explains it.
    #[serde(serialize_with = "rule_name")]
    #[schemars(with = "RuleName")]
    pub rule: RuleId,
    /// `None` for problems that belong to no file (e.g. no workspace anywhere).
    pub location: Option<Location>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `serialize_with` passes a reference"
)]
fn severity_name<S: serde::Serializer>(severity: &Severity, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    })
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `serialize_with` passes a reference"
)]
fn rule_name<S: serde::Serializer>(rule: &RuleId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(rule.name())
}

/// A rule's name as written in JSON.
#[derive(schemars::JsonSchema)]
#[schemars(
    description = "The rule's stable kebab-case name, e.g. `seat-limit`: `portalctl rules NAME` explains it.",
    extend("pattern" = "^[a-z0-9]+(-[a-z0-9]+)*$")
)]
struct RuleName(#[expect(dead_code, reason = "schema only: `rule_name` writes the name")] String);

impl Diagnostic {
    pub fn error(rule: RuleId, location: Option<Location>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            rule,
            location,
            message: message.into(),
            hint: None,
            related: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    #[must_use]
    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Sort key: by file, line, column; file-less problems first.
    pub fn sort_key(&self) -> (Option<Location>, String) {
        (self.location.clone(), self.message.clone())
    }
}

/// Renders diagnostics for a terminal or a log: `error[rule-name]: message`, `  --> file:line:col`,
/// the source line with a caret under the column, and hints. `source_line` gives the
/// text of a line of a file, when it is known.
pub fn render_text(
    diagnostics: &[Diagnostic],
    color: bool,
    source_line: &dyn Fn(&str, u32) -> Option<String>,
) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let label = match diagnostic.severity {
            Severity::Error => paint("1;31", &format!("error[{}]", diagnostic.rule)),
            Severity::Warning => paint("1;33", &format!("warning[{}]", diagnostic.rule)),
        };
        let _ = writeln!(out, "{label}: {}", diagnostic.message);
        if let Some(location) = &diagnostic.location {
            let _ = writeln!(out, "  {} {location}", paint("1;34", "-->"));
            if let Some(line) = source_line(&location.file, location.line) {
                let number = location.line.to_string();
                let gutter = " ".repeat(number.len());
                let caret_at: usize = line
                    .chars()
                    .take(location.column.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { 4 } else { 1 })
                    .sum();
                let shown = line.replace('\t', "    ");
                let _ = writeln!(out, "   {gutter} |");
                let _ = writeln!(out, "   {number} | {shown}");
                let _ = writeln!(
                    out,
                    "   {gutter} | {}{}",
                    " ".repeat(caret_at),
                    paint("1;31", "^")
                );
            }
        }
        for related in &diagnostic.related {
            let _ = writeln!(out, "  note: {} at {}", related.message, related.location);
        }
        if let Some(hint) = &diagnostic.hint {
            let _ = writeln!(out, "  {}: {hint}", paint("1;36", "hint"));
        }
        out.push('\n');
    }
    out
}

/// GitHub Actions workflow commands, one per line, so problems appear on the PR's lines.
pub fn render_github(diagnostics: &[Diagnostic]) -> String {
    let escape_data = |text: &str| text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    let escape_property = |text: &str| escape_data(text).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for diagnostic in diagnostics {
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = diagnostic.message.clone();
        if let Some(hint) = &diagnostic.hint {
            message.push_str(&format!(" (hint: {hint})"));
        }
        match &diagnostic.location {
            Some(location) => {
                let _ = writeln!(
                    out,
                    "::{command} file={},line={},col={},title={}::{}",
                    escape_property(&location.file),
                    location.line,
                    location.column,
                    diagnostic.rule,
                    escape_data(&message)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "::{command} title={}::{}",
                    diagnostic.rule,
                    escape_data(&message)
                );
            }
        }
    }
    out
}

/// The JSON document of `validate --format json`.
///
/// ```json
/// {"format_version": 1, "valid": false, "errors": 1, "warnings": 0,
///  "diagnostics": [{"severity": "error", "rule": "unknown-role", "location": {"file": "a.yaml", "line": 3, "column": 5},
///                   "message": "...", "hint": "..."}]}
/// ```
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl validate --format json", rename = "ValidateDocument")]
pub struct DiagnosticsReport<'a> {
    #[schemars(extend("const" = 1))]
    pub format_version: u32,
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: &'a [Diagnostic],
}

/// The severity as written in JSON.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[expect(dead_code, reason = "schema only: `severity_name` writes the names")]
enum SeverityName {
    Error,
    Warning,
}

impl<'a> DiagnosticsReport<'a> {
    pub fn new(diagnostics: &'a [Diagnostic]) -> Self {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Self {
            format_version: 1,
            valid: errors == 0,
            errors,
            warnings: diagnostics.len() - errors,
            diagnostics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Diagnostic {
        Diagnostic::error(
            RuleId::MemberUnknownRole,
            Some(Location {
                file: "portals.yaml".into(),
                line: 2,
                column: 11,
            }),
            "unknown role `viwer`",
        )
        .with_hint(Some("did you mean `viewer`?".into()))
    }

    #[test]
    fn text_points_a_caret_at_the_column() {
        let text = render_text(&[sample()], false, &|_, _| Some("    role: viwer".into()));
        assert_eq!(
            text,
            "error[unknown-role]: unknown role `viwer`\n  --> portals.yaml:2:11\n     |\n   2 |     role: viwer\n     |           ^\n  hint: did you mean `viewer`?\n\n"
        );
    }

    #[test]
    fn github_annotations_escape_their_fields() {
        let text = render_github(&[sample()]);
        assert_eq!(
            text,
            "::error file=portals.yaml,line=2,col=11,title=unknown-role::unknown role `viwer` (hint: did you mean `viewer`?)\n"
        );
    }
}
