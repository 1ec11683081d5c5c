//! Staff sign-in: the partner pages' email link and TOTP, for the console's audience.
//! The link is mailed only to an email the newest state gives a console role (the same
//! answer for anyone); following it starts a session that opens nothing until the second
//! factor is given — always asked, whatever any portal says. The pages are the partner
//! pages' templates with the console's neutral theme.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use portalctl_core::model::is_valid_email;
use portalctl_pages::{Confirm, RecoveryCodes, SignIn, TotpEnrol, TotpVerify};
use portalctl_store::{LinkPurpose, LinkUse, Session};
use time::OffsetDateTime;

use super::{csrf_refused, message};
use crate::pages::session::{
    CONSOLE_AUDIENCE, console_cookie, cookies, csrf_ok, csrf_token, set_cookie, with_cookie,
};
use crate::pages::sign_in::send_link;
use crate::pages::two_factor::{Enrolment, accept_code, confirm_enrolment, new_secret};
use crate::pages::{
    LINK_MINUTES, form_fields, hash_secret, html, random_token, see_other, totp, typed_email,
};
use crate::{ApiError, App};

/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 8;

fn sign_in_form(app: &App, headers: &HeaderMap, email: &str, error: Option<&str>) -> Response {
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&SignIn {
        theme: app.console_theme(),
        csrf,
        email: email.to_string(),
        error: error.map(str::to_string),
        sign_up: false,
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    with_cookie(html(status, body, None), cookie)
}

/// `GET /console/sign-in`.
pub async fn sign_in_page(State(app): State<App>, headers: HeaderMap) -> Response {
    sign_in_form(&app, &headers, "", None)
}

/// `POST /console/sign-in`: mails a link to staff; the same answer for anyone.
pub async fn request_link(
    State(app): State<App>,
    crate::pages::ClientIp(client): crate::pages::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(&headers, &body);
    if !csrf_ok(&app.pages.settings, &headers, &fields) {
        return Ok(csrf_refused(&app, &headers));
    }
    let email = typed_email(&fields);
    if !is_valid_email(&email) {
        return Ok(sign_in_form(
            &app,
            &headers,
            fields.get("email").map_or("", String::as_str),
            Some("Enter your work email address, such as name@company.com."),
        ));
    }
    if let Err(wait) = app.pages.sign_in_limits.admit(&email, &client, Instant::now()) {
        let mut response = message(
            &app,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in requests",
            &["Wait a minute, then ask for a new link."],
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let snapshot = app.store.published();
    if snapshot.state.workspace.console.role_of(&email).is_some() {
        let console_name = app.console_theme().name;
        let link_email = email.clone();
        let task_app = app.clone();
        tokio::spawn(async move {
            let _ = task_app
                .blocking(move |app| {
                    let branding = portalctl_mail::Branding {
                        portal_name: console_name,
                        color: portalctl_pages::console::CONSOLE_COLOR.to_string(),
                        initiation: None,
                        help_url: None,
                    };
                    let sent = send_link(
                        app,
                        CONSOLE_AUDIENCE,
                        &branding,
                        &link_email,
                        LinkPurpose::SignIn,
                        String::new(),
                    );
                    if let Err(error) = sent {
                        tracing::warn!(error = %error, "cannot store a console sign-in link");
                    }
                    Ok(())
                })
                .await;
        });
    }
    Ok(message(
        &app,
        &headers,
        StatusCode::OK,
        "Check your email",
        &[
            &format!("If {email} may use the console, a sign-in link is on its way to it."),
            &format!("The link works once, for {LINK_MINUTES} minutes."),
        ],
    ))
}

/// `GET /console/link?token=`: a button that posts the token.
pub async fn link_page(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let token = query.get("token").cloned().unwrap_or_default();
    if token.is_empty() || token.len() > 128 {
        return invalid_link(&app, &headers);
    }
    let (csrf, cookie) = csrf_token(&app.pages.settings, &headers);
    let theme = app.console_theme();
    let body = portalctl_pages::render(&Confirm {
        title: format!("Continue to the {}", theme.name),
        theme,
        csrf,
        explanation: "Follow your link from the email: it works once.".into(),
        button: "Continue".into(),
        action: "/console/link".into(),
        token,
    });
    with_cookie(html(StatusCode::OK, body, None), cookie)
}

fn invalid_link(app: &App, headers: &HeaderMap) -> Response {
    message(
        app,
        headers,
        StatusCode::NOT_FOUND,
        "This link is not valid",
        &["Ask for a new link on the console's sign-in page."],
    )
}

/// `POST /console/link`: uses up a console link and starts a session waiting for its
/// second factor.
pub async fn follow_link(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(&headers, &body);
    if !csrf_ok(&app.pages.settings, &headers, &fields) {
        return Ok(csrf_refused(&app, &headers));
    }
    let token = fields.get("token").cloned().unwrap_or_default();
    if token.is_empty() || token.len() > 128 {
        return Ok(invalid_link(&app, &headers));
    }
    let hash = hash_secret(&token);
    app.blocking(move |app| {
        let link = match app
            .store
            .use_link(&hash, CONSOLE_AUDIENCE, OffsetDateTime::now_utc())?
        {
            LinkUse::Used(link) if link.purpose == LinkPurpose::SignIn => link,
            LinkUse::AlreadyUsed | LinkUse::Expired => {
                return Ok(message(
                    app,
                    &headers,
                    StatusCode::GONE,
                    "This link was used or has expired",
                    &["Each link works once, for 15 minutes. Ask for a new one."],
                ));
            }
            // A partner's link (another audience) is not used up, and opens nothing here.
            LinkUse::Used(_) | LinkUse::OtherPortal | LinkUse::Unknown => {
                return Ok(invalid_link(app, &headers));
            }
        };
        let snapshot = app.store.snapshot(crate::today())?;
        if snapshot.state.workspace.console.role_of(&link.email).is_none() {
            return Ok(message(
                app,
                &headers,
                StatusCode::FORBIDDEN,
                "You may not use the console",
                &["Your address is not among the console's staff in git (`workspace.console`)."],
            ));
        }
        let session_token = random_token(32);
        if session_token.is_empty() {
            return Err(ApiError::internal("no randomness"));
        }
        let now = OffsetDateTime::now_utc();
        app.store.create_session(&Session {
            hash: hash_secret(&session_token),
            portal: CONSOLE_AUDIENCE.to_string(),
            email: link.email,
            created_at: now,
            expires_at: now + time::Duration::hours(SESSION_HOURS),
            // Always asked for staff.
            second_factor: false,
            first_login: false,
        })?;
        let settings = &app.pages.settings;
        let mut response = see_other("/console/2fa");
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                settings,
                &console_cookie(settings),
                &session_token,
                Some(SESSION_HOURS * 3600),
            ),
        );
        Ok(response)
    })
    .await
}

/// The console session waiting for its second factor, or where to go instead.
fn pending(app: &App, headers: &HeaderMap) -> Result<Result<Session, Response>, ApiError> {
    let Some(session) = app.console_session(headers)? else {
        return Ok(Err(see_other("/console/sign-in")));
    };
    if session.second_factor {
        return Ok(Err(see_other("/console/")));
    }
    Ok(Ok(session))
}

fn admit(app: &App, session: &Session, client: &str) -> bool {
    let who = format!("{CONSOLE_AUDIENCE}:{}", session.email);
    app.pages.code_limits.admit(&who, client, Instant::now()).is_ok()
}

fn verify_form(app: &App, headers: &HeaderMap, error: Option<&str>) -> Response {
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&TotpVerify {
        theme: app.console_theme(),
        csrf,
        error: error.map(str::to_string),
    });
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    with_cookie(html(status, body, None), cookie)
}

