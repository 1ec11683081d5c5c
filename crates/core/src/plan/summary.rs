//! Counting a plan's changes per kind and action, for the closing summary line and the
//! JSON `summary` object.
//!
//! **Architecture invariant:** no I/O; counts are kept in a `BTreeMap` in kind order.

use std::collections::BTreeMap;
use std::fmt;

use super::{Action, ResourceChange};
use crate::model::Kind;

/// How many resources of one kind are created, updated and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl KindCounts {
    pub fn total(self) -> usize {
        self.create + self.update + self.delete
    }

    fn add(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Delete => self.delete += 1,
        }
    }
}

/// Counts per kind (kinds with no change are absent), in kind order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub by_kind: BTreeMap<Kind, KindCounts>,
}

impl Summary {
    pub fn of(changes: &[ResourceChange]) -> Self {
        let mut by_kind: BTreeMap<Kind, KindCounts> = BTreeMap::new();
        for change in changes {
            by_kind.entry(change.kind()).or_default().add(change.action);
        }
        Self { by_kind }
    }

    pub fn totals(&self) -> KindCounts {
        self.by_kind
            .values()
            .fold(KindCounts::default(), |sum, counts| KindCounts {
                create: sum.create + counts.create,
                update: sum.update + counts.update,
                delete: sum.delete + counts.delete,
            })
    }

    pub fn is_empty(&self) -> bool {
        self.by_kind.is_empty()
    }
}

/// `Plan: 3 to add, 1 to change, 2 to destroy (member +2, share +1 -2, portal ~1).` or
/// `No changes.`
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("No changes.");
        }
        let totals = self.totals();
        write!(
            f,
            "Plan: {} to add, {} to change, {} to destroy (",
            totals.create, totals.update, totals.delete
        )?;
        for (index, (kind, counts)) in self.by_kind.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{kind}")?;
            for (sign, count) in [('+', counts.create), ('~', counts.update), ('-', counts.delete)] {
                if count > 0 {
                    write!(f, " {sign}{count}")?;
                }
            }
        }
        f.write_str(").")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_no_changes_when_empty() {
        assert_eq!(Summary::default().to_string(), "No changes.");
    }

    #[test]
    fn counts_per_kind_in_kind_order() {
        let mut summary = Summary::default();
        summary.by_kind.insert(
            Kind::Share,
            KindCounts {
                create: 1,
                update: 0,
                delete: 2,
            },
        );
        summary.by_kind.insert(
            Kind::Member,
            KindCounts {
                create: 2,
                update: 0,
                delete: 0,
            },
        );
        summary.by_kind.insert(
            Kind::Portal,
            KindCounts {
                create: 0,
                update: 1,
                delete: 0,
            },
        );
        assert_eq!(
            summary.to_string(),
            "Plan: 3 to add, 1 to change, 2 to destroy (portal ~1, member +2, share +1 -2)."
        );
    }
}
