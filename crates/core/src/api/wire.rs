//! The request and response bodies of the API: the wire format is a public contract, so
//! these types live at the edge and are documented in `schemas/openapi.json`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::access::FolderAccess;
use crate::api::{AuditEntry, ChangeMeta};
use crate::model::{Access, AttributeValue, Change, State};

/// `GET /v1/state`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateResponse {
    /// Grows by one with every committed batch; also sent as the `ETag`.
    pub revision: u64,
    pub state: State,
}

/// `POST /v1/changes`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesRequest {
    /// The revision the changes were planned against; `null` skips the check.
    pub expected_revision: Option<u64>,
    pub changes: Vec<Change>,
    #[serde(default)]
    pub meta: ChangeMeta,
}

/// [`ChangesRequest`] as a client sends it: borrowed, so that a batch of a million changes
/// is serialised without a copy of it. Its JSON is a [`ChangesRequest`]'s.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChangesRequestRef<'a> {
    pub expected_revision: Option<u64>,
    pub changes: &'a [Change],
    pub meta: &'a ChangeMeta,
}

/// The answer to every successful write.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionResponse {
    /// The revision after the write.
    pub revision: u64,
}

/// One resource in a list: its natural key's parts (as in a change) and its value.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListItem {
    pub key: Vec<String>,
    /// Absent for group members, which are only a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// A page of a list, in the stable order of natural keys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPage {
    pub items: Vec<ListItem>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub revision: u64,
}

/// `?limit=&cursor=` of list endpoints.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 1000; default 100.
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// `sensitive`: show sensitive attribute values (an `admin` token only; audited).
    pub reveal: Option<Reveal>,
}

/// What a reader asks to see that is masked by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reveal {
    /// Sensitive attribute values, which every reader otherwise sees as a digest.
    Sensitive,
}

/// `?reveal=` of endpoints that return attribute values.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealQuery {
    /// `sensitive`: show sensitive attribute values (an `admin` token only; audited).
    pub reveal: Option<Reveal>,
}

/// `GET /v1/access/{email}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessResponse {
    pub email: String,
    pub revision: u64,
    /// Whether the email has an active portal membership (with `?portal=`, of that
    /// portal); without one it sees nothing.
    pub active_partner: bool,
    pub folders: Vec<FolderAccess>,
}

/// `?portal=` of `GET /v1/access/{email}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    /// A portal's technical name: only what the partner may open in that portal (its own
    /// `portal:` shares, and every share with the partner, their groups or their org),
    /// exactly what the portal's home lists; nothing unless the partner is an active
    /// member of it.
    #[serde(default)]
    pub portal: Option<String>,
}

/// `?folder=` or `?dashboard=` (exactly one) of the access check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    /// A folder path such as `/Partners/Finance`.
    #[serde(default)]
    pub folder: Option<String>,
    /// A dashboard path such as `/Partners/Finance/Q3 Revenue`: answered for a declared
    /// dashboard only (anything else is not allowed).
    #[serde(default)]
    pub dashboard: Option<String>,
    /// A permission (`reports.edit`, `data.export`, ...): `allowed` then says whether the
    /// partner can use it on the folder or dashboard. Edit-type permissions (all but
    /// `*.view`) need `edit` access there, after the partner's role caps it.
    #[serde(default)]
    pub permission: Option<String>,
}

/// `GET /v1/access/{email}/check`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResponse {
    /// Whether the partner reaches the folder or dashboard (and, with `permission=`, can
    /// use it there).
    pub allowed: bool,
    /// The effective level, capped by the partner's role; `null` without access.
    pub level: Option<Access>,
    /// The permission asked about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// Every permission the partner can use on the folder or dashboard.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Whether the folder or dashboard exists (declared, or a parent of a declared
    /// folder); `false`: nobody can open it, and `note` says so.
    pub known: bool,
    /// Why the answer is what it is, when it is not the plain one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `?after=&limit=` of the audit log.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries with a revision above this one; default 0.
    pub after: Option<u64>,
    /// 1 to 1000; default 100.
    pub limit: Option<usize>,
}

/// `GET /v1/audit`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
}

/// `?offset=&limit=` of the changes of one audit entry.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditChangesQuery {
    /// The first change to return, counting from 0; default 0.
    pub offset: Option<usize>,
    /// 1 to 1000; default 100.
    pub limit: Option<usize>,
}

/// `GET /v1/audit/{revision}/changes`: a slice of one batch's changes, masked as in the
/// audit log.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditChangesPage {
    pub revision: u64,
    /// How many changes the batch has in all.
    pub change_count: u64,
    pub offset: usize,
    pub changes: Vec<crate::model::WireChange>,
}

/// `POST /v1/portals/{technical_name}/self-register`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfRegisterRequest {
    pub email: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
}

/// The answer to a self-registration: `201` when the partner is a member now, `202` when
/// the portal requires approval and the registration is pending (it grants nothing until
/// an admin approves it).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfRegisterResponse {
    /// The revision after the write.
    pub revision: u64,
    /// Whether the registration awaits approval (`202`).
    pub pending: bool,
    /// A public sign-up (no token): nothing is registered yet; a link was mailed to the
    /// address, and following it registers the partner (`202`). `revision` is the current
    /// one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verification_pending: bool,
}

/// `POST /v1/portals/{technical_name}/members/{email}/approve`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveResponse {
    /// The revision after the approval; the current one when there was nothing to approve.
    pub revision: u64,
    /// Whether this request approved the member: `false` when it was not pending (already
    /// approved, or never pending), and nothing was written.
    pub approved: bool,
    /// The membership as it is now.
    pub member: crate::model::Membership,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    pub status: String,
    /// The revision this replica serves.
    pub revision: u64,
    /// Whether this replica reaches its database and is caught up with it (readiness;
    /// `status` is liveness).
    #[serde(default = "ready_by_default")]
    pub ready: bool,
    /// How many revisions the database is ahead of this replica, as last seen.
    #[serde(default)]
    pub behind: u64,
}

fn ready_by_default() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceKey, ResourceValue, Role};

    #[test]
    fn a_borrowed_changes_request_is_sent_as_the_owned_one() {
        let changes = vec![
            Change::Put {
                key: ResourceKey::Role("auditor".into()),
                value: ResourceValue::Role(Role::default()),
            },
            Change::Delete {
                key: ResourceKey::Portal("globex".into()),
            },
        ];
        let meta = ChangeMeta {
            plan_id: Some("sha256:abc".into()),
            ..ChangeMeta::default()
        };
        let owned = ChangesRequest {
            expected_revision: Some(7),
            changes: changes.clone(),
            meta: meta.clone(),
        };
        let borrowed = ChangesRequestRef {
            expected_revision: Some(7),
            changes: &changes,
            meta: &meta,
        };
        assert_eq!(
            serde_json::to_string(&borrowed).unwrap(),
            serde_json::to_string(&owned).unwrap()
        );
    }
}
