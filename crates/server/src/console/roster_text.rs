//! The roster's search text: one line per membership of a published revision — its
//! portal, email, org, role and non-sensitive attribute values, lowercase — built once per
//! revision and searched with one substring scan of contiguous memory, instead of a pass
//! over every membership's scattered strings (at 100k partners the pass was memory-bound:
//! five pointer chases a member, p50 18 ms under load). Beside it, an index of the
//! non-sensitive attribute values by name answers `name=value` over every portal with the
//! matching lines only (the pass over every membership took p99 63 ms at 100k).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use portalctl_store::Snapshot;

/// Separates the fields of a line; a search never contains it.
const FIELD: char = '\u{1}';

/// The search text of one revision.
#[derive(Debug)]
pub struct RosterText {
    revision: u64,
    /// `portal␁email␁org␁role␁value␁…\n` per membership, in the members map's order.
    text: String,
    /// Where each line ends (its `\n`), ascending.
    ends: Vec<usize>,
    /// Attribute name → lowercase value → the lines (ascending) of the memberships with it.
    attributes: HashMap<String, HashMap<String, Vec<usize>>>,
}

/// The search text of the newest revision asked for.
#[derive(Debug, Default)]
pub struct RosterTextCache(Mutex<Option<Arc<RosterText>>>);

impl RosterTextCache {
    /// The search text of `snapshot`, built when the revision is new.
    pub fn of(&self, snapshot: &Snapshot) -> Arc<RosterText> {
        let mut cached = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(text) = cached.as_ref().filter(|text| text.revision == snapshot.revision) {
            return Arc::clone(text);
        }
        let built = Arc::new(RosterText::build(&snapshot.state, snapshot.revision));
        *cached = Some(Arc::clone(&built));
        built
    }
}

impl RosterText {
    /// The search text of `state` at `revision`.
    pub fn build(state: &portalctl_core::model::State, revision: u64) -> Self {
        let sensitive: std::collections::BTreeSet<&str> = state
            .attributes
            .iter()
            .filter(|(_, attribute)| attribute.sensitive)
            .map(|(name, _)| name.as_str())
            .collect();
        let mut text = String::with_capacity(state.members.len() * 64);
        let mut ends = Vec::with_capacity(state.members.len());
        let mut attributes: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        for ((portal, email), member) in &state.members {
            let clean = |value: &str| value.replace([FIELD, '\n'], " ").to_lowercase();
            text.push_str(portal);
            text.push(FIELD);
            text.push_str(&clean(email));
            text.push(FIELD);
            text.push_str(&clean(member.org.as_deref().unwrap_or_default()));
            text.push(FIELD);
            text.push_str(&clean(&member.role));
            for (name, value) in &member.attributes {
                if !sensitive.contains(name.as_str()) {
                    let value = value.to_string();
                    text.push(FIELD);
                    text.push_str(&clean(&value));
                    attributes
                        .entry(name.clone())
                        .or_default()
                        .entry(value.to_lowercase())
                        .or_default()
                        .push(ends.len());
                }
            }
            ends.push(text.len());
            text.push('\n');
        }
        Self {
            revision,
            text,
            ends,
            attributes,
        }
    }

    /// The `(portal, email)` of line `line`.
    fn key_of(&self, line: usize) -> Option<(&str, &str)> {
        let start = if line == 0 { 0 } else { self.ends[line - 1] + 1 };
        let text = &self.text[start..self.ends[line]];
        let (portal, rest) = text.split_once(FIELD)?;
        Some((portal, rest.split(FIELD).next()?))
    }

    /// The `(portal, email)` of every membership whose non-sensitive attribute `name` has
    /// the value `value` (lowercase), in the members map's order.
    pub fn with_attribute<'a>(
        &'a self,
        name: &str,
        value: &str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.attributes
            .get(name)
            .and_then(|values| values.get(value))
            .into_iter()
            .flatten()
            .filter_map(|line| self.key_of(*line))
    }

    /// The `(portal, email)` of every membership whose email, org, role or a non-sensitive
    /// attribute value contains `q` (lowercase), in the members map's order.
    pub fn matching<'a>(&'a self, q: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let q_clean = !q.is_empty() && !q.contains([FIELD, '\n']);
        let mut last_line = usize::MAX;
        self.text
            .match_indices(q)
            .take_while(move |_| q_clean)
            .filter_map(move |(at, _)| {
                let line = self.ends.partition_point(|end| *end < at);
                if line == last_line {
                    return None;
                }
                let start = if line == 0 { 0 } else { self.ends[line - 1] + 1 };
                let (portal, email) = self.key_of(line)?;
                // A match inside the portal's name is not one (the portal is a filter).
                if at < start + portal.len() + 1 {
                    return None;
                }
                last_line = line;
                Some((portal, email))
            })
    }
}
