//! The sign-up page of a portal whose self-registration is enabled: the address is proved
//! by a link mailed to it before any seat exists; following the link registers the partner
//! by the rules the API enforces (`handlers::register`): allowed domains, self-service
//! attributes only, the org's values, groups, seat limits, approval.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::session::{csrf_ok, csrf_token, with_cookie};
use super::sign_in::{csrf_refused, start_session};
use super::{LINK_MINUTES, PortalPage, form_fields, html, message, no_such_portal, typed_email};
use crate::handlers::WriteFailure;
use crate::handlers::register::registration_change;
use crate::{ApiError, App};
use portalctl_core::model::{AttributeType, AttributeValue, State as Model, is_valid_email};
use portalctl_mail::Branding;
use portalctl_pages::{SignUp, SignUpField};
use portalctl_store::{ChangeMeta, LinkPurpose, LinkToken};

/// The actor the audit log names for registrations from the sign-up page.
pub const SIGN_UP_ACTOR: &str = "sign-up";

fn enabled(page: &PortalPage) -> bool {
    page.portal
        .self_registration
        .as_ref()
        .is_some_and(|registration| registration.enabled)
}

/// One input per self-service attribute (enums as a select), filled from `typed`.
pub(super) fn fields(state: &Model, typed: &HashMap<String, String>) -> Vec<SignUpField> {
    state
        .attributes
        .iter()
        .filter(|(_, attribute)| attribute.self_service)
        .map(|(name, attribute)| SignUpField {
            name: name.clone(),
            label: name.replace('_', " "),
            options: match attribute.kind {
                AttributeType::Enum => attribute.values.clone(),
                AttributeType::Boolean => vec!["true".into(), "false".into()],
                _ => Vec::new(),
            },
            value: typed.get(name).cloned().unwrap_or_default(),
            required: attribute.required,
        })
        .collect()
}

/// The attributes typed, by their types; an error names the field.
pub(super) fn typed_attributes(
    state: &Model,
    typed: &HashMap<String, String>,
) -> Result<BTreeMap<String, AttributeValue>, String> {
    let mut attributes = BTreeMap::new();
    for (name, attribute) in state
        .attributes
        .iter()
        .filter(|(_, attribute)| attribute.self_service)
    {
        let text = typed.get(name).map_or("", |text| text.trim());
        if text.is_empty() {
            if attribute.required {
                return Err(format!("Fill in {}.", name.replace('_', " ")));
            }
            continue;
        }
        let value = match attribute.kind {
            AttributeType::Integer => AttributeValue::Integer(
                text.parse()
                    .map_err(|_| format!("{} must be a whole number.", name.replace('_', " ")))?,
            ),
            AttributeType::Boolean => AttributeValue::Boolean(text == "true"),
            AttributeType::Enum if !attribute.values.iter().any(|value| value == text) => {
                return Err(format!(
                    "Choose one of the values offered for {}.",
                    name.replace('_', " ")
                ));
            }
            _ => AttributeValue::String(text.to_string()),
        };
        attributes.insert(name.clone(), value);
    }
    Ok(attributes)
}

