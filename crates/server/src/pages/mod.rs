//! The partner pages: `/p/{technical_name}/...` (or `https://{technical_name}.{suffix}/`
//! with `--portal-host-suffix`), rendered by `portalctl-pages`.
//!
//! - **Sign-in by email link** ([`sign_in`]): one `email` input; the same answer for
//!   members and non-members; a 256-bit token mailed through the outbox, stored as its
//!   SHA-256, single use, 15 minutes, bound to the portal. The link's page posts the token
//!   (a mail scanner fetching the link does not use it up).
//! - **Sessions** ([`session`]): a random token in an HttpOnly, SameSite=Lax cookie
//!   (`Secure` and `__Host-` when the public URL is https), stored hashed, lasting the
//!   portal's `session_ttl`; every page decides access again from the published snapshot,
//!   so a member removed, expired or made pending cannot open the next page.
//! - **2FA** ([`two_factor`]), **sign-up** ([`sign_up`]), **home** ([`sign_in::home`]).
//! - **CSRF**: one mechanism for every form, a double-submit token: a random value in a
//!   cookie of its own and in each form's `csrf` field, compared in constant time.
//! - **Headers**: a Content-Security-Policy without script (`default-src 'none'`), with
//!   `frame-ancestors 'none'` and `form-action` limited to the service and the portal's
//!   `logout_url`; `no-store` on every page; the stylesheet cached for a year.
//!
//! **Architecture invariant:** tokens, codes and TOTP keys are never logged, and nothing
//! of sessions, links or enrolments is written to the state or the audit log.

pub mod home;
pub mod people;
pub mod session;
pub mod sign_in;
pub mod sign_up;
pub mod totp;
pub mod two_factor;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use portalctl_core::model::{Portal, normalize_email};
use portalctl_pages::{Message, Theme};
use portalctl_store::Snapshot;
use sha2::{Digest, Sha256};

use crate::App;
use crate::rate_limit::{PairLimiter, Quota};

/// How long a sign-in or verification link is valid.
pub const LINK_MINUTES: i64 = 15;

/// The largest form accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// How the partner pages are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesSettings {
    /// The URL partners reach the service at, without a trailing slash: links in mail
    /// start with it, and it decides `Secure` cookies.
    pub public_url: String,
    /// With `portals.acme.io`, portal `globex` is served at `globex.portals.acme.io` too.
    pub host_suffix: Option<String>,
    /// Sign-in requests accepted per address and per client address, a minute.
    pub sign_in_per_address: u32,
    pub sign_in_per_client: u32,
}

impl PagesSettings {
    /// Settings for a service reached at `public_url`.
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            host_suffix: None,
            sign_in_per_address: 5,
            sign_in_per_client: 30,
        }
    }

    /// Whether cookies are `Secure` and `__Host-` prefixed.
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The absolute URL of a portal's page `path` (which starts with `/`), for mail.
    pub fn page_url(&self, portal: &str, path: &str) -> String {
        match &self.host_suffix {
            Some(suffix) => {
                let scheme = if self.secure() { "https" } else { "http" };
                let port = self
                    .public_url
                    .rsplit_once(':')
                    .filter(|(_, port)| port.bytes().all(|byte| byte.is_ascii_digit()))
                    .map(|(_, port)| format!(":{port}"))
                    .unwrap_or_default();
                format!("{scheme}://{portal}.{suffix}{port}{path}")
            }
            None => format!("{}/p/{portal}{path}", self.public_url),
        }
    }
}

/// What the pages share: settings and the in-memory rate limits.
pub struct Pages {
    pub settings: PagesSettings,
    /// Sign-in requests: per address, per client.
    pub sign_in_limits: PairLimiter,
    /// Second-factor attempts: per partner, per client.
    pub code_limits: PairLimiter,
}

impl Pages {
    pub fn new(settings: PagesSettings) -> Self {
        let sign_in_limits = PairLimiter::new(
            Quota::per_minute(settings.sign_in_per_address),
            Quota::per_minute(settings.sign_in_per_client),
        );
        Self {
            settings,
            sign_in_limits,
            code_limits: PairLimiter::new(Quota::per_minute(10), Quota::per_minute(60)),
        }
    }
}

/// The client's address, for rate limits (`unknown` when the service runs without
/// connection info, as in tests that drive the router directly).
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<crate::listener::ClientAddr>>()
                .map_or_else(|| "unknown".to_string(), |info| info.0.0.ip().to_string()),
        ))
    }
}

/// The SHA-256 of a secret, hex: what the store keeps of tokens and codes.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `bytes` random bytes from the operating system, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS generator does not fail on Linux once booted; if it did, every token would
    // be refused rather than guessable: an empty token is never issued.
    if getrandom::fill(&mut buffer).is_err() {
        return String::new();
    }
    data_encoding::BASE64URL_NOPAD.encode(&buffer)
}

