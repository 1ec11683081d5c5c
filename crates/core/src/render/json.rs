//! The JSON rendering: a stable, versioned document for tools and CI.
//!
//! **Architecture invariant:** a pure function to a `String`; the wire types below are
//! private to this file, so the model can change without changing the contract.
//!
//! # Wire contract (`format_version` 1)
//! One pretty-printed JSON object, ending in a newline:
//! ```json
//! {
//!   "access_impact": {
//!     "gaining": 2, "losing": 1,
//!     "changes": [
//!       {
//!         "email": "ana@globex.com",
//!         "folder": "/Partners/Finance",
//!         "kind": "dashboard",  // only for a dashboard: absent, the path is a folder
//!         "before": "view" | "edit" | null,
//!         "after": "view" | "edit" | null,
//!         "via": [
//!           {"kind": "direct" | "group" | "portal", "principal": "group:finance", "shared_folder": "/Partners", "level": "view" | "edit"}
//!         ]
//!       }
//!     ]
//!   },
//!   "format_version": 1,
//!   "target": "sqlite:portalctl.db",
//!   "config_digest": "9f86d0…" | null,
//!   "git_commit": "3b18e5…" | null,
//!   "templates": [  // only when a portal template's change reaches portals
//!     {"template": "partner-default", "fields": [{"type": "value", "path": "color", "before": "#000000", "after": "#0F62FE"}], "portals": ["acme", "globex"]}
//!   ],
//!   "changes": [
//!     {
//!       "action": "create" | "update" | "delete",
//!       "kind": "workspace" | "attribute" | "role" | "partner_org" | "portal" | "member" | "group" | "folder" | "dashboard" | "share",
//!       "key": ["globex", "ana@globex.com"],
//!       "address": "member ana@globex.com in portal globex",
//!       "reason": "expired 2027-03-31" | null,
//!       "fields": [
//!         {"type": "value", "path": "color", "before": "#000000" | null, "after": "#0F62FE" | null},
//!         {"type": "set", "path": "members", "added": ["a@x.com"], "removed": []},
//!         {"type": "sensitive", "path": "attributes.contract_ref", "before": "(sensitive)" | null, "after": "(sensitive)" | null}
//!       ]
//!     }
//!   ],
//!   "summary": {
//!     "add": 3, "change": 1, "destroy": 2,
//!     "by_kind": {"member": {"add": 2, "change": 0, "destroy": 0}},
//!     "mail": {"invitations": 2, "approvals": 0, "refusals": 0, "removal_notices": 0}
//!   },
//!   "notices": [
//!     {"type": "expired", "kind": "member", "key": [...], "day": "2027-03-31", "removed_by_plan": true, "message": "..."},
//!     {"type": "expiring_soon", "kind": "share", "key": [...], "day": "2027-04-10", "days_left": 5, "message": "..."},
//!     {"type": "self_registered_not_in_git", "portal": "globex", "email": "x@globex.com", "message": "..."},
//!     {"type": "pending_registrations", "registrations": [{"portal": "globex", "email": "y@globex.com"}], "message": "..."}
//!   ]
//! }
//! ```
//! - `changes` are in apply order (see [`crate::plan::Plan`]); `key` holds the natural
//!   key's parts as in the change wire format (`[]` for the workspace, `[portal, email]`
//!   for a member, `[folder, principal]` for a share, `[name]` otherwise).
//! - `fields` list every field of a created or deleted resource and the changed fields
//!   of an updated one; a `null` side means absent. `before`/`after` of a `value` field
//!   are JSON values of any type. Sensitive values never appear: only `"(sensitive)"`.
//! - `by_kind` lists only kinds with changes, keyed by kind, in kind order.
//! - `access_impact` comes first and is present only when the caller computed one (it
//!   is absent, not `null`, otherwise: `plan` against a target computes it, older
//!   producers of version 1 did not). `gaining`/`losing` count distinct partners with a
//!   new folder or a higher level / a lost folder or a lower level. `changes` are sorted
//!   by email, then folder; `before: null` is a gain, `after: null` a loss; `via` lists
//!   the grants after the change for a gain or a level change, the grants before it for a
//!   loss, sorted (kind, principal, shared folder). An empty `changes` means no change in
//!   who can see what.
//! - With `--redact-emails`, every email in every string of the document (impact,
//!   `key`, `address`, set fields, notices) is shown as `a***@globex.com#3f2a` (see
//!   [`super::redact_email`]).
//! - `templates` states each template change once: the fields it moves (as in
//!   `changes`, old and new value) and the portals it reaches, sorted; by template name,
//!   then fields. The portals' own changes stay in `changes`. Absent when there is none.
//! - New fields may be added in version 1 only at positions documented as extensible:
//!   none yet (`summary.mail`, the mail applying the plan sends, was added compatibly: it
//!   is present only when the plan sends some; `access_impact` was added compatibly: it is
//!   optional; so were an impact
//!   change's `kind`, written only when the path is a dashboard, so a plan without
//!   dashboards reads as before, and `templates`, written only when a template change
//!   reaches a portal). Any other change bumps `format_version`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use std::io::Write as _;

