//! Sign-in by email link, the link's landing, sign-out and the home page.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::time::Instant;
use time::OffsetDateTime;

use super::session::{Visitor, csrf_ok, csrf_token, session_cookie, set_cookie, with_cookie};
use super::{
    LINK_MINUTES, PortalPage, form_fields, hash_secret, html, message, no_such_portal, random_token,
    see_other, typed_email,
};
use crate::{ApiError, App};
use portalctl_core::model::is_valid_email;
use portalctl_mail::{Branding, Letter, LetterKind};
use portalctl_pages::{Confirm, SignIn};
use portalctl_store::{LinkPurpose, LinkToken, LinkUse, MailKind, NewMessage, Session};

/// `/p/{portal}` → `/p/{portal}/`.
pub async fn to_home(Path(portal): Path<String>) -> Response {
    see_other(&format!("/p/{portal}/"))
}

fn sign_in_form(page: &PortalPage, csrf: String, email: &str, error: Option<&str>) -> String {
    portalctl_pages::render(&SignIn {
        theme: page.theme.clone(),
        csrf,
        email: email.to_string(),
        error: error.map(str::to_string),
        sign_up: page
            .portal
            .self_registration
            .as_ref()
            .is_some_and(|registration| registration.enabled),
    })
}

pub async fn sign_in_page(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return no_such_portal();
    };
    let (csrf, cookie) = csrf_token(&app.pages.settings, &headers);
    let body = sign_in_form(&page, csrf, "", None);
    with_cookie(html(StatusCode::OK, body, Some(&page.portal.logout_url)), cookie)
}

/// The page a refused form answers: its CSRF token did not match.
pub fn csrf_refused(page: &PortalPage) -> Response {
    message(
        page,
        StatusCode::FORBIDDEN,
        "This form has expired",
        &["Go back, reload the page and try again."],
        Some((&format!("{}/sign-in", page.theme.base), "Back to sign-in")),
    )
}

/// `POST sign-in`: mails a link to a member; the same answer for anyone.
pub async fn request_link(
    State(app): State<App>,
    Path(portal): Path<String>,
    super::ClientIp(client): super::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return Ok(no_such_portal());
    };
    let settings = &app.pages.settings;
    let fields = form_fields(&headers, &body);
    if !csrf_ok(settings, &headers, &fields) {
        return Ok(csrf_refused(&page));
    }
    let email = typed_email(&fields);
    if !is_valid_email(&email) {
        let (csrf, cookie) = csrf_token(settings, &headers);
        let body = sign_in_form(
            &page,
            csrf,
            fields.get("email").map_or("", String::as_str),
            Some("Enter your work email address, such as name@company.com."),
        );
        return Ok(with_cookie(
            html(StatusCode::BAD_REQUEST, body, Some(&page.portal.logout_url)),
            cookie,
        ));
    }
    if let Err(wait) = app.pages.sign_in_limits.admit(&email, &client, Instant::now()) {
        let mut response = message(
            &page,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in requests",
            &["Wait a minute, then ask for a new link."],
            Some((&format!("{}/sign-in", page.theme.base), "Back to sign-in")),
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let today = crate::today();
    let is_member = page
        .snapshot
        .state
        .members
        .get(&(portal.clone(), email.clone()))
        .is_some_and(|member| member.grants_on(today));
    if is_member {
        // The link is stored and mailed off the request's path, so a member's answer takes
        // no longer than anyone else's.
        let link_portal = portal.clone();
        let link_email = email.clone();
        let branding = Branding::of(&page.portal);
        let app = app.clone();
        tokio::spawn(async move {
            let _ = app
                .blocking(move |app| {
                    if let Err(error) = send_link(
                        app,
                        &link_portal,
                        &branding,
                        &link_email,
                        LinkPurpose::SignIn,
                        String::new(),
                    ) {
                        tracing::warn!(portal = %link_portal, error = %error, "cannot store a sign-in link");
                    }
                    Ok(())
                })
                .await;
        });
    }
    Ok(message(
        &page,
        StatusCode::OK,
        "Check your email",
        &[
            &format!(
                "If {email} may sign in to {}, a sign-in link is on its way to it.",
                page.portal.name
            ),
            &format!("The link works once, for {LINK_MINUTES} minutes."),
        ],
        None,
    ))
}

/// Stores a one-time link for `email` (its hash, with `payload`) for `portal` (a portal's
/// technical name, or [`CONSOLE_AUDIENCE`](super::session::CONSOLE_AUDIENCE)) and enqueues
/// the mail that carries it in the same transaction, composed by `portalctl-mail` like every other message: the one way
/// sign-in and sign-up links are made. The link's purpose decides what the mail says.
pub(crate) fn send_link(
    app: &App,
    portal: &str,
    branding: &Branding,
    email: &str,
    purpose: LinkPurpose,
    payload: String,
) -> Result<(), portalctl_store::StoreError> {
    let token = random_token(32);
    if token.is_empty() {
        return Err(portalctl_store::StoreError::Unavailable("no randomness".into()));
    }
    let now = OffsetDateTime::now_utc();
    // A console link lands on the console; any other on its portal's pages.
    let link = if portal == super::session::CONSOLE_AUDIENCE {
        format!("{}/console/link?token={token}", app.pages.settings.public_url)
    } else {
        app.pages
            .settings
            .page_url(portal, &format!("/link?token={token}"))
    };
    let (kind, letter_kind) = match purpose {
        LinkPurpose::SignIn => (MailKind::SignInLink, LetterKind::SignInLink),
        LinkPurpose::SignUp => (MailKind::SignUpVerification, LetterKind::SignUpVerification),
    };
    let composed = Letter {
        kind: letter_kind,
        branding,
        to: email,
        link: Some(&link),
        link_valid_minutes: u32::try_from(LINK_MINUTES).ok(),
    }
    .compose();
    // The link and its mail in one transaction: never a link no mail carries.
    app.store.create_link_with_mail(
        &LinkToken {
            hash: hash_secret(&token),
            portal: portal.to_string(),
            email: email.to_string(),
            purpose,
            payload,
            expires_at: now + time::Duration::minutes(LINK_MINUTES),
        },
        now,
        &[NewMessage {
            portal: portal.to_string(),
            recipient: email.to_string(),
            kind,
            subject: composed.subject,
            text: composed.text,
            html: composed.html,
        }],
    )?;
    Ok(())
}

/// `GET link?token=`: a button that posts the token (nothing is used up by a `GET`).
pub async fn link_page(
    State(app): State<App>,
    Path(portal): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return no_such_portal();
    };
    let token = query.get("token").cloned().unwrap_or_default();
    if token.is_empty() || token.len() > 128 {
        return invalid_link(&page);
    }
    let (csrf, cookie) = csrf_token(&app.pages.settings, &headers);
    let body = portalctl_pages::render(&Confirm {
        theme: page.theme.clone(),
        csrf,
        title: format!("Continue to {}", page.portal.name),
        explanation: "Follow your link from the email: it works once.".into(),
        button: "Continue".into(),
        action: format!("{}/link", page.theme.base),
        token,
    });
    with_cookie(html(StatusCode::OK, body, Some(&page.portal.logout_url)), cookie)
}

