//! Turning rule violations into per-change problems: a violation belongs to the change
//! whose resource pointer is a prefix of the violation's pointer.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::State;
use crate::model::rules::{Suggestion, Violation};
use rustc_hash::FxHashMap;

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
    /// Where the hint is still to be looked for ([`Problems::resolve_hints`]); never on
    /// the wire.
    #[serde(skip)]
    #[schemars(skip)]
    pub suggestion: Option<Suggestion>,
}

/// The most problems a refusal lists; the rest are only counted
/// ([`Problems::total`]), so a batch with a million problems answers quickly and small.
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// The problems of a refused batch: at most [`MAX_LISTED_PROBLEMS`] of them, in the order
/// of the changes they concern, and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    pub listed: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    /// All of `problems` (for callers that made few).
    pub fn all(problems: Vec<Problem>) -> Self {
        Self {
            total: problems.len(),
            listed: problems,
        }
    }

    /// Looks for the "did you mean" hints of the first `limit` listed problems that have
    /// one to look for, in `state`; the others get none.
    ///
    /// # Guarantees
    /// At most `limit` scans of a collection, however many problems there are: hints are
    /// for reading, a few per answer.
    pub fn resolve_hints(&mut self, state: &State, limit: usize) {
        self.resolve_hints_unless(state, limit, &|| false);
    }

    /// As [`Problems::resolve_hints`], but stops looking (the rest get no hint) as soon as
    /// `stop` says so: a hint is a courtesy, and whoever holds `state` may be keeping a
    /// writer waiting for it.
    pub fn resolve_hints_unless(&mut self, state: &State, limit: usize, stop: &dyn Fn() -> bool) {
        let mut left = limit;
        for problem in &mut self.listed {
            let Some(suggestion) = problem.suggestion.take() else {
                continue;
            };
            if left > 0 && problem.hint.is_none() {
                left -= 1;
                match suggestion.resolve_unless(state, stop) {
                    Some(hint) => problem.hint = hint,
                    None => left = 0,
                }
            }
        }
    }

    /// How many were not listed.
    pub fn unlisted(&self) -> usize {
        self.total.saturating_sub(self.listed.len())
    }
}

/// Problems for structural errors from `State::apply`, the first
/// [`MAX_LISTED_PROBLEMS`] listed.
pub fn from_change_errors(errors: Vec<ChangeError>, changes: &[Change]) -> Problems {
    let total = errors.len();
    let listed = errors
        .into_iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|error| Problem {
            index: Some(error.index),
            field: changes
                .get(error.index)
                .map(|change| change.key().pointer().to_string())
                .unwrap_or_default(),
            message: error.message,
            hint: None,
            suggestion: None,
        })
        .collect();
    Problems { listed, total }
}

/// The names a message quotes in backticks.
fn quoted_names(message: &str) -> impl Iterator<Item = &str> {
    message.split('`').skip(1).step_by(2)
}

