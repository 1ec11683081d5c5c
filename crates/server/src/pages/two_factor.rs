//! Two-factor authentication for portals with `require_2fa`: the first sign-in enrols an
//! authenticator (the `otpauth://` URI and its QR code), confirmed by a code; later
//! sign-ins ask for a code (`code`), or one of the recovery codes shown at enrolment.
//!
//! Keys live in the store's `totp` table, apart from the state; recovery codes are stored
//! hashed. A code is accepted once (its time step is recorded), attempts are rate-limited
//! per partner and per client, and codes are never logged.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::time::Instant;
use time::OffsetDateTime;

use super::session::{Visitor, csrf_token, with_cookie};
use super::sign_in::{clearing_session, no_access};
use super::{PortalPage, hash_secret, html, message, no_such_portal, see_other, totp};
use crate::{ApiError, App};
use portalctl_pages::{RecoveryCodes, TotpEnrol, TotpVerify};
use portalctl_store::Session;

/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 8;

/// The session waiting for its second factor, or the answer for anyone else.
fn pending_session(
    app: &App,
    page: &PortalPage,
    headers: &HeaderMap,
) -> Result<Result<Session, Response>, ApiError> {
    Ok(match app.visitor(page, headers)? {
        Visitor::NeedsSecondFactor(session) => Ok(session),
        Visitor::Member(..) => Err(see_other(&format!("{}/", page.theme.base))),
        Visitor::Anonymous => Err(see_other(&format!("{}/sign-in", page.theme.base))),
        Visitor::Refused { .. } => Err(clearing_session(app, page, no_access(page))),
    })
}

fn enrol_form(
    app: &App,
    page: &PortalPage,
    headers: &HeaderMap,
    session: &Session,
    secret: &str,
    error: Option<&str>,
) -> Response {
    let uri = totp::otpauth_uri(&page.portal.name, &session.email, secret);
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&TotpEnrol {
        theme: page.theme.clone(),
        csrf,
        secret: secret.to_string(),
        qr_svg: portalctl_pages::qr_svg(&uri),
        uri,
        error: error.map(str::to_string),
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    with_cookie(html(status, body, Some(&page.portal.logout_url)), cookie)
}

fn verify_form(app: &App, page: &PortalPage, headers: &HeaderMap, error: Option<&str>) -> Response {
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&TotpVerify {
        theme: page.theme.clone(),
        csrf,
        error: error.map(str::to_string),
    });
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    with_cookie(html(status, body, Some(&page.portal.logout_url)), cookie)
}

/// A new key: 160 random bits, base32 (what RFC 4226 recommends).
pub(crate) fn new_secret() -> Option<String> {
    let mut key = [0u8; 20];
    getrandom::fill(&mut key).ok()?;
    Some(data_encoding::BASE32_NOPAD.encode(&key))
}

/// A recovery code: ten base32 characters in two groups (50 bits).
pub(crate) fn new_recovery_code() -> Option<String> {
    let mut bytes = [0u8; 7];
    getrandom::fill(&mut bytes).ok()?;
    let text = data_encoding::BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
    Some(format!("{}-{}", &text[..5], &text[5..10]))
}