use super::{Notice, PlanReport, RedactingWriter};
use crate::access::{AccessChange, ContentKind, GrantKind, ImpactView};
use crate::model::Sensitive;
use crate::model::{Access, Kind};
use crate::plan::{Action, FieldDelta, ResourceChange};

pub const FORMAT_VERSION: u32 = 1;

/// The JSON Schema of the document [`render`] writes (`schemas/output/plan.schema.json`).
pub fn json_schema() -> serde_json::Value {
    output_schema_for::<Document<'static>>()
}

/// The JSON Schema of an output document type, as it serialises (fields skipped when
/// empty are optional), for the checked-in schemas under `schemas/output/`.
pub fn output_schema_for<T: JsonSchema>() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    serde_json::to_value(generator.into_root_schema_for::<T>()).expect("schemas serialize")
}

/// Renders the plan as the version 1 JSON document.
pub fn render(report: &PlanReport<'_>) -> String {
    let mut out = Vec::new();
    render_to(report, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the document is UTF-8")
}

/// [`render`], written to `out` as it goes: the access impact's changes are serialised
/// one by one, never held as a whole.
///
/// # Errors
/// `out`'s.
pub fn render_to(report: &PlanReport<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let plan = report.plan;
    let summary = plan.summary();
    let totals = summary.totals();
    let document = Document {
        access_impact: report.access_impact.map(access_impact),
        format_version: FORMAT_VERSION,
        target: report.target,
        config_digest: report.config_digest,
        git_commit: report.git_commit,
        templates: crate::plan::template_changes(plan)
            .into_iter()
            .map(|template| TemplateEntry {
                fields: template.fields.iter().map(field).collect(),
                template: template.template,
                portals: template.portals,
            })
            .collect(),
        changes: ResourceChanges(&plan.resources),
        summary: Summary {
            add: totals.create,
            change: totals.update,
            destroy: totals.delete,
            by_kind: summary
                .by_kind
                .iter()
                .map(|(kind, counts)| {
                    (
                        *kind,
                        Counts {
                            add: counts.create,
                            change: counts.update,
                            destroy: counts.delete,
                        },
                    )
                })
                .collect(),
            mail: (!plan.mail.is_empty()).then_some(MailSummary {
                invitations: plan.mail.invitations,
                approvals: plan.mail.approvals,
                refusals: plan.mail.refusals,
                removal_notices: plan.mail.removal_notices,
            }),
        },
        notices: Notice::all(plan).iter().map(notice).collect(),
    };
    if report.redact_emails {
        // Emails hold no character JSON escapes, and their redaction adds none: the
        // document stays valid and keeps its field order.
        let mut redacting = RedactingWriter::new(out);
        write_document(&mut redacting, &document)?;
        redacting.finish()
    } else {
        write_document(&mut *out, &document)?;
        out.flush()
    }
}

/// `document`, pretty-printed, and a newline.
fn write_document(mut out: impl std::io::Write, document: &impl Serialize) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut out);
    serde_json::to_writer_pretty(&mut buffered, document).map_err(std::io::Error::from)?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// The permissions gained and lost by a change that keeps its level.