/// A portal as the pages need it, from the published snapshot.
pub struct PortalPage {
    pub name: String,
    pub portal: Portal,
    pub theme: Theme,
    pub snapshot: Arc<Snapshot>,
}

/// The path prefix of a portal's pages for this request: empty when it came through the
/// portal's own host.
fn base_of(headers: &HeaderMap, settings: &PagesSettings, portal: &str) -> String {
    if host_portal(headers, settings).as_deref() == Some(portal) {
        String::new()
    } else {
        format!("/p/{portal}")
    }
}

/// The portal a `Host` names under the host suffix.
fn host_portal(headers: &HeaderMap, settings: &PagesSettings) -> Option<String> {
    let suffix = settings.host_suffix.as_deref()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let host = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|byte| byte.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let label = host.strip_suffix(&format!(".{}", suffix.to_ascii_lowercase()))?;
    (!label.is_empty() && !label.contains('.')).then(|| label.to_string())
}

impl App {
    /// A form posted to portal `name`'s pages: the portal and the form's fields, or the
    /// page that refuses it (no such portal, or no valid CSRF token). Every form handler
    /// starts here.
    pub(crate) fn posted_form(
        &self,
        name: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(PortalPage, HashMap<String, String>), Box<Response>> {
        let Some(page) = self.portal_page(name, headers) else {
            return Err(Box::new(no_such_portal()));
        };
        let fields = form_fields(headers, body);
        if !session::csrf_ok(&self.pages.settings, headers, &fields) {
            return Err(Box::new(sign_in::csrf_refused(&page)));
        }
        Ok((page, fields))
    }

    /// The portal `name` of the published snapshot, themed for this request.
    pub(crate) fn portal_page(&self, name: &str, headers: &HeaderMap) -> Option<PortalPage> {
        let snapshot = self.store.published();
        let portal = snapshot.state.portals.get(name)?.clone();
        let theme = Theme::new(
            &portal.name,
            &portal.color,
            portal.home_cover.as_deref(),
            portal.texts.help_url.as_deref(),
            &base_of(headers, &self.pages.settings, name),
        );
        Some(PortalPage {
            name: name.to_string(),
            portal,
            theme,
            snapshot,
        })
    }
}

/// The Content-Security-Policy of a page: no script at all, styles and forms from here,
/// a form may lead to `logout_url`'s origin (sign-out redirects there), images from https
/// (the home cover).
fn content_security_policy(logout_url: Option<&str>) -> String {
    let logout_origin = logout_url
        .and_then(|url| {
            let rest = url.strip_prefix("https://")?;
            let authority = rest.split(['/', '?', '#']).next()?;
            (!authority.is_empty()
                && authority
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':')))
            .then(|| format!(" https://{authority}"))
        })
        .unwrap_or_default();
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'self'{logout_origin}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// An HTML page with the pages' headers.
pub fn html(status: StatusCode, body: String, logout_url: Option<&str>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(logout_url)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// A page that only says something.
pub fn message(
    page: &PortalPage,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Response {
    let body = portalctl_pages::render(&Message {
        theme: page.theme.clone(),
        title: title.to_string(),
        paragraphs: paragraphs.iter().map(|text| (*text).to_string()).collect(),
        link: link.map(|(href, label)| (href.to_string(), label.to_string())),
    });
    html(status, body, Some(&page.portal.logout_url))
}

/// `303 See Other` to a path of this service (never anywhere else: no open redirect).
pub fn see_other(path: &str) -> Response {
    let path = if path.starts_with('/') && !path.starts_with("//") {
        path
    } else {
        "/"
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(path) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The page for a portal that does not exist (no theme to show).
pub fn no_such_portal() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head>\
         <body><main><h1>No such portal</h1><p>Check the address you were given.</p></main></body></html>"
            .to_string(),
        None,
    )
}

/// The form fields of a page's `POST`, at most [`MAX_FORM_BYTES`]; anything that is not a
/// form is an empty one (every handler then refuses it for its missing CSRF token).
pub fn form_fields(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.split(';').next().is_some_and(|essence| {
                essence
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form || body.len() > MAX_FORM_BYTES {
        return HashMap::new();
    }
    form_urlencoded_pairs(body)
}

fn form_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|pairs| pairs.into_iter().collect())
        .unwrap_or_default()
}

/// The address typed in a form, normalised.
pub fn typed_email(fields: &HashMap<String, String>) -> String {
    normalize_email(fields.get("email").map_or("", |email| email.trim()))
}

/// The shared stylesheet, immutable under its content-hashed name.
async fn stylesheet(Path(file): Path<String>) -> Response {
    if format!("/assets/{file}") != portalctl_pages::stylesheet_path() {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        portalctl_pages::STYLESHEET,
    )
        .into_response()
}

/// A portal's colours.
async fn theme_css(State(app): State<App>, Path(portal): Path<String>, headers: HeaderMap) -> Response {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return (StatusCode::NOT_FOUND, "no such portal").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // The link names the colour (`?v=`): a new colour is a new URL.
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        portalctl_pages::theme_css(&page.portal.color),
    )
        .into_response()
}

/// Headers every page answer carries, whatever the handler set; one log line per request
/// with the path only (a link's token is in its query, which is never logged).
async fn page_headers(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(200).collect();
    let mut response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "page"
    );
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

/// The pages' routes, under `/p/{portal}` and `/assets`.
pub fn router() -> Router<App> {
    use axum::routing::post;
    Router::new()
        .route("/assets/{file}", get(stylesheet))
        .route("/p/{portal}/theme.css", get(theme_css))
        .route("/p/{portal}", get(sign_in::to_home))
        .route("/p/{portal}/", get(sign_in::home))
        .route(
            "/p/{portal}/sign-in",
            get(sign_in::sign_in_page).post(sign_in::request_link),
        )
        .route(
            "/p/{portal}/link",
            get(sign_in::link_page).post(sign_in::follow_link),
        )
        .route("/p/{portal}/sign-out", post(sign_in::sign_out))
        .route("/p/{portal}/people", get(people::people_page))
        .route("/p/{portal}/people/invite", post(people::invite))
        .route("/p/{portal}/people/role", post(people::change_role))
        .route("/p/{portal}/people/remove", post(people::remove))
        .route(
            "/p/{portal}/2fa",
            get(two_factor::verify_page).post(two_factor::verify),
        )
        .route(
            "/p/{portal}/2fa/enrol",
            get(two_factor::enrol_page).post(two_factor::enrol),
        )
        .route(
            "/p/{portal}/sign-up",
            get(sign_up::sign_up_page).post(sign_up::request_sign_up),
        )
        .layer(axum::middleware::from_fn(page_headers))
}

/// Whether a path is one of the pages' (the API's JSON-only guard lets them through).
pub fn is_page_path(path: &str) -> bool {
    path.starts_with("/p/") || path == "/p" || path.starts_with("/assets/")
}

/// With `--portal-host-suffix`: a request to `{portal}.{suffix}` is answered as the same
/// path under `/p/{portal}` (run before routing).
pub fn rewrite_portal_host(settings: &PagesSettings, mut request: Request) -> Request {
    let Some(portal) = host_portal(request.headers(), settings) else {
        return request;
    };
    let path = request.uri().path();
    if path.starts_with("/assets/") || path.starts_with("/p/") {
        return request;
    }
    let rewritten = match request.uri().query() {
        Some(query) => format!("/p/{portal}{path}?{query}"),
        None => format!("/p/{portal}{path}"),
    };
    if let Ok(uri) = rewritten.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_script_and_only_the_logout_origin() {
        let policy = content_security_policy(Some("https://acme.io/bye?x=1"));
        assert!(policy.contains("default-src 'none'"));
        assert!(!policy.contains("script-src"));
        assert!(policy.contains("form-action 'self' https://acme.io;"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        let odd = content_security_policy(Some("https://acme.io;script-src *"));
        assert!(!odd.contains("script-src"), "{odd}");
    }

    #[test]
    fn redirects_stay_on_this_service() {
        let location = |path: &str| see_other(path).headers()[header::LOCATION].clone();
        assert_eq!(location("/p/globex/"), "/p/globex/");
        assert_eq!(location("//evil.example/"), "/");
        assert_eq!(location("https://evil.example/"), "/");
    }

    #[test]
    fn portal_hosts_and_links() {
        let mut settings = PagesSettings::new("https://portals.acme.io/");
        assert!(settings.secure());
        assert_eq!(
            settings.page_url("globex", "/link?token=t"),
            "https://portals.acme.io/p/globex/link?token=t"
        );
        settings.host_suffix = Some("portals.acme.io".into());
        assert_eq!(
            settings.page_url("globex", "/link?token=t"),
            "https://globex.portals.acme.io/link?token=t"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("globex.portals.acme.io:8443"),
        );
        assert_eq!(host_portal(&headers, &settings).as_deref(), Some("globex"));
        headers.insert(header::HOST, HeaderValue::from_static("a.b.portals.acme.io"));
        assert_eq!(host_portal(&headers, &settings), None);
        headers.insert(header::HOST, HeaderValue::from_static("portals.acme.io"));
        assert_eq!(host_portal(&headers, &settings), None);
    }

    #[test]
    fn tokens_are_256_bits_and_hashes_hex() {
        let token = random_token(32);
        assert_eq!(token.len(), 43);
        assert_ne!(token, random_token(32));
        assert_eq!(hash_secret("abc").len(), 64);
    }

    #[test]
    fn forms_are_read_only_when_they_say_so() {
        let mut headers = HeaderMap::new();
        assert!(form_fields(&headers, b"csrf=a&email=b").is_empty());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let fields = form_fields(&headers, b"csrf=a&email=A%40Globex.com");
        assert_eq!(typed_email(&fields), "a@globex.com");
    }
}
