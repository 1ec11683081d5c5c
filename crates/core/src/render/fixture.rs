//! A representative plan for the renderers' snapshot tests: creates, updates with field
//! diffs, deletes, a long description, a sensitive attribute, an expired grant, a grant
//! expiring soon, a self-registered member, a registration awaiting approval and one the
//! config approves by listing it.
//!
//! **Architecture invariant:** test-only, no I/O.

use crate::access::{AccessImpact, impact as access_impact};
use crate::model::{
    Access, Attribute, AttributeType, AttributeValue, CalendarDate, Folder, Group, MemberSource, Membership,
    OrgKind, PartnerOrg, Portal, Principal, Role, SessionTtl, Share, State, Workspace,
};
use crate::plan::{Plan, plan as make_plan};

/// Values of the sensitive attribute: no rendering may contain them.
pub const SECRETS: &[&str] = &["C-SECRET-ANA", "C-OLD-BEN", "C-NEW-BEN", "C-GONE-OLD"];

pub fn assert_no_secret(output: &str) {
    for secret in SECRETS {
        assert!(!output.contains(secret), "`{secret}` leaked into:\n{output}");
    }
}

/// Every email of the fixture states: with redaction on, no rendering may contain one.
pub const EMAILS: &[&str] = &[
    "ana@globex.com",
    "ben@globex.com",
    "temp@globex.com",
    "self@globex.com",
    "soon@globex.com",
    "old@globex.com",
    "wait@globex.com",
    "join@globex.com",
];

pub fn assert_no_email(output: &str) {
    for email in EMAILS {
        assert!(
            !output.contains(email),
            "`{email}` shown unredacted in:\n{output}"
        );
    }
}

pub fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 11, 27).expect("a real day")
}

fn day(text: &str) -> Option<CalendarDate> {
    Some(text.parse().expect("a real day"))
}

fn portal(name: &str, color: &str) -> Portal {
    Portal {
        name: name.into(),
        color: color.into(),
        logout_url: format!("https://{}.example.com/bye", name.to_lowercase()),
        home_cover: None,
        session_ttl: SessionTtl::default(),
        require_2fa: false,
        self_registration: None,
        protect: false,
        texts: Default::default(),
        max_members: None,
        invitations: true,
        removal_notice: false,
        template: None,
        from_template: Default::default(),
    }
}

fn member(attributes: &[(&str, &str)], expires: Option<CalendarDate>, source: MemberSource) -> Membership {
    Membership {
        role: "editor".into(),
        org: Some("globex".into()),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_string(), AttributeValue::String((*v).to_string())))
            .collect(),
        expires,
        source,
        pending: false,
    }
}

fn base() -> State {
    let mut state = State {
        workspace: Workspace {
            name: "Acme".into(),
            owner_domains: ["acme.com".to_string()].into(),
            permissions: Default::default(),
            console: Default::default(),
        },
        ..State::default()
    };
    state.attributes.insert(
        "contract_ref".into(),
        Attribute {
            kind: AttributeType::String,
            values: Vec::new(),
            required: false,
            sensitive: true,
            self_service: false,
        },
    );
    state.attributes.insert(
        "region".into(),
        Attribute {
            kind: AttributeType::Enum,
            values: vec!["apac".into(), "emea".into()],
            required: false,
            sensitive: false,
            self_service: false,
        },
    );
    state.partner_orgs.insert(
        "globex".into(),
        PartnerOrg {
            domains: ["globex.com".to_string()].into(),
            kind: OrgKind::ChannelPartner,
            max_members: None,
            attributes: Default::default(),
            self_management: None,
        },
    );
    state
}

pub fn live() -> State {
    let mut state = base();
    state.roles.insert(
        "analyst".into(),
        Role {
            description: Some(
                "Reads the quarterly partner reports.\nMay not export data.\nReviewed yearly.".into(),
            ),
            extends: None,
            permissions: ["reports.view".to_string()].into(),
        },
    );
    state.portals.insert("globex".into(), portal("Globex", "#000000"));
    state.portals.insert("legacy".into(), portal("Legacy", "#777777"));
    state.members.insert(
        ("globex".into(), "ben@globex.com".into()),
        member(
            &[("contract_ref", "C-OLD-BEN"), ("region", "emea")],
            None,
            MemberSource::Managed,
        ),
    );
    state.members.insert(
        ("globex".into(), "temp@globex.com".into()),
        member(&[], day("2026-11-20"), MemberSource::Managed),
    );
    state.members.insert(
        ("globex".into(), "self@globex.com".into()),
        member(&[], None, MemberSource::SelfRegistration),
    );
    state.members.insert(
        ("globex".into(), "soon@globex.com".into()),
        member(&[], day("2026-12-01"), MemberSource::Managed),
    );
    for email in ["wait@globex.com", "join@globex.com"] {
        state.members.insert(
            ("globex".into(), email.into()),
            Membership {
                pending: true,
                ..member(&[], None, MemberSource::SelfRegistration)
            },
        );
    }
    state.members.insert(
        ("legacy".into(), "old@globex.com".into()),
        member(&[("contract_ref", "C-GONE-OLD")], None, MemberSource::Managed),
    );
    state.groups.insert(
        "finance".into(),
        Group {
            description: Some("Partner finance teams".into()),
            members: ["ben@globex.com".to_string(), "old@globex.com".to_string()].into(),
            joined_live: Default::default(),
        },
    );
    state.folders.insert("/Old".into(), Folder::default());
    state.shares.insert(
        (
            "/Partners/Finance".into(),
            Principal::User("ben@globex.com".into()),
        ),
        Share {
            access: Access::View,
            expires: None,
        },
    );
    state.shares.insert(
        ("/Old".into(), Principal::Portal("legacy".into())),
        Share {
            access: Access::View,
            expires: None,
        },
    );
    state
}