fn same_level_delta(change: &crate::access::AccessChange) -> (Vec<String>, Vec<String>) {
    if change.before != change.after {
        return (Vec::new(), Vec::new());
    }
    let (gained, lost) = change.permission_delta();
    (
        gained.into_iter().map(String::from).collect(),
        lost.into_iter().map(String::from).collect(),
    )
}

/// The access impact as written in the plan's and drift's JSON documents.
pub(crate) fn access_impact(impact: &dyn ImpactView) -> Impact<'_> {
    let counts = impact.counts();
    Impact {
        gaining: counts.partners_gaining,
        losing: counts.partners_losing,
        changes: ImpactChanges(impact),
    }
}

fn impact_change(change: &AccessChange) -> ImpactChange {
    let (permissions_gained, permissions_lost) = same_level_delta(change);
    ImpactChange {
        email: change.email.clone(),
        folder: change.folder.clone(),
        kind: (change.kind == ContentKind::Dashboard).then_some(change.kind),
        before: change.before,
        after: change.after,
        permissions_gained,
        permissions_lost,
        via: change
            .via
            .iter()
            .map(|grant| Via {
                kind: grant.kind,
                principal: grant.principal.to_string(),
                shared_folder: grant.shared_folder.clone(),
                level: grant.level,
            })
            .collect(),
    }
}

/// A plan's resource changes, each turned into its wire form as it is serialised: an
/// apply from empty at a million partners is a million of them.
struct ResourceChanges<'a>(&'a [ResourceChange]);

impl Serialize for ResourceChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(change))
    }
}

/// An impact's changes, serialised one at a time as they are walked.
pub(crate) struct ImpactChanges<'a>(&'a dyn ImpactView);

impl Serialize for ImpactChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut sequence = serializer.serialize_seq(Some(self.0.counts().changes))?;
        let mut failed = None;
        self.0.for_each_change(
            &mut |change| match sequence.serialize_element(&impact_change(change)) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(error) => {
                    failed = Some(error);
                    std::ops::ControlFlow::Break(())
                }
            },
        );
        match failed {
            Some(error) => Err(error),
            None => sequence.end(),
        }
    }
}

/// One field change as written in the plan's and drift's JSON documents.
pub(crate) fn field(field: &crate::plan::FieldChange) -> Field {
    let path = field.path.clone();
    match &field.delta {
        FieldDelta::Value { before, after } => Field::Value {
            path,
            before: before.clone(),
            after: after.clone(),
        },
        FieldDelta::Set { added, removed } => Field::Set {
            path,
            added: added.clone(),
            removed: removed.clone(),
        },
        FieldDelta::Sensitive { before, after } => Field::Sensitive {
            path,
            before: before.clone(),
            after: after.clone(),
        },
    }
}

fn change(change: &ResourceChange) -> Change {
    Change {
        action: change.action.into(),
        kind: change.kind(),
        key: change.key.parts(),
        address: change.key.to_string(),
        reason: change.reason.as_ref().map(ToString::to_string),
        fields: change.fields().iter().map(field).collect(),
    }
}

