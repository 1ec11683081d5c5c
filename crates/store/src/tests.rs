//! Tests of the store against real SQLite files in temp dirs.

use super::*;
use portalctl_core::model::{AttributeValue, MemberSource, Membership, PartnerOrg, Portal, Workspace};

fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 11, 26).unwrap()
}

fn put(key: ResourceKey, value: ResourceValue) -> Change {
    Change::Put { key, value }
}

fn portal(protect: bool) -> Portal {
    serde_json::from_value(serde_json::json!({
        "name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye", "protect": protect
    }))
    .unwrap()
}

fn member(email: &str, org: Option<&str>) -> Change {
    put(
        ResourceKey::Member {
            portal: "globex".into(),
            email: email.into(),
        },
        ResourceValue::Member(Membership {
            role: "viewer".into(),
            org: org.map(str::to_string),
            attributes: Default::default(),
            expires: None,
            source: MemberSource::Managed,
        }),
    )
}

fn base() -> Vec<Change> {
    vec![
        put(
            ResourceKey::Workspace,
            ResourceValue::Workspace(Workspace {
                name: "Acme".into(),
                owner_domains: ["acme.io".to_string()].into(),
            }),
        ),
        put(
            ResourceKey::PartnerOrg("globex".into()),
            ResourceValue::PartnerOrg(PartnerOrg {
                domains: ["globex.com".to_string()].into(),
                kind: Default::default(),
            }),
        ),
        put(
            ResourceKey::Portal("globex".into()),
            ResourceValue::Portal(portal(false)),
        ),
        member("alice@globex.com", Some("globex")),
    ]
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("test.db"), today()).unwrap()
}

#[test]
fn commits_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let revision = store
        .commit(Some(0), &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    assert_eq!(revision, 1);
    drop(store);
    let store = open(&dir);
    let (state, revision) = store.read_state(today()).unwrap();
    assert_eq!(revision, 1);
    assert_eq!(state.workspace.name, "Acme");
    assert_eq!(state.members.len(), 1);
    assert_eq!(store.audit(0, 10).unwrap()[0].token, "admin");
}

#[test]
fn stale_revision_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store
        .commit(Some(0), &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let error = store
        .commit(Some(0), &base(), &ChangeMeta::default(), "admin", today())
        .unwrap_err();
    assert!(matches!(error, CommitError::Stale { current: 1 }), "{error}");
}

#[test]
fn an_invalid_change_writes_nothing_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let mut bad = member("bob@globex.com", Some("globex"));
    if let Change::Put {
        value: ResourceValue::Member(m),
        ..
    } = &mut bad
    {
        m.role = "nope".into();
    }
    let batch = vec![member("carol@globex.com", Some("globex")), bad];
    let CommitError::Invalid(problems) = store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap_err()
    else {
        panic!("expected invalid");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].index, Some(1));
    assert_eq!(problems[0].field, "/members/globex/bob@globex.com/role");
    drop(store);
    let (state, revision) = open(&dir).read_state(today()).unwrap();
    assert_eq!((state.members.len(), revision), (1, 1));
}

#[test]
fn protected_portals_cannot_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut batch = base();
    batch[2] = put(
        ResourceKey::Portal("globex".into()),
        ResourceValue::Portal(portal(true)),
    );
    batch.pop();
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    let delete = [Change::Delete {
        key: ResourceKey::Portal("globex".into()),
    }];
    let error = store
        .commit(None, &delete, &ChangeMeta::default(), "admin", today())
        .unwrap_err();
    assert!(
        matches!(error, CommitError::Protected(ref name) if name == "globex"),
        "{error}"
    );
    let unprotect = [put(
        ResourceKey::Portal("globex".into()),
        ResourceValue::Portal(portal(false)),
    )];
    store
        .commit(None, &unprotect, &ChangeMeta::default(), "admin", today())
        .unwrap();
    store
        .commit(None, &delete, &ChangeMeta::default(), "admin", today())
        .unwrap();
}

#[test]
fn removing_an_org_revokes_its_members_durably() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let delete = [Change::Delete {
        key: ResourceKey::PartnerOrg("globex".into()),
    }];
    store
        .commit(None, &delete, &ChangeMeta::default(), "admin", today())
        .unwrap();
    drop(store);
    let (state, _) = open(&dir).read_state(today()).unwrap();
    assert!(state.members.is_empty());
    assert!(state.partner_orgs.is_empty());
}

#[test]
fn sensitive_values_are_masked_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut batch = base();
    batch.insert(
        0,
        put(
            ResourceKey::Attribute("tax_id".into()),
            ResourceValue::Attribute(serde_json::from_str(r#"{"type":"string","sensitive":true}"#).unwrap()),
        ),
    );
    if let Some(Change::Put {
        value: ResourceValue::Member(m),
        ..
    }) = batch.last_mut()
    {
        m.attributes
            .insert("tax_id".into(), AttributeValue::String("SECRET-123".into()));
    }
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    let audit = serde_json::to_string(&store.audit(0, 10).unwrap()).unwrap();
    assert!(!audit.contains("SECRET-123"), "{audit}");
    assert!(audit.contains(MASK));
    // The live value itself is kept.
    let (state, _) = store.read_state(today()).unwrap();
    assert_eq!(
        state.members[&("globex".to_string(), "alice@globex.com".to_string())].attributes["tax_id"],
        AttributeValue::String("SECRET-123".into())
    );
}

#[test]
fn an_older_binary_refuses_a_newer_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let error = Store::open(&path, today()).err().unwrap();
    assert!(error.to_string().contains("newer"), "{error}");
}
