//! The shared store suite: every test runs against a real SQLite file in a temp dir and
//! against a fresh PostgreSQL database (when `PORTALCTL_TEST_POSTGRES` is set).

use super::*;
use portalctl_core::model::{
    AttributeValue, Group, MemberSource, Membership, PartnerOrg, Portal, ResourceValue, Workspace,
};
use rusqlite::Connection;

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
            pending: false,
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
                permissions: Default::default(),
                console: Default::default(),
            }),
        ),
        put(
            ResourceKey::PartnerOrg("globex".into()),
            ResourceValue::PartnerOrg(PartnerOrg {
                domains: ["globex.com".to_string()].into(),
                ..PartnerOrg::default()
            }),
        ),
        put(
            ResourceKey::Portal("globex".into()),
            ResourceValue::Portal(portal(false)),
        ),
        member("alice@globex.com", Some("globex")),
    ]
}

/// The database a shared test runs on.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(crate::testing::TestDatabase),
}

impl Db {
    fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Option<Self> {
        crate::testing::TestDatabase::create().map(Self::Postgres)
    }

    fn open(&self) -> Store {
        match self {
            Self::Sqlite(dir) => Store::open(&dir.path().join("test.db"), today()).unwrap(),
            Self::Postgres(database) => {
                Store::open_database(&Database::Postgres(database.url().clone()), today()).unwrap()
            }
        }
    }

    /// Runs SQL that both dialects accept, outside the store.
    fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite(dir) => Connection::open(dir.path().join("test.db"))
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Self::Postgres(database) => database.execute(sql),
        }
    }
}

/// Instantiates each shared test once per backend.
macro_rules! shared_suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[test] fn $name() { super::$name(&super::Db::sqlite()); })*
        }
        mod on_postgres {
            $(#[test] fn $name() {
                if let Some(db) = super::Db::postgres() { super::$name(&db); }
            })*
        }
    };
}

shared_suite!(
    commits_survive_reopening,
    stale_revision_is_refused,
    an_invalid_change_writes_nothing_and_is_named,
    protected_portals_cannot_be_deleted,
    removing_an_org_revokes_its_members_durably,
    sensitive_values_are_masked_in_the_audit_log,
    read_then_write_batches_lose_no_update_under_contention,
    writers_of_two_processes_queued_behind_each_other_lose_no_update,
    a_batch_is_judged_by_the_errors_it_adds,
    a_store_catches_up_with_commits_of_another_process,
    many_commits_keep_both_copies_equal_to_the_durable_state,
    large_batches_copy_the_spare_and_later_commits_stay_consistent,
    a_commit_waiting_for_a_held_snapshot_says_so_until_it_is_let_go,
    audit_pages_are_bounded_in_bytes_and_a_large_batch_pages_its_changes,
    an_older_binary_refuses_a_newer_database,
    deleting_an_org_audits_what_it_caused,
    mail_is_stored_with_its_batch_or_not_at_all,
    the_outbox_lists_newest_first_by_page_and_filters,
    claimed_messages_are_leased_to_one_sender_and_marked,
    a_link_is_used_once_by_one_request_before_it_expires,
    a_link_is_stored_with_its_mail_or_not_at_all,
    sessions_expire_and_the_first_login_is_shown_once,
    totp_codes_and_recovery_codes_are_accepted_once,
    tokens_are_stored_hashed_and_refused_once_revoked_or_expired,
    a_revocation_through_one_store_holds_at_once_in_another,
    reveals_are_audited_in_order_on_every_store_without_values,
    the_newest_snapshot_waits_for_a_busy_writer_instead_of_answering_an_older_state,
    the_audit_log_is_searched_by_subject_and_actor_over_its_whole_length,
);