fn notice(notice: &Notice<'_>) -> NoticeEntry {
    let message = notice.message();
    match notice {
        Notice::Expired { expired, removed } => NoticeEntry::Expired {
            kind: expired.key.kind(),
            key: expired.key.parts(),
            day: expired.day.to_string(),
            removed_by_plan: *removed,
            message,
        },
        Notice::ExpiringSoon(soon) => NoticeEntry::ExpiringSoon {
            kind: soon.key.kind(),
            key: soon.key.parts(),
            day: soon.day.to_string(),
            days_left: soon.days_left,
            message,
        },
        Notice::SelfRegisteredNotInGit { portal, email } => NoticeEntry::SelfRegisteredNotInGit {
            portal: (*portal).to_string(),
            email: (*email).to_string(),
            message,
        },
        Notice::PendingRegistrations(pending) => NoticeEntry::PendingRegistrations {
            registrations: pending
                .iter()
                .map(|(portal, email)| Registration {
                    portal: portal.clone(),
                    email: email.clone(),
                })
                .collect(),
            message,
        },
        Notice::PartnerManaged(managed) => NoticeEntry::PartnerManaged {
            members: managed
                .iter()
                .map(|member| ManagedMember {
                    portal: member.portal.clone(),
                    email: member.email.clone(),
                    org: member.org.clone(),
                })
                .collect(),
            message,
        },
        Notice::LiveGroupEntries(entries) => NoticeEntry::LiveGroupEntries {
            entries: entries
                .iter()
                .map(|(group, email)| GroupEntry {
                    group: group.clone(),
                    email: email.clone(),
                })
                .collect(),
            message,
        },
        Notice::SeatsLeft(seats) => NoticeEntry::SeatsLeft {
            limited: seats.what.clone(),
            used: seats.used,
            limit: seats.limit,
            message,
        },
        Notice::RegistrationModel(model) => NoticeEntry::RegistrationModel {
            portal: model.portal.clone(),
            groups_added: model.groups_added.clone(),
            groups_removed: model.groups_removed.clone(),
            self_registered: model.self_registered.clone(),
            message,
        },
    }
}

#[derive(Serialize, JsonSchema)]
#[schemars(title = "portalctl plan --format json", rename = "PlanDocument")]
struct Document<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_impact: Option<Impact<'a>>,
    #[schemars(extend("const" = FORMAT_VERSION))]
    format_version: u32,
    target: &'a str,
    config_digest: Option<&'a str>,
    git_commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    templates: Vec<TemplateEntry>,
    #[schemars(with = "Vec<Change>")]
    changes: ResourceChanges<'a>,
    summary: Summary,
    notices: Vec<NoticeEntry>,
}

/// One template change, stated once.
#[derive(Serialize, JsonSchema)]
struct TemplateEntry {
    template: String,
    /// The fields it moves, old and new value.
    fields: Vec<Field>,
    /// The portals it reaches, sorted.
    portals: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct Impact<'a> {
    gaining: usize,
    losing: usize,
    #[schemars(with = "Vec<ImpactChange>")]
    changes: ImpactChanges<'a>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct ImpactChange {
    email: String,
    /// The path of the folder or dashboard.
    folder: String,
    /// `dashboard` when `folder` is a dashboard; absent for a folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<ContentKind>,
    before: Option<Access>,
    after: Option<Access>,
    /// At an unchanged level, the permissions usable on the folder after and not before
    /// (a role change may change these alone); empty when the level changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    permissions_gained: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    permissions_lost: Vec<String>,
    via: Vec<Via>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct Via {
    kind: GrantKind,
    principal: String,
    shared_folder: String,
    level: Access,
}

#[derive(Serialize, JsonSchema)]
struct Change {
    action: ActionName,
    kind: Kind,
    key: Vec<String>,
    address: String,
    reason: Option<String>,
    fields: Vec<Field>,
}

/// [`Action`] as written in the document.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ActionName {
    Create,
    Update,
    Delete,
}

impl From<Action> for ActionName {
    fn from(action: Action) -> Self {
        match action {
            Action::Create => Self::Create,
            Action::Update => Self::Update,
            Action::Delete => Self::Delete,
        }
    }
}

