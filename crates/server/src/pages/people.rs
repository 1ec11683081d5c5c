//! The People page of a partner admin (`/p/{portal}/people`): the members of a partner org
//! listed in its `self_management.admins` manage the people their org added to this portal
//! (one of its `self_management.portals`): invite (an address at the org's domains, a role
//! up to `max_role`, self-service attributes), change a role, remove. Seat limits hold (the
//! store's rules, on the state the change commits on). Every change is committed with the
//! actor `partner:EMAIL`.
//!
//! **Architecture invariant:** nothing of another org, nor anything declared in git, is
//! shown or reachable: the page lists only the org's partner-managed members of this
//! portal, and every form is decided again on the state it commits on (the admin still an
//! admin of a delegating org, the person one their org added here), so a forged email or
//! role in a form reaches nothing else.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use portalctl_core::model::{
    BUILTIN_ROLES, Change, MemberSource, Membership, ResourceKey, ResourceValue, SelfManagement,
    State as Model, email_domain, is_valid_email, normalize_email,
};
use portalctl_pages::{OtherPerson, People, Person};
use portalctl_store::ChangeMeta;

use super::session::{Visitor, csrf_token, with_cookie};
use super::sign_in::{clearing_session, no_access};
use super::{PortalPage, html, no_such_portal, see_other};
use crate::error::ApiError;
use crate::handlers::WriteFailure;
use crate::{App, today};

/// The org `email` administers in `portal`, with its delegation: `email` is a member of
/// the portal in that org, listed in its `self_management.admins`, which lists the portal.
pub fn administered_org(state: &Model, portal: &str, email: &str) -> Option<(String, SelfManagement)> {
    let member = state.members.get(&(portal.to_string(), email.to_string()))?;
    let org = member.org.as_deref()?;
    let delegation = state.partner_orgs.get(org)?.self_management.as_ref()?;
    (delegation.admins.contains(email) && delegation.portals.contains(portal))
        .then(|| (org.to_string(), delegation.clone()))
}

/// The roles an admin of `delegation` may give, sorted.
fn roles_within(state: &Model, delegation: &SelfManagement) -> Vec<String> {
    let mut roles: Vec<String> = BUILTIN_ROLES
        .iter()
        .map(|role| (*role).to_string())
        .chain(state.roles.keys().cloned())
        .filter(|role| state.role_within(role, &delegation.max_role))
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// What the page says after a form.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    typed: HashMap<String, String>,
}

fn render(
    app: &App,
    page: &PortalPage,
    headers: &HeaderMap,
    state: &Model,
    (org, delegation): (&str, &SelfManagement),
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let mut people = Vec::new();
    let mut others = Vec::new();
    for ((portal, email), member) in state.members.range((page.name.clone(), String::new())..) {
        if portal != &page.name {
            break;
        }
        if member.org.as_deref() != Some(org) {
            continue;
        }
        if member.managing_org() == Some(org) {
            people.push(Person {
                email: email.clone(),
                role: member.role.clone(),
            });
        } else {
            others.push(OtherPerson {
                email: email.clone(),
                role: member.role.clone(),
                origin: match member.source {
                    MemberSource::SelfRegistration => "self-registered",
                    _ => "declared in git",
                }
                .to_string(),
            });
        }
    }
    let domains = state
        .partner_orgs
        .get(org)
        .map(|found| found.domains.iter().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&People {
        theme: page.theme.clone(),
        csrf,
        org: org.to_string(),
        vendor: state.workspace.name.clone(),
        domains,
        max_role: delegation.max_role.clone(),
        default_role: delegation.default_role().to_string(),
        roles: roles_within(state, delegation),
        people,
        others,
        fields: super::sign_up::fields(state, &outcome.typed),
        email: outcome.typed.get("email").cloned().unwrap_or_default(),
        notice: outcome.notice,
        error: outcome.error,
    });
    with_cookie(html(status, body, Some(&page.portal.logout_url)), cookie)
}