fn the_audit_log_is_searched_by_subject_and_actor_over_its_whole_length(db: &Db) {
    let store = db.open();
    store
        .commit(Some(0), &base(), &ChangeMeta::default(), "ci", today())
        .unwrap();
    // 30 revisions: bob's seat (by ann), then group changes naming bob in their value.
    for n in 0..30 {
        let change = if n % 3 == 0 {
            member(&format!("p{n}@globex.com"), Some("globex"))
        } else {
            group(
                "finance",
                &["alice@globex.com", &format!("p{}@globex.com", n - n % 3)],
            )
        };
        let actor = if n % 2 == 0 { "staff:ann@acme.io" } else { "ci" };
        store
            .commit(None, &[change], &ChangeMeta::default(), actor, today())
            .unwrap();
    }
    let search = |resource: Option<&str>, actor: Option<&str>, before: Option<u64>, limit: usize| {
        store
            .audit_search(&AuditQuery {
                resource: resource.map(str::to_string),
                actor: actor.map(str::to_string),
                before,
                limit,
            })
            .unwrap()
            .into_iter()
            .map(|entry| entry.revision)
            .collect::<Vec<_>>()
    };
    // Alice: the base batch and every group change, newest first, whole log, by page.
    let alice = search(Some("Alice@Globex.com"), None, None, 1000);
    assert_eq!(alice.len(), 1 + 20, "{alice:?}");
    assert_eq!(alice[0], 31);
    assert_eq!(*alice.last().unwrap(), 1);
    let first_page = search(Some("alice@globex.com"), None, None, 5);
    let second_page = search(Some("alice@globex.com"), None, first_page.last().copied(), 5);
    assert_eq!([first_page, second_page].concat(), alice[..10]);
    // p3: its seat (revision 5) and the two group changes naming it.
    assert_eq!(search(Some("p3@globex.com"), None, None, 10), [7, 6, 5]);
    assert_eq!(search(Some("group:finance"), Some("ci"), None, 3), [31, 27, 25]);
    let by_ann = search(None, Some("staff:ann@acme.io"), None, 1000);
    assert_eq!(by_ann.len(), 15);
    assert!(search(Some("nobody@globex.com"), None, None, 10).is_empty());
    // The entries come without their changes, with their actor.
    let entry = &store
        .audit_search(&AuditQuery {
            resource: Some("globex".into()),
            before: Some(2),
            limit: 1,
            ..AuditQuery::default()
        })
        .unwrap()[0];
    assert_eq!((entry.revision, entry.token.as_str()), (1, "ci"));
    assert!(entry.changes.is_empty() && entry.change_count == 4);
    // A second store (another replica) reads the same index and extends it.
    let other = db.open();
    other
        .commit(
            None,
            &[member("late@globex.com", Some("globex"))],
            &ChangeMeta::default(),
            "ci",
            today(),
        )
        .unwrap();
    let late = other
        .audit_search(&AuditQuery {
            resource: Some("late@globex.com".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(late.len(), 1);
    assert_eq!(store.index_audit().unwrap(), 32);
}

fn commits_survive_reopening(db: &Db) {
    let store = db.open();
    let revision = store
        .commit(Some(0), &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    assert_eq!(revision, 1);
    drop(store);
    let store = db.open();
    let (state, revision) = store.read_state(today()).unwrap();
    assert_eq!(revision, 1);
    assert_eq!(state.workspace.name, "Acme");
    assert_eq!(state.members.len(), 1);
    assert_eq!(store.audit(0, 10).unwrap()[0].token, "admin");
}

fn stale_revision_is_refused(db: &Db) {
    let store = db.open();
    store
        .commit(Some(0), &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let error = store
        .commit(Some(0), &base(), &ChangeMeta::default(), "admin", today())
        .unwrap_err();
    assert!(matches!(error, CommitError::Stale { current: 1 }), "{error}");
}

fn an_invalid_change_writes_nothing_and_is_named(db: &Db) {
    let store = db.open();
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
    // An unknown role is a reference the current state cannot satisfy: a conflict.
    let CommitError::Conflict(problems) = store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap_err()
    else {
        panic!("expected a conflict with the state");
    };
    assert_eq!(problems.listed.len(), 1);
    assert_eq!(problems.listed[0].index, Some(1));
    assert_eq!(problems.listed[0].field, "/members/globex/bob@globex.com/role");
    drop(store);
    let (state, revision) = db.open().read_state(today()).unwrap();
    assert_eq!((state.members.len(), revision), (1, 1));
}

fn protected_portals_cannot_be_deleted(db: &Db) {
    let store = db.open();
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

fn removing_an_org_revokes_its_members_durably(db: &Db) {
    let store = db.open();
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
    let (state, _) = db.open().read_state(today()).unwrap();
    assert!(state.members.is_empty());
    assert!(state.partner_orgs.is_empty());
}

fn sensitive_values_are_masked_in_the_audit_log(db: &Db) {
    let store = db.open();
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

fn an_older_binary_refuses_a_newer_database(db: &Db) {
    drop(db.open());
    match db {
        Db::Sqlite(_) => db.execute(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1)),
        Db::Postgres(_) => db.execute(&format!(
            "UPDATE schema_version SET version = {}",
            POSTGRES_SCHEMA_VERSION + 1
        )),
    }
    let error = match db {
        Db::Sqlite(dir) => Store::open(&dir.path().join("test.db"), today()).err().unwrap(),
        Db::Postgres(database) => Store::open_database(&Database::Postgres(database.url().clone()), today())
            .err()
            .unwrap(),
    };
    assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
    assert!(error.to_string().contains("newer"), "{error}");
}

fn group(name: &str, members: &[&str]) -> Change {
    put(
        ResourceKey::Group(name.into()),
        ResourceValue::Group(Group {
            description: None,
            members: members.iter().map(|email| (*email).to_string()).collect(),
            joined_live: Default::default(),
        }),
    )
}

/// The published snapshot equals what a fresh open loads, index included.
fn assert_consistent(store: &Store, db: &Db) {
    let published = store.published();
    let reloaded = db.open().published();
    assert_eq!(published.revision, reloaded.revision);
    assert_eq!(published.state, reloaded.state);
    assert_eq!(published.index, AccessIndex::new(&published.state, today()));
}

/// Adds `email` to group `g` as the service's handler does: read the group, then commit
/// the new value on exactly that state. Returns the revision.
fn add_to_group_g(store: &Store, email: &str) -> u64 {
    store
        .commit_with(&ChangeMeta::default(), "admin", today(), |state, _| {
            let mut value = state.groups["g"].clone();
            value.members.insert(email.to_string());
            Ok::<_, CommitError>(vec![put(
                ResourceKey::Group("g".into()),
                ResourceValue::Group(value),
            )])
        })
        .unwrap()
}

/// Commits the base state, `count` partners of `globex` and an empty group `g`; returns
/// the partners' emails and the revision.
fn seed_partners_and_empty_group_g(store: &Store, count: usize) -> (Vec<String>, u64) {
    let mut batch = base();
    let emails: Vec<String> = (0..count).map(|n| format!("p{n}@globex.com")).collect();
    batch.extend(emails.iter().map(|email| member(email, Some("globex"))));
    batch.push(group("g", &[]));
    let revision = store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    (emails, revision)
}

fn read_then_write_batches_lose_no_update_under_contention(db: &Db) {
    let store = Arc::new(db.open());
    let (emails, _) = seed_partners_and_empty_group_g(&store, 40);
    let threads: Vec<_> = emails
        .chunks(5)
        .map(|chunk| {
            let store = Arc::clone(&store);
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                for email in chunk {
                    add_to_group_g(&store, &email);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(store.published().state.groups["g"].members.len(), emails.len());
    assert_consistent(&store, db);
}

/// Four writers in each of two processes: a turn handed on between the writers of one
/// process (PostgreSQL) still commits each batch on the head it was built on.
fn writers_of_two_processes_queued_behind_each_other_lose_no_update(db: &Db) {
    let first = Arc::new(db.open());
    let (emails, seeded) = seed_partners_and_empty_group_g(&first, 64);
    let second = Arc::new(db.open());
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = emails
        .chunks(8)
        .enumerate()
        .map(|(n, chunk)| {
            let store = Arc::clone(if n % 2 == 0 { &first } else { &second });
            let barrier = Arc::clone(&barrier);
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                barrier.wait();
                chunk
                    .iter()
                    .map(|email| add_to_group_g(&store, email))
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut revisions: Vec<u64> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    revisions.sort_unstable();
    let expected: Vec<u64> = (seeded + 1..=seeded + emails.len() as u64).collect();
    assert_eq!(revisions, expected, "each batch its own revision, none lost");
    for store in [&first, &second] {
        let newest = store.newest_snapshot(today()).unwrap();
        assert_eq!(newest.revision, seeded + emails.len() as u64);
        assert_eq!(newest.state.groups["g"].members.len(), emails.len());
    }
    if matches!(db, Db::Postgres(_)) {
        let handed_on = first.turns_handed_on() + second.turns_handed_on();
        assert!(
            handed_on > 0,
            "four writers queued in each process, and no turn was handed on"
        );
    }
    assert_consistent(&first, db);
}

fn a_batch_is_judged_by_the_errors_it_adds(db: &Db) {
    let store = db.open();
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    drop(store);
    // A row an older version let in: a member outside its org's domains.
    db.execute(
        "INSERT INTO resources (kind, key, value, revision, deleted) VALUES ('member', '[\"globex\",\"eve@else.com\"]', '{\"role\":\"viewer\",\"org\":\"globex\"}', 0, FALSE)",
    );
    let store = db.open();
    let add_domain = put(
        ResourceKey::PartnerOrg("globex".into()),
        ResourceValue::PartnerOrg(PartnerOrg {
            domains: ["globex.com".to_string(), "globex.de".to_string()].into(),
            ..PartnerOrg::default()
        }),
    );
    store
        .commit(None, &[add_domain], &ChangeMeta::default(), "admin", today())
        .unwrap();
    // A new error is still refused, and the refusal leaves the store as it was.
    let error = store
        .commit(
            None,
            &[group("g", &["ghost@globex.com"])],
            &ChangeMeta::default(),
            "admin",
            today(),
        )
        .unwrap_err();
    // A group member who is no partner: a conflict with the current state.
    assert!(matches!(error, CommitError::Conflict(_)), "{error}");
    store
        .commit(
            None,
            &[member("zed@globex.com", Some("globex"))],
            &ChangeMeta::default(),
            "admin",
            today(),
        )
        .unwrap();
    assert_consistent(&store, db);
}

fn a_store_catches_up_with_commits_of_another_process(db: &Db) {
    let first = db.open();
    let second = db.open();
    first
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let (state, revision) = second.read_state(today()).unwrap();
    assert_eq!((revision, state.members.len()), (1, 1));
    first
        .commit(
            None,
            &[Change::Delete {
                key: ResourceKey::Member {
                    portal: "globex".into(),
                    email: "alice@globex.com".into(),
                },
            }],
            &ChangeMeta::default(),
            "admin",
            today(),
        )
        .unwrap();
    // A commit through the second store first catches up, and is judged on the head.
    let revision = second
        .commit(
            Some(2),
            &[member("bob@globex.com", Some("globex"))],
            &ChangeMeta::default(),
            "admin",
            today(),
        )
        .unwrap();
    assert_eq!(revision, 3);
    let published = second.published();
    assert_eq!(
        published
            .state
            .members
            .keys()
            .map(|(_, email)| email.as_str())
            .collect::<Vec<_>>(),
        ["bob@globex.com"]
    );
    assert_consistent(&second, db);
    assert_eq!(first.read_state(today()).unwrap().0, published.state);
}

fn many_commits_keep_both_copies_equal_to_the_durable_state(db: &Db) {
    let store = db.open();
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    for n in 0..30 {
        let email = format!("m{n}@globex.com");
        store
            .commit(
                None,
                &[member(&email, Some("globex"))],
                &ChangeMeta::default(),
                "admin",
                today(),
            )
            .unwrap();
        // Refused batches in between must not leak into either copy.
        let _ = store
            .commit(
                None,
                &[member(&format!("x{n}@else.com"), Some("globex"))],
                &ChangeMeta::default(),
                "admin",
                today(),
            )
            .unwrap_err();
        if n % 3 == 0 {
            store
                .commit(
                    None,
                    &[group("g", &[email.as_str()])],
                    &ChangeMeta::default(),
                    "admin",
                    today(),
                )
                .unwrap();
        }
        if n % 7 == 0 {
            store
                .commit(
                    None,
                    &[Change::Delete {
                        key: ResourceKey::PartnerOrg("globex".into()),
                    }],
                    &ChangeMeta::default(),
                    "admin",
                    today(),
                )
                .unwrap();
            store
                .commit(None, &base(), &ChangeMeta::default(), "admin", today())
                .unwrap();
        }
        assert_consistent(&store, db);
    }
}

fn large_batches_copy_the_spare_and_later_commits_stay_consistent(db: &Db) {
    let store = db.open();
    let mut batch = base();
    batch.extend((0..3 * SPARE_REPLAY_MAX).map(|n| member(&format!("p{n}@globex.com"), Some("globex"))));
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    assert_consistent(&store, db);
    for n in 0..4 {
        // Small batches replay on the spare; a large one (odd rounds) copies it again.
        let size = if n % 2 == 1 { 2 * SPARE_REPLAY_MAX } else { 1 };
        let changes: Vec<Change> = (0..size)
            .map(|m| member(&format!("q{n}-{m}@globex.com"), Some("globex")))
            .collect();
        store
            .commit(None, &changes, &ChangeMeta::default(), "admin", today())
            .unwrap();
        // A refused large batch leaves both copies as they were.
        let refused: Vec<Change> = (0..2 * SPARE_REPLAY_MAX)
            .map(|m| member(&format!("r{n}-{m}@else.com"), Some("globex")))
            .collect();
        store
            .commit(None, &refused, &ChangeMeta::default(), "admin", today())
            .unwrap_err();
        assert_consistent(&store, db);
    }
}

/// A reader holding the snapshot the next commit reuses makes the commit wait, and the
/// store says so (what a "did you mean" search asks, to give up): the flag is up while the
/// commit waits and down once it has its copy.
fn a_commit_waiting_for_a_held_snapshot_says_so_until_it_is_let_go(db: &Db) {
    let store = db.open();
    let commit = |store: &Store, email: &str| {
        store
            .commit(
                None,
                &[member(email, Some("globex"))],
                &ChangeMeta::default(),
                "admin",
                today(),
            )
            .unwrap()
    };
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    commit(&store, "first@globex.com");
    // The commit waits a bounded time (then copies the state): a loaded machine may keep
    // this thread from looking while it waits, so a few tries.
    let mut said_so = false;
    for attempt in 0..5 {
        // Held: the published snapshot, which the next commit leaves as the spare.
        let held = store.published();
        commit(&store, &format!("held{attempt}@globex.com"));
        assert!(
            !store.a_writer_waits(),
            "nobody waits before a commit needs the held copy"
        );
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| commit(&store, &format!("waits{attempt}@globex.com")));
            while !store.a_writer_waits() && !waiting.is_finished() {
                std::thread::sleep(Duration::from_micros(20));
            }
            said_so = store.a_writer_waits();
            drop(held);
            let revision = waiting.join().unwrap();
            assert_eq!(revision, store.published().revision);
        });
        assert!(
            !store.a_writer_waits(),
            "the flag is lowered once the commit has its copy"
        );
        if said_so {
            break;
        }
    }
    assert!(said_so, "a commit waited for the held copy without saying so");
    assert_consistent(&store, db);
}

fn audit_pages_are_bounded_in_bytes_and_a_large_batch_pages_its_changes(db: &Db) {
    let store = db.open();
    let mut batch = base();
    batch.extend((0..20_000).map(|n| member(&format!("partner{n:05}@globex.com"), Some("globex"))));
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    store
        .commit(
            None,
            &[member("last@globex.com", Some("globex"))],
            &ChangeMeta::default(),
            "admin",
            today(),
        )
        .unwrap();
    let page = store.audit_page(0, 100).unwrap();
    assert_eq!(page.len(), 1, "the large batch comes alone");
    let entry = &page[0];
    assert!(entry.changes_truncated);
    assert_eq!(entry.change_count, batch.len() as u64);
    let size = serde_json::to_vec(&page).unwrap().len();
    assert!(size <= AUDIT_PAGE_BYTES + 4096, "{size} {}", entry.changes.len());
    let mut all = entry.changes.clone();
    while all.len() < batch.len() {
        let slice = store.audit_changes(1, all.len(), 1000).unwrap().unwrap();
        assert!(!slice.changes.is_empty());
        all.extend(slice.changes);
    }
    assert_eq!(all.len(), batch.len());
    let expected: Vec<portalctl_core::model::WireChange> = batch.iter().cloned().map(Into::into).collect();
    assert_eq!(
        serde_json::to_value(&all).unwrap(),
        serde_json::to_value(&expected).unwrap()
    );
    assert_eq!(store.audit_page(1, 100).unwrap()[0].revision, 2);
    // The in-process reader gets whole entries.
    assert_eq!(store.audit(0, 100).unwrap()[0].changes.len(), batch.len());
    assert!(store.audit_changes(9, 0, 10).unwrap().is_none());
    // The large batch is indexed by subject in several statements (20k emails).
    for email in [
        "partner00000@globex.com",
        "partner12345@globex.com",
        "partner19999@globex.com",
    ] {
        let found = store
            .audit_search(&AuditQuery {
                resource: Some(email.into()),
                limit: 10,
                ..AuditQuery::default()
            })
            .unwrap();
        assert_eq!(
            found.iter().map(|entry| entry.revision).collect::<Vec<_>>(),
            [1],
            "{email}"
        );
    }
}

#[test]
fn a_postgres_store_reconnects_after_losing_its_connections() {
    let Some(database) = crate::testing::TestDatabase::create() else {
        return;
    };
    let url = Database::Postgres(database.url().clone());
    let store = Store::open_database(&url, today()).unwrap();
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    database.terminate_connections();
    // The first use of a terminated connection may fail, as unavailable (never as a bad
    // request); the next one reconnects.
    let batch = [member("bob@globex.com", Some("globex"))];
    let revision = match store.commit(None, &batch, &ChangeMeta::default(), "admin", today()) {
        Ok(revision) => revision,
        Err(CommitError::Storage(error)) => {
            assert!(error.is_unavailable(), "{error}");
            store
                .commit(None, &batch, &ChangeMeta::default(), "admin", today())
                .unwrap()
        }
        Err(error) => panic!("{error}"),
    };
    assert_eq!(revision, 2);
    // The listener reconnects too, and hears the next commit.
    database.terminate_connections();
    let _ = store.backend().wait_for_commit(Duration::from_millis(10));
    store
        .backend()
        .wait_for_commit(Duration::from_millis(10))
        .unwrap();
    let other = Store::open_database(&url, today()).unwrap();
    other
        .commit(
            None,
            &[member("carol@globex.com", Some("globex"))],
            &ChangeMeta::default(),
            "admin",
            today(),
        )
        .unwrap();
    let heard = Instant::now();
    store.backend().wait_for_commit(Duration::from_secs(5)).unwrap();
    assert!(
        heard.elapsed() < Duration::from_secs(4),
        "the commit was not announced"
    );
    assert_eq!(store.read_state(today()).unwrap().1, 3);
}

fn deleting_an_org_audits_what_it_caused(db: &Db) {
    use portalctl_core::model::{Access, Folder, Op, Share};
    let store = db.open();
    let mut batch = base();
    batch.push(member("bob@globex.com", Some("globex")));
    batch.push(member("carol@initech.com", None));
    batch.push(group(
        "g",
        &["alice@globex.com", "bob@globex.com", "carol@initech.com"],
    ));
    batch.push(group("untouched", &["carol@initech.com"]));
    batch.push(put(
        ResourceKey::Folder("/F".into()),
        ResourceValue::Folder(Folder::default()),
    ));
    for principal in ["user:alice@globex.com", "org:globex", "user:carol@initech.com"] {
        batch.push(put(
            ResourceKey::Share {
                folder: "/F".into(),
                principal: principal.parse().unwrap(),
            },
            ResourceValue::Share(Share {
                access: Access::View,
                expires: None,
            }),
        ));
    }
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    let first = store.audit(0, 10).unwrap();
    assert_eq!(
        first[0].caused_count, 0,
        "a batch that revokes nothing caused nothing"
    );
    assert_eq!(first[0].change_count, batch.len() as u64);
    let delete = [Change::Delete {
        key: ResourceKey::PartnerOrg("globex".into()),
    }];
    let revision = store
        .commit(None, &delete, &ChangeMeta::default(), "ops-console", today())
        .unwrap();
    drop(store);
    // Durable: a fresh open reads the same entry.
    let store = db.open();
    let entry = store.audit(1, 10).unwrap().remove(0);
    assert_eq!(entry.revision, revision);
    assert_eq!(entry.token, "ops-console");
    assert_eq!(
        (entry.change_count, entry.caused_count, entry.sent_count()),
        (6, 5, 1)
    );
    let shown: Vec<(Op, String, Vec<String>)> = entry
        .changes
        .iter()
        .map(|change| (change.op, change.kind.to_string(), change.key.clone()))
        .collect();
    let key = |parts: &[&str]| parts.iter().map(|part| (*part).to_string()).collect::<Vec<_>>();
    assert_eq!(
        shown,
        [
            (Op::Delete, "partner_org".into(), key(&["globex"])),
            (Op::Delete, "member".into(), key(&["globex", "alice@globex.com"])),
            (Op::Delete, "member".into(), key(&["globex", "bob@globex.com"])),
            (Op::Put, "group".into(), key(&["g"])),
            (Op::Delete, "share".into(), key(&["/F", "user:alice@globex.com"])),
            (Op::Delete, "share".into(), key(&["/F", "org:globex"])),
        ]
    );
    assert_eq!(
        entry.changes[3].value,
        Some(serde_json::json!({"members": ["carol@initech.com"]}))
    );
    // The page and the slices agree with the whole entry.
    let page = store.audit_page(1, 10).unwrap();
    assert_eq!((page[0].change_count, page[0].caused_count), (6, 5));
    let slice = store.audit_changes(revision, 1, 100).unwrap().unwrap();
    assert_eq!(slice.change_count, 6);
    assert_eq!(
        serde_json::to_value(&slice.changes).unwrap(),
        serde_json::to_value(&entry.changes[1..]).unwrap()
    );
    // A change the batch sends is never counted as caused, even when the org's removal
    // touches it too.
    store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let batch = [
        member("dan@globex.com", Some("globex")),
        group("g", &["alice@globex.com", "dan@globex.com"]),
    ];
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    let sent = [
        group("g", &["alice@globex.com", "dan@globex.com", "carol@initech.com"]),
        Change::Delete {
            key: ResourceKey::PartnerOrg("globex".into()),
        },
    ];
    let revision = store
        .commit(None, &sent, &ChangeMeta::default(), "admin", today())
        .unwrap();
    let entry = store.audit(revision - 1, 10).unwrap().remove(0);
    assert_eq!(
        (entry.change_count, entry.caused_count),
        (4, 2),
        "{:?}",
        entry.changes
    );
    assert!(
        entry.changes[2..]
            .iter()
            .all(|change| change.kind == portalctl_core::model::Kind::Member && change.op == Op::Delete)
    );
    assert_consistent(&store, db);
}

#[test]
fn a_store_for_few_commits_commits_and_catches_up_like_any_other() {
    let db = Db::sqlite();
    let Db::Sqlite(dir) = &db else { unreachable!() };
    let path = dir.path().join("test.db");
    let few = Store::open_for_few_commits(&path, today()).unwrap();
    let mut batch = base();
    batch.extend((0..3 * SPARE_REPLAY_MAX).map(|n| member(&format!("p{n}@globex.com"), Some("globex"))));
    few.commit(Some(0), &batch, &ChangeMeta::default(), "local", today())
        .unwrap();
    assert_consistent(&few, &db);
    let one = |store: &Store, email: &str, org: Option<&str>, actor: &str| {
        store.commit(
            None,
            &[member(email, org)],
            &ChangeMeta::default(),
            actor,
            today(),
        )
    };
    // Another process commits; this store catches up and commits on top of it.
    one(
        &Store::open(&path, today()).unwrap(),
        "bob@globex.com",
        Some("globex"),
        "admin",
    )
    .unwrap();
    one(&few, "carol@globex.com", Some("globex"), "local").unwrap();
    one(&few, "dan@else.com", Some("globex"), "local").unwrap_err();
    one(&few, "erin@globex.com", None, "local").unwrap();
    assert_consistent(&few, &db);
    let (state, revision) = few.read_state(today()).unwrap();
    assert_eq!(revision, 4);
    assert!(
        state
            .members
            .contains_key(&("globex".to_string(), "bob@globex.com".to_string()))
    );
}

fn mail(recipient: &str, kind: MailKind) -> NewMessage {
    NewMessage {
        portal: "globex".into(),
        recipient: recipient.into(),
        kind,
        subject: format!("Hello {recipient}"),
        text: "Open https://portals.acme.io/p/globex/".into(),
        html: "<p>Open <a href=\"https://portals.acme.io/p/globex/\">the portal</a></p>".into(),
    }
}

fn mail_is_stored_with_its_batch_or_not_at_all(db: &Db) {
    let store = db.open();
    let meta = ChangeMeta::default();
    let revision = store
        .commit_with_mail(&meta, "admin", today(), |state, _| {
            assert!(state.members.is_empty());
            Ok::<_, CommitError>((base(), vec![mail("alice@globex.com", MailKind::Invitation)]))
        })
        .unwrap();
    assert_eq!(revision, 1);
    // A refused batch enqueues nothing.
    let mut bad = member("bob@globex.com", Some("globex"));
    if let Change::Put {
        value: ResourceValue::Member(m),
        ..
    } = &mut bad
    {
        m.role = "nope".into();
    }
    let refused = store.commit_with_mail(&meta, "admin", today(), |_, _| {
        Ok::<_, CommitError>((
            vec![bad.clone()],
            vec![mail("bob@globex.com", MailKind::Invitation)],
        ))
    });
    assert!(matches!(refused, Err(CommitError::Conflict(_))));
    // An empty batch commits and enqueues nothing.
    let revision = store
        .commit_with_mail(&meta, "admin", today(), |_, _| {
            Ok::<_, CommitError>((Vec::new(), vec![mail("carol@globex.com", MailKind::Invitation)]))
        })
        .unwrap();
    assert_eq!(revision, 1);
    drop(store);
    let store = db.open();
    let all = store.outbox(&OutboxQuery::default()).unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    let message = &all[0];
    assert_eq!(
        (message.recipient.as_str(), message.kind, message.attempts),
        ("alice@globex.com", MailKind::Invitation, 0)
    );
    assert_eq!(message.subject, "Hello alice@globex.com");
    assert!(message.html.contains("<a href"));
    assert_eq!((message.sent_at, message.last_error.as_deref()), (None, None));
    assert_eq!(message.next_attempt_at, message.created_at);
    // Nothing of it reaches the state or the audit log.
    let audit = serde_json::to_string(&store.audit(0, 10).unwrap()).unwrap();
    assert!(!audit.contains("Hello"), "{audit}");
    assert_eq!(store.audit(0, 10).unwrap().len(), 1);
}

fn the_outbox_lists_newest_first_by_page_and_filters(db: &Db) {
    let store = db.open();
    let kinds = [
        MailKind::SignInLink,
        MailKind::SignUpVerification,
        MailKind::Approval,
    ];
    let batch: Vec<NewMessage> = (0..7)
        .map(|n| mail(&format!("p{n}@globex.com"), kinds[n % kinds.len()]))
        .collect();
    let ids = store.enqueue(&batch).unwrap();
    assert_eq!(ids.len(), 7);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    let mut other = mail("x@initech.com", MailKind::AccessRemoved);
    other.portal = "initech".into();
    let last = store.enqueue(&[other]).unwrap()[0];
    assert!(last > ids[6]);
    let recipients = |messages: &[OutboxMessage]| -> Vec<String> {
        messages.iter().map(|message| message.recipient.clone()).collect()
    };
    let first = store
        .outbox(&OutboxQuery {
            limit: 3,
            ..OutboxQuery::default()
        })
        .unwrap();
    assert_eq!(
        recipients(&first),
        ["x@initech.com", "p6@globex.com", "p5@globex.com"]
    );
    let second = store
        .outbox(&OutboxQuery {
            limit: 3,
            before: Some(first[2].id),
            ..OutboxQuery::default()
        })
        .unwrap();
    assert_eq!(
        recipients(&second),
        ["p4@globex.com", "p3@globex.com", "p2@globex.com"]
    );
    assert_eq!(second[1].kind, MailKind::SignInLink);
    // Sent messages drop out of the unsent filter; portal and recipient filters.
    assert!(store.mark_sent(ids[6], time::OffsetDateTime::now_utc()).unwrap());
    let unsent = store
        .outbox(&OutboxQuery {
            unsent_only: true,
            portal: Some("globex".into()),
            ..OutboxQuery::default()
        })
        .unwrap();
    assert_eq!(unsent.len(), 6);
    assert!(unsent.iter().all(|message| message.recipient != "p6@globex.com"));
    let one = store
        .outbox(&OutboxQuery {
            recipient: Some("p2@globex.com".into()),
            ..OutboxQuery::default()
        })
        .unwrap();
    assert_eq!(recipients(&one), ["p2@globex.com"]);
    assert!(!store.mark_sent(9_999, time::OffsetDateTime::now_utc()).unwrap());
}

fn claimed_messages_are_leased_to_one_sender_and_marked(db: &Db) {
    let store = Arc::new(db.open());
    // A second store on the same database: another process or replica.
    let replica = Arc::new(db.open());
    let batch: Vec<NewMessage> = (0..40)
        .map(|n| mail(&format!("p{n}@globex.com"), MailKind::Invitation))
        .collect();
    store.enqueue(&batch).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let lease = Duration::from_secs(60);
    // Four senders on two stores claim at once: each message goes to exactly one.
    let claimed: Vec<u64> = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..4)
            .map(|n| {
                let store = if n % 2 == 0 { &store } else { &replica };
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let page = store.claim_outbox(now, lease, 3).unwrap();
                        if page.is_empty() {
                            return mine;
                        }
                        assert!(page.iter().all(|message| message.attempts == 1));
                        mine.extend(page.iter().map(|message| message.id));
                    }
                })
            })
            .collect();
        senders
            .into_iter()
            .flat_map(|sender| sender.join().unwrap())
            .collect()
    });
    let mut sorted = claimed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!((claimed.len(), sorted.len()), (40, 40));
    // Leased: nothing is due until the lease ends; then the unmarked ones come back.
    assert!(store.claim_outbox(now, lease, 100).unwrap().is_empty());
    let (sent, failed) = sorted.split_at(30);
    // One by one, and a batch in one statement (as the sender marks what it sent).
    let (one_by_one, together) = sent.split_at(10);
    for id in one_by_one {
        assert!(store.mark_sent(*id, now).unwrap());
    }
    assert_eq!(replica.mark_all_sent(together, now).unwrap(), together.len());
    assert_eq!(store.mark_all_sent(&[], now).unwrap(), 0);
    assert_eq!(store.mark_all_sent(&[9_999], now).unwrap(), 0);
    let retry = now + time::Duration::seconds(30);
    for id in &failed[..5] {
        assert!(replica.mark_failed(*id, "421 try later", retry).unwrap());
    }
    // A sent message cannot be marked failed.
    assert!(!store.mark_failed(sent[0], "late", retry).unwrap());
    let later = now + time::Duration::seconds(31);
    let again = store.claim_outbox(later, lease, 100).unwrap();
    let again_ids: Vec<u64> = again.iter().map(|message| message.id).collect();
    assert_eq!(again_ids, failed[..5]);
    assert!(
        again
            .iter()
            .all(|message| message.attempts == 2 && message.last_error.as_deref() == Some("421 try later"))
    );
    // The five never marked come back when their lease ends.
    let after_lease = now + time::Duration::seconds(61);
    let expired: Vec<u64> = store
        .claim_outbox(after_lease, lease, 100)
        .unwrap()
        .iter()
        .map(|message| message.id)
        .collect();
    assert_eq!(expired, failed[5..]);
    let listed = store
        .outbox(&OutboxQuery {
            unsent_only: true,
            ..OutboxQuery::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 10);
    let sent_row = store
        .outbox(&OutboxQuery {
            recipient: Some(
                batch[usize::try_from(sent[0] - sorted[0]).unwrap()]
                    .recipient
                    .clone(),
            ),
            ..OutboxQuery::default()
        })
        .unwrap();
    assert_eq!(
        sent_row[0].sent_at,
        Some(
            now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
                .unwrap()
        )
    );
}

fn link(hash: &str, expires_at: time::OffsetDateTime) -> LinkToken {
    LinkToken {
        hash: hash.into(),
        portal: "globex".into(),
        email: "alice@globex.com".into(),
        purpose: LinkPurpose::SignIn,
        payload: String::new(),
        expires_at,
    }
}

fn a_link_is_stored_with_its_mail_or_not_at_all(db: &Db) {
    let store = db.open();
    let now = time::OffsetDateTime::now_utc();
    let later = now + time::Duration::minutes(15);
    let ids = store
        .create_link_with_mail(
            &link("aa", later),
            now,
            &[mail("alice@globex.com", MailKind::SignInLink)],
        )
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert!(matches!(
        store.use_link("aa", "globex", now).unwrap(),
        LinkUse::Used(_)
    ));
    // The link's insert fails (its hash is taken) after the mail's: the mail goes too.
    let refused = store.create_link_with_mail(
        &link("aa", later),
        now,
        &[mail("bob@globex.com", MailKind::SignInLink)],
    );
    assert!(refused.is_err());
    drop(store);
    let store = db.open();
    let all = store.outbox(&OutboxQuery::default()).unwrap();
    let recipients: Vec<&str> = all.iter().map(|message| message.recipient.as_str()).collect();
    assert_eq!(recipients, ["alice@globex.com"], "a mail without its link");
    assert_eq!(all[0].id, ids[0]);
}

fn a_link_is_used_once_by_one_request_before_it_expires(db: &Db) {
    let store = Arc::new(db.open());
    let replica = Arc::new(db.open());
    let now = time::OffsetDateTime::now_utc();
    let later = now + time::Duration::minutes(15);
    store.create_link(&link("aa", later), now).unwrap();
    store.create_link(&link("bb", later), now).unwrap();
    // Eight requests on two stores follow one link at once: exactly one signs in.
    let outcomes: Vec<LinkUse> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let store = if n % 2 == 0 { &store } else { &replica };
                scope.spawn(move || store.use_link("aa", "globex", now).unwrap())
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let used: Vec<&LinkUse> = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, LinkUse::Used(_)))
        .collect();
    assert_eq!(used.len(), 1, "{outcomes:?}");
    assert!(
        matches!(used[0], LinkUse::Used(token) if token.email == "alice@globex.com" && token.portal == "globex")
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|outcome| **outcome == LinkUse::AlreadyUsed)
            .count(),
        7
    );
    // At its expiry a link is refused, and says why; an unknown hash is unknown.
    assert_eq!(store.use_link("bb", "globex", later).unwrap(), LinkUse::Expired);
    // Followed on another portal's page, a link is refused and not used up.
    assert_eq!(
        store.use_link("bb", "initech", now).unwrap(),
        LinkUse::OtherPortal
    );
    assert_eq!(store.use_link("cc", "globex", now).unwrap(), LinkUse::Unknown);
    assert!(matches!(
        store.use_link("bb", "globex", now).unwrap(),
        LinkUse::Used(_)
    ));
    assert_eq!(
        store.purge_expired(later + time::Duration::seconds(1)).unwrap(),
        2
    );
    assert_eq!(store.use_link("aa", "globex", now).unwrap(), LinkUse::Unknown);
}

