//! The console's pages: overview, portal (settings, preview, *try it*), roster, partner
//! (with view-as), folder (who can open it), audit, tokens. Each reads the newest
//! snapshot (and, for the audit and tokens, the store) on the blocking pool, and shows an
//! action's form only to a role that may use it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portalctl_core::model::{
    Approval, LiveOrigin, MemberSource, Membership, Portal, PortalTexts, Principal, StaffRole,
    State as Model, normalize_email,
};
use portalctl_pages::console::{Block, Cell, Field, Form};
use portalctl_pages::{SignIn, Theme};
use portalctl_store::{AuditQuery, OutboxQuery, StaffAction, StaffActionQuery};
use rustc_hash::FxHashMap;
use time::OffsetDateTime;

use super::{Staff, encode, message, page, staff};
use crate::pages::home::HomeView;
use crate::pages::html;
use crate::{ApiError, App};

/// Roster rows per page.
pub const ROSTER_PAGE: usize = 50;
/// Who-can-open rows shown.
pub const WHO_CAN_OPEN_ROWS: usize = 200;
/// Revisions listed on a partner page (the audit page, filtered by the email, pages on).
pub const PARTNER_REVISIONS: usize = 50;
/// Revisions per audit page.
pub const AUDIT_PAGE: usize = 50;

fn text(value: impl Into<String>) -> Cell {
    Cell::text(value)
}

fn partner_link(email: &str) -> Cell {
    Cell::link(email, format!("/console/partners/{}", encode(email)))
}

fn folder_link(path: &str) -> Cell {
    Cell::link(path, format!("/console/folders?path={}", encode(path)))
}

fn source_of(member: &Membership) -> &'static str {
    if member.pending {
        "pending"
    } else {
        match member.source {
            MemberSource::Managed => "managed",
            MemberSource::SelfRegistration => "self-registered",
            MemberSource::PartnerManaged => "partner-managed",
        }
    }
}

/// Where a seat comes from and where it is changed: git only for a managed seat; the
/// others are owned live (`plan` and `apply` keep them), as `Membership::live_origin` says.
fn seat_origin(portal: &str, email: &str, member: &Membership) -> String {
    match member.live_origin() {
        None => format!("Managed: declared in git at portals.{portal}.members ({email}); change it there."),
        Some(LiveOrigin::Pending) => format!(
            "Self-registered, awaiting approval: live, not in git ({email} signed up on the portal); \
             an approver approves or refuses it here."
        ),
        Some(LiveOrigin::SelfRegistered) => format!(
            "Self-registered: live, not in git ({email} signed up on the portal); \
             `plan` and `apply` keep it."
        ),
        Some(LiveOrigin::PartnerManaged) => {
            let org = member.org.as_deref().unwrap_or_default();
            format!(
                "Added by {org} (its partner managers on the People page or its SCIM client) \
                 under partner_orgs.{org}.self_management: live, not in git, and changed by {org}."
            )
        }
    }
}

fn post_form(action: &str, button: &str, fields: Vec<Field>) -> Block {
    Block::Form(Form {
        action: format!("/console/actions/{action}"),
        post: true,
        label: button.to_string(),
        fields,
        button: button.to_string(),
        name: action.to_string(),
    })
}

/// `GET /console/`: revision, last apply, portals and seats, pending registrations,
/// expiring members, the outbox.
pub async fn overview(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    app.blocking(move |app| {
        let today = crate::today();
        let snapshot = app.store.snapshot(today)?;
        let state = &snapshot.state;
        let mut blocks = Vec::new();
        let recent = recent_audit(app, snapshot.revision, 200)?;
        let last_apply = recent.iter().find(|entry| entry.meta.commit.is_some());
        blocks.push(Block::Facts(vec![
            (
                "Revision".into(),
                Cell::link(snapshot.revision.to_string(), "/console/audit"),
            ),
            (
                "Last apply".into(),
                match last_apply {
                    Some(entry) => Cell::link(
                        format!(
                            "revision {} at {}, commit {} by {}",
                            entry.revision,
                            entry.time,
                            entry.meta.commit.as_deref().unwrap_or("-"),
                            entry.meta.author.as_deref().unwrap_or("unknown author")
                        ),
                        format!("/console/audit/{}", entry.revision),
                    ),
                    None => text("none recorded with a commit"),
                },
            ),
        ]));
        let mut seats: BTreeMap<&str, usize> = BTreeMap::new();
        let mut pending = Vec::new();
        let mut expiring = Vec::new();
        let horizon = portalctl_core::model::CalendarDate::new(today.inner() + time::Duration::days(30));
        for ((portal, email), member) in &state.members {
            if member.grants_on(today) {
                *seats.entry(portal.as_str()).or_default() += 1;
            }
            if member.pending {
                pending.push((portal, email, member));
            }
            if let Some(expires) = member.expires
                && expires >= today
                && expires <= horizon
            {
                expiring.push((portal, email, expires));
            }
        }
        blocks.push(Block::Table {
            caption: "Portals".into(),
            headers: vec![
                "Portal".into(),
                "Name".into(),
                "Seats used".into(),
                "Limit".into(),
            ],
            rows: state
                .portals
                .iter()
                .map(|(name, portal)| {
                    vec![
                        Cell::link(name, format!("/console/portals/{}", encode(name))),
                        text(&portal.name),
                        Cell::link(
                            seats.get(name.as_str()).copied().unwrap_or(0).to_string(),
                            format!("/console/roster?portal={}", encode(name)),
                        ),
                        text(
                            portal
                                .max_members
                                .map_or_else(|| "unlimited".into(), |max| max.to_string()),
                        ),
                    ]
                })
                .collect(),
        });
        blocks.push(Block::Heading(format!(
            "Pending registrations ({})",
            pending.len()
        )));
        if pending.is_empty() {
            blocks.push(Block::Text("No registration awaits approval.".into()));
        }
        for (portal, email, member) in pending.iter().take(50) {
            blocks.push(Block::Facts(vec![
                ("Partner".into(), partner_link(email)),
                ("Portal".into(), text(*portal)),
                ("Org".into(), text(member.org.clone().unwrap_or_default())),
            ]));
            if staff.role >= StaffRole::Approver {
                let fields = || vec![Field::hidden("portal", *portal), Field::hidden("email", *email)];
                blocks.push(post_form("approve", &format!("Approve {email}"), fields()));
                blocks.push(post_form("refuse", &format!("Refuse {email}"), fields()));
            }
        }
        blocks.push(Block::Table {
            caption: format!("Members expiring in the next 30 days ({})", expiring.len()),
            headers: vec!["Partner".into(), "Portal".into(), "Expires".into()],
            rows: expiring
                .iter()
                .take(100)
                .map(|(portal, email, expires)| {
                    vec![partner_link(email), text(*portal), text(expires.to_string())]
                })
                .collect(),
        });
        let unsent = app.store.outbox(&OutboxQuery {
            limit: 1000,
            unsent_only: true,
            ..OutboxQuery::default()
        })?;
        let failing = unsent.iter().filter(|message| message.attempts > 0).count();
        blocks.push(Block::Facts(vec![(
            "Mail outbox".into(),
            text(format!(
                "{}{} waiting to be sent, {failing} of them after a failed attempt",
                unsent.len(),
                if unsent.len() == 1000 { "+" } else { "" }
            )),
        )]));
        Ok(page(app, &headers, &staff, "Overview".into(), None, blocks))
    })
    .await
}