fn sign_up_form(
    app: &App,
    page: &PortalPage,
    headers: &HeaderMap,
    typed: &HashMap<String, String>,
    error: Option<&str>,
) -> Response {
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let registration = page.portal.self_registration.as_deref();
    let body = portalctl_pages::render(&SignUp {
        theme: page.theme.clone(),
        csrf,
        initiation: page.portal.texts.initiation.clone(),
        email: typed.get("email").cloned().unwrap_or_default(),
        domains: registration
            .map(|registration| {
                registration
                    .allowed_domains
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .unwrap_or_default(),
        fields: fields(&page.snapshot.state, typed),
        error: error.map(str::to_string),
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    with_cookie(html(status, body, Some(&page.portal.logout_url)), cookie)
}

fn not_open(page: &PortalPage) -> Response {
    message(
        page,
        StatusCode::NOT_FOUND,
        "Sign-up is closed",
        &[&format!(
            "{} does not take sign-ups. Ask your contact for an invitation.",
            page.portal.name
        )],
        None,
    )
}

pub async fn sign_up_page(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return no_such_portal();
    };
    if !enabled(&page) {
        return not_open(&page);
    }
    sign_up_form(&app, &page, &headers, &HashMap::new(), None)
}

/// The refusal a registration would meet now, as a sentence for the form.
fn refusal(failure: WriteFailure) -> String {
    match failure {
        WriteFailure::Refused(error) => match error.body.error.code.as_str() {
            "domain_not_allowed" => "Use your work address at one of the domains shown.".into(),
            _ => error.body.error.message,
        },
        WriteFailure::Commit(error) => error.to_string(),
    }
}

/// `POST sign-up`: checks what can be checked now, then mails a verification link.
pub async fn request_sign_up(
    State(app): State<App>,
    Path(portal): Path<String>,
    super::ClientIp(client): super::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return Ok(no_such_portal());
    };
    if !enabled(&page) {
        return Ok(not_open(&page));
    }
    let typed = form_fields(&headers, &body);
    if !csrf_ok(&app.pages.settings, &headers, &typed) {
        return Ok(csrf_refused(&page));
    }
    let email = typed_email(&typed);
    if !is_valid_email(&email) {
        return Ok(sign_up_form(
            &app,
            &page,
            &headers,
            &typed,
            Some("Enter your work email address, such as name@company.com."),
        ));
    }
    let attributes = match typed_attributes(&page.snapshot.state, &typed) {
        Ok(attributes) => attributes,
        Err(error) => return Ok(sign_up_form(&app, &page, &headers, &typed, Some(&error))),
    };
    if app
        .pages
        .sign_in_limits
        .admit(&email, &client, Instant::now())
        .is_err()
    {
        return Ok(message(
            &page,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            &["Wait a minute, then try again."],
            None,
        ));
    }
    // Judged now on the published state (the link's registration is judged again when it
    // is followed): a refusal is shown on the form. An address that is already a member is
    // told the same as anyone, and mailed nothing it did not ask for.
    let already = page
        .snapshot
        .state
        .members
        .contains_key(&(portal.clone(), email.clone()));
    if !already {
        if let Err(failure) = registration_change(&page.snapshot.state, &portal, &email, &attributes) {
            return Ok(sign_up_form(
                &app,
                &page,
                &headers,
                &typed,
                Some(&refusal(failure)),
            ));
        }
        let payload = serde_json::to_string(&attributes)
            .map_err(|_| ApiError::internal("cannot encode the sign-up"))?;
        let branding = Branding::of(&page.portal);
        let (link_portal, link_email) = (portal.clone(), email.clone());
        // Stored and mailed off the request's path: an address that is already a member
        // (mailed nothing) is answered as fast as a new one.
        let app = app.clone();
        tokio::spawn(async move {
            let _ = app
                .blocking(move |app| {
                    if let Err(error) = send_verification(app, &link_portal, &branding, &link_email, payload) {
                        tracing::warn!(portal = %link_portal, error = %error, "cannot store a verification link");
                    }
                    Ok(())
                })
                .await;
        });
    }
    Ok(message(
        &page,
        StatusCode::ACCEPTED,
        "Confirm your address",
        &[
            &format!(
                "We sent a link to {email}. Follow it to finish signing up to {}.",
                page.portal.name
            ),
            &format!("The link works once, for {LINK_MINUTES} minutes."),
        ],
        None,
    ))
}

/// Stores a verification link whose payload is the registration and mails it.
pub(crate) fn send_verification(
    app: &App,
    portal: &str,
    branding: &Branding,
    email: &str,
    payload: String,
) -> Result<(), portalctl_store::StoreError> {
    super::sign_in::send_link(app, portal, branding, email, LinkPurpose::SignUp, payload)
}

/// A followed verification link: the registration, judged on the state it is committed on.
pub(crate) fn complete(app: &App, page: &PortalPage, link: &LinkToken) -> Result<Response, ApiError> {
    let attributes: BTreeMap<String, AttributeValue> =
        serde_json::from_str(&link.payload).map_err(|_| ApiError::internal("a malformed sign-up link"))?;
    let meta = ChangeMeta {
        author: Some(link.email.clone()),
        ..ChangeMeta::default()
    };
    let mut pending = false;
    let committed = app
        .store
        .commit_with(&meta, SIGN_UP_ACTOR, crate::today(), |state, _| {
            let (changes, needs_approval) = registration_change(state, &page.name, &link.email, &attributes)?;
            pending = needs_approval;
            Ok::<_, WriteFailure>(changes)
        });
    match committed {
        Ok(_) if pending => Ok(message(
            page,
            StatusCode::ACCEPTED,
            "Awaiting approval",
            &[&format!(
                "Your address is confirmed. {} approves new accounts; you can sign in once yours is approved.",
                page.portal.name
            )],
            None,
        )),
        Ok(_) => start_session(app, page, &link.email),
        Err(WriteFailure::Refused(error)) if error.body.error.code == "already_member" => {
            start_session(app, page, &link.email)
        }
        Err(WriteFailure::Commit(portalctl_store::CommitError::Storage(error))) => Err(error.into()),
        Err(failure) => Ok(message(
            page,
            StatusCode::CONFLICT,
            "We could not sign you up",
            &[&refusal(failure)],
            Some((&format!("{}/sign-up", page.theme.base), "Back to sign-up")),
        )),
    }
}
