//! Cookies: the session of each portal and the CSRF token, and the live access decision
//! every page makes.
//!
//! One CSRF mechanism for every form (the staff console and partner admins reuse it): a
//! double-submit token. A random value lives in its own cookie (HttpOnly, SameSite=Lax,
//! `__Host-` on https, so no sibling host can plant one) and in each form's hidden `csrf`
//! field; a `POST` whose two values differ (compared in constant time) is refused before
//! anything else is read.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::{PagesSettings, PortalPage, hash_secret, random_token};
use crate::App;
use portalctl_core::model::Membership;
use portalctl_store::Session;

/// The audience of the staff console's links, sessions and authenticators, stored where a
/// partner's hold their portal's technical name. A technical name is a DNS label, which
/// never holds `@`: a partner's session, link or key can never be taken for a console one,
/// nor the other way round, since every reader compares the audience it expects.
pub const CONSOLE_AUDIENCE: &str = "@console";

/// The values of the request's cookies.
pub fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

fn prefix(settings: &PagesSettings) -> &'static str {
    if settings.secure() { "__Host-" } else { "" }
}

/// The session cookie's name for `portal` (one per portal: a partner may be signed in to
/// two portals of one host).
pub fn session_cookie(settings: &PagesSettings, portal: &str) -> String {
    format!("{}portalctl-session-{portal}", prefix(settings))
}

/// The console's session cookie.
pub fn console_cookie(settings: &PagesSettings) -> String {
    format!("{}portalctl-console", prefix(settings))
}

fn csrf_cookie(settings: &PagesSettings) -> String {
    format!("{}portalctl-csrf", prefix(settings))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` on https; `max_age`
/// in seconds (`Some(0)` removes it, `None` lasts the browser session).
pub fn set_cookie(settings: &PagesSettings, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if settings.secure() {
        cookie.push_str("; Secure");
    }
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("portalctl-invalid=; Max-Age=0"))
}

/// The request's CSRF token, or a new one and the cookie that sets it.
pub fn csrf_token(settings: &PagesSettings, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let name = csrf_cookie(settings);
    match cookies(headers).remove(&name) {
        Some(token) if token.len() == 43 => (token, None),
        _ => {
            let token = random_token(32);
            let cookie = set_cookie(settings, &name, &token, None);
            (token, Some(cookie))
        }
    }
}

/// Adds the CSRF cookie to a page that needed a new token.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether a form's `csrf` field matches the CSRF cookie.
pub fn csrf_ok(settings: &PagesSettings, headers: &HeaderMap, fields: &HashMap<String, String>) -> bool {
    let Some(cookie) = cookies(headers).remove(&csrf_cookie(settings)) else {
        return false;
    };
    let Some(field) = fields.get("csrf") else {
        return false;
    };
    !cookie.is_empty() && bool::from(cookie.as_bytes().ct_eq(field.as_bytes()))
}

/// What a page finds of its visitor.
pub enum Visitor {
    /// No session (or an expired one).
    Anonymous,
    /// A session whose member no longer has access: removed, expired or pending. The
    /// session is ended.
    Refused { email: String },
    /// A session still waiting for its second factor.
    NeedsSecondFactor(Session),
    /// Signed in, with access, as the newest state says (the snapshot it was decided on).
    Member(Session, Membership, std::sync::Arc<portalctl_store::Snapshot>),
}

impl App {
    /// The visitor of a portal's page, deciding access again, live: the member must exist
    /// in the newest state (this replica's, caught up with the database), not pending, not
    /// expired.
    pub(crate) fn visitor(
        &self,
        page: &PortalPage,
        headers: &HeaderMap,
    ) -> Result<Visitor, portalctl_store::StoreError> {
        let settings = &self.pages.settings;
        let Some(token) = cookies(headers).remove(&session_cookie(settings, &page.name)) else {
            return Ok(Visitor::Anonymous);
        };
        let hash = hash_secret(&token);
        let Some(session) = self.store.session(&hash, OffsetDateTime::now_utc())? else {
            return Ok(Visitor::Anonymous);
        };
        // The store found the row by its hash; compared again in constant time, so no
        // index lookup decides alone.
        if !bool::from(session.hash.as_bytes().ct_eq(hash.as_bytes())) || session.portal != page.name {
            return Ok(Visitor::Anonymous);
        }
        let today = crate::today();
        // The newest state: another replica may have removed the member a moment ago (a
        // look at the durable head, and a catch-up only when it moved, waiting for one in
        // progress rather than deciding on the older state).
        let snapshot = self.store.newest_snapshot(today)?;
        let member = snapshot
            .state
            .members
            .get(&(page.name.clone(), session.email.clone()))
            .filter(|member| member.grants_on(today))
            .cloned();
        let Some(member) = member else {
            self.store.delete_session(&hash)?;
            return Ok(Visitor::Refused { email: session.email });
        };
        if !session.second_factor {
            return Ok(Visitor::NeedsSecondFactor(session));
        }
        Ok(Visitor::Member(session, member, snapshot))
    }
}
