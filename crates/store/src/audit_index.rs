//! The audit log by subject and actor: which revisions touched a resource (a name, a path,
//! an email) or were made by an actor, over the whole log, newest first and paginated —
//! what the console's audit and partner pages ask, without reading any batch's changes.
//!
//! `audit_subjects` holds one row per subject and revision; it is derived from the audit
//! log and filled on read ([`Store::index_audit`]): the revisions after the last one
//! indexed are read once, their changes turned into subjects. Keeping it off the commit
//! path leaves commits as they are; any replica may index (the rows are the same, written
//! with `ON CONFLICT DO NOTHING`, and the mark only moves forward), and a copy of the store
//! (`portalctl migrate`) rebuilds it instead of copying it.
//!
//! Subjects: every part of a change's key and every email in its value, as `email:X`
//! (lowercase), `path:/A/B` or `name:N` (principals lose their `user:`, `group:`,
//! `portal:`, `org:` prefix). [`subject_of`] reads a search the same way.

use std::collections::BTreeSet;

use portalctl_core::api::{AuditEntry, ChangeMeta};
use portalctl_core::model::WireChange;

use crate::auth::{SqlValue, int_at, text_at};
use crate::{Store, StoreError};

/// The tables, the same in both dialects.
pub(crate) const TABLES: &str = "
    CREATE TABLE audit_subjects (
        subject TEXT NOT NULL,
        revision BIGINT NOT NULL,
        PRIMARY KEY (subject, revision)
    );
    CREATE TABLE audit_subjects_done (
        id INTEGER PRIMARY KEY,
        revision BIGINT NOT NULL
    );
    INSERT INTO audit_subjects_done (id, revision) VALUES (1, 0);
    CREATE INDEX audit_by_actor ON audit (token, revision);";

/// Rows per `INSERT` while indexing (10,000 parameters: under both dialects' limits).
const ROWS_PER_STATEMENT: usize = 5_000;

/// Which revisions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only those touching this resource: a name, a folder path or an email (exactly).
    pub resource: Option<String>,
    /// Only this actor's (the audit entry's `token`: `ci`, `staff:ann@acme.io`).
    pub actor: Option<String>,
    /// Only revisions below this one (the next page starts below the last one shown).
    pub before: Option<u64>,
    pub limit: usize,
}

/// The subject a key part, principal or search stands for.
pub fn subject_of(text: &str) -> String {
    let text = text.trim();
    let bare = ["user:", "group:", "portal:", "org:"]
        .into_iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .unwrap_or(text);
    if bare.starts_with('/') {
        format!("path:{bare}")
    } else if bare.contains('@') {
        format!("email:{}", bare.to_lowercase())
    } else {
        format!("name:{bare}")
    }
}

/// Every subject a change touches.
fn subjects_of(change: &WireChange, into: &mut BTreeSet<String>) {
    fn emails(value: &serde_json::Value, into: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::String(text) if text.contains('@') && !text.contains(char::is_whitespace) => {
                into.insert(subject_of(text));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| emails(item, into)),
            serde_json::Value::Object(fields) => fields.values().for_each(|field| emails(field, into)),
            _ => {}
        }
    }
    for part in &change.key {
        into.insert(subject_of(part));
    }
    if let Some(value) = &change.value {
        emails(value, into);
    }
}

