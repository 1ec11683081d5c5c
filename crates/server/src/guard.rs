//! The checks every request passes before routing, whatever its endpoint: the URI is
//! within [`MAX_URI_BYTES`] (`414`), a body is `application/json` (`415`), and, when the
//! service runs without tokens, the request comes from a loopback name (`403`).
//!
//! Why the loopback rule: without tokens the service trusts every local client, and a web
//! page the operator opens is a local client too. A page on another site that posts to
//! `http://127.0.0.1:7878` carries its own `Origin` (CSRF), and a page that rebinds its
//! own DNS name to 127.0.0.1 carries its own `Host` (DNS rebinding). Refusing any
//! non-loopback `Host` or `Origin` closes both; refusing non-JSON bodies also keeps
//! browsers from sending "simple" cross-site requests without a preflight.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use super::error::ApiError;

/// The longest request target (path and query) served; longer ones are `414`.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Whether `host` (a `Host` header or URL authority, with or without a port) names this
/// machine: `localhost`, `*.localhost`, 127.0.0.0/8 or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => name,
            Some(_) => return false,
            None => host,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

/// Whether an `Origin` header is a loopback origin (`http://localhost:3000`, ...).
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.trim().split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https") && !authority.contains('/') && is_loopback_host(authority)
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "not_loopback", message.to_string())
}

/// In no-token mode: a foreign `Host` or `Origin` is refused.
fn check_loopback(request: &Request) -> Result<(), ApiError> {
    let host = request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_string())
        .or_else(|| {
            request
                .headers()
                .get(header::HOST)
                .map(|value| value.to_str().unwrap_or("\u{0}").to_string())
        });
    if let Some(host) = host
        && !is_loopback_host(&host)
    {
        return Err(forbidden(
            "this service runs without a token and answers only requests addressed to a loopback name (`Host`)",
        )
        .with_field("Host"));
    }
    for origin in request.headers().get_all(header::ORIGIN) {
        if !is_loopback_origin(origin.to_str().unwrap_or_default()) {
            return Err(forbidden(
                "this service runs without a token and answers only requests from a loopback origin (`Origin`)",
            )
            .with_field("Origin"));
        }
    }
    Ok(())
}

/// Whether the request carries a body (or says it does).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length.trim() != "0")
}

/// Whether a `Content-Type` is JSON: `application/json` (or a JSON merge patch,
/// `application/merge-patch+json`), with at most a UTF-8 charset.
pub fn is_json_content_type(value: &str) -> bool {
    let mut parts = value.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    (essence.eq_ignore_ascii_case("application/json")
        || essence.eq_ignore_ascii_case("application/merge-patch+json"))
        && parts.all(|parameter| {
            parameter.is_empty()
                || parameter.split_once('=').is_some_and(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("charset")
                        && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
                })
        })
}

/// A body, or a declared content type, must be JSON.
fn check_content_type(request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    let content_type = headers.get(header::CONTENT_TYPE);
    if content_type.is_none() && !has_body(headers) {
        return Ok(());
    }
    let text = content_type.map(|value| value.to_str().unwrap_or_default());
    if text.is_some_and(is_json_content_type) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        match text {
            Some(_) => "request bodies must be `Content-Type: application/json`",
            None => "a request body needs `Content-Type: application/json`",
        },
    )
    .with_field("Content-Type"))
}

/// Under `/scim/v2`, a body is `application/scim+json` or `application/json`.
fn check_scim_content_type(request: &Request) -> Result<(), ApiError> {
    let scim_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(crate::scim::SCIM_MEDIA_TYPE));
    if scim_json {
        Ok(())
    } else {
        check_content_type(request)
    }
}

/// The middleware: URI length, then the loopback rule (no-token mode), then the body's
/// content type. Refusals are logged like every request, without headers' values.
pub async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let uri_length = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    let outcome = if uri_length > MAX_URI_BYTES {
        Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {uri_length} bytes; at most {MAX_URI_BYTES} are served"),
        ))
    } else {
        // The partner pages take HTML forms; their own CSRF check stands in for the JSON
        // rule (see `pages::session`).
        let pages = crate::pages::is_page_path(request.uri().path())
            || crate::console::is_console_path(request.uri().path());
        // SCIM clients send `application/scim+json` (RFC 7644 §3.1), or plain JSON.
        let scim = crate::scim::is_scim_path(request.uri().path());
        let loopback = if app.tokens.is_empty() {
            check_loopback(&request)
        } else {
            Ok(())
        };
        loopback.and_then(|()| {
            if pages {
                Ok(())
            } else if scim {
                check_scim_content_type(&request)
            } else {
                check_content_type(&request)
            }
        })
    };
    match outcome {
        Ok(()) => next.run(request).await,
        Err(error) => {
            tracing::info!(
                method = %request.method(),
                path = request.uri().path().chars().take(200).collect::<String>(),
                status = error.status.as_u16(),
                code = error.body.error.code,
                "refused"
            );
            if crate::scim::is_scim_path(request.uri().path()) {
                // A SCIM client reads errors in the SCIM error schema.
                return crate::scim::Failure::from(error).into_response();
            }
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_loopback_hosts_and_origins() {
        for host in [
            "localhost",
            "localhost:7878",
            "LOCALHOST.",
            "app.localhost:3000",
            "127.0.0.1",
            "127.0.0.1:7878",
            "127.1.2.3:1",
            "[::1]",
            "[::1]:7878",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:7878",
            "localhost.evil.example",
            "10.0.0.1:7878",
            "[::2]:1",
            "127.0.0.1:x",
            "",
            "[::1]x",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
        assert!(is_loopback_origin("http://localhost:3000"));
        assert!(is_loopback_origin("https://127.0.0.1"));
        for origin in [
            "null",
            "http://evil.example",
            "file://",
            "http://127.0.0.1.evil.example",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }

    #[test]
    fn accepts_only_json_content_types() {
        for good in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            assert!(is_json_content_type(good), "{good}");
        }
        for bad in [
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "application/jsonx",
        ] {
            assert!(!is_json_content_type(bad), "{bad}");
        }
    }
}