fn sessions_expire_and_the_first_login_is_shown_once(db: &Db) {
    let store = db.open();
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let session = Session {
        hash: "s1".into(),
        portal: "globex".into(),
        email: "alice@globex.com".into(),
        created_at: now,
        expires_at: now + time::Duration::minutes(5),
        second_factor: false,
        first_login: false,
    };
    let created = store.create_session(&session).unwrap();
    assert!(created.first_login);
    let again = store
        .create_session(&Session {
            hash: "s2".into(),
            ..session.clone()
        })
        .unwrap();
    assert!(!again.first_login, "only the first sign-in is the first login");
    let read = store.session("s1", now).unwrap().unwrap();
    assert_eq!(read, created);
    assert!(store.take_first_login("s1").unwrap());
    assert!(!store.take_first_login("s1").unwrap());
    assert!(store.complete_second_factor("s1").unwrap());
    let read = store.session("s1", now).unwrap().unwrap();
    assert!(read.second_factor && !read.first_login);
    assert_eq!(
        store.session("s1", now + time::Duration::minutes(5)).unwrap(),
        None
    );
    assert!(store.delete_session("s1").unwrap());
    assert_eq!(store.session("s1", now).unwrap(), None);
    assert!(store.session("s2", now).unwrap().is_some());
    // None of it is state: no revision, no audit entry.
    assert_eq!(store.read_state(today()).unwrap().1, 0);
    assert!(store.audit(0, 10).unwrap().is_empty());
}