/// The signed-in admin and their org, or the answer for anyone else: sign-in, the second
/// factor, or `404` (the page does not exist for someone who administers nothing here).
fn admin(
    app: &App,
    page: &PortalPage,
    headers: &HeaderMap,
) -> Result<Result<(String, std::sync::Arc<portalctl_store::Snapshot>), Response>, ApiError> {
    Ok(match app.visitor(page, headers)? {
        Visitor::Anonymous => Err(see_other(&format!("{}/sign-in", page.theme.base))),
        Visitor::Refused { .. } => Err(clearing_session(app, page, no_access(page))),
        Visitor::NeedsSecondFactor(_) => Err(see_other(&format!("{}/2fa", page.theme.base))),
        Visitor::Member(session, _, snapshot) => {
            if administered_org(&snapshot.state, &page.name, &session.email).is_some() {
                Ok((session.email, snapshot))
            } else {
                Err(not_an_admin(page))
            }
        }
    })
}

fn not_an_admin(page: &PortalPage) -> Response {
    super::message(
        page,
        StatusCode::NOT_FOUND,
        "No such page",
        &["This page is for the people who manage their organisation's access to this portal."],
        Some((&format!("{}/", page.theme.base), "Home")),
    )
}

/// `GET /p/{portal}/people`.
pub async fn people_page(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return Ok(no_such_portal());
    };
    app.blocking(move |app| {
        let (email, snapshot) = match admin(app, &page, &headers)? {
            Ok(found) => found,
            Err(response) => return Ok(response),
        };
        let (org, delegation) = administered_org(&snapshot.state, &page.name, &email)
            .expect("admin() checked it on this snapshot");
        Ok(render(
            app,
            &page,
            &headers,
            &snapshot.state,
            (&org, &delegation),
            StatusCode::OK,
            Outcome::default(),
        ))
    })
    .await
}

/// What a form asks.
enum Action {
    Invite { email: String, role: String },
    Role { email: String, role: String },
    Remove { email: String },
}

/// The changes a form makes, decided on `state` (the one it commits on).
///
/// # Errors
/// A sentence for the admin when the form asks for something they may not do.
fn changes(
    state: &Model,
    portal: &str,
    admin: &str,
    action: &Action,
    typed: &HashMap<String, String>,
) -> Result<(Vec<Change>, String), String> {
    let (org, delegation) = administered_org(state, portal, admin)
        .ok_or_else(|| "You no longer manage people here.".to_string())?;
    let key = |email: &str| ResourceKey::Member {
        portal: portal.to_string(),
        email: email.to_string(),
    };
    let role_ok = |role: &str| -> Result<(), String> {
        let known = BUILTIN_ROLES.contains(&role) || state.roles.contains_key(role);
        if known && state.role_within(role, &delegation.max_role) {
            Ok(())
        } else {
            Err(format!("Choose a role up to {}.", delegation.max_role))
        }
    };
    // Only someone the org added here: nobody declared in git, nobody of another org.
    let managed = |email: &str| -> Result<Membership, String> {
        state
            .members
            .get(&(portal.to_string(), email.to_string()))
            .filter(|member| member.managing_org() == Some(org.as_str()))
            .cloned()
            .ok_or_else(|| format!("{email} is not someone {org} added here."))
    };
    match action {
        Action::Invite { email, role } => {
            let domain = email_domain(email).unwrap_or_default();
            let at_domain = state.partner_orgs.get(&org).is_some_and(|found| {
                found.domains.iter().any(|allowed| {
                    domain == allowed
                        || domain
                            .strip_suffix(allowed.as_str())
                            .is_some_and(|rest| rest.ends_with('.'))
                })
            });
            if !is_valid_email(email) || !at_domain {
                return Err(format!("Invite an address at a domain of {org}."));
            }
            role_ok(role)?;
            if state.members.contains_key(&(portal.to_string(), email.clone())) {
                return Err(format!("{email} is already in this portal."));
            }
            let mut attributes: portalctl_core::model::AttributeValues =
                super::sign_up::typed_attributes(state, typed)?
                    .into_iter()
                    .collect();
            // The org's values, for what the form does not state (its own fields are
            // self-service only): as a declared member and a self-registration get them.
            if let Some(found) = state.partner_orgs.get(org.as_str()) {
                for (name, value) in &found.attributes {
                    if !attributes.contains_key(name) {
                        attributes.insert(name.clone(), value.clone());
                    }
                }
            }
            let member = Membership {
                role: role.clone(),
                org: Some(org.clone()),
                attributes,
                expires: None,
                source: MemberSource::PartnerManaged,
                pending: false,
            };
            Ok((
                vec![Change::Put {
                    key: key(email),
                    value: ResourceValue::Member(member),
                }],
                format!("Invited {email} as {role}."),
            ))
        }
        Action::Role { email, role } => {
            let mut member = managed(email)?;
            role_ok(role)?;
            if &member.role == role {
                return Ok((Vec::new(), format!("{email} is already {role}.")));
            }
            member.role = role.clone();
            Ok((
                vec![Change::Put {
                    key: key(email),
                    value: ResourceValue::Member(member),
                }],
                format!("{email} is now {role}."),
            ))
        }
        Action::Remove { email } => {
            managed(email)?;
            Ok((
                vec![Change::Delete { key: key(email) }],
                format!("Removed {email}."),
            ))
        }
    }
}