/// Problems for rule violations, the first [`MAX_LISTED_PROBLEMS`] by change and field
/// listed. Each goes to the last change whose resource contains the violation; failing
/// that (a delete that leaves a dangling reference elsewhere), to the last change whose
/// name the message quotes.
///
/// # Guarantees
/// Costs about the number of violations times their pointers' depth (plus a sort), never
/// violations × changes; only the listed problems' texts are copied.
pub fn from_violations(violations: &[Violation], changes: &[Change]) -> Problems {
    let mut by_pointer: FxHashMap<String, usize> = FxHashMap::default();
    let mut by_name: FxHashMap<String, usize> = FxHashMap::default();
    for (at, change) in changes.iter().enumerate() {
        by_pointer.insert(change.key().pointer().to_string(), at);
        if let Some(name) = change.key().parts().last() {
            by_name.insert(name.clone(), at);
        }
    }
    let index_of = |violation: &Violation| {
        let at = violation.at.as_str();
        // The pointer itself and each ancestor: `/a/b/c`, `/a/b`, `/a`.
        let contained = std::iter::once(at)
            .chain(
                at.char_indices()
                    .rev()
                    .filter(|(_, c)| *c == '/')
                    .map(|(i, _)| &at[..i]),
            )
            .filter_map(|prefix| by_pointer.get(prefix).copied())
            .max();
        contained.or_else(|| {
            quoted_names(&violation.message)
                .filter_map(|name| by_name.get(name).copied())
                .max()
        })
    };
    let mut order: Vec<(Option<usize>, &Violation)> = violations
        .iter()
        .map(|violation| (index_of(violation), violation))
        .collect();
    let by_change_then_field = |a: &(Option<usize>, &Violation), b: &(Option<usize>, &Violation)| {
        (a.0, a.1.at.as_str()).cmp(&(b.0, b.1.at.as_str()))
    };
    if order.len() > MAX_LISTED_PROBLEMS {
        order.select_nth_unstable_by(MAX_LISTED_PROBLEMS, by_change_then_field);
        order.truncate(MAX_LISTED_PROBLEMS);
    }
    order.sort_by(by_change_then_field);
    let listed = order
        .into_iter()
        .map(|(index, violation)| Problem {
            index,
            field: violation.at.as_str().to_string(),
            message: violation.message.clone(),
            hint: violation.hint.clone(),
            suggestion: violation.suggestion.clone(),
        })
        .collect();
    Problems {
        listed,
        total: violations.len(),
    }
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
            suggestion: None,
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
        let indices: Vec<Option<usize>> = problems.listed.iter().map(|p| p.index).collect();
        assert_eq!(indices, [None, Some(0), Some(1)]);
        assert_eq!(problems.total, 3);
    }

    #[test]
    fn lists_the_first_problems_by_change_and_counts_them_all() {
        let changes: Vec<Change> = (0..300)
            .map(|at| Change::Delete {
                key: ResourceKey::Group(format!("g{at:03}")),
            })
            .collect();
        let violations: Vec<Violation> = (0..300)
            .rev()
            .map(|at| violation(&format!("/groups/g{at:03}/members/x"), "not a partner"))
            .collect();
        let problems = from_violations(&violations, &changes);
        assert_eq!(problems.total, 300);
        assert_eq!(problems.unlisted(), 300 - MAX_LISTED_PROBLEMS);
        let indices: Vec<Option<usize>> = problems.listed.iter().map(|p| p.index).collect();
        let expected: Vec<Option<usize>> = (0..MAX_LISTED_PROBLEMS).map(Some).collect();
        assert_eq!(indices, expected);
    }

    /// A hint search gives up when told to (a writer waits for the state it reads), and
    /// the problems after it get none; untold, it finds the closest partner.
    #[test]
    fn a_hint_search_stops_when_told_and_leaves_the_rest_without_hints() {
        let mut state = State::default();
        for n in 0..5_000 {
            state.members.insert(
                ("p".into(), format!("partner{n:05}@x.com")),
                serde_json::from_value(serde_json::json!({"role": "viewer"})).unwrap(),
            );
        }
        let unknown = |n: usize| {
            let mut violation = violation(&format!("/groups/g/members/u{n}"), "not a partner");
            violation.suggestion = Some(crate::model::rules::Suggestion {
                word: format!("partner0{n:04}@x.co"),
                among: crate::model::rules::Among::Partners,
                otherwise: Some("add them first".into()),
            });
            violation
        };
        let changes = vec![Change::Delete {
            key: ResourceKey::Group("g".into()),
        }];
        let violations: Vec<Violation> = (0..3).map(unknown).collect();

        let mut untold = from_violations(&violations, &changes);
        untold.resolve_hints_unless(&state, 5, &|| false);
        let hints: Vec<Option<&str>> = untold.listed.iter().map(|p| p.hint.as_deref()).collect();
        assert_eq!(
            hints,
            [
                Some("did you mean `partner00000@x.com`?"),
                Some("did you mean `partner00001@x.com`?"),
                Some("did you mean `partner00002@x.com`?"),
            ]
        );

        let asked = std::cell::Cell::new(0);
        let mut told = from_violations(&violations, &changes);
        told.resolve_hints_unless(&state, 5, &|| {
            asked.set(asked.get() + 1);
            true
        });
        assert!(
            told.listed
                .iter()
                .all(|problem| problem.hint.is_none() && problem.suggestion.is_none())
        );
        assert_eq!(asked.get(), 1, "asked once, after the first names, then gave up");
    }
}