/// Whether `code` is `email`'s current one-time code for `audience` (a portal, or the
/// console) or one of its unused recovery codes; either is used up by being accepted.
/// The one judgement of a second-factor code, for the partner pages and the console.
///
/// # Errors
/// Storage errors.
pub(crate) fn accept_code(
    app: &App,
    audience: &str,
    email: &str,
    secret: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<bool, ApiError> {
    let key = totp::decode_secret(secret).unwrap_or_default();
    Ok(match totp::matching_step(&key, code, now.unix_timestamp()) {
        Some(step) => app.store.use_totp_step(audience, email, step)?,
        None => {
            let typed = normalize_recovery_code(code);
            !typed.is_empty()
                && app
                    .store
                    .use_recovery_code(audience, email, &hash_secret(&typed), now)?
        }
    })
}

/// What the first code of an enrolment did.
pub(crate) enum Enrolment {
    /// The key is confirmed; the recovery codes to show, once.
    Confirmed(Vec<String>),
    /// The code is not the app's current one.
    WrongCode,
    /// Another request confirmed the key first.
    AlreadyConfirmed,
}

/// Confirms `email`'s key for `audience` with its first `code`, with new recovery codes
/// (stored hashed), for the partner pages and the console alike.
///
/// # Errors
/// Storage errors; no randomness for the recovery codes.
pub(crate) fn confirm_enrolment(
    app: &App,
    audience: &str,
    email: &str,
    secret: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<Enrolment, ApiError> {
    let key = totp::decode_secret(secret).unwrap_or_default();
    let Some(step) = totp::matching_step(&key, code, now.unix_timestamp()) else {
        return Ok(Enrolment::WrongCode);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| new_recovery_code())
        .collect::<Option<_>>()
        .ok_or_else(|| ApiError::internal("no randomness"))?;
    let hashes: Vec<String> = codes.iter().map(|code| hash_secret(code)).collect();
    if app.store.confirm_totp(audience, email, step, &hashes, now)? {
        Ok(Enrolment::Confirmed(codes))
    } else {
        Ok(Enrolment::AlreadyConfirmed)
    }
}

/// A recovery code as typed, in the form it was hashed in.
pub(crate) fn normalize_recovery_code(code: &str) -> String {
    let bare: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if bare.len() == 10 {
        format!("{}-{}", &bare[..5], &bare[5..])
    } else {
        bare
    }
}

/// Whether another code attempt is allowed now.
fn admit_attempt(app: &App, session: &Session, client: &str) -> bool {
    let partner = format!("{}:{}", session.portal, session.email);
    app.pages
        .code_limits
        .admit(&partner, client, Instant::now())
        .is_ok()
}

fn too_many(page: &PortalPage) -> Response {
    message(
        page,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &["Wait a minute, then try again."],
        None,
    )
}

/// `GET 2fa`: the code form, or the enrolment when there is no authenticator yet.
pub async fn verify_page(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return Ok(no_such_portal());
    };
    app.blocking(move |app| {
        let session = match pending_session(app, &page, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        match app.store.totp(&page.name, &session.email)? {
            Some(found) if found.confirmed => Ok(verify_form(app, &page, &headers, None)),
            _ => Ok(see_other(&format!("{}/2fa/enrol", page.theme.base))),
        }
    })
    .await
}

/// `POST 2fa`: a code from the authenticator, or a recovery code.
pub async fn verify(
    State(app): State<App>,
    Path(portal): Path<String>,
    super::ClientIp(client): super::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (page, fields) = match app.posted_form(&portal, &headers, &body) {
        Ok(posted) => posted,
        Err(refusal) => return Ok(*refusal),
    };
    let code = fields.get("code").cloned().unwrap_or_default();
    app.blocking(move |app| {
        let session = match pending_session(app, &page, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        if !admit_attempt(app, &session, &client) {
            return Ok(too_many(&page));
        }
        let Some(found) = app
            .store
            .totp(&page.name, &session.email)?
            .filter(|found| found.confirmed)
        else {
            return Ok(see_other(&format!("{}/2fa/enrol", page.theme.base)));
        };
        let now = OffsetDateTime::now_utc();
        if !accept_code(app, &page.name, &session.email, &found.secret, &code, now)? {
            return Ok(verify_form(
                app,
                &page,
                &headers,
                Some("That code did not work. Codes change every 30 seconds and work once."),
            ));
        }
        app.store.complete_second_factor(&session.hash)?;
        Ok(see_other(&format!("{}/", page.theme.base)))
    })
    .await
}

/// `GET 2fa/enrol`: a key (kept until confirmed, so reloading shows the same one).
pub async fn enrol_page(
    State(app): State<App>,
    Path(portal): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(page) = app.portal_page(&portal, &headers) else {
        return Ok(no_such_portal());
    };
    app.blocking(move |app| {
        let session = match pending_session(app, &page, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        let secret = match app.store.totp(&page.name, &session.email)? {
            // An enrolled partner is not shown the key again.
            Some(found) if found.confirmed => return Ok(see_other(&format!("{}/2fa", page.theme.base))),
            Some(found) => found.secret,
            None => {
                let secret = new_secret().ok_or_else(|| ApiError::internal("no randomness"))?;
                if !app.store.begin_totp(&page.name, &session.email, &secret)? {
                    return Ok(see_other(&format!("{}/2fa", page.theme.base)));
                }
                secret
            }
        };
        Ok(enrol_form(app, &page, &headers, &session, &secret, None))
    })
    .await
}

/// `POST 2fa/enrol`: the first code confirms the key; the recovery codes are shown once.
pub async fn enrol(
    State(app): State<App>,
    Path(portal): Path<String>,
    super::ClientIp(client): super::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (page, fields) = match app.posted_form(&portal, &headers, &body) {
        Ok(posted) => posted,
        Err(refusal) => return Ok(*refusal),
    };
    let code = fields.get("code").cloned().unwrap_or_default();
    app.blocking(move |app| {
        let session = match pending_session(app, &page, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        if !admit_attempt(app, &session, &client) {
            return Ok(too_many(&page));
        }
        let Some(found) = app.store.totp(&page.name, &session.email)? else {
            return Ok(see_other(&format!("{}/2fa/enrol", page.theme.base)));
        };
        if found.confirmed {
            return Ok(see_other(&format!("{}/2fa", page.theme.base)));
        }
        let now = OffsetDateTime::now_utc();
        let codes = match confirm_enrolment(app, &page.name, &session.email, &found.secret, &code, now)? {
            Enrolment::Confirmed(codes) => codes,
            Enrolment::WrongCode => {
                return Ok(enrol_form(
                    app,
                    &page,
                    &headers,
                    &session,
                    &found.secret,
                    Some("That code did not match. Enter the six digits the app shows now."),
                ));
            }
            Enrolment::AlreadyConfirmed => return Ok(see_other(&format!("{}/2fa", page.theme.base))),
        };
        app.store.complete_second_factor(&session.hash)?;
        let body = portalctl_pages::render(&RecoveryCodes {
            theme: page.theme.clone(),
            codes,
        });
        Ok(html(StatusCode::OK, body, Some(&page.portal.logout_url)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_read_back_however_typed() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 11);
        assert_eq!(normalize_recovery_code(&code), code);
        assert_eq!(
            normalize_recovery_code(&code.to_ascii_uppercase().replace('-', " ")),
            code
        );
        assert_eq!(new_secret().unwrap().len(), 32);
    }
}