/// `POST /p/{portal}/people/{invite|role|remove}`.
async fn act(
    app: App,
    portal: String,
    headers: HeaderMap,
    body: Bytes,
    which: &'static str,
) -> Result<Response, ApiError> {
    let (page, fields) = match app.posted_form(&portal, &headers, &body) {
        Ok(posted) => posted,
        Err(refusal) => return Ok(*refusal),
    };
    app.writing(move |app| {
        let (admin_email, _) = match admin(app, &page, &headers)? {
            Ok(found) => found,
            Err(response) => return Ok(response),
        };
        let email = normalize_email(fields.get("email").map_or("", String::as_str));
        let role = fields.get("role").cloned().unwrap_or_default();
        let action = match which {
            "invite" => Action::Invite { email, role },
            "role" => Action::Role { email, role },
            _ => Action::Remove { email },
        };
        let meta = ChangeMeta {
            author: Some(admin_email.clone()),
            ..ChangeMeta::default()
        };
        let mut said = None;
        let committed =
            app.store
                .commit_with(&meta, &format!("partner:{admin_email}"), today(), |state, _| {
                    let (changes, notice) = changes(state, &page.name, &admin_email, &action, &fields)
                        .map_err(|sentence| {
                            WriteFailure::Refused(ApiError::bad_request("refused", sentence))
                        })?;
                    said = Some(notice);
                    Ok::<_, WriteFailure>(changes)
                });
        let (status, outcome) = match committed {
            Ok(_) => (
                StatusCode::OK,
                Outcome {
                    notice: said,
                    ..Outcome::default()
                },
            ),
            Err(WriteFailure::Refused(error)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome {
                    error: Some(error.body.error.message),
                    typed: fields.clone(),
                    ..Outcome::default()
                },
            ),
            Err(WriteFailure::Commit(portalctl_store::CommitError::SeatLimit(_))) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome {
                    error: Some("No seat is left: remove someone first, or ask for more seats.".into()),
                    typed: fields.clone(),
                    ..Outcome::default()
                },
            ),
            Err(WriteFailure::Commit(
                portalctl_store::CommitError::Invalid(problems)
                | portalctl_store::CommitError::Conflict(problems),
            )) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome {
                    error: Some(problems.listed.first().map_or_else(
                        || "The change was refused.".to_string(),
                        |problem| problem.message.clone(),
                    )),
                    typed: fields.clone(),
                    ..Outcome::default()
                },
            ),
            Err(WriteFailure::Commit(error)) => {
                return Err(ApiError::from_commit(error, StatusCode::CONFLICT));
            }
        };
        let snapshot = app.store.snapshot(today())?;
        match administered_org(&snapshot.state, &page.name, &admin_email) {
            Some((org, delegation)) => Ok(render(
                app,
                &page,
                &headers,
                &snapshot.state,
                (&org, &delegation),
                status,
                outcome,
            )),
            None => Ok(not_an_admin(&page)),
        }
    })
    .await
}

pub async fn invite(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    act(app, portal, headers, body, "invite").await
}

pub async fn change_role(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    act(app, portal, headers, body, "role").await
}

pub async fn remove(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    act(app, portal, headers, body, "remove").await
}