fn totp_codes_and_recovery_codes_are_accepted_once(db: &Db) {
    let store = db.open();
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(store.totp("globex", "alice@globex.com").unwrap(), None);
    assert!(store.begin_totp("globex", "alice@globex.com", "KEYONE").unwrap());
    // An unconfirmed enrolment is replaced; codes are not accepted before confirmation.
    assert!(store.begin_totp("globex", "alice@globex.com", "KEYTWO").unwrap());
    assert!(!store.use_totp_step("globex", "alice@globex.com", 5).unwrap());
    let totp = store.totp("globex", "alice@globex.com").unwrap().unwrap();
    assert_eq!((totp.secret.as_str(), totp.confirmed), ("KEYTWO", false));
    let hashes = vec!["h1".to_string(), "h2".to_string()];
    assert!(
        store
            .confirm_totp("globex", "alice@globex.com", 10, &hashes, now)
            .unwrap()
    );
    assert!(
        !store
            .confirm_totp("globex", "alice@globex.com", 11, &hashes, now)
            .unwrap()
    );
    // A confirmed enrolment is kept.
    assert!(
        !store
            .begin_totp("globex", "alice@globex.com", "KEYTHREE")
            .unwrap()
    );
    let totp = store.totp("globex", "alice@globex.com").unwrap().unwrap();
    assert_eq!(
        (totp.secret.as_str(), totp.confirmed, totp.last_step),
        ("KEYTWO", true, 10)
    );
    // The confirming step cannot be replayed; a later one is accepted once.
    assert!(!store.use_totp_step("globex", "alice@globex.com", 10).unwrap());
    assert!(store.use_totp_step("globex", "alice@globex.com", 11).unwrap());
    assert!(!store.use_totp_step("globex", "alice@globex.com", 11).unwrap());
    assert!(
        store
            .use_recovery_code("globex", "alice@globex.com", "h1", now)
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code("globex", "alice@globex.com", "h1", now)
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code("globex", "bob@globex.com", "h2", now)
            .unwrap()
    );
    assert!(
        store
            .use_recovery_code("globex", "alice@globex.com", "h2", now)
            .unwrap()
    );
}

