//! The rules document of `portalctl rules [NAME]`, from the one table of rules
//! ([`crate::model::rules::RULES`]): a list (name and summary), one rule explained with
//! its example, like `rustc --explain`, as text or JSON, and `docs/rules.md`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::rules::{Origin, RULES, Rule};

/// `portalctl rules --format json`: every rule.
#[derive(Debug, Serialize)]
pub struct RulesDocument {
    pub format_version: u32,
    pub rules: Vec<RuleEntry>,
}

/// One rule as written in JSON.
#[derive(Debug, Serialize)]
pub struct RuleEntry {
    /// Stable kebab-case name, as diagnostics show it.
    pub name: &'static str,
    /// `load`, `rule` (one resource alone) or `cross-resource`.
    pub judged: &'static str,
    pub summary: &'static str,
    /// The example's files: name and text.
    pub example: Vec<ExampleFile>,
}

#[derive(Debug, Serialize)]
pub struct ExampleFile {
    pub file: &'static str,
    pub text: String,
}

impl RuleEntry {
    pub fn new(rule: &Rule) -> Self {
        Self {
            name: rule.name,
            judged: match rule.origin {
                Origin::Load => "load",
                Origin::Alone => "rule",
                Origin::Others => "cross-resource",
            },
            summary: rule.summary,
            example: rule
                .example_files()
                .into_iter()
                .map(|(file, text)| ExampleFile { file, text })
                .collect(),
        }
    }
}

impl RulesDocument {
    pub fn new() -> Self {
        Self {
            format_version: 1,
            rules: RULES.iter().map(RuleEntry::new).collect(),
        }
    }
}

impl Default for RulesDocument {
    fn default() -> Self {
        Self::new()
    }
}

/// When a rule is judged, in a sentence.
fn judged(rule: &Rule) -> &'static str {
    match rule.origin {
        Origin::Load => "when the files are read, before any rule",
        Origin::Alone => "on one resource alone (the service answers `422 invalid_changes`)",
        Origin::Others => "against other resources (the service answers `409 conflicts_with_state`)",
    }
}

/// Every rule, one line each: its name, padded, and its summary.
pub fn list_text() -> String {
    let width = RULES.iter().map(|rule| rule.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for rule in RULES {
        let _ = writeln!(out, "{:width$}  {}", rule.name, rule.summary);
    }
    let _ = writeln!(
        out,
        "\n{} rules; `portalctl rules NAME` explains one with an example.",
        RULES.len()
    );
    out
}

/// One rule: its name and summary, when it is judged, and the example that breaks it.
/// `reported` is what `validate` says on the example, when the caller ran it.
pub fn explain_text(rule: &Rule, reported: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}\n", rule.name, rule.summary);
    let _ = writeln!(out, "Judged {}.\n", judged(rule));
    let _ = writeln!(out, "A config that breaks it:\n");
    for (file, text) in rule.example_files() {
        let _ = writeln!(out, "  {file}:");
        for line in text.lines() {
            let _ = writeln!(out, "    {line}");
        }
        out.push('\n');
    }
    if let Some(reported) = reported.filter(|text| !text.trim().is_empty()) {
        let _ = writeln!(out, "`portalctl validate` on it reports:\n");
        for line in reported.trim_end().lines() {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    out
}

/// `docs/rules.md`: every rule with its summary, when it is judged, and its example.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from the table of rules (crates/core/src/model/rules/table.rs): \
         run `portalctl rules --format markdown > docs/rules.md` to regenerate. -->\n\n",
    );
    out.push_str("# Rules\n\n");
    out.push_str(
        "Every problem `portalctl validate` (and the service) reports names its rule: \
         `error[seat-limit]: …` in text, `\"rule\": \"seat-limit\"` in JSON, `title=seat-limit` \
         in GitHub annotations. `portalctl rules` lists them; `portalctl rules NAME` explains \
         one.\n\n",
    );
    out.push_str("| Rule | What it asks |\n|---|---|\n");
    for rule in RULES {
        let _ = writeln!(
            out,
            "| [`{0}`](#{0}) | {1} |",
            rule.name,
            rule.summary.replace('|', "\\|")
        );
    }
    for rule in RULES {
        let _ = write!(
            out,
            "\n## {}\n\n{}.\n\nJudged {}.\n\n",
            rule.name,
            capitalise(rule.summary),
            judged(rule)
        );
        for (file, text) in rule.example_files() {
            let language = if file.ends_with(".csv") { "csv" } else { "yaml" };
            let _ = write!(out, "`{file}`:\n\n```{language}\n{text}```\n\n");
        }
    }
    // One trailing newline.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_one_line_per_rule() {
        let text = list_text();
        for rule in RULES {
            assert!(
                text.lines()
                    .any(|line| line.starts_with(rule.name) && line.ends_with(rule.summary)),
                "{}",
                rule.name
            );
        }
    }

    #[test]
    fn an_explanation_shows_every_file_of_the_example() {
        let rule = Rule::named("csv-shape").expect("a rule");
        let text = explain_text(rule, Some("error[csv-shape]: unknown column `rol`"));
        assert!(text.starts_with("csv-shape: "), "{text}");
        assert!(text.contains("  partners.csv:\n    email,rol\n"), "{text}");
        assert!(
            text.contains("  error[csv-shape]: unknown column `rol`"),
            "{text}"
        );
    }

    #[test]
    fn markdown_names_every_rule_once_as_a_heading() {
        let text = markdown();
        for rule in RULES {
            assert_eq!(
                text.matches(&format!("\n## {}\n", rule.name)).count(),
                1,
                "{}",
                rule.name
            );
        }
    }
}
