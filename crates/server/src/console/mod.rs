//! The staff console, `/console`: what portal admins who never open git can see, and the
//! few actions that belong live. Server-rendered like the partner pages
//! (`portalctl-pages`), no script, the same CSRF and headers.
//!
//! - **Who**: staff declared in git under `workspace.console` (viewers, approvers, admins),
//!   signed in with the partner pages' machinery: an email link, then a mandatory TOTP,
//!   stored with the audience [`CONSOLE_AUDIENCE`] where a partner's hold their portal, so
//!   a partner's session never opens the console. An `admin` token in an `Authorization`
//!   header opens it too (scripts, the first sign-in). The role is read from the newest
//!   state on every request: a staff member removed in git is refused at the next page.
//! - **Pages** ([`views`]): overview, portal (settings with their origin, live preview, *try
//!   it* with the YAML to propose), roster, partner (with view-as), folder (who can open
//!   it), audit, tokens.
//! - **Actions** ([`actions`]): approve or refuse a registration, resend an invitation, end a
//!   partner's sessions (approvers), create and revoke tokens (admins); each asks for a
//!   confirmation first and is audited with the staff member as the actor: a batch's
//!   actor in the audit log, or a row of the console's action log.
//!
//! **Architecture invariant:** every console handler starts with [`App::staff`], which
//! refuses anyone without a console session or an admin token, and checks the role the
//! handler needs; every `POST` passes the CSRF check unless it carries an admin token
//! (a browser never attaches one by itself).

pub mod actions;
pub mod config_repo;
pub mod roster_text;
pub mod sign_in;
pub mod views;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portalctl_core::model::StaffRole;
use portalctl_pages::console::{ConsolePage, console_theme};
use portalctl_pages::{Message, Theme};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::pages::session::{CONSOLE_AUDIENCE, console_cookie, cookies, csrf_ok, csrf_token, with_cookie};
use crate::pages::{hash_secret, html, see_other};
use crate::{ApiError, App};

/// Who is using the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// `staff:EMAIL`, or `token:NAME` for an admin token: the audit log's actor.
    pub actor: String,
    pub email: Option<String>,
    pub role: StaffRole,
    /// Signed in with a session (not a token): forms carry the CSRF token.
    pub session: bool,
}

impl Staff {
    /// `ann@acme.io (approver)`.
    pub fn label(&self) -> String {
        match &self.email {
            Some(email) => format!("{email} ({})", self.role),
            None => format!("{} ({})", self.actor, self.role),
        }
    }
}

/// Why a request does not reach a console page.
pub enum Refusal {
    /// No console session: to the sign-in page.
    SignIn,
    /// A session still waiting for its second factor.
    SecondFactor,
    /// Signed in, but the role does not allow it.
    Forbidden(StaffRole),
}

impl Refusal {
    fn into_response(self, app: &App, headers: &HeaderMap) -> Response {
        match self {
            Self::SignIn => see_other("/console/sign-in"),
            Self::SecondFactor => see_other("/console/2fa"),
            Self::Forbidden(needed) => message(
                app,
                headers,
                StatusCode::FORBIDDEN,
                "Not allowed",
                &[&format!(
                    "This needs the console role `{needed}` or higher, declared in git under `workspace.console`."
                )],
            ),
        }
    }
}