#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Field {
    Value {
        path: String,
        before: Option<Value>,
        after: Option<Value>,
    },
    Set {
        path: String,
        added: Vec<Value>,
        removed: Vec<Value>,
    },
    Sensitive {
        path: String,
        /// Always the mask, never the value.
        #[schemars(with = "Option<SensitiveMask>")]
        before: Option<Sensitive<Value>>,
        /// Always the mask, never the value.
        #[schemars(with = "Option<SensitiveMask>")]
        after: Option<Sensitive<Value>>,
    },
}

/// What a sensitive value serialises as.
struct SensitiveMask;

impl JsonSchema for SensitiveMask {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SensitiveMask".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "const": crate::plan::SENSITIVE_MASK })
    }
}

#[derive(Serialize, JsonSchema)]
struct Summary {
    add: usize,
    change: usize,
    destroy: usize,
    by_kind: BTreeMap<Kind, Counts>,
    /// The mail applying the plan sends; absent when it sends none.
    #[serde(skip_serializing_if = "Option::is_none")]
    mail: Option<MailSummary>,
}

/// How many messages of each kind applying the plan sends.
#[derive(Serialize, JsonSchema)]
struct MailSummary {
    invitations: usize,
    approvals: usize,
    refusals: usize,
    removal_notices: usize,
}

#[derive(Serialize, JsonSchema)]
struct Counts {
    add: usize,
    change: usize,
    destroy: usize,
}

#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum NoticeEntry {
    Expired {
        kind: Kind,
        key: Vec<String>,
        day: String,
        removed_by_plan: bool,
        message: String,
    },
    ExpiringSoon {
        kind: Kind,
        key: Vec<String>,
        day: String,
        days_left: i64,
        message: String,
    },
    SelfRegisteredNotInGit {
        portal: String,
        email: String,
        message: String,
    },
    /// Live registrations awaiting approval that the config does not list: kept, granting
    /// nothing until approved or listed.
    PendingRegistrations {
        registrations: Vec<Registration>,
        message: String,
    },
    /// Live members that their partner org added (partner admins, SCIM) and the config does
    /// not list: owned live, kept.
    PartnerManaged {
        members: Vec<ManagedMember>,
        message: String,
    },
    /// Live group entries that registrations made and the config does not declare: owned
    /// live, kept.
    LiveGroupEntries {
        entries: Vec<GroupEntry>,
        message: String,
    },
    SeatsLeft {
        /// `portal globex` or `partner org globex`.
        limited: String,
        used: u32,
        limit: u32,
        message: String,
    },
    RegistrationModel {
        portal: String,
        groups_added: Vec<String>,
        groups_removed: Vec<String>,
        /// Live members who joined through self-registration: not moved.
        self_registered: Vec<String>,
        message: String,
    },
}

/// One registration awaiting approval.
#[derive(Serialize, JsonSchema)]
struct Registration {
    portal: String,
    email: String,
}

/// One member managed by its partner org.
#[derive(Serialize, JsonSchema)]
struct ManagedMember {
    portal: String,
    email: String,
    /// The partner org that manages the member.
    org: String,
}

/// One group entry owned live.
#[derive(Serialize, JsonSchema)]
struct GroupEntry {
    group: String,
    email: String,
}

#[cfg(test)]
#[expect(
    dead_code,
    reason = "the mirror declares every field of the contract; serde checks them all"
)]
mod tests {
    //! The contract as a reader would write it: independent types that refuse unknown
    //! fields, so an accidental addition or rename fails here.