fn invalid_link(page: &PortalPage) -> Response {
    message(
        page,
        StatusCode::NOT_FOUND,
        "This link is not valid",
        &["Ask for a new link on the sign-in page."],
        Some((&format!("{}/sign-in", page.theme.base), "Back to sign-in")),
    )
}

/// `POST link`: uses up the link and starts a session (or completes a sign-up).
pub async fn follow_link(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (page, fields) = match app.posted_form(&portal, &headers, &body) {
        Ok(posted) => posted,
        Err(refusal) => return Ok(*refusal),
    };
    let token = fields.get("token").cloned().unwrap_or_default();
    if token.is_empty() || token.len() > 128 {
        return Ok(invalid_link(&page));
    }
    let hash = hash_secret(&token);
    // In the write queue, before the link is used: a sign-up link commits the member, and
    // a link used up by a request then refused `busy` could not be used again.
    app.writing(move |app| {
        let outcome = app.store.use_link(&hash, &page.name, OffsetDateTime::now_utc())?;
        let back = format!("{}/sign-in", page.theme.base);
        let link = match outcome {
            LinkUse::Used(link) => link,
            LinkUse::AlreadyUsed => {
                return Ok(message(
                    &page,
                    StatusCode::GONE,
                    "This link was already used",
                    &["Each link works once. Ask for a new one."],
                    Some((&back, "Back to sign-in")),
                ));
            }
            LinkUse::Expired => {
                return Ok(message(
                    &page,
                    StatusCode::GONE,
                    "This link has expired",
                    &[&format!(
                        "Links work for {LINK_MINUTES} minutes. Ask for a new one."
                    )],
                    Some((&back, "Back to sign-in")),
                ));
            }
            LinkUse::OtherPortal => {
                return Ok(message(
                    &page,
                    StatusCode::BAD_REQUEST,
                    "This link is for another portal",
                    &["Open the link from your email as it is, or ask for a new one here."],
                    Some((&back, "Back to sign-in")),
                ));
            }
            LinkUse::Unknown => return Ok(invalid_link(&page)),
        };
        match link.purpose {
            LinkPurpose::SignIn => start_session(app, &page, &link.email),
            LinkPurpose::SignUp => super::sign_up::complete(app, &page, &link),
        }
    })
    .await
}

