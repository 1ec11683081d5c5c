//! The small writes of the service, one per write path (member, group entry, share,
//! folder, portal, org, role, attribute, self-registration), on a generated state: what
//! `benches/writes.rs` times and what the incremental-equals-full test replays. Each
//! [`Step`] says which resource changes and how; [`Step::changes`] is the batch the
//! service's handler commits for it on a given state (pure, no I/O).

use portalctl_core::model::{Change, Kind, ResourceKey, ResourceValue, State};
use serde_json::{Value, json};

use crate::{Shape, partner_email, partner_portal};

/// What one write does to one resource.
pub enum Edit {
    Put(Value),
    /// A JSON merge patch of the current value (`PATCH`).
    Patch(Value),
    Delete,
    GroupAdd(String),
    GroupRemove(String),
    /// A self-registration with an admin token, in a portal with registration groups.
    Register {
        portal: String,
        email: String,
    },
}

/// One write: the resource and what happens to it.
pub struct Step {
    pub kind: Kind,
    pub parts: Vec<String>,
    pub edit: Edit,
}

/// The paths measured, in order (each path's writes may rely on the previous path's).
pub const PATHS: &[&str] = &[
    "member PUT (new)",
    "member PATCH (attribute)",
    "member DELETE",
    "group member add",
    "group member remove",
    "share PUT",
    "share DELETE",
    "folder PUT",
    "portal PATCH",
    "org PUT",
    "role PUT",
    "attribute PUT",
    "attribute PUT (enum value)",
    "attribute PUT (required)",
    "self-registration",
];

/// The `n`-th write of `path` on `shape`; `state` is the state at the start.
pub fn step(path: &str, n: usize, shape: Shape, state: &State) -> Step {
    let partners = shape.partners;
    // A partner spread over the state, the same for the `n`-th write of paired paths.
    let partner = (n * 7919 + 1) % partners;
    let org = partner % shape.orgs();
    let new_email = format!("new{n}@org{org}.example.com");
    let new_portal = format!("p{}", partner_portal(shape, partner));
    let member = |portal: String, email: String| vec![portal, email];
    match path {
        "member PUT (new)" => Step {
            kind: Kind::Member,
            parts: member(new_portal, new_email),
            edit: Edit::Put(json!({
                "role": "viewer", "org": format!("org{org}"),
                "attributes": {"tenant_id": format!("t-{org}"), "region": "emea"}
            })),
        },
        "member PATCH (attribute)" => Step {
            kind: Kind::Member,
            parts: member(
                format!("p{}", partner_portal(shape, partner)),
                partner_email(shape, partner),
            ),
            edit: Edit::Patch(json!({"attributes": {"seats": n % 90 + 1}})),
        },
        "member DELETE" => Step {
            kind: Kind::Member,
            parts: member(new_portal, new_email),
            edit: Edit::Delete,
        },
        // One group grows and shrinks (the largest in the wide shape): issue 26 saw adds
        // to one group slow down as it grew.
        "group member add" | "group member remove" => {
            // In the wide shape g0 holds the partners ≡ 0 (mod 10): these are not in it.
            let email = partner_email(shape, (n * 10 + 1) % partners);
            Step {
                kind: Kind::Group,
                parts: vec!["g0".into()],
                edit: if path == "group member add" {
                    Edit::GroupAdd(email)
                } else {
                    Edit::GroupRemove(email)
                },
            }
        }
        "share PUT" | "share DELETE" => {
            let folder = n % shape.folders();
            Step {
                kind: Kind::Share,
                parts: vec![
                    format!("/Partners/Area{}/Folder{folder}", folder % 50),
                    format!("user:{}", partner_email(shape, partner)),
                ],
                edit: if path == "share PUT" {
                    Edit::Put(json!({"access": "view"}))
                } else {
                    Edit::Delete
                },
            }
        }
        "folder PUT" => Step {
            kind: Kind::Folder,
            parts: vec![format!("/Partners/Bench/Folder{n}")],
            edit: Edit::Put(json!({"description": "a benchmark folder"})),
        },
        // The largest portal in every shape is p0's size class; its colour changes.
        "portal PATCH" => Step {
            kind: Kind::Portal,
            parts: vec!["p0".into()],
            edit: Edit::Patch(json!({"color": format!("#{:06X}", n * 4099 % 0x00FF_FFFF)})),
        },
        // A seat limit set and lifted: an org's seats are counted across its portals.
        "org PUT" => {
            let mut value = state.partner_orgs["org0"].clone();
            value.max_members = n.is_multiple_of(2).then_some(1_000_000);
            Step {
                kind: Kind::PartnerOrg,
                parts: vec!["org0".into()],
                edit: Edit::Put(serde_json::to_value(value).expect("json")),
            }
        }
        "role PUT" => Step {
            kind: Kind::Role,
            parts: vec!["account-manager".into()],
            edit: Edit::Put(json!({
                "description": format!("revision {n}"),
                "extends": "viewer",
                "permissions": ["files.transfer", "comments.write"]
            })),
        },
        "attribute PUT" => Step {
            kind: Kind::Attribute,
            parts: vec!["seats".into()],
            edit: Edit::Put(json!({"type": "integer", "self_service": n.is_multiple_of(2)})),
        },
        // A value added to an enum and taken away again (no partner has it): loosening
        // costs the declarations, tightening the partners that may hold the value.
        "attribute PUT (enum value)" => {
            let mut values = vec!["emea", "amer", "apac"];
            if n.is_multiple_of(2) {
                values.push("latam");
            }
            Step {
                kind: Kind::Attribute,
                parts: vec!["region".into()],
                edit: Edit::Put(json!({"type": "enum", "values": values})),
            }
        }
        // Every partner carries a `tenant_id`: made optional and required again.
        "attribute PUT (required)" => Step {
            kind: Kind::Attribute,
            parts: vec!["tenant_id".into()],
            edit: Edit::Put(json!({
                "type": "string", "required": !n.is_multiple_of(2), "self_service": true
            })),
        },
        "self-registration" => Step {
            kind: Kind::Member,
            parts: Vec::new(),
            edit: Edit::Register {
                portal: "p0".into(),
                email: format!("reg{n}@org{org}.example.com"),
            },
        },
        other => unreachable!("no path {other}"),
    }
}