impl Store {
    /// Indexes the revisions committed since the last call (on any replica); returns the
    /// last revision indexed.
    ///
    /// # Errors
    /// Storage errors; a malformed audit row.
    pub fn index_audit(&self) -> Result<u64, StoreError> {
        let done = self
            .backend
            .sql_query("SELECT revision FROM audit_subjects_done WHERE id = 1", &[])?
            .first()
            .map(|row| int_at(row, 0, "audit index"))
            .transpose()?
            .unwrap_or(0);
        let done = u64::try_from(done).unwrap_or(0);
        let head = self.backend.head()?;
        for revision in done + 1..=head {
            let Some(changes) = self.backend.audit_changes(revision, 0, usize::MAX >> 1)? else {
                continue;
            };
            let mut subjects = BTreeSet::new();
            for change in &changes.changes {
                subjects_of(change, &mut subjects);
            }
            let subjects: Vec<String> = subjects.into_iter().collect();
            let at = SqlValue::int(i64::try_from(revision).unwrap_or(i64::MAX));
            for chunk in subjects.chunks(ROWS_PER_STATEMENT) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|n| format!("(${}, ${})", 2 * n + 1, 2 * n + 2))
                    .collect();
                let params: Vec<SqlValue> = chunk
                    .iter()
                    .flat_map(|subject| [SqlValue::text(subject), at.clone()])
                    .collect();
                self.backend.sql_execute(
                    &format!(
                        "INSERT INTO audit_subjects (subject, revision) VALUES {} ON CONFLICT DO NOTHING",
                        rows.join(", ")
                    ),
                    &params,
                )?;
            }
            self.backend.sql_execute(
                "UPDATE audit_subjects_done SET revision = $1 WHERE id = 1 AND revision < $1",
                &[at],
            )?;
        }
        Ok(head.max(done))
    }

    /// The revisions matching `query`, newest first, without their changes (each entry's
    /// `changes` is empty; `change_count` says how many it holds). Indexes what is new
    /// first.
    ///
    /// # Errors
    /// Storage errors; a malformed audit row.
    pub fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.index_audit()?;
        let limit = SqlValue::int(i64::try_from(query.limit.clamp(1, 1000)).unwrap_or(1000));
        let before = SqlValue::int(
            query
                .before
                .and_then(|before| i64::try_from(before).ok())
                .unwrap_or(i64::MAX),
        );
        let actor = SqlValue::text(query.actor.as_deref().map_or("", str::trim));
        const COLUMNS: &str = "a.revision, a.time, a.token, a.meta, a.change_count, a.caused_count";
        let rows = match query
            .resource
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
        {
            Some(resource) => self.backend.sql_query(
                &format!(
                    "SELECT {COLUMNS} FROM audit_subjects s JOIN audit a ON a.revision = s.revision
                     WHERE s.subject = $1 AND ($2 = '' OR a.token = $2) AND s.revision < $3
                     ORDER BY s.revision DESC LIMIT $4"
                ),
                &[SqlValue::text(&subject_of(resource)), actor, before, limit],
            )?,
            None => self.backend.sql_query(
                &format!(
                    "SELECT {COLUMNS} FROM audit a WHERE ($1 = '' OR a.token = $1) AND a.revision < $2
                     ORDER BY a.revision DESC LIMIT $3"
                ),
                &[actor, before, limit],
            )?,
        };
        rows.into_iter()
            .map(|mut row| {
                let meta: ChangeMeta = serde_json::from_str(&text_at(&mut row, 3, "audit entry")?)
                    .map_err(|error| crate::auth::corrupt("audit entry", &error.to_string()))?;
                let change_count = u64::try_from(int_at(&row, 4, "audit entry")?).unwrap_or(0);
                Ok(AuditEntry {
                    revision: u64::try_from(int_at(&row, 0, "audit entry")?).unwrap_or(0),
                    time: text_at(&mut row, 1, "audit entry")?,
                    token: text_at(&mut row, 2, "audit entry")?,
                    meta,
                    change_count,
                    changes: Vec::new(),
                    caused_count: u64::try_from(int_at(&row, 5, "audit entry")?).unwrap_or(0),
                    changes_truncated: change_count > 0,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_principals_and_searches_read_as_the_same_subjects() {
        assert_eq!(subject_of("Alice@Globex.com"), "email:alice@globex.com");
        assert_eq!(subject_of("user:alice@globex.com"), "email:alice@globex.com");
        assert_eq!(subject_of("group:finance"), "name:finance");
        assert_eq!(subject_of(" /Partners/Q3 "), "path:/Partners/Q3");
        assert_eq!(subject_of("globex"), "name:globex");
        let change: WireChange = serde_json::from_value(serde_json::json!({
            "op": "put", "kind": "group", "key": ["finance"],
            "value": {"members": ["a@x.com", "B@x.com"], "description": "a b@c"}
        }))
        .unwrap();
        let mut subjects = BTreeSet::new();
        subjects_of(&change, &mut subjects);
        assert_eq!(
            subjects.into_iter().collect::<Vec<_>>(),
            ["email:a@x.com", "email:b@x.com", "name:finance"]
        );
    }
}
