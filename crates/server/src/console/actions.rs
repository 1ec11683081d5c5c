//! The console's live actions, `POST /console/actions/{action}`: each asks for a
//! confirmation first (the same form again with `confirm=yes`, so it works without
//! script), checks the role it needs, and is audited with the staff member as the actor —
//! in the audit log when it commits a batch (approve, refuse), else in the console's
//! action log (resend an invitation, end sessions, create or revoke a token).
//!
//! Nothing declared in git is changed here: approving and refusing act on pending
//! registrations, which the live side owns.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portalctl_core::model::{Change, ResourceKey, StaffRole, normalize_email};
use portalctl_pages::console::{Block, Field, Form};
use portalctl_store::{ChangeMeta, MailKind, NewMessage, StaffAction, TokenScope};
use time::OffsetDateTime;

use super::{Staff, checked_form, message, page};
use crate::handlers::WriteFailure;
use crate::{ApiError, App};

/// An action of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Refuse,
    ResendInvitation,
    EndSessions,
    CreateToken,
    RevokeToken,
}

impl Action {
    pub const ALL: [Self; 6] = [
        Self::Approve,
        Self::Refuse,
        Self::ResendInvitation,
        Self::EndSessions,
        Self::CreateToken,
        Self::RevokeToken,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Refuse => "refuse",
            Self::ResendInvitation => "resend-invitation",
            Self::EndSessions => "end-sessions",
            Self::CreateToken => "create-token",
            Self::RevokeToken => "revoke-token",
        }
    }

    /// The role the action needs.
    pub fn needs(self) -> StaffRole {
        match self {
            Self::CreateToken | Self::RevokeToken => StaffRole::Admin,
            _ => StaffRole::Approver,
        }
    }

    fn question(self, fields: &HashMap<String, String>) -> String {
        let field = |name: &str| fields.get(name).map_or("", String::as_str).to_string();
        match self {
            Self::Approve => format!(
                "Approve {} in {}? They can sign in at once.",
                field("email"),
                field("portal")
            ),
            Self::Refuse => format!(
                "Refuse {} in {}? The registration is removed and they are told.",
                field("email"),
                field("portal")
            ),
            Self::ResendInvitation => {
                format!("Mail {} a new invitation to {}?", field("email"), field("portal"))
            }
            Self::EndSessions => format!(
                "End every session of {} in {}? They must sign in again.",
                field("email"),
                field("portal")
            ),
            Self::CreateToken => format!(
                "Create the token `{}` with scope `{}`? It is shown once.",
                field("name"),
                field("scope")
            ),
            Self::RevokeToken => format!(
                "Revoke the token `{}`? Requests with it are refused at once.",
                field("name")
            ),
        }
    }
}

/// `POST /console/actions/{action}`.
pub async fn act(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(action) = Action::ALL.into_iter().find(|action| action.name() == name) else {
        return Ok(message(
            &app,
            &headers,
            StatusCode::NOT_FOUND,
            "No such action",
            &[],
        ));
    };
    let staff = super::staff!(app, headers, action.needs());
    let fields = match checked_form(&app, &staff, &headers, &body) {
        Ok(fields) => fields,
        Err(response) => return Ok(response),
    };
    if fields.get("confirm").map(String::as_str) != Some("yes") {
        return Ok(confirmation(&app, &headers, &staff, action, &fields));
    }
    app.writing(move |app| {
        let outcome = perform(app, &staff, action, &fields)?;
        let (status, notice, blocks) = match outcome {
            Ok((notice, blocks)) => (StatusCode::OK, notice, blocks),
            Err(refusal) => (StatusCode::CONFLICT, refusal, Vec::new()),
        };
        let mut response = page(app, &headers, &staff, "Done".into(), Some(notice), blocks);
        *response.status_mut() = status;
        Ok(response)
    })
    .await
}

/// The page that asks to confirm an action: the same form with `confirm=yes`.
fn confirmation(
    app: &App,
    headers: &HeaderMap,
    staff: &Staff,
    action: Action,
    fields: &HashMap<String, String>,
) -> Response {
    let mut kept: Vec<Field> = ["portal", "email", "name", "scope"]
        .into_iter()
        .filter_map(|name| fields.get(name).map(|value| Field::hidden(name, value.clone())))
        .collect();
    kept.push(Field::hidden("confirm", "yes"));
    let blocks = vec![
        Block::Text(action.question(fields)),
        Block::Form(Form {
            action: format!("/console/actions/{}", action.name()),
            post: true,
            label: "Confirm".into(),
            fields: kept,
            button: "Confirm".into(),
            name: format!("confirm-{}", action.name()),
        }),
    ];
    page(app, headers, staff, "Confirm".into(), None, blocks)
}

