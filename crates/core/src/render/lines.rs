//! The lines that describe one resource change, shared by the text and markdown
//! renderers: a header (`+ portal globex`), then one line per field (`~ color: "#000000"
//! → "#0F62FE"`), with sub-lines for set elements and for long texts diffed with
//! `similar`.
//!
//! **Architecture invariant:** no I/O; works only from masked `fields`.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, FieldChange, FieldDelta, ResourceChange, SENSITIVE_MASK};

/// Texts longer than this (or with a line break) are shown as a line diff.
const LONG_TEXT: usize = 60;

/// One line: a sign (`+`, `-`, `~` or ` `), a nesting depth (0 for the resource
/// header) and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub sign: char,
    pub depth: usize,
    pub text: String,
}

impl Line {
    fn new(sign: char, depth: usize, text: impl Into<String>) -> Self {
        Self {
            sign,
            depth,
            text: text.into(),
        }
    }
}

/// The header and field lines of one change. Deletes show only their header (and
/// reason): what goes away is named by the key.
pub(super) fn describe(change: &ResourceChange) -> Vec<Line> {
    let mut header = change.key.to_string();
    if let Some(reason) = &change.reason {
        header.push_str(&format!("  ({reason})"));
    }
    let mut lines = vec![Line::new(change.action.sign(), 0, header)];
    if change.action != Action::Delete {
        for field in &change.fields() {
            field_lines(change.action, field, &mut lines);
        }
    }
    lines
}

/// The field lines of a template change: each field it moves, old → new.
pub(super) fn template_fields(template: &crate::plan::TemplateChange) -> Vec<Line> {
    let mut lines = Vec::new();
    for field in &template.fields {
        field_lines(Action::Update, field, &mut lines);
    }
    lines
}

fn field_lines(action: Action, field: &FieldChange, out: &mut Vec<Line>) {
    let path = &field.path;
    match &field.delta {
        FieldDelta::Sensitive { before, after } => {
            let shown = |value: &Option<_>| if value.is_some() { SENSITIVE_MASK } else { "(none)" };
            if action == Action::Create {
                out.push(Line::new('+', 1, format!("{path} = {SENSITIVE_MASK}")));
            } else {
                out.push(Line::new(
                    '~',
                    1,
                    format!("{path}: {} → {}", shown(before), shown(after)),
                ));
            }
        }
        FieldDelta::Set { added, removed } => {
            if action == Action::Create {
                let items: Vec<String> = added.iter().map(value_text).collect();
                out.push(Line::new('+', 1, format!("{path} = [{}]", items.join(", "))));
            } else {
                out.push(Line::new('~', 1, format!("{path}:")));
                out.extend(added.iter().map(|item| Line::new('+', 2, value_text(item))));
                out.extend(removed.iter().map(|item| Line::new('-', 2, value_text(item))));
            }
        }
        FieldDelta::Value { before, after } => {
            if let Some((old, new)) = long_texts(before.as_ref(), after.as_ref()) {
                let sign = if action == Action::Create { '+' } else { '~' };
                out.push(Line::new(sign, 1, format!("{path}:")));
                out.extend(text_diff(old, new));
            } else if action == Action::Create {
                out.push(Line::new(
                    '+',
                    1,
                    format!("{path} = {}", optional_text(after.as_ref())),
                ));
            } else {
                out.push(Line::new(
                    '~',
                    1,
                    format!(
                        "{path}: {} → {}",
                        optional_text(before.as_ref()),
                        optional_text(after.as_ref())
                    ),
                ));
            }
        }
    }
}

/// Both sides as text when either is a long or multi-line string (and neither is a
/// non-string).
fn long_texts<'a>(before: Option<&'a Value>, after: Option<&'a Value>) -> Option<(&'a str, &'a str)> {
    let text = |value: Option<&'a Value>| match value {
        None => Some(""),
        Some(Value::String(text)) => Some(text.as_str()),
        Some(_) => None,
    };
    let (old, new) = (text(before)?, text(after)?);
    let long = |text: &str| text.chars().count() > LONG_TEXT || text.contains('\n');
    (long(old) || long(new)).then_some((old, new))
}

fn text_diff(old: &str, new: &str) -> Vec<Line> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| {
            let sign = match change.tag() {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            };
            Line::new(sign, 2, change.value().trim_end_matches(['\n', '\r']))
        })
        .collect()
}

/// A value as it reads in a plan: strings quoted, everything else as JSON.
pub(super) fn value_text(value: &Value) -> String {
    value.to_string()
}

fn optional_text(value: Option<&Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), value_text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(before: Option<Value>, after: Option<Value>, expected: &[&str]) {
        let field = FieldChange {
            path: "description".into(),
            delta: FieldDelta::Value { before, after },
        };
        let mut lines = Vec::new();
        field_lines(Action::Update, &field, &mut lines);
        let shown: Vec<String> = lines
            .iter()
            .map(|line| format!("{}{} {}", "  ".repeat(line.depth), line.sign, line.text))
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn short_values_read_old_to_new() {
        check(
            Some(json!("a")),
            Some(json!("b")),
            &["  ~ description: \"a\" → \"b\""],
        );
        check(None, Some(json!(true)), &["  ~ description: (none) → true"]);
    }

    #[test]
    fn long_texts_are_diffed_line_by_line() {
        check(
            Some(json!("first line\nsecond line\n")),
            Some(json!("first line\nthird line\n")),
            &[
                "  ~ description:",
                "      first line",
                "    - second line",
                "    + third line",
            ],
        );
    }
}