impl Step {
    /// The batch the service commits for this step on `state`, as its handler builds it:
    /// the current value read, the new one made from it; empty when nothing changes.
    ///
    /// # Panics
    /// When the step does not fit `state` (a generated state prepared with [`prepare`]
    /// always fits).
    pub fn changes(&self, state: &State) -> Vec<Change> {
        if let Edit::Register { portal, email } = &self.edit {
            let org = email
                .split_once("@org")
                .and_then(|(_, rest)| rest.split('.').next())
                .map(|number| format!("org{number}"));
            let value = json!({
                "role": "viewer", "source": "self_registration", "org": org,
                "attributes": {"tenant_id": "t-self"}
            });
            let mut changes = vec![Change::Put {
                key: ResourceKey::Member {
                    portal: portal.clone(),
                    email: email.clone(),
                },
                value: ResourceValue::from_json(Kind::Member, value).expect("a member"),
            }];
            let groups = state.portals[portal.as_str()]
                .self_registration
                .as_ref()
                .map(|registration| registration.groups.clone())
                .unwrap_or_default();
            changes.extend(state.join_live(&groups, email));
            return changes;
        }
        let key = ResourceKey::from_parts(self.kind, &self.parts).expect("a key");
        let existing = state.get(&key);
        let new = match &self.edit {
            Edit::Put(json) => Some(ResourceValue::from_json(self.kind, json.clone()).expect("a value")),
            Edit::Patch(patch) => {
                let mut document = existing.clone().expect("present").to_json();
                merge_patch(&mut document, patch);
                Some(ResourceValue::from_json(self.kind, document).expect("a value"))
            }
            Edit::Delete => None,
            Edit::GroupAdd(email) | Edit::GroupRemove(email) => {
                let Some(ResourceValue::Group(mut group)) = existing.clone() else {
                    panic!("no group {key}");
                };
                if matches!(self.edit, Edit::GroupAdd(_)) {
                    group.members.insert(email.clone());
                } else {
                    group.remove_member(email);
                }
                Some(ResourceValue::Group(group))
            }
            Edit::Register { .. } => unreachable!("handled above"),
        };
        match new {
            Some(value) if existing.as_ref() == Some(&value) => Vec::new(),
            Some(value) => vec![Change::Put { key, value }],
            None if existing.is_none() => Vec::new(),
            None => vec![Change::Delete { key }],
        }
    }
}

/// RFC 7396, as the service applies a `PATCH`.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (name, value) in patch {
                if value.is_null() {
                    target.remove(name);
                } else {
                    merge_patch(target.entry(name.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// What the write paths need of a generated state: `tenant_id` settable by partners (a
/// self-registration sends it), and portal p0 open to self-registration into group g0.
pub fn prepare(state: &mut State) {
    if let Some(attribute) = state.attributes.get_mut("tenant_id") {
        attribute.self_service = true;
    }
    let registration = json!({
        "enabled": true, "default_role": "viewer",
        "allowed_domains": ["*.example.com"], "groups": ["g0"]
    });
    if let Some(portal) = state.portals.get_mut("p0") {
        portal.self_registration = Some(serde_json::from_value(registration).expect("a registration model"));
    }
}