impl App {
    /// The staff member of a console request with at least `needed`, or the answer to give
    /// instead. Decided on the newest state.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) async fn staff(
        &self,
        headers: &HeaderMap,
        needed: StaffRole,
    ) -> Result<Result<Staff, Response>, ApiError> {
        if let Some(caller) = crate::auth::admin_caller(self, headers).await? {
            return Ok(Ok(Staff {
                actor: format!("token:{}", caller.name),
                email: None,
                role: StaffRole::Admin,
                session: false,
            }));
        }
        let headers_owned = headers.clone();
        self.blocking(move |app| {
            let outcome = app.staff_of_session(&headers_owned, needed)?;
            Ok(outcome.map_err(|refusal| refusal.into_response(app, &headers_owned)))
        })
        .await
    }

    /// The staff member of the console session cookie (blocking).
    pub(crate) fn staff_of_session(
        &self,
        headers: &HeaderMap,
        needed: StaffRole,
    ) -> Result<Result<Staff, Refusal>, ApiError> {
        let Some(session) = self.console_session(headers)? else {
            return Ok(Err(Refusal::SignIn));
        };
        if !session.second_factor {
            return Ok(Err(Refusal::SecondFactor));
        }
        let snapshot = self.store.snapshot(crate::today())?;
        let Some(role) = snapshot.state.workspace.console.role_of(&session.email) else {
            // No longer declared: the session ends.
            self.store.delete_session(&session.hash)?;
            return Ok(Err(Refusal::SignIn));
        };
        if role < needed {
            return Ok(Err(Refusal::Forbidden(needed)));
        }
        Ok(Ok(Staff {
            actor: format!("staff:{}", session.email),
            email: Some(session.email),
            role,
            session: true,
        }))
    }

    /// The unexpired console session of the request's cookie (never a partner's).
    pub(crate) fn console_session(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<portalctl_store::Session>, ApiError> {
        let Some(token) = cookies(headers).remove(&console_cookie(&self.pages.settings)) else {
            return Ok(None);
        };
        let hash = hash_secret(&token);
        let Some(session) = self.store.session(&hash, OffsetDateTime::now_utc())? else {
            return Ok(None);
        };
        if !bool::from(session.hash.as_bytes().ct_eq(hash.as_bytes())) || session.portal != CONSOLE_AUDIENCE {
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// The console's theme: neutral, named after the workspace.
    pub(crate) fn console_theme(&self) -> Theme {
        console_theme(&self.store.published().state.workspace.name)
    }
}

/// Staff with `needed` or the early answer: `let staff = staff!(app, headers, ROLE);`.
macro_rules! staff {
    ($app:expr, $headers:expr, $role:expr) => {
        match $app.staff(&$headers, $role).await? {
            Ok(staff) => staff,
            Err(response) => return Ok(response),
        }
    };
}
pub(crate) use staff;

/// A console `POST`'s fields, or the refusal of a form whose CSRF token does not match
/// (a request with an admin token needs none).
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the page to answer, built once per request"
)]
pub(crate) fn checked_form(
    app: &App,
    staff: &Staff,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, Response> {
    let fields = crate::pages::form_fields(headers, body);
    if staff.session && !csrf_ok(&app.pages.settings, headers, &fields) {
        return Err(csrf_refused(app, headers));
    }
    Ok(fields)
}

/// The answer to a form whose CSRF token does not match.
pub(crate) fn csrf_refused(app: &App, headers: &HeaderMap) -> Response {
    message(
        app,
        headers,
        StatusCode::FORBIDDEN,
        "This form has expired",
        &["Go back, reload the page and try again."],
    )
}

/// A console page that only says something.
pub(crate) fn message(
    app: &App,
    _headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
) -> Response {
    let body = portalctl_pages::render(&Message {
        theme: app.console_theme(),
        title: title.to_string(),
        paragraphs: paragraphs.iter().map(|text| (*text).to_string()).collect(),
        link: Some(("/console".to_string(), "Back to the console".to_string())),
    });
    html(status, body, None)
}

/// A rendered console page, with the CSRF cookie when it needed a new token.
pub(crate) fn page(
    app: &App,
    headers: &HeaderMap,
    staff: &Staff,
    title: String,
    notice: Option<String>,
    blocks: Vec<portalctl_pages::console::Block>,
) -> Response {
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&ConsolePage {
        theme: app.console_theme(),
        csrf,
        title,
        staff: staff.label(),
        session: staff.session,
        notice,
        blocks,
    });
    with_cookie(html(StatusCode::OK, body, None), cookie)
}

/// Percent-encodes a path segment or query value for a link.
pub(crate) fn encode(text: &str) -> String {
    url_escape(text)
}

fn url_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'@') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The console's colours (the layout's `theme.css`).
async fn theme_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        portalctl_pages::theme_css(portalctl_pages::console::CONSOLE_COLOR),
    )
        .into_response()
}

/// A preview's colours: the colour is the `v` of the link (`?v=ff0000`), so a *try it*
/// colour is shown before it is in any config.
async fn preview_theme_css(Query(query): Query<HashMap<String, String>>) -> Response {
    let color = format!("#{}", query.get("v").map_or("", String::as_str));
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        portalctl_pages::theme_css(&color),
    )
        .into_response()
}

/// Headers of every console answer: no caching, no framing but of the console's own
/// previews by the console, no script.
async fn console_headers(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(200).collect();
    let framed = path.starts_with("/console/preview/") || path.contains("/view-as/");
    let mut response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "console"
    );
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let (frame_options, policy) = if framed {
        (
            "SAMEORIGIN",
            // A preview is a partner page shown, never used: its forms lead nowhere.
            "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'none'; \
             frame-ancestors 'self'; base-uri 'none'",
        )
    } else {
        (
            "DENY",
            "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; \
             frame-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    };
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(frame_options));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    response
}

/// `/console` → the overview.
async fn to_overview() -> Response {
    see_other("/console/")
}

/// The console's routes.
pub fn router() -> Router<App> {
    Router::new()
        .route("/console", get(to_overview))
        .route("/console/", get(views::overview))
        .route("/console/theme.css", get(theme_css))
        .route("/console/preview/theme.css", get(preview_theme_css))
        .route(
            "/console/sign-in",
            get(sign_in::sign_in_page).post(sign_in::request_link),
        )
        .route(
            "/console/link",
            get(sign_in::link_page).post(sign_in::follow_link),
        )
        .route("/console/2fa", get(sign_in::verify_page).post(sign_in::verify))
        .route(
            "/console/2fa/enrol",
            get(sign_in::enrol_page).post(sign_in::enrol),
        )
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/portals/{portal}", get(views::portal))
        .route("/console/preview/{portal}/{page}", get(views::preview))
        .route("/console/roster", get(views::roster))
        .route("/console/partners/{email}", get(views::partner))
        .route("/console/partners/{email}/view-as/{portal}", get(views::view_as))
        .route("/console/folders", get(views::folder))
        .route("/console/audit", get(views::audit))
        .route("/console/audit/{revision}", get(views::revision))
        .route("/console/tokens", get(views::tokens))
        .route("/console/actions/{action}", post(actions::act))
        .layer(axum::middleware::from_fn(console_headers))
}

/// Whether a path is the console's (the API's JSON-only guard lets it through).
pub fn is_console_path(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_escape_what_a_path_or_query_cannot_hold() {
        assert_eq!(encode("alice@globex.com"), "alice@globex.com");
        assert_eq!(encode("/Partners/Q3 pack"), "%2FPartners%2FQ3%20pack");
        assert!(is_console_path("/console") && is_console_path("/console/roster"));
        assert!(!is_console_path("/consoles"));
    }
}