/// Starts a session for `email` if it is a member with access now, and sends it on:
/// home, or the second factor first.
pub(crate) fn start_session(app: &App, page: &PortalPage, email: &str) -> Result<Response, ApiError> {
    let today = crate::today();
    // Decided on the newest state: the member may have been removed since the mail.
    let snapshot = app.store.newest_snapshot(today)?;
    let active = snapshot
        .state
        .members
        .get(&(page.name.clone(), email.to_string()))
        .is_some_and(|member| member.grants_on(today));
    if !active {
        return Ok(no_access(page));
    }
    let token = random_token(32);
    if token.is_empty() {
        return Err(ApiError::internal("no randomness"));
    }
    let now = OffsetDateTime::now_utc();
    let ttl = i64::from(page.portal.session_ttl.minutes());
    app.store.create_session(&Session {
        hash: hash_secret(&token),
        portal: page.name.clone(),
        email: email.to_string(),
        created_at: now,
        expires_at: now + time::Duration::minutes(ttl),
        second_factor: !page.portal.require_2fa,
        first_login: false,
    })?;
    let next = if page.portal.require_2fa {
        format!("{}/2fa", page.theme.base)
    } else {
        format!("{}/", page.theme.base)
    };
    let mut response = see_other(&next);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &app.pages.settings,
            &session_cookie(&app.pages.settings, &page.name),
            &token,
            Some(ttl * 60),
        ),
    );
    Ok(response)
}

/// The answer to a visitor whose access ended (or never was).
pub(crate) fn no_access(page: &PortalPage) -> Response {
    message(
        page,
        StatusCode::FORBIDDEN,
        "You no longer have access",
        &[&format!(
            "Your access to {} has ended or is awaiting approval. Ask your contact if you think this is a mistake.",
            page.portal.name
        )],
        Some((&format!("{}/sign-in", page.theme.base), "Back to sign-in")),
    )
}

/// A response that also removes the portal's session cookie.
pub(crate) fn clearing_session(app: &App, page: &PortalPage, mut response: Response) -> Response {
    let settings = &app.pages.settings;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(settings, &session_cookie(settings, &page.name), "", Some(0)),
    );
    response
}

/// The home page: what this partner may open, from the access index.
pub async fn home(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return Ok(no_such_portal());
    };
    app.blocking(move |app| {
        let visitor = app.visitor(&page, &headers)?;
        let (session, member, snapshot) = match visitor {
            Visitor::Anonymous => return Ok(see_other(&format!("{}/sign-in", page.theme.base))),
            Visitor::Refused { .. } => return Ok(clearing_session(app, &page, no_access(&page))),
            Visitor::NeedsSecondFactor(_) => return Ok(see_other(&format!("{}/2fa", page.theme.base))),
            Visitor::Member(session, member, snapshot) => (session, member, snapshot),
        };
        // The same answer as `GET /v1/access/{email}?portal=` (the access index, only
        // this portal), and the same one the console's view-as and preview render.
        let view = super::home::HomeView::of(app, &snapshot, &page.name, &session.email, &member);
        let first_login = match &page.portal.texts.first_login {
            Some(text) if session.first_login => {
                app.store.take_first_login(&session.hash)?.then(|| text.clone())
            }
            _ => None,
        };
        let (csrf, cookie) = csrf_token(&app.pages.settings, &headers);
        let body = view.render(page.theme.clone(), csrf, session.email, first_login);
        Ok(with_cookie(
            html(StatusCode::OK, body, Some(&page.portal.logout_url)),
            cookie,
        ))
    })
    .await
}

/// `POST sign-out`: ends the session and goes to the portal's `logout_url` (from the
/// config only: no redirect target is read from the request).
pub async fn sign_out(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (page, _) = match app.posted_form(&portal, &headers, &body) {
        Ok(posted) => posted,
        Err(refusal) => return Ok(*refusal),
    };
    app.blocking(move |app| {
        let settings = &app.pages.settings;
        if let Some(token) = super::session::cookies(&headers).remove(&session_cookie(settings, &page.name)) {
            app.store.delete_session(&hash_secret(&token))?;
        }
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(location) = HeaderValue::from_str(&page.portal.logout_url) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Ok(clearing_session(app, &page, response))
    })
    .await
}