fn enrol_form(
    app: &App,
    headers: &HeaderMap,
    session: &Session,
    secret: &str,
    error: Option<&str>,
) -> Response {
    let theme = app.console_theme();
    let uri = totp::otpauth_uri(&theme.name, &session.email, secret);
    let (csrf, cookie) = csrf_token(&app.pages.settings, headers);
    let body = portalctl_pages::render(&TotpEnrol {
        theme,
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
    with_cookie(html(status, body, None), cookie)
}

fn too_many(app: &App, headers: &HeaderMap) -> Response {
    message(
        app,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &["Wait a minute, then try again."],
    )
}

/// `GET /console/2fa`: the code form, or the enrolment.
pub async fn verify_page(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    app.blocking(move |app| {
        let session = match pending(app, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        match app.store.totp(CONSOLE_AUDIENCE, &session.email)? {
            Some(found) if found.confirmed => Ok(verify_form(app, &headers, None)),
            _ => Ok(see_other("/console/2fa/enrol")),
        }
    })
    .await
}

/// `POST /console/2fa`: a code, or a recovery code.
pub async fn verify(
    State(app): State<App>,
    crate::pages::ClientIp(client): crate::pages::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(&headers, &body);
    if !csrf_ok(&app.pages.settings, &headers, &fields) {
        return Ok(csrf_refused(&app, &headers));
    }
    let code = fields.get("code").cloned().unwrap_or_default();
    app.blocking(move |app| {
        let session = match pending(app, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        if !admit(app, &session, &client) {
            return Ok(too_many(app, &headers));
        }
        let Some(found) = app
            .store
            .totp(CONSOLE_AUDIENCE, &session.email)?
            .filter(|found| found.confirmed)
        else {
            return Ok(see_other("/console/2fa/enrol"));
        };
        let now = OffsetDateTime::now_utc();
        if !accept_code(app, CONSOLE_AUDIENCE, &session.email, &found.secret, &code, now)? {
            return Ok(verify_form(
                app,
                &headers,
                Some("That code did not work. Codes change every 30 seconds and work once."),
            ));
        }
        app.store.complete_second_factor(&session.hash)?;
        Ok(see_other("/console/"))
    })
    .await
}

/// `GET /console/2fa/enrol`.
pub async fn enrol_page(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    app.blocking(move |app| {
        let session = match pending(app, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        let secret = match app.store.totp(CONSOLE_AUDIENCE, &session.email)? {
            Some(found) if found.confirmed => return Ok(see_other("/console/2fa")),
            Some(found) => found.secret,
            None => {
                let secret = new_secret().ok_or_else(|| ApiError::internal("no randomness"))?;
                if !app.store.begin_totp(CONSOLE_AUDIENCE, &session.email, &secret)? {
                    return Ok(see_other("/console/2fa"));
                }
                secret
            }
        };
        Ok(enrol_form(app, &headers, &session, &secret, None))
    })
    .await
}

/// `POST /console/2fa/enrol`: the first code confirms the key; recovery codes shown once.
pub async fn enrol(
    State(app): State<App>,
    crate::pages::ClientIp(client): crate::pages::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(&headers, &body);
    if !csrf_ok(&app.pages.settings, &headers, &fields) {
        return Ok(csrf_refused(&app, &headers));
    }
    let code = fields.get("code").cloned().unwrap_or_default();
    app.blocking(move |app| {
        let session = match pending(app, &headers)? {
            Ok(session) => session,
            Err(response) => return Ok(response),
        };
        if !admit(app, &session, &client) {
            return Ok(too_many(app, &headers));
        }
        let Some(found) = app.store.totp(CONSOLE_AUDIENCE, &session.email)? else {
            return Ok(see_other("/console/2fa/enrol"));
        };
        if found.confirmed {
            return Ok(see_other("/console/2fa"));
        }
        let now = OffsetDateTime::now_utc();
        let codes = match confirm_enrolment(app, CONSOLE_AUDIENCE, &session.email, &found.secret, &code, now)?
        {
            Enrolment::Confirmed(codes) => codes,
            Enrolment::WrongCode => {
                return Ok(enrol_form(
                    app,
                    &headers,
                    &session,
                    &found.secret,
                    Some("That code did not match. Enter the six digits the app shows now."),
                ));
            }
            Enrolment::AlreadyConfirmed => return Ok(see_other("/console/2fa")),
        };
        app.store.complete_second_factor(&session.hash)?;
        let body = portalctl_pages::render(&RecoveryCodes {
            theme: app.console_theme(),
            codes,
        });
        Ok(html(StatusCode::OK, body, None))
    })
    .await
}

/// `POST /console/sign-out`.
pub async fn sign_out(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let fields = form_fields(&headers, &body);
    if !csrf_ok(&app.pages.settings, &headers, &fields) {
        return Ok(csrf_refused(&app, &headers));
    }
    app.blocking(move |app| {
        let settings = &app.pages.settings;
        if let Some(token) = cookies(&headers).remove(&console_cookie(settings)) {
            app.store.delete_session(&hash_secret(&token))?;
        }
        let mut response = see_other("/console/sign-in");
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(settings, &console_cookie(settings), "", Some(0)),
        );
        Ok(response)
    })
    .await
}
