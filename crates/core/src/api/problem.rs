//! Turning rule violations into per-change problems: a violation belongs to the change
//! whose resource pointer is a prefix of the violation's pointer.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::rules::Violation;
use crate::model::{Change, ChangeError};

/// Why one change of a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// The index of the offending change in its batch; `null` when the problem cannot be
    /// pinned to one change.
    pub index: Option<usize>,
    /// A JSON pointer into the state, e.g. `/members/globex/alice@globex.com/role`.
    pub field: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Whether `prefix` is `pointer` or one of its ancestors.
fn is_within(pointer: &str, prefix: &str) -> bool {
    pointer
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Problems for structural errors from `State::apply`.
pub fn from_change_errors(errors: Vec<ChangeError>, changes: &[Change]) -> Vec<Problem> {
    errors
        .into_iter()
        .map(|error| Problem {
            index: Some(error.index),
            field: changes
                .get(error.index)
                .map(|change| change.key().pointer().to_string())
                .unwrap_or_default(),
            message: error.message,
            hint: None,
        })
        .collect()
}

/// Problems for rule violations. Each goes to the last change whose resource contains the
/// violation; failing that (a delete that leaves a dangling reference elsewhere), to the
/// last change whose name the message quotes.
pub fn from_violations(violations: &[Violation], changes: &[Change]) -> Vec<Problem> {
    let pointers: Vec<String> = changes
        .iter()
        .map(|change| change.key().pointer().to_string())
        .collect();
    let mut problems: Vec<Problem> = violations
        .iter()
        .map(|violation| {
            let at = violation.at.as_str();
            let contained = pointers.iter().rposition(|pointer| is_within(at, pointer));
            let quoted = || {
                changes.iter().rposition(|change| {
                    change
                        .key()
                        .parts()
                        .last()
                        .is_some_and(|name| violation.message.contains(&format!("`{name}`")))
                })
            };
            Problem {
                index: contained.or_else(quoted),
                field: at.to_string(),
                message: violation.message.clone(),
                hint: violation.hint.clone(),
            }
        })
        .collect();
    problems.sort_by(|a, b| (a.index, &a.field).cmp(&(b.index, &b.field)));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rules::Severity;
    use crate::model::{Pointer, ResourceKey};

    fn violation(at: &str, message: &str) -> Violation {
        Violation {
            severity: Severity::Error,
            rule: crate::model::rules::RuleId::GroupMemberNotPartner,
            at: Pointer::parse(at),
            subject: None,
            message: message.into(),
            hint: None,
            related: Vec::new(),
        }
    }

    #[test]
    fn maps_violations_to_the_change_that_owns_them() {
        let changes = vec![
            Change::Delete {
                key: ResourceKey::Group("g".into()),
            },
            Change::Delete {
                key: ResourceKey::Member {
                    portal: "p".into(),
                    email: "a@x.com".into(),
                },
            },
        ];
        let problems = from_violations(
            &[
                violation("/members/p/a@x.com/role", "unknown role `x`"),
                violation("/shares/~1F/group:g/group", "unknown group `g`"),
                violation("/members/p/a@x.com.au", "elsewhere"),
            ],
            &changes,
        );
        let indices: Vec<Option<usize>> = problems.iter().map(|p| p.index).collect();
        assert_eq!(indices, [None, Some(0), Some(1)]);
    }
}