/// The config as loaded: `temp@globex.com` is still listed but expired.
pub fn raw_desired() -> State {
    let mut state = base();
    state.roles.insert(
        "analyst".into(),
        Role {
            description: Some(
                "Reads the quarterly partner reports.\nMay export data for their own region.\nReviewed yearly."
                    .into(),
            ),
            extends: None,
            permissions: ["reports.view".to_string(), "data.export".to_string()].into(),
        },
    );
    let mut globex = portal("Globex", "#0F62FE");
    globex.session_ttl = SessionTtl::from_minutes(8 * 60);
    globex.protect = true;
    state.portals.insert("globex".into(), globex);
    state
        .portals
        .insert("initech".into(), portal("Initech", "#FF6600"));
    state.members.insert(
        ("globex".into(), "ana@globex.com".into()),
        member(
            &[("contract_ref", "C-SECRET-ANA"), ("region", "apac")],
            None,
            MemberSource::Managed,
        ),
    );
    state.members.insert(
        ("globex".into(), "ben@globex.com".into()),
        member(
            &[("contract_ref", "C-NEW-BEN"), ("region", "apac")],
            None,
            MemberSource::Managed,
        ),
    );
    state.members.insert(
        ("globex".into(), "temp@globex.com".into()),
        member(&[], day("2026-11-20"), MemberSource::Managed),
    );
    state.members.insert(
        ("globex".into(), "soon@globex.com".into()),
        member(&[], day("2026-12-01"), MemberSource::Managed),
    );
    // Listed: the plan approves the pending registration.
    state.members.insert(
        ("globex".into(), "join@globex.com".into()),
        member(&[], None, MemberSource::Managed),
    );
    state.groups.insert(
        "finance".into(),
        Group {
            description: Some("Partner finance teams".into()),
            members: ["ana@globex.com".to_string(), "ben@globex.com".to_string()].into(),
            joined_live: Default::default(),
        },
    );
    state.folders.insert(
        "/Partners/Finance".into(),
        Folder {
            description: Some("Quarterly figures".into()),
        },
    );
    state
        .folders
        .insert("/Partners/Finance/Q3".into(), Folder::default());
    state.shares.insert(
        (
            "/Partners/Finance".into(),
            Principal::User("ben@globex.com".into()),
        ),
        Share {
            access: Access::View,
            expires: None,
        },
    );
    state.shares.insert(
        ("/Partners/Finance".into(), Principal::Group("finance".into())),
        Share {
            access: Access::Edit,
            expires: None,
        },
    );
    state
}

pub fn plan() -> Plan {
    make_plan(&live(), &raw_desired(), today())
}

/// The access impact of [`plan`]: ana gains `/Partners/Finance` and its new sub-folder
/// `Q3` via group `finance`; ben, who could view it through a user share, now edits it;
/// old loses `/Old` with its `legacy` membership.
pub fn impact() -> AccessImpact {
    access_impact(&live(), &raw_desired().without_expired(today()), &plan(), today())
}

#[test]
fn debug_output_of_a_plan_shows_no_sensitive_value() {
    assert_no_secret(&format!("{:?}", plan()));
}

/// Twelve portals following one template whose colour changed, and one with its own
/// colour: the template's line comes first, the portals stay folded.
/// The report the renderers' snapshots show: `plan` on `sqlite:portalctl.db` with
/// `impact`, made at a fixed commit.
pub fn report<'a>(plan: &'a Plan, impact: &'a AccessImpact) -> crate::render::PlanReport<'a> {
    let mut report = crate::render::PlanReport::new(plan, "sqlite:portalctl.db");
    report.access_impact = Some(impact);
    report.git_commit = Some("3b18e512dba79e4c8300dd08aeb37f8e728b8dad");
    report
}

pub fn template_plan() -> Plan {
    let portal = |color: &str, template: bool| {
        let mut portal: crate::model::Portal = serde_json::from_value(serde_json::json!({
            "name": "Partner portal", "color": color, "logout_url": "https://acme.io/bye"
        }))
        .unwrap();
        if template {
            portal.template = Some("partner-default".into());
            portal.from_template.insert("color".into());
        }
        portal
    };
    let (mut live, mut desired) = (crate::model::State::default(), crate::model::State::default());
    for n in 0..12 {
        live.portals
            .insert(format!("partner-{n:02}"), portal("#0F62FE", true));
        desired
            .portals
            .insert(format!("partner-{n:02}"), portal("#112233", true));
    }
    live.portals.insert("globex".into(), portal("#0F62FE", false));
    desired.portals.insert("globex".into(), portal("#445566", false));
    crate::plan::diff(&live, &desired)
}
