//! Access assurance: what must always hold about access (assertions), who must approve a
//! change (owners), who has access to what at a point in time (reports), and access
//! reviews in git that revoke what nobody vouches for.
//!
//! All of it is read from the config next to the state (`assertions:` at the top level,
//! `owners:` on portals, folders and partner orgs) and kept apart from [`crate::model::State`]:
//! the live service holds no assertions and no owners, so `import`, `plan` and the wire
//! format do not see them.
//!
//! Every question about access goes through [`crate::access::AccessIndex`]: this module
//! never evaluates shares itself.
//!
//! **Architecture invariant:** pure. No I/O, no clock: `today` and the time a report
//! names come in as values; the CLI reads and writes the files.

pub mod assertion;
pub mod codeowners;
pub mod edit;
pub mod owners;
pub mod report;
pub mod review;

use crate::config::yaml::Node;
use crate::config::{Diagnostic, SourceMap};
use crate::model::State;

pub use assertion::{Assertion, Violation};
pub use owners::Owners;

/// What a config says about assurance, next to its state.
#[derive(Debug, Clone, Default)]
pub struct Assurance {
    pub assertions: Vec<Assertion>,
    pub owners: Owners,
}

/// The assurance parts of the files as the merge met them, resolved once the whole state
/// is known ([`Assurance::resolve`]).
#[derive(Debug, Default)]
pub struct Written {
    /// Each assertion's file, node and document, in file order.
    pub assertions: Vec<(u32, Node, crate::config::document::AssertionDoc)>,
    /// Each `owners:` list: its file, what it is on, its node.
    pub owners: Vec<(u32, owners::Owned, Node)>,
}

/// Adds an error for each way the desired state breaks one of the config's assertions
/// (at the assertion, with the places that write the grants breaking it). Only for an
/// otherwise valid config: assertions about a broken one would only add noise. `validate`,
/// `plan`, `apply` and `diff` call it; `load` does not, so that `explain` and `report`
/// still answer about a config that breaks an assertion.
pub fn check_assertions(loaded: &mut crate::config::Loaded, today: crate::model::CalendarDate) {
    if loaded.has_errors() || loaded.assurance.assertions.is_empty() {
        return;
    }
    let violations = assertion::evaluate(&loaded.assurance.assertions, &loaded.state, today);
    if violations.is_empty() {
        return;
    }
    loaded
        .diagnostics
        .extend(assertion::to_diagnostics(&violations, &loaded.source_map));
    loaded.diagnostics.sort_by_key(Diagnostic::sort_key);
}

impl Assurance {
    /// Checks what was written against the merged state (unknown folders, orgs,
    /// permissions; forms that do not fit) and keeps what is well-formed.
    pub fn resolve(written: Written, state: &State, map: &SourceMap) -> (Self, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let owners = Owners::resolve(written.owners, state, map, &mut diagnostics);
        let assertions = written
            .assertions
            .into_iter()
            .filter_map(|(file, node, doc)| {
                assertion::resolve(file, &node, doc, state, map, &mut diagnostics)
            })
            .collect();
        (Self { assertions, owners }, diagnostics)
    }
}