/// Does the action: `Ok(Ok(notice, blocks))`, or `Ok(Err(why not))` for a refusal.
fn perform(
    app: &App,
    staff: &Staff,
    action: Action,
    fields: &HashMap<String, String>,
) -> Result<Result<(String, Vec<Block>), String>, ApiError> {
    let field = |name: &str| {
        fields
            .get(name)
            .map(|value| value.trim().to_string())
            .unwrap_or_default()
    };
    let portal = field("portal");
    let email = normalize_email(&field("email"));
    let now = OffsetDateTime::now_utc();
    let log = |action: Action, subject: String, detail: String| {
        app.store.record_staff_action(&StaffAction {
            at: now,
            actor: staff.actor.clone(),
            action: action.name().into(),
            subject,
            detail,
        })
    };
    match action {
        Action::Approve | Action::Refuse => {
            let mut changed = false;
            let committed = app.store.commit_with(
                &ChangeMeta::default(),
                &staff.actor,
                crate::today(),
                |state, _| {
                    let Some(member) = state.members.get(&(portal.clone(), email.clone())) else {
                        return Err(WriteFailure::Refused(ApiError::not_found(format!(
                            "no member {email} in portal {portal}"
                        ))));
                    };
                    if !member.pending {
                        changed = false;
                        return Ok(Vec::new());
                    }
                    changed = true;
                    if action == Action::Approve {
                        state
                            .approval(&portal, &email)
                            .map(|(changes, _)| changes)
                            .map_err(|error| WriteFailure::Refused(ApiError::not_found(error.to_string())))
                    } else {
                        Ok(vec![Change::Delete {
                            key: ResourceKey::Member {
                                portal: portal.clone(),
                                email: email.clone(),
                            },
                        }])
                    }
                },
            );
            match committed {
                Ok(revision) if changed => {
                    let verb = if action == Action::Approve {
                        "approved"
                    } else {
                        "refused"
                    };
                    Ok(Ok((
                        format!(
                            "{email} {verb} in {portal} (revision {revision}, by {})",
                            staff.actor
                        ),
                        Vec::new(),
                    )))
                }
                Ok(_) => Ok(Err(format!(
                    "{email} is not pending in {portal}: nothing changed"
                ))),
                Err(failure) => Ok(Err(failure.into_api(StatusCode::CONFLICT).body.error.message)),
            }
        }
        Action::ResendInvitation => {
            let snapshot = app.store.snapshot(crate::today())?;
            let Some(found) = snapshot.state.portals.get(&portal) else {
                return Ok(Err(format!("no portal `{portal}`")));
            };
            let active = snapshot
                .state
                .members
                .get(&(portal.clone(), email.clone()))
                .is_some_and(|member| member.grants_on(crate::today()));
            if !active {
                return Ok(Err(format!("{email} has no active seat in {portal}")));
            }
            let branding = portalctl_mail::Branding::of(found);
            let link = app.pages.settings.page_url(&portal, "/");
            let composed = portalctl_mail::Letter {
                kind: portalctl_mail::LetterKind::Invitation,
                branding: &branding,
                to: &email,
                link: Some(&link),
                link_valid_minutes: None,
            }
            .compose();
            app.store.enqueue(&[NewMessage {
                portal: portal.clone(),
                recipient: email.clone(),
                kind: MailKind::Invitation,
                subject: composed.subject,
                text: composed.text,
                html: composed.html,
            }])?;
            log(
                action,
                format!("{portal}/{email}"),
                "invitation enqueued in the outbox".into(),
            )?;
            Ok(Ok((
                format!("a new invitation to {portal} is on its way to {email}"),
                Vec::new(),
            )))
        }
        Action::EndSessions => {
            if portal.is_empty() || portal.starts_with('@') {
                return Ok(Err("name a portal".into()));
            }
            let ended = app.store.end_sessions(&portal, &email)?;
            log(
                action,
                format!("{portal}/{email}"),
                format!("{ended} session(s) ended"),
            )?;
            Ok(Ok((
                format!("{ended} session(s) of {email} in {portal} ended"),
                Vec::new(),
            )))
        }
        Action::CreateToken => {
            let name = field("name");
            let scope = match field("scope").as_str() {
                "read" => TokenScope::Read,
                "apply" => TokenScope::Apply,
                "admin" => TokenScope::Admin,
                other => return Ok(Err(format!("scope: `{other}` is not one of read, apply, admin"))),
            };
            match app.store.create_token(&name, scope, None, &staff.actor, now) {
                Ok(issued) => {
                    log(action, name.clone(), format!("scope {}", issued.info.scope))?;
                    Ok(Ok((
                        format!("token `{name}` created; copy it now, it is not shown again"),
                        vec![Block::Code {
                            label: format!("The token `{name}`"),
                            text: issued.token,
                            name: "new-token".into(),
                        }],
                    )))
                }
                Err(error) => Ok(Err(format!("name: {error}"))),
            }
        }
        Action::RevokeToken => {
            let name = field("name");
            if app.store.revoke_token(&name, now)? {
                log(action, name.clone(), String::new())?;
                Ok(Ok((format!("token `{name}` revoked"), Vec::new())))
            } else {
                Ok(Err(format!("no token `{name}` to revoke")))
            }
        }
    }
}