    use super::*;
    use crate::plan::Plan;
    use crate::render::fixture;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireDocument {
        access_impact: Option<WireImpact>,
        format_version: u32,
        target: String,
        config_digest: Option<String>,
        git_commit: Option<String>,
        #[serde(default)]
        templates: Vec<WireTemplate>,
        changes: Vec<WireChange>,
        summary: WireSummary,
        notices: Vec<WireNotice>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireImpact {
        gaining: usize,
        losing: usize,
        changes: Vec<WireImpactChange>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireImpactChange {
        email: String,
        folder: String,
        #[serde(default)]
        kind: Option<String>,
        before: Option<String>,
        after: Option<String>,
        via: Vec<WireVia>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireVia {
        kind: String,
        principal: String,
        shared_folder: String,
        level: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireChange {
        action: String,
        kind: String,
        key: Vec<String>,
        address: String,
        reason: Option<String>,
        fields: Vec<WireField>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    enum WireField {
        Value {
            path: String,
            before: Option<Value>,
            after: Option<Value>,
        },
        Set {
            path: String,
            added: Vec<Value>,
            removed: Vec<Value>,
        },
        Sensitive {
            path: String,
            before: Option<String>,
            after: Option<String>,
        },
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireSummary {
        add: usize,
        change: usize,
        destroy: usize,
        by_kind: BTreeMap<String, WireCounts>,
        #[serde(default)]
        mail: Option<WireMail>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireMail {
        invitations: usize,
        approvals: usize,
        refusals: usize,
        removal_notices: usize,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireCounts {
        add: usize,
        change: usize,
        destroy: usize,
    }

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    enum WireNotice {
        Expired {
            kind: String,
            key: Vec<String>,
            day: String,
            removed_by_plan: bool,
            message: String,
        },
        ExpiringSoon {
            kind: String,
            key: Vec<String>,
            day: String,
            days_left: i64,
            message: String,
        },
        SelfRegisteredNotInGit {
            portal: String,
            email: String,
            message: String,
        },
        PendingRegistrations {
            registrations: Vec<WireRegistration>,
            message: String,
        },
        PartnerManaged {
            members: Vec<WireManagedMember>,
            message: String,
        },
        LiveGroupEntries {
            entries: Vec<WireGroupEntry>,
            message: String,
        },
        SeatsLeft {
            limited: String,
            used: u32,
            limit: u32,
            message: String,
        },
        RegistrationModel {
            portal: String,
            groups_added: Vec<String>,
            groups_removed: Vec<String>,
            self_registered: Vec<String>,
            message: String,
        },
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireManagedMember {
        portal: String,
        email: String,
        org: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireRegistration {
        portal: String,
        email: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireGroupEntry {
        group: String,
        email: String,
    }

    fn report<'a>(plan: &'a Plan, impact: Option<&'a crate::access::AccessImpact>) -> PlanReport<'a> {
        PlanReport {
            plan,
            target: "sqlite:portalctl.db",
            config_digest: Some("0b5a3cfa4e3c3e6f0d8c1e0b8f7b0f1b9a6e1d2c3b4a5968778695a4b3c2d1e0"),
            git_commit: Some("3b18e512dba79e4c8300dd08aeb37f8e728b8dad"),
            access_impact: impact.map(|impact| impact as &dyn crate::access::ImpactView),
            redact_emails: false,
            approvals: None,
            command: "portalctl plan",
        }
    }

    #[test]
    fn renders_the_representative_plan() {
        let plan = fixture::plan();
        let impact = fixture::impact();
        insta::assert_snapshot!(render(&report(&plan, Some(&impact))));
    }

    #[test]
    fn puts_the_access_impact_first_with_its_totals() {
        let plan = fixture::plan();
        let impact = fixture::impact();
        let text = render(&report(&plan, Some(&impact)));
        assert!(text.starts_with("{\n  \"access_impact\": {"), "{text}");
        let document: WireDocument = serde_json::from_str(&text).unwrap();
        let wire = document.access_impact.unwrap();
        assert_eq!((wire.gaining, wire.losing), (2, 1));
        assert_eq!(wire.changes.len(), impact.changes.len());
        let first = &wire.changes[0];
        assert_eq!(first.before, None);
        assert_eq!(first.after.as_deref(), Some("edit"));
        assert_eq!(first.via[0].kind, "group");
        let absent = render(&report(&plan, None));
        assert!(!absent.contains("access_impact"));
    }

    #[test]
    fn redacts_every_email() {
        let plan = fixture::plan();
        let impact = fixture::impact();
        let mut report = report(&plan, Some(&impact));
        report.redact_emails = true;
        let text = render(&report);
        fixture::assert_no_email(&text);
        let _: WireDocument = serde_json::from_str(&text).unwrap();
    }

    #[test]
    fn follows_the_documented_contract() {
        let plan = fixture::plan();
        let document: WireDocument = serde_json::from_str(&render(&report(&plan, None))).unwrap();
        assert_eq!(document.format_version, 1);
        assert_eq!(document.target, "sqlite:portalctl.db");
        assert!(document.config_digest.is_some() && document.git_commit.is_some());
        assert_eq!(document.changes.len(), plan.resources.len());
        let totals = plan.summary().totals();
        assert_eq!(
            (
                document.summary.add,
                document.summary.change,
                document.summary.destroy
            ),
            (totals.create, totals.update, totals.delete)
        );
        let counted: usize = document
            .summary
            .by_kind
            .values()
            .map(|c| c.add + c.change + c.destroy)
            .sum();
        assert_eq!(counted, plan.resources.len());
        let first = &document.changes[0];
        assert!(["create", "update", "delete"].contains(&first.action.as_str()));
        assert!(!first.kind.is_empty() && !first.address.is_empty() && !first.key.is_empty());
        let sensitive = document
            .changes
            .iter()
            .flat_map(|c| &c.fields)
            .filter(|f| matches!(f, WireField::Sensitive { .. }))
            .count();
        assert!(sensitive > 0);
        assert!(document.changes.iter().any(|c| c.reason.is_some()));
        let kinds: Vec<&str> = document
            .notices
            .iter()
            .map(|notice| match notice {
                WireNotice::Expired { .. } => "expired",
                WireNotice::ExpiringSoon { .. } => "expiring_soon",
                WireNotice::SelfRegisteredNotInGit { .. } => "self_registered_not_in_git",
                WireNotice::PendingRegistrations { .. } => "pending_registrations",
                WireNotice::PartnerManaged { .. } => "partner_managed",
                WireNotice::LiveGroupEntries { .. } => "live_group_entries",
                WireNotice::SeatsLeft { .. } => "seats_left",
                WireNotice::RegistrationModel { .. } => "registration_model",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "expired",
                "expiring_soon",
                "self_registered_not_in_git",
                "pending_registrations"
            ]
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WireTemplate {
        template: String,
        fields: Vec<serde_json::Value>,
        portals: Vec<String>,
    }

    #[test]
    fn states_a_template_change_once_with_its_values_and_portals() {
        let plan = crate::render::fixture::template_plan();
        let text = render(&PlanReport::new(&plan, "t"));
        let document: WireDocument = serde_json::from_str(&text).unwrap();
        let [template] = document.templates.as_slice() else {
            panic!("one template change: {:?}", document.templates);
        };
        assert_eq!(template.template, "partner-default");
        assert_eq!(
            template.fields,
            [serde_json::json!({"type": "value", "path": "color", "before": "#0F62FE", "after": "#112233"})]
        );
        assert_eq!(template.portals.len(), 12);
        assert_eq!(template.portals[0], "partner-00");
        assert_eq!(document.changes.len(), 13, "the portals' own changes stay listed");
        let without = render(&PlanReport::new(&crate::render::fixture::plan(), "t"));
        assert!(!without.contains("\"templates\""), "absent when there is none");
    }

    #[test]
    fn an_empty_plan_is_a_valid_document() {
        let plan = Plan::default();
        let document: WireDocument = serde_json::from_str(&render(&report(&plan, None))).unwrap();
        assert!(document.changes.is_empty() && document.notices.is_empty());
        assert!(document.summary.by_kind.is_empty());
    }

    #[test]
    fn shows_no_sensitive_value() {
        fixture::assert_no_secret(&render(&report(&fixture::plan(), None)));
    }
}