fn token_time(seconds: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

fn tokens_are_stored_hashed_and_refused_once_revoked_or_expired(db: &Db) {
    use crate::tokens::{CreateTokenError, TokenScope, token_hash};
    let store = db.open();
    assert!(!store.has_tokens().unwrap());
    let okta = store
        .create_token(
            "globex-okta",
            TokenScope::PartnerOrg("globex".into()),
            Some(token_time(3600)),
            "admin",
            token_time(0),
        )
        .unwrap();
    assert!(
        okta.token.starts_with("pctl_") && okta.token.len() == 69,
        "{}",
        okta.token.len()
    );
    assert!(!format!("{okta:?}").contains(&okta.token));
    let ci = store
        .create_token("ci", TokenScope::Apply, None, "admin", token_time(0))
        .unwrap();
    assert_ne!(okta.token, ci.token);
    assert!(matches!(
        store.create_token("ci", TokenScope::Read, None, "admin", token_time(1)),
        Err(CreateTokenError::NameTaken(_))
    ));
    assert!(matches!(
        store.create_token("c i", TokenScope::Read, None, "admin", token_time(1)),
        Err(CreateTokenError::BadName(_))
    ));
    // Only the hash is stored: no column holds the token.
    for (name, secret) in [("ci", &ci.token), ("globex-okta", &okta.token)] {
        let rows = store
            .backend
            .sql_query(
                "SELECT name, hash, scope, created_by FROM service_tokens WHERE name = $1",
                &[crate::auth::SqlValue::Text(Some(name.into()))],
            )
            .unwrap();
        let row = format!("{rows:?}");
        assert!(
            !row.contains(secret.as_str()) && row.contains(&token_hash(secret)),
            "{row}"
        );
    }
    let found = store
        .token_by_hash(&token_hash(&ci.token), token_time(10))
        .unwrap()
        .unwrap();
    assert_eq!((found.name.as_str(), &found.scope), ("ci", &TokenScope::Apply));
    assert_eq!(found.last_used_at, Some(token_time(10)));
    // Uses within a minute are not written again.
    store
        .token_by_hash(&token_hash(&ci.token), token_time(30))
        .unwrap()
        .unwrap();
    let listed = store.tokens().unwrap();
    assert_eq!(
        listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["ci", "globex-okta"]
    );
    assert_eq!(listed[0].last_used_at, Some(token_time(10)));
    assert_eq!(listed[1].expires_at, Some(token_time(3600)));
    assert_eq!(listed[1], okta.info);
    assert!(
        store
            .token_by_hash(&token_hash("pctl_guess"), token_time(10))
            .unwrap()
            .is_none()
    );
    // Expired: refused from its expiry on.
    assert!(
        store
            .token_by_hash(&token_hash(&okta.token), token_time(3599))
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .token_by_hash(&token_hash(&okta.token), token_time(3600))
            .unwrap()
            .is_none()
    );
    // Revoked: refused at once, listed with its revocation, its name kept.
    assert!(store.revoke_token("ci", token_time(40)).unwrap());
    assert!(!store.revoke_token("ci", token_time(41)).unwrap());
    assert!(!store.revoke_token("nobody", token_time(41)).unwrap());
    assert!(
        store
            .token_by_hash(&token_hash(&ci.token), token_time(42))
            .unwrap()
            .is_none()
    );
    assert_eq!(store.tokens().unwrap()[0].revoked_at, Some(token_time(40)));
    assert!(store.has_tokens().unwrap());
    // Tokens are not state: the audit log and the state know nothing of them.
    assert_eq!(store.audit(0, 10).unwrap().len(), 0);
}

fn a_revocation_through_one_store_holds_at_once_in_another(db: &Db) {
    use crate::tokens::{TokenScope, token_hash};
    let first = db.open();
    let second = db.open();
    let issued = first
        .create_token(
            "scim",
            TokenScope::PartnerOrg("globex".into()),
            None,
            "admin",
            token_time(0),
        )
        .unwrap();
    let hash = token_hash(&issued.token);
    assert!(second.token_by_hash(&hash, token_time(1)).unwrap().is_some());
    assert!(first.revoke_token("scim", token_time(2)).unwrap());
    assert!(second.token_by_hash(&hash, token_time(2)).unwrap().is_none());
}

fn reveals_are_audited_in_order_on_every_store_without_values(db: &Db) {
    let store = db.open();
    let replica = db.open();
    let revision = store
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    let now = time::macros::datetime!(2026-12-07 08:00:00.123 UTC);
    let first = store
        .record_reveal("ops", "GET /v1/state", revision, now)
        .unwrap();
    let second = replica
        .record_reveal(
            "admin",
            "GET /v1/portals/globex/members/alice@globex.com",
            revision,
            now + time::Duration::seconds(1),
        )
        .unwrap();
    assert!(second.id > first.id);
    assert_eq!(first.time, "2026-12-07T08:00:00.123Z");
    assert_eq!((first.token.as_str(), first.revision), ("ops", revision));
    // Oldest first after an id, and newest first, through either store.
    assert_eq!(
        replica.reveals(0, 10).unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(store.reveals(first.id, 10).unwrap(), vec![second.clone()]);
    assert_eq!(store.reveals(0, 1).unwrap(), vec![first.clone()]);
    assert_eq!(store.latest_reveals(10).unwrap(), vec![second, first]);
    // Not a batch: the state's revision and audit log do not move.
    assert_eq!(store.read_state(today()).unwrap().1, revision);
    assert_eq!(store.audit(0, 10).unwrap().len(), 1);
}

/// Regression (partner pages across replicas): a page decided on `snapshot()`, which
/// answers the published state when its writer is busy (a catch-up in progress), so a
/// member removed through another replica could open one more page.
fn the_newest_snapshot_waits_for_a_busy_writer_instead_of_answering_an_older_state(db: &Db) {
    let first = db.open();
    let second = db.open();
    first
        .commit(None, &base(), &ChangeMeta::default(), "admin", today())
        .unwrap();
    assert_eq!(second.newest_snapshot(today()).unwrap().revision, 1);
    let removal = [Change::Delete {
        key: ResourceKey::Member {
            portal: "globex".into(),
            email: "alice@globex.com".into(),
        },
    }];
    first
        .commit(None, &removal, &ChangeMeta::default(), "admin", today())
        .unwrap();
    // The second store's writer is busy while the page asks.
    let (locked, wait) = std::sync::mpsc::channel();
    let newest = std::thread::scope(|scope| {
        scope.spawn(|| {
            let _busy = second.writer.lock().unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(200));
        });
        wait.recv().unwrap();
        second.newest_snapshot(today()).unwrap()
    });
    assert_eq!(newest.revision, 2);
    assert!(newest.state.members.is_empty());
}

/// `serve`'s SQLite store copies the write-ahead log into the database on a thread of its
/// own: the database file grows after a commit though no commit crossed SQLite's own
/// checkpoint mark (raised to a backstop far above this batch).
#[test]
fn a_served_sqlite_database_is_checkpointed_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let store = Store::open(&path, today()).unwrap();
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    let mut batch = base();
    batch.extend((0..10_000).map(|n| member(&format!("p{n:05}@globex.com"), Some("globex"))));
    store
        .commit(None, &batch, &ChangeMeta::default(), "admin", today())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while size() < before + (1 << 20) {
        assert!(
            Instant::now() < deadline,
            "the log was not copied into the database ({} bytes)",
            size()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_consistent(&store, &Db::Sqlite(dir));
}