/// The newest `count` audit entries, newest first.
fn recent_audit(app: &App, head: u64, count: u64) -> Result<Vec<portalctl_store::AuditEntry>, ApiError> {
    let mut entries = app.store.audit_page(head.saturating_sub(count), count as usize)?;
    entries.reverse();
    Ok(entries)
}

/// What *try it* changes: the fields of a portal a staff member may try.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trial {
    pub name: Option<String>,
    pub color: Option<String>,
    pub home_cover: Option<String>,
    pub help_url: Option<String>,
    /// `texts.initiation`: what an invitation says.
    pub initiation: Option<String>,
    /// `texts.first_login`: the notice on the first home page after the first sign-in.
    pub first_login: Option<String>,
}

impl Trial {
    /// The trial from a query, keeping only values the config would accept (a colour
    /// `#RRGGBB`, https URLs, a name that is not blank); `errors` says what was left out.
    pub fn from_query(query: &HashMap<String, String>, errors: &mut Vec<String>) -> Self {
        let given = |name: &str| {
            query
                .get(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let mut trial = Self::default();
        if let Some(name) = given("name") {
            if name.chars().count() <= 200 {
                trial.name = Some(name);
            } else {
                errors.push("name: at most 200 characters".into());
            }
        }
        if let Some(color) = given("color") {
            let hex = color.strip_prefix('#').unwrap_or(&color);
            if hex.len() == 6 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                trial.color = Some(format!("#{}", hex.to_ascii_uppercase()));
            } else {
                errors.push(format!("color: `{color}` is not a colour like #1A2B3C"));
            }
        }
        for (field, slot) in [
            ("home_cover", &mut trial.home_cover),
            ("help_url", &mut trial.help_url),
        ] {
            if let Some(url) = given(field) {
                if url.starts_with("https://") && url.len() > 8 && !url.contains(char::is_whitespace) {
                    *slot = Some(url);
                } else {
                    errors.push(format!("{field}: `{url}` is not an https URL"));
                }
            }
        }
        for (field, slot) in [
            ("initiation", &mut trial.initiation),
            ("first_login", &mut trial.first_login),
        ] {
            // A textarea posts CRLF line breaks; the config's texts have LF.
            if let Some(text) = given(field).map(|text| text.replace("\r\n", "\n")) {
                if text.chars().count() <= PortalTexts::MAX_CHARS {
                    *slot = Some(text);
                } else {
                    errors.push(format!(
                        "texts.{field}: at most {} characters",
                        PortalTexts::MAX_CHARS
                    ));
                }
            }
        }
        trial
    }

    /// The portal with the trial applied.
    pub fn apply(&self, portal: &Portal) -> Portal {
        let mut tried = portal.clone();
        if let Some(name) = &self.name {
            tried.name.clone_from(name);
        }
        if let Some(color) = &self.color {
            tried.color.clone_from(color);
        }
        if let Some(cover) = &self.home_cover {
            tried.home_cover = Some(cover.clone());
        }
        if let Some(help) = &self.help_url {
            tried.texts.help_url = Some(help.clone());
        }
        if let Some(text) = &self.initiation {
            tried.texts.initiation = Some(text.clone());
        }
        if let Some(text) = &self.first_login {
            tried.texts.first_login = Some(text.clone());
        }
        tried
    }

    /// The query that carries the trial to the preview.
    pub fn query(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("name", &self.name),
            ("color", &self.color),
            ("home_cover", &self.home_cover),
            ("help_url", &self.help_url),
            ("initiation", &self.initiation),
            ("first_login", &self.first_login),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().map(|value| (key, value)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A YAML scalar: quoted as JSON, which YAML reads as the same string.
fn yaml_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The YAML snippet and unified diff a trial asks for in a pull request: only the keys
/// whose value changes, under `portals.NAME`.
pub fn proposal(technical_name: &str, before: &Portal, after: &Portal) -> Option<(String, String)> {
    let line = |key: &str, value: &Option<String>| {
        value
            .as_ref()
            .map(|value| format!("{key}: {}", yaml_string(value)))
    };
    let keys: [(&str, Option<String>, Option<String>, usize); 6] = [
        ("name", Some(before.name.clone()), Some(after.name.clone()), 4),
        ("color", Some(before.color.clone()), Some(after.color.clone()), 4),
        (
            "home_cover",
            before.home_cover.clone(),
            after.home_cover.clone(),
            4,
        ),
        (
            "help_url",
            before.texts.help_url.clone(),
            after.texts.help_url.clone(),
            6,
        ),
        (
            "initiation",
            before.texts.initiation.clone(),
            after.texts.initiation.clone(),
            6,
        ),
        (
            "first_login",
            before.texts.first_login.clone(),
            after.texts.first_login.clone(),
            6,
        ),
    ];
    let changed: Vec<_> = keys.into_iter().filter(|(_, old, new, _)| old != new).collect();
    if changed.is_empty() {
        return None;
    }
    let mut snippet = format!("portals:\n  {technical_name}:\n");
    let mut diff = format!(
        "--- a/portals.{technical_name}\n+++ b/portals.{technical_name}\n@@ portals: {technical_name} @@\n"
    );
    let mut texts_opened = false;
    for (key, old, new, indent) in &changed {
        if *indent == 6 && !texts_opened {
            snippet.push_str("    texts:\n");
            diff.push_str("     texts:\n");
            texts_opened = true;
        }
        let pad = " ".repeat(*indent);
        if let Some(new_line) = line(key, new) {
            snippet.push_str(&format!("{pad}{new_line}\n"));
        }
        if let Some(old_line) = line(key, old) {
            diff.push_str(&format!("-{pad}{old_line}\n"));
        }
        if let Some(new_line) = line(key, new) {
            diff.push_str(&format!("+{pad}{new_line}\n"));
        }
    }
    Some((snippet, diff))
}

/// The keys a trial changes, as edits of the portal's file.
fn trial_edits(before: &Portal, after: &Portal) -> Vec<super::config_repo::Edit> {
    let mut edits = Vec::new();
    if before.name != after.name {
        edits.push((vec!["name"], yaml_string(&after.name)));
    }
    if before.color != after.color {
        edits.push((vec!["color"], yaml_string(&after.color)));
    }
    if let Some(cover) = after
        .home_cover
        .as_ref()
        .filter(|cover| before.home_cover.as_ref() != Some(*cover))
    {
        edits.push((vec!["home_cover"], yaml_string(cover)));
    }
    if let Some(help) = after
        .texts
        .help_url
        .as_ref()
        .filter(|help| before.texts.help_url.as_ref() != Some(*help))
    {
        edits.push((vec!["texts", "help_url"], yaml_string(help)));
    }
    for (key, old, new) in [
        ("initiation", &before.texts.initiation, &after.texts.initiation),
        ("first_login", &before.texts.first_login, &after.texts.first_login),
    ] {
        if let Some(text) = new.as_ref().filter(|text| old.as_ref() != Some(*text)) {
            edits.push((vec!["texts", key], yaml_string(text)));
        }
    }
    edits
}

/// The unified diff of the portal's file at the commit the last apply recorded, or why
/// there is none (no `--config-repo`, no recorded commit, …).
fn file_diff(app: &App, name: &str, before: &Portal, after: &Portal) -> Result<(String, String), String> {
    let Some(files) = app.config_files.get() else {
        return Err(
            "serve was started without `--config-repo`, so the console cannot read the config's git history"
                .into(),
        );
    };
    let head = app.store.published().revision;
    let recent = recent_audit(app, head, 200)
        .map_err(|error| format!("the audit log cannot be read: {}", error.body.error.message))?;
    let Some(entry) = recent.iter().find(|entry| entry.meta.commit.is_some()) else {
        return Err("no apply in the last 200 revisions recorded a git commit".into());
    };
    let commit = entry.meta.commit.clone().unwrap_or_default();
    let (path, diff) =
        super::config_repo::portal_file_diff(files.as_ref(), &commit, name, &trial_edits(before, after))?;
    let dirty = if entry.meta.dirty == Some(true) {
        " (the working tree had uncommitted changes at that apply)"
    } else {
        ""
    };
    // The commit is what the client sent in its batch's meta: shortened by characters.
    let short: String = commit.chars().take(12).collect();
    Ok((format!("{path} (commit {short}{dirty})"), diff))
}

/// Where a portal's field comes from: its template or the portal itself.
fn origin(portal: &Portal, technical_name: &str, field: &str) -> String {
    match &portal.template {
        Some(template) if portal.from_template.contains(field) => {
            format!("template `{template}` (declared in git at portal_templates.{template}.{field})")
        }
        _ => format!("portal (declared in git at portals.{technical_name}.{field})"),
    }
}

/// `GET /console/portals/{portal}?name=&color=&home_cover=&help_url=`: settings with their
/// origin, the preview, and *try it*.
pub async fn portal(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    let snapshot = app.store.published();
    let Some(portal) = snapshot.state.portals.get(&name).cloned() else {
        return Ok(message(
            &app,
            &headers,
            StatusCode::NOT_FOUND,
            "No such portal",
            &[&format!("No portal `{name}` in revision {}.", snapshot.revision)],
        ));
    };
    let mut errors = Vec::new();
    let trial = Trial::from_query(&query, &mut errors);
    let tried = trial.apply(&portal);
    // The file in git is read (and the audit log searched) on the blocking pool.
    let file_diff_result = if trial == Trial::default() {
        Err(String::new())
    } else {
        let (name, before, after) = (name.clone(), portal.clone(), tried.clone());
        app.blocking(move |app| Ok(file_diff(app, &name, &before, &after)))
            .await?
    };
    let mut blocks = vec![Block::Facts(
        [
            ("name", portal.name.clone()),
            ("color", portal.color.clone()),
            ("logout_url", portal.logout_url.clone()),
            ("home_cover", portal.home_cover.clone().unwrap_or_default()),
            (
                "texts.help_url",
                portal.texts.help_url.clone().unwrap_or_default(),
            ),
            (
                "texts.initiation",
                portal.texts.initiation.clone().unwrap_or_default(),
            ),
            (
                "texts.first_login",
                portal.texts.first_login.clone().unwrap_or_default(),
            ),
            (
                "self_registration",
                portal.self_registration.as_ref().map_or_else(
                    || "not set".into(),
                    |registration| {
                        format!(
                            "{}, default role {}, domains {}, approval {}",
                            if registration.enabled {
                                "enabled"
                            } else {
                                "disabled"
                            },
                            registration.default_role,
                            registration
                                .allowed_domains
                                .iter()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", "),
                            if registration.approval == Approval::Required {
                                "required"
                            } else {
                                "none"
                            },
                        )
                    },
                ),
            ),
            ("session_ttl", portal.session_ttl.to_string()),
            ("require_2fa", portal.require_2fa.to_string()),
            (
                "max_members",
                portal
                    .max_members
                    .map_or_else(|| "unlimited".into(), |max| max.to_string()),
            ),
            ("invitations", portal.invitations.to_string()),
        ]
        .into_iter()
        .map(|(field, value)| {
            (
                field.to_string(),
                text(format!("{value} — from the {}", origin(&portal, &name, field))),
            )
        })
        .collect(),
    )];
    blocks.push(Block::Text(
        "Settings are declared in git: propose a change with the YAML below in a pull request.".into(),
    ));
    blocks.push(Block::Heading("Try it".into()));
    for error in &errors {
        blocks.push(Block::Text(format!("Left out: {error}")));
    }
    blocks.push(Block::Form(Form {
        action: format!("/console/portals/{}", encode(&name)),
        post: false,
        label: "Try a change".into(),
        fields: vec![
            Field::input("text", "name", "Name", tried.name.clone()),
            Field::input("text", "color", "Colour (#RRGGBB)", tried.color.clone()),
            Field::input(
                "url",
                "home_cover",
                "Cover image (https)",
                tried.home_cover.clone().unwrap_or_default(),
            ),
            Field::input(
                "url",
                "help_url",
                "Help link (https)",
                tried.texts.help_url.clone().unwrap_or_default(),
            ),
            Field::input(
                "textarea",
                "initiation",
                "Invitation text",
                tried.texts.initiation.clone().unwrap_or_default(),
            ),
            Field::input(
                "textarea",
                "first_login",
                "First sign-in text (shown on the home preview)",
                tried.texts.first_login.clone().unwrap_or_default(),
            ),
        ],
        button: "Preview".into(),
        name: "try-it".into(),
    }));
    match proposal(&name, &portal, &tried) {
        Some((snippet, diff)) => {
            blocks.push(Block::Code {
                label: "YAML to put in the pull request".into(),
                text: snippet,
                name: "yaml".into(),
            });
            match file_diff_result {
                Ok((path, file_diff)) => blocks.push(Block::Code {
                    label: format!("Unified diff of {path} at the commit apply recorded"),
                    text: file_diff,
                    name: "diff".into(),
                }),
                Err(why) => {
                    blocks.push(Block::Text(format!(
                        "No diff against the portal's file: {why}. The diff below is against the portal as applied."
                    )));
                    blocks.push(Block::Code {
                        label: "Unified diff against the portal as applied".into(),
                        text: diff,
                        name: "diff".into(),
                    });
                }
            }
        }
        None => blocks.push(Block::Text(
            "Change a value above to see the YAML to propose.".into(),
        )),
    }
    let preview_query = trial.query();
    for (page_name, title) in [
        ("sign-in", "Preview of the sign-in page"),
        ("home", "Preview of the home page"),
    ] {
        blocks.push(Block::Heading(title.into()));
        blocks.push(Block::Frame {
            title: title.into(),
            src: format!("/console/preview/{}/{page_name}?{preview_query}", encode(&name)),
            name: format!("preview-{page_name}"),
        });
    }
    Ok(page(
        &app,
        &headers,
        &staff,
        format!("Portal {name}"),
        None,
        blocks,
    ))
}

/// The theme of a preview or view-as: the portal's (or a trial's), with links that lead
/// to the console's read-only preview paths.
fn preview_theme(portal: &Portal) -> Theme {
    Theme::new(
        &portal.name,
        &portal.color,
        portal.home_cover.as_deref(),
        portal.texts.help_url.as_deref(),
        "/console/preview",
    )
}

/// `GET /console/preview/{portal}/{sign-in|home}?…`: the real partner page on the
/// portal's theme (or the trial's), read-only.
pub async fn preview(
    State(app): State<App>,
    Path((name, which)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let _staff = staff!(app, headers, StaffRole::Viewer);
    let snapshot = app.store.published();
    let Some(portal) = snapshot.state.portals.get(&name) else {
        return Ok(message(
            &app,
            &headers,
            StatusCode::NOT_FOUND,
            "No such portal",
            &[],
        ));
    };
    let tried = Trial::from_query(&query, &mut Vec::new()).apply(portal);
    let theme = preview_theme(&tried);
    let body = match which.as_str() {
        "sign-in" => portalctl_pages::render(&SignIn {
            theme,
            csrf: String::new(),
            email: String::new(),
            error: None,
            sign_up: tried
                .self_registration
                .as_ref()
                .is_some_and(|registration| registration.enabled),
        }),
        "home" => {
            // The first active member's home in this portal, exactly as that partner sees
            // it (the partner pages' own answer), with no usable form; or an empty home.
            let today = crate::today();
            let sample = snapshot
                .state
                .members
                .range((name.clone(), String::new())..)
                .take_while(|((portal, _), _)| *portal == name)
                .find(|(_, member)| member.grants_on(today));
            match sample {
                // As on the partner's first home page: with the first-login text.
                Some(((_, email), member)) => HomeView::of(&app, &snapshot, &name, email, member).render(
                    theme,
                    String::new(),
                    email.clone(),
                    tried.texts.first_login.clone(),
                ),
                None => HomeView::default().render(
                    theme,
                    String::new(),
                    "partner@example.com".into(),
                    tried.texts.first_login.clone(),
                ),
            }
        }
        _ => {
            return Ok(message(
                &app,
                &headers,
                StatusCode::NOT_FOUND,
                "No such preview",
                &["Previews are `sign-in` and `home`."],
            ));
        }
    };
    Ok(html(StatusCode::OK, body, None))
}

/// `GET /console/partners/{email}/view-as/{portal}`: the partner's home as they see it,
/// read-only; logged in the console's action log.
pub async fn view_as(
    State(app): State<App>,
    Path((email, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    let email = normalize_email(&email);
    app.blocking(move |app| {
        let today = crate::today();
        let snapshot = app.store.snapshot(today)?;
        let Some(portal) = snapshot.state.portals.get(&name) else {
            return Ok(message(
                app,
                &headers,
                StatusCode::NOT_FOUND,
                "No such portal",
                &[],
            ));
        };
        let Some(member) = snapshot
            .state
            .members
            .get(&(name.clone(), email.clone()))
            .filter(|member| member.grants_on(today))
        else {
            return Ok(message(
                app,
                &headers,
                StatusCode::NOT_FOUND,
                "No access to show",
                &[&format!(
                    "{email} has no active seat in {name}: the partner would be refused."
                )],
            ));
        };
        app.store.record_staff_action(&StaffAction {
            at: OffsetDateTime::now_utc(),
            actor: staff.actor.clone(),
            action: "view-as".into(),
            subject: format!("{name}/{email}"),
            detail: "home viewed as the partner (read-only)".into(),
        })?;
        // The partner's own home for this portal (`crate::pages::home`), on the portal's
        // theme, with an empty CSRF token so that nothing on it can act.
        let body = HomeView::of(app, &snapshot, &name, &email, member).render(
            preview_theme(portal),
            String::new(),
            email.clone(),
            None,
        );
        Ok(html(StatusCode::OK, body, None))
    })
    .await
}

/// `GET /console/roster?portal=&q=&source=&page=`: members, searchable by email, org,
/// role, attribute (`name=value` or a value) and source.
pub async fn roster(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    app.blocking(move |app| {
        let snapshot = app.store.published();
        let state = &snapshot.state;
        let portal = query.get("portal").cloned().unwrap_or_default();
        let q = query
            .get("q")
            .map(|q| q.trim().to_lowercase())
            .unwrap_or_default();
        let source = query.get("source").cloned().unwrap_or_default();
        let page_number: usize = query
            .get("page")
            .and_then(|page| page.parse().ok())
            .unwrap_or(1)
            .max(1);
        let search = RosterSearch {
            portal: &portal,
            q: &q,
            source: &source,
        };
        let offset = (page_number - 1) * ROSTER_PAGE;
        // A search over every portal reads the revision's search text (a substring) or its
        // attribute index (`name=value`); a portal's members (a range of the map) are
        // read directly.
        let (total, rows) = if portal.is_empty() && !q.is_empty() {
            let text = app.roster_text.of(&snapshot);
            search.run_on_text(state, &text, offset, ROSTER_PAGE)
        } else {
            search.run(state, offset, ROSTER_PAGE)
        };
        let mut portals: Vec<(String, String)> = vec![(String::new(), "All portals".into())];
        portals.extend(state.portals.keys().map(|name| (name.clone(), name.clone())));
        let sources = ["", "managed", "self-registered", "pending", "partner-managed"]
            .into_iter()
            .map(|value| {
                (
                    value.to_string(),
                    if value.is_empty() {
                        "Any source".into()
                    } else {
                        value.to_string()
                    },
                )
            })
            .collect();
        let mut blocks = vec![Block::Form(Form {
            action: "/console/roster".into(),
            post: false,
            label: "Search the roster".into(),
            fields: vec![
                Field::select("portal", "Portal", &portal, portals),
                Field::input(
                    "search",
                    "q",
                    "Email, org, role or attribute (name=value)",
                    q.clone(),
                ),
                Field::select("source", "Source", &source, sources),
            ],
            button: "Search".into(),
            name: "roster-search".into(),
        })];
        let pages = total.div_ceil(ROSTER_PAGE).max(1);
        blocks.push(Block::Table {
            caption: format!("{total} members; page {page_number} of {pages}"),
            headers: vec![
                "Email".into(),
                "Portal".into(),
                "Org".into(),
                "Role".into(),
                "Source".into(),
                "Expires".into(),
            ],
            rows: rows
                .into_iter()
                .map(|((portal, email), member)| {
                    vec![
                        partner_link(email),
                        Cell::link(portal, format!("/console/portals/{}", encode(portal))),
                        text(member.org.clone().unwrap_or_default()),
                        text(&member.role),
                        text(source_of(member)),
                        text(member.expires.map(|day| day.to_string()).unwrap_or_default()),
                    ]
                })
                .collect(),
        });
        let link = |number: usize| {
            format!(
                "/console/roster?{}",
                serde_urlencoded::to_string([
                    ("portal", portal.as_str()),
                    ("q", q.as_str()),
                    ("source", source.as_str()),
                    ("page", &number.to_string()),
                ])
                .unwrap_or_default()
            )
        };
        let mut navigation = Vec::new();
        if page_number > 1 {
            navigation.push((
                "Previous page".to_string(),
                Cell::link(format!("page {}", page_number - 1), link(page_number - 1)),
            ));
        }
        if page_number < pages {
            navigation.push((
                "Next page".to_string(),
                Cell::link(format!("page {}", page_number + 1), link(page_number + 1)),
            ));
        }
        if !navigation.is_empty() {
            blocks.push(Block::Facts(navigation));
        }
        Ok(page(app, &headers, &staff, "Roster".into(), None, blocks))
    })
    .await
}

/// One member found: its key and membership.
pub type RosterRow<'s> = (&'s (String, String), &'s Membership);

/// A roster search: one pass over the members (of one portal: a range of the sorted map).
pub struct RosterSearch<'a> {
    pub portal: &'a str,
    /// Lowercase; `name=value` matches an attribute, anything else a substring of the
    /// email, org, role or an attribute value.
    pub q: &'a str,
    /// `managed`, `self-registered`, `pending`, `partner-managed` or empty.
    pub source: &'a str,
}

impl RosterSearch<'_> {
    /// Whether a member passes the source filter: exactly the roster's Source column
    /// ([`source_of`]), so a filter never lists a row whose column says otherwise.
    fn source_matches(&self, member: &Membership) -> bool {
        self.source.is_empty() || source_of(member) == self.source
    }

    /// `q` as `name=value`, trimmed, when it is one.
    fn attribute(&self) -> Option<(&str, &str)> {
        self.q
            .split_once('=')
            .map(|(name, value)| (name.trim(), value.trim()))
    }

    /// [`RosterSearch::run`] for a non-empty `q` over every portal, on the revision's
    /// search text or its attribute index (`state` must be the revision `text` was built
    /// from): the members are looked up only for the page shown and the source filter.
    pub fn run_on_text<'s>(
        &self,
        state: &'s Model,
        text: &super::roster_text::RosterText,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<RosterRow<'s>>) {
        match self.attribute() {
            Some((name, value)) => {
                self.run_on_matches(state, text.with_attribute(name, value), offset, limit)
            }
            None => self.run_on_matches(state, text.matching(self.q), offset, limit),
        }
    }

    fn run_on_matches<'s, 't>(
        &self,
        state: &'s Model,
        matches: impl Iterator<Item = (&'t str, &'t str)>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<RosterRow<'s>>) {
        let mut total = 0;
        let mut rows = Vec::new();
        for (portal, email) in matches {
            let shown = total >= offset && rows.len() < limit;
            if shown || !self.source.is_empty() {
                let Some((key, member)) = state
                    .members
                    .get_key_value(&(portal.to_string(), email.to_string()))
                else {
                    continue;
                };
                if !self.source_matches(member) {
                    continue;
                }
                if shown {
                    rows.push((key, member));
                }
            }
            total += 1;
        }
        (total, rows)
    }

    /// How many members match, and the `limit` from `offset`.
    pub fn run<'s>(&self, state: &'s Model, offset: usize, limit: usize) -> (usize, Vec<RosterRow<'s>>) {
        let members: Box<dyn Iterator<Item = (&(String, String), &Membership)>> = if self.portal.is_empty() {
            Box::new(state.members.iter())
        } else {
            let portal = self.portal.to_string();
            Box::new(
                state
                    .members
                    .range((portal.clone(), String::new())..)
                    .take_while(move |((name, _), _)| *name == portal),
            )
        };
        let attribute = self.attribute();
        // Sensitive values are never searched (they are digests live): their names are
        // looked up once, not per member.
        let sensitive: BTreeSet<&str> = state
            .attributes
            .iter()
            .filter(|(_, attribute)| attribute.sensitive)
            .map(|(name, _)| name.as_str())
            .collect();
        // One buffer for every value compared: a member's values are never allocated.
        let mut lowered = String::new();
        let mut value_is = |value: &portalctl_core::model::AttributeValue, test: &dyn Fn(&str) -> bool| {
            lowered.clear();
            let _ = std::fmt::Write::write_fmt(&mut lowered, format_args!("{value}"));
            if lowered.is_ascii() {
                lowered.make_ascii_lowercase();
            } else {
                lowered = lowered.to_lowercase();
            }
            test(&lowered)
        };
        let mut total = 0;
        let mut rows = Vec::new();
        for (key, member) in members {
            if !self.source_matches(member) {
                continue;
            }
            let q_matches = self.q.is_empty()
                || match attribute {
                    Some((name, value)) => member.attributes.iter().any(|(attribute, found)| {
                        attribute == name
                            && !sensitive.contains(name)
                            && value_is(found, &|found| found == value)
                    }),
                    None => {
                        key.1.contains(self.q)
                            || member.org.as_deref().is_some_and(|org| org.contains(self.q))
                            || member.role.contains(self.q)
                            || member.attributes.iter().any(|(name, value)| {
                                !sensitive.contains(name.as_str())
                                    && value_is(value, &|found| found.contains(self.q))
                            })
                    }
                };
            if !q_matches {
                continue;
            }
            if total >= offset && rows.len() < limit {
                rows.push((key, member));
            }
            total += 1;
        }
        (total, rows)
    }
}

/// `GET /console/partners/{email}`: one email across portals.
pub async fn partner(
    State(app): State<App>,
    Path(email): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    let email = normalize_email(&email);
    app.blocking(move |app| {
        let blocks = partner_blocks(app, &staff, &email)?;
        Ok(page(
            app,
            &headers,
            &staff,
            format!("Partner {email}"),
            None,
            blocks,
        ))
    })
    .await
}

/// The partner page's blocks (also what the benchmark renders).
pub fn partner_blocks(app: &App, staff: &Staff, email: &str) -> Result<Vec<Block>, ApiError> {
    let today = crate::today();
    let snapshot = app.store.published();
    let state = &snapshot.state;
    // One lookup per portal (memberships are keyed by portal, then email), never a pass
    // over every membership.
    let memberships: Vec<(&String, &Membership)> = state
        .portals
        .keys()
        .filter_map(|portal| {
            state
                .members
                .get(&(portal.clone(), email.to_string()))
                .map(|member| (portal, member))
        })
        .collect();
    let mut blocks = Vec::new();
    if memberships.is_empty() {
        blocks.push(Block::Text(format!("{email} is a member of no portal.")));
    }
    for (portal, member) in &memberships {
        let mut facts = vec![
            (
                "Portal".to_string(),
                Cell::link(*portal, format!("/console/portals/{}", encode(portal))),
            ),
            ("Org".into(), text(member.org.clone().unwrap_or_default())),
            ("Role".into(), text(&member.role)),
            ("Source".into(), text(source_of(member))),
            (
                "Expires".into(),
                text(
                    member
                        .expires
                        .map_or_else(|| "never".into(), |day| day.to_string()),
                ),
            ),
        ];
        for (name, value) in &member.attributes {
            let sensitive = state
                .attributes
                .get(name)
                .is_some_and(|attribute| attribute.sensitive);
            facts.push((
                format!("Attribute {name}"),
                text(if sensitive {
                    portalctl_core::model::SENSITIVE_MASK.to_string()
                } else {
                    value.to_string()
                }),
            ));
        }
        if member.grants_on(today) {
            facts.push((
                "View as".into(),
                Cell::link(
                    format!("Open {portal} as {email}"),
                    format!("/console/partners/{}/view-as/{}", encode(email), encode(portal)),
                ),
            ));
        }
        blocks.push(Block::Heading(format!("In {portal}")));
        blocks.push(Block::Facts(facts));
        blocks.push(Block::Text(seat_origin(portal, email, member)));
        if staff.role >= StaffRole::Approver {
            let fields = || vec![Field::hidden("portal", *portal), Field::hidden("email", email)];
            if member.pending {
                blocks.push(post_form(
                    "approve",
                    &format!("Approve {email} in {portal}"),
                    fields(),
                ));
                blocks.push(post_form(
                    "refuse",
                    &format!("Refuse {email} in {portal}"),
                    fields(),
                ));
            } else {
                blocks.push(post_form(
                    "resend-invitation",
                    &format!("Resend the invitation to {portal}"),
                    fields(),
                ));
            }
            blocks.push(post_form(
                "end-sessions",
                &format!("End the sessions in {portal}"),
                fields(),
            ));
        }
    }
    let index = app.access_index(&snapshot);
    let access = index.partner_access(email);
    blocks.push(Block::Table {
        caption: format!("What {email} can open ({})", access.len()),
        headers: vec![
            "Folder or dashboard".into(),
            "Kind".into(),
            "Level".into(),
            "Granted by".into(),
        ],
        rows: access
            .iter()
            .map(|item| {
                vec![
                    folder_link(&item.folder),
                    text(item.kind.as_str()),
                    text(item.level.to_string()),
                    text(
                        item.grants
                            .iter()
                            .map(|grant| {
                                format!(
                                    "{} share on {} ({}, capped by role {})",
                                    grant.principal, grant.shared_folder, grant.shared_level, grant.role
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                ]
            })
            .collect(),
    });
    let sessions = app.store.sessions_of(email, OffsetDateTime::now_utc())?;
    blocks.push(Block::Table {
        caption: format!(
            "Sessions ({})",
            sessions
                .iter()
                .filter(|s| s.portal != crate::pages::session::CONSOLE_AUDIENCE)
                .count()
        ),
        headers: vec![
            "Portal".into(),
            "Started".into(),
            "Ends".into(),
            "Second factor".into(),
        ],
        rows: sessions
            .iter()
            .filter(|session| session.portal != crate::pages::session::CONSOLE_AUDIENCE)
            .map(|session| {
                vec![
                    text(&session.portal),
                    text(rfc3339(session.created_at)),
                    text(rfc3339(session.expires_at)),
                    text(if session.second_factor { "given" } else { "waiting" }),
                ]
            })
            .collect(),
    });
    let actions = app.store.staff_actions(&StaffActionQuery {
        subject: Some(email.to_string()),
        limit: 50,
        ..StaffActionQuery::default()
    })?;
    blocks.push(Block::Table {
        caption: "Console actions about this partner".into(),
        headers: vec!["Time".into(), "Actor".into(), "Action".into(), "Subject".into()],
        rows: actions
            .iter()
            .map(|action| {
                vec![
                    text(rfc3339(action.at)),
                    text(&action.actor),
                    text(&action.action),
                    text(&action.subject),
                ]
            })
            .collect(),
    });
    // The store's index of the audit log by subject: the whole log, not its tail.
    let touching = app.store.audit_search(&AuditQuery {
        resource: Some(email.to_string()),
        limit: PARTNER_REVISIONS,
        ..AuditQuery::default()
    })?;
    blocks.push(Block::Table {
        caption: format!("Revisions that changed this partner (the newest {PARTNER_REVISIONS}; the audit page lists them all)"),
        headers: vec!["Revision".into(), "Time".into(), "Actor".into(), "Changes".into()],
        rows: touching
            .iter()
            .map(|entry| {
                vec![
                    Cell::link(
                        entry.revision.to_string(),
                        format!("/console/audit/{}", entry.revision),
                    ),
                    text(&entry.time),
                    text(&entry.token),
                    text(entry.change_count.to_string()),
                ]
            })
            .collect(),
    });
    blocks.push(Block::Facts(vec![(
        "Every revision".into(),
        Cell::link(
            format!("the audit log about {email}"),
            format!("/console/audit?resource={}", encode(email)),
        ),
    )]));
    Ok(blocks)
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Who can open a folder or dashboard: every partner a share on it or an ancestor
/// reaches, decided by the access index (as the partner's home would).
pub struct WhoCanOpen<'s> {
    /// How many partners can open it.
    pub count: usize,
    /// The first [`WHO_CAN_OPEN_ROWS`] partners by email, with their level.
    pub partners: Vec<(&'s str, portalctl_core::model::Access)>,
    pub per_org: BTreeMap<String, usize>,
    pub per_portal: BTreeMap<String, usize>,
}

/// The reverse lookup: shares on `path` and its ancestors, their principals expanded to
/// candidate partners, each decided by the index.
///
/// A folder every partner can open has every partner as a candidate (100k at 100k
/// partners), so the work per candidate is a few hash lookups: levels from
/// [`AccessIndex::levels_on`](portalctl_core::access::AccessIndex::levels_on), counts from
/// the index's seats, emails borrowed from the state.
pub fn who_can_open<'s>(
    state: &'s Model,
    index: &'s portalctl_core::access::AccessIndex,
    path: &str,
) -> WhoCanOpen<'s> {
    let mut candidates: Vec<&'s str> = Vec::new();
    let mut sharing: Vec<&Principal> = Vec::new();
    // Past a quarter of every partner (or with an org share, whose members are found
    // only by a pass over every membership), deciding every partner of the index costs
    // less than gathering, sorting and deduplicating the candidates.
    let enough = index.partner_count() / 4;
    let mut broad = false;
    for ancestor in portalctl_core::model::self_and_ancestors(path) {
        for ((_, principal), _) in state
            .shares
            .range((ancestor.to_string(), Principal::Group(String::new()))..)
            .take_while(|((folder, _), _)| folder == ancestor)
        {
            sharing.push(principal);
            match principal {
                Principal::User(email) => candidates.push(email),
                Principal::Group(group) => {
                    if let Some(group) = state.groups.get(group) {
                        candidates.extend(group.members.iter().map(String::as_str));
                    }
                }
                Principal::Portal(portal) if !broad => {
                    candidates.extend(
                        state
                            .members
                            .range((portal.clone(), String::new())..)
                            .take_while(|((name, _), _)| name == portal)
                            .map(|((_, email), _)| email.as_str()),
                    );
                    broad = candidates.len() > enough;
                }
                Principal::Portal(_) => {}
                Principal::Org(_) => broad = true,
            }
        }
    }
    let kind = index.kind_of(path).unwrap_or_default();
    let mut levels = if broad {
        index.levels_of_every_partner(&sharing, kind, path)
    } else {
        candidates.sort_unstable();
        candidates.dedup();
        index.levels_on(&sharing, candidates, kind, path)
    };
    // Counts per portal (each active seat) and per org (each partner once). Portal and
    // org names are declared, so FxHash is safe.
    let mut per_portal: FxHashMap<&str, usize> = FxHashMap::default();
    let mut per_org: FxHashMap<&str, usize> = FxHashMap::default();
    for partner in &levels {
        let mut org_of = None;
        for (portal, org) in partner.seats() {
            *per_portal.entry(portal).or_default() += 1;
            org_of = org_of.or(org);
        }
        if let Some(org) = org_of {
            *per_org.entry(org).or_default() += 1;
        }
    }
    let owned = |counts: FxHashMap<&str, usize>| {
        counts
            .into_iter()
            .map(|(name, count)| (name.to_string(), count))
            .collect()
    };
    // Only the first rows are shown: select them rather than sort every partner.
    let count = levels.len();
    if count > WHO_CAN_OPEN_ROWS {
        levels.select_nth_unstable_by(WHO_CAN_OPEN_ROWS, |a, b| a.email.cmp(b.email));
        levels.truncate(WHO_CAN_OPEN_ROWS);
    }
    levels.sort_unstable_by(|a, b| a.email.cmp(b.email));
    let partners = levels
        .into_iter()
        .map(|partner| (partner.email, partner.level))
        .collect();
    WhoCanOpen {
        count,
        partners,
        per_org: owned(per_org),
        per_portal: owned(per_portal),
    }
}

/// `GET /console/folders?path=&q=`: the folders and dashboards, or one of them.
pub async fn folder(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    app.blocking(move |app| {
        let snapshot = app.store.published();
        let state = &snapshot.state;
        let path = query.get("path").cloned().unwrap_or_default();
        let Some(kind) = (!path.is_empty())
            .then(|| app.access_index(&snapshot).kind_of(&path))
            .flatten()
        else {
            let q = query.get("q").cloned().unwrap_or_default();
            let mut rows: Vec<Vec<Cell>> = state
                .folders
                .keys()
                .map(|path| (path, "folder"))
                .chain(state.dashboards.keys().map(|path| (path, "dashboard")))
                .filter(|(path, _)| q.is_empty() || path.contains(q.as_str()))
                .take(500)
                .map(|(path, kind)| vec![folder_link(path), text(kind)])
                .collect();
            rows.sort();
            let blocks = vec![
                Block::Form(Form {
                    action: "/console/folders".into(),
                    post: false,
                    label: "Find a folder or dashboard".into(),
                    fields: vec![Field::input("search", "q", "Path contains", q.clone())],
                    button: "Find".into(),
                    name: "folder-search".into(),
                }),
                Block::Table {
                    caption: "Folders and dashboards".into(),
                    headers: vec!["Path".into(), "Kind".into()],
                    rows,
                },
            ];
            let title = if path.is_empty() {
                "Folders and dashboards".to_string()
            } else {
                format!("No folder or dashboard {path}")
            };
            return Ok(page(app, &headers, &staff, title, None, blocks));
        };
        let index = app.access_index(&snapshot);
        let mut share_rows = Vec::new();
        for ancestor in portalctl_core::model::self_and_ancestors(&path) {
            for ((folder, principal), share) in state
                .shares
                .range((ancestor.to_string(), Principal::Group(String::new()))..)
                .take_while(|((folder, _), _)| folder == ancestor)
            {
                share_rows.push(vec![
                    text(principal.to_string()),
                    text(share.access.to_string()),
                    if *folder == path {
                        text("on it")
                    } else {
                        folder_link(folder)
                    },
                    text(share.expires.map(|day| day.to_string()).unwrap_or_default()),
                ]);
            }
        }
        let who = who_can_open(state, &index, &path);
        let blocks = vec![
            Block::Facts(vec![
                ("Kind".into(), text(kind.as_str())),
                (
                    "Declared".into(),
                    text(format!(
                        "in git under {}s (shares too): change them there",
                        kind.as_str()
                    )),
                ),
            ]),
            Block::Table {
                caption: "Shares, own and inherited".into(),
                headers: vec![
                    "Principal".into(),
                    "Access".into(),
                    "Inherited from".into(),
                    "Expires".into(),
                ],
                rows: share_rows,
            },
            Block::Table {
                caption: format!("Who can open it: {} partners, per org", who.count),
                headers: vec!["Org".into(), "Partners".into()],
                rows: who
                    .per_org
                    .iter()
                    .map(|(org, count)| vec![text(org), text(count.to_string())])
                    .collect(),
            },
            Block::Table {
                caption: "Per portal".into(),
                headers: vec!["Portal".into(), "Partners".into()],
                rows: who
                    .per_portal
                    .iter()
                    .map(|(portal, count)| vec![text(portal), text(count.to_string())])
                    .collect(),
            },
            Block::Table {
                caption: format!("Partners (the first {WHO_CAN_OPEN_ROWS})"),
                headers: vec!["Partner".into(), "Level".into()],
                rows: who
                    .partners
                    .iter()
                    .map(|(email, level)| vec![partner_link(email), text(level.to_string())])
                    .collect(),
            },
        ];
        Ok(page(
            app,
            &headers,
            &staff,
            format!("{} {path}", kind.as_str()),
            None,
            blocks,
        ))
    })
    .await
}

/// `GET /console/audit?resource=&actor=`: revisions newest first, and console actions.
pub async fn audit(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    app.blocking(move |app| {
        let resource = query
            .get("resource")
            .map(|text| text.trim().to_string())
            .unwrap_or_default();
        let actor = query
            .get("actor")
            .map(|text| text.trim().to_string())
            .unwrap_or_default();
        let before = query.get("before").and_then(|text| text.parse::<u64>().ok());
        // The store's index by subject and actor: the whole log, a page at a time.
        let entries = app.store.audit_search(&AuditQuery {
            resource: (!resource.is_empty()).then(|| resource.clone()),
            actor: (!actor.is_empty()).then(|| actor.clone()),
            before,
            limit: AUDIT_PAGE,
        })?;
        let older = (entries.len() == AUDIT_PAGE)
            .then(|| entries.last().map(|entry| entry.revision))
            .flatten();
        let rows: Vec<Vec<Cell>> = entries
            .iter()
            .map(|entry| {
                vec![
                    Cell::link(
                        entry.revision.to_string(),
                        format!("/console/audit/{}", entry.revision),
                    ),
                    text(&entry.time),
                    text(&entry.token),
                    text(entry.meta.commit.clone().unwrap_or_default()),
                    text(format!(
                        "{} sent, {} caused",
                        entry.change_count - entry.caused_count,
                        entry.caused_count
                    )),
                ]
            })
            .collect();
        let link = |before: Option<u64>| {
            let mut pairs = vec![("resource", resource.clone()), ("actor", actor.clone())];
            if let Some(before) = before {
                pairs.push(("before", before.to_string()));
            }
            format!(
                "/console/audit?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            )
        };
        let mut navigation = Vec::new();
        if before.is_some() {
            navigation.push(("Newest".to_string(), Cell::link("newest revisions", link(None))));
        }
        if let Some(last) = older {
            navigation.push((
                "Older".to_string(),
                Cell::link(format!("revisions before {last}"), link(Some(last))),
            ));
        }
        let actions = app.store.staff_actions(&StaffActionQuery {
            actor: (!actor.is_empty() && actor.contains(':')).then(|| actor.clone()),
            subject: (!resource.is_empty()).then(|| resource.clone()),
            limit: 100,
        })?;
        let mut blocks = vec![
            Block::Form(Form {
                action: "/console/audit".into(),
                post: false,
                label: "Filter the audit log".into(),
                fields: vec![
                    Field::input(
                        "search",
                        "resource",
                        "Resource (name, email or path)",
                        resource.clone(),
                    ),
                    Field::input(
                        "search",
                        "actor",
                        "Actor (a token's name or staff:EMAIL, exactly)",
                        actor.clone(),
                    ),
                ],
                button: "Filter".into(),
                name: "audit-filter".into(),
            }),
            Block::Table {
                caption: match before {
                    Some(before) => format!("Revisions before {before}, newest first"),
                    None => "Revisions, newest first".into(),
                },
                headers: vec![
                    "Revision".into(),
                    "Time".into(),
                    "Actor".into(),
                    "Commit".into(),
                    "Changes".into(),
                ],
                rows,
            },
            Block::Facts(navigation),
            Block::Table {
                caption: "Console actions that change no resource, newest first".into(),
                headers: vec![
                    "Time".into(),
                    "Actor".into(),
                    "Action".into(),
                    "Subject".into(),
                    "Detail".into(),
                ],
                rows: actions
                    .iter()
                    .map(|action| {
                        vec![
                            text(rfc3339(action.at)),
                            text(&action.actor),
                            text(&action.action),
                            text(&action.subject),
                            text(&action.detail),
                        ]
                    })
                    .collect(),
            },
        ];
        blocks.retain(|block| !matches!(block, Block::Facts(facts) if facts.is_empty()));
        Ok(page(app, &headers, &staff, "Audit".into(), None, blocks))
    })
    .await
}

/// `GET /console/audit/{revision}`: one revision's changes.
pub async fn revision(
    State(app): State<App>,
    Path(revision): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    let Ok(revision) = revision.parse::<u64>() else {
        return Ok(message(
            &app,
            &headers,
            StatusCode::NOT_FOUND,
            "No such revision",
            &["A revision is a number."],
        ));
    };
    app.blocking(move |app| {
        let Some(entry) = app
            .store
            .audit_page(revision.saturating_sub(1), 1)?
            .into_iter()
            .find(|entry| entry.revision == revision)
        else {
            return Ok(message(
                app,
                &headers,
                StatusCode::NOT_FOUND,
                "No such revision",
                &[],
            ));
        };
        let changes = app
            .store
            .audit_changes(revision, 0, 1000)?
            .map(|slice| slice.changes)
            .unwrap_or_default();
        let caused_from = entry.change_count.saturating_sub(entry.caused_count) as usize;
        let blocks = vec![
            Block::Facts(vec![
                ("Time".into(), text(&entry.time)),
                ("Actor".into(), text(&entry.token)),
                (
                    "Commit".into(),
                    text(entry.meta.commit.clone().unwrap_or_default()),
                ),
                (
                    "Author".into(),
                    text(entry.meta.author.clone().unwrap_or_default()),
                ),
            ]),
            Block::Table {
                caption: format!("Changes ({}; the first 1000)", entry.change_count),
                headers: vec!["#".into(), "Change".into(), "Sent or caused".into()],
                rows: changes
                    .iter()
                    .enumerate()
                    .map(|(at, change)| {
                        vec![
                            text((at + 1).to_string()),
                            text(serde_json::to_string(change).unwrap_or_default()),
                            text(if at >= caused_from { "caused" } else { "sent" }),
                        ]
                    })
                    .collect(),
            },
        ];
        Ok(page(
            app,
            &headers,
            &staff,
            format!("Revision {revision}"),
            None,
            blocks,
        ))
    })
    .await
}

/// `GET /console/tokens`: the tokens the service created; admins create and revoke.
pub async fn tokens(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let staff = staff!(app, headers, StaffRole::Viewer);
    app.blocking(move |app| {
        let tokens = app.store.tokens()?;
        let mut blocks = vec![Block::Table {
            caption: "Tokens the service created (tokens of the tokens file are not listed)".into(),
            headers: vec![
                "Name".into(),
                "Scope".into(),
                "Created".into(),
                "By".into(),
                "Revoked".into(),
            ],
            rows: tokens
                .iter()
                .map(|token| {
                    vec![
                        text(&token.name),
                        text(token.scope.to_string()),
                        text(rfc3339(token.created_at)),
                        text(&token.created_by),
                        text(token.revoked_at.map(rfc3339).unwrap_or_default()),
                    ]
                })
                .collect(),
        }];
        if staff.role >= StaffRole::Admin {
            blocks.push(Block::Form(Form {
                action: "/console/actions/create-token".into(),
                post: true,
                label: "Create a token".into(),
                fields: vec![
                    Field::input("text", "name", "Name", ""),
                    Field::select(
                        "scope",
                        "Scope",
                        "read",
                        ["read", "apply", "admin"]
                            .into_iter()
                            .map(|scope| (scope.to_string(), scope.to_string()))
                            .collect(),
                    ),
                ],
                button: "Create token".into(),
                name: "create-token".into(),
            }));
            for token in tokens.iter().filter(|token| token.revoked_at.is_none()) {
                blocks.push(post_form(
                    "revoke-token",
                    &format!("Revoke {}", token.name),
                    vec![Field::hidden("name", &token.name)],
                ));
            }
        } else {
            blocks.push(Block::Text(
                "Creating and revoking tokens needs the console role `admin`.".into(),
            ));
        }
        Ok(page(app, &headers, &staff, "Tokens".into(), None, blocks))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_keeps_what_the_config_accepts_and_proposes_only_changes() {
        let mut errors = Vec::new();
        let query: HashMap<String, String> =
            [("color", "#ff0000"), ("name", " "), ("home_cover", "http://x")]
                .into_iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect();
        let trial = Trial::from_query(&query, &mut errors);
        assert_eq!(trial.color.as_deref(), Some("#FF0000"));
        assert_eq!(trial.name, None);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let portal: Portal = serde_json::from_value(serde_json::json!({
            "name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye"
        }))
        .unwrap();
        let (snippet, diff) = proposal("globex", &portal, &trial.apply(&portal)).unwrap();
        assert_eq!(snippet, "portals:\n  globex:\n    color: \"#FF0000\"\n");
        assert!(
            diff.contains("-    color: \"#0F62FE\"\n+    color: \"#FF0000\"\n"),
            "{diff}"
        );
        assert_eq!(proposal("globex", &portal, &portal), None);
    }

    #[test]
    fn the_roster_text_finds_what_the_pass_over_members_finds() {
        let config = "\
workspace: { name: Acme, owner_domains: [acme.io] }
attributes:
  region: { type: enum, values: [emea, amer] }
  secret: { type: string, sensitive: true }
partner_orgs:
  globex: { domains: [globex.com] }
  initech: { domains: [initech.com] }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - { email: alice@globex.com, role: viewer, org: globex, attributes: { region: emea, secret: Hidden-Emea } }
      - { email: bob@initech.com, role: editor, org: initech, attributes: { region: amer } }
  initech:
    name: Initech
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - { email: bob@initech.com, role: viewer, org: initech, attributes: { region: amer } }
";
        let source = portalctl_core::config::MemorySource::default().with("portalctl.yaml", config);
        let today = portalctl_core::model::CalendarDate::from_ymd(2026, 11, 26).unwrap();
        let loaded = portalctl_core::config::load(&source, today).unwrap();
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let state = &loaded.state;
        let text = super::super::roster_text::RosterText::build(state, 1);
        for q in [
            "alice",
            "initech",
            "editor",
            "emea",
            "amer",
            "hidden",
            "globex",
            "o",
            "zzz",
            "region=emea",
            "region = amer",
            "region=",
            "=emea",
            "secret=hidden-emea",
            "role=viewer",
        ] {
            for source in ["", "managed", "pending"] {
                let search = RosterSearch {
                    portal: "",
                    q,
                    source,
                };
                let keys = |(total, rows): (usize, Vec<RosterRow<'_>>)| {
                    (
                        total,
                        rows.into_iter().map(|(key, _)| key.clone()).collect::<Vec<_>>(),
                    )
                };
                for (offset, limit) in [(0, 50), (1, 1)] {
                    assert_eq!(
                        keys(search.run_on_text(state, &text, offset, limit)),
                        keys(search.run(state, offset, limit)),
                        "q={q} source={source} offset={offset}"
                    );
                }
            }
        }
        // Sensitive values are never found; a portal's name alone is no match.
        assert_eq!(text.matching("hidden").count(), 0);
        assert_eq!(
            text.matching("initech").collect::<Vec<_>>(),
            [("globex", "bob@initech.com"), ("initech", "bob@initech.com")]
        );
    }
}
