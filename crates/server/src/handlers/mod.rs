//! Request handlers, one file per area of the API. Each is thin: parse, call the store or
//! the access index on the blocking pool, answer with a `wire` type.

pub mod access;
pub mod audit;
pub mod outbox;
pub mod register;
pub mod resources;
pub mod state;
pub mod tokens;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::wire::RevisionResponse;

/// The `ETag` of a revision.
pub fn etag(revision: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// The revision an `If-Match` header asks for: `None` without the header or for `*`.
///
/// # Errors
/// `400 bad_if_match` for anything but a (possibly quoted, possibly weak) revision.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    // As the document's pattern: `*`, or up to 19 digits, quoted or not, weak or not.
    let bare = text.strip_prefix("W/").unwrap_or(text);
    let bare = bare.strip_prefix('"').unwrap_or(bare);
    let bare = bare.strip_suffix('"').unwrap_or(bare);
    let digits =
        text.len() <= 24 && (1..=19).contains(&bare.len()) && bare.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| bare.parse().ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request("bad_if_match", "`If-Match` must carry a revision such as \"12\"")
                .with_field("If-Match")
        })
}

/// Whether to show sensitive attribute values: only when asked (`?reveal=sensitive`) by an
/// `admin` token, and then the handler records the reveal ([`audit_reveal`]) before it
/// answers. Every other reader sees digests.
///
/// # Errors
/// `403 reveal_forbidden` when a token of another scope asks.
pub fn reveal_sensitive(
    caller: &crate::Caller,
    asked: Option<crate::wire::Reveal>,
) -> Result<bool, ApiError> {
    match asked {
        None => Ok(false),
        Some(crate::wire::Reveal::Sensitive) if caller.scope == crate::auth::Scope::Admin => Ok(true),
        Some(crate::wire::Reveal::Sensitive) => Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "reveal_forbidden",
            "only an `admin` token may ask for sensitive values (`reveal=sensitive`)",
        )
        .with_field("reveal")),
    }
}

/// Records in the read audit that `caller` reads sensitive values in clear (`read`: the
/// request), from the state at `revision` — before the values leave: a reveal that cannot
/// be recorded is a `503`, and nothing is revealed. Also logged
/// (`target: portalctl_server::audit`). Runs on the blocking pool (a store write).
///
/// # Errors
/// The store's, as an [`ApiError`].
pub fn audit_reveal(
    app: &crate::App,
    caller: &crate::Caller,
    read: &str,
    revision: u64,
) -> Result<(), ApiError> {
    let entry = app
        .store
        .record_reveal(&caller.name, read, revision, time::OffsetDateTime::now_utc())?;
    tracing::info!(
        target: "portalctl_server::audit",
        token = %caller.name,
        read,
        revision,
        reveal = entry.id,
        "sensitive attribute values revealed"
    );
    Ok(())
}

/// Replaces sensitive values in the `attributes` of `value` (a member's or an org's JSON)
/// by their digests, as [`portalctl_core::model::State::masked`] does.
pub fn mask_attributes_json(
    state: &portalctl_core::model::State,
    owner: &str,
    value: &mut serde_json::Value,
) {
    let Some(attributes) = value
        .get_mut("attributes")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    for (name, entry) in attributes.iter_mut() {
        if state
            .attributes
            .get(name)
            .is_some_and(|attribute| attribute.sensitive)
            && let Ok(plain) = serde_json::from_value::<portalctl_core::model::AttributeValue>(entry.clone())
            && !portalctl_core::model::masking::is_digest(&plain)
        {
            let digest = portalctl_core::model::masking::digest(owner, name, &plain);
            *entry = serde_json::to_value(digest).unwrap_or(serde_json::Value::Null);
        }
    }
}

/// `{revision}` with the revision as `ETag`.
pub fn revision_response(status: axum::http::StatusCode, revision: u64) -> Response {
    let mut response = (status, Json(RevisionResponse { revision })).into_response();
    response.headers_mut().insert(header::ETAG, etag(revision));
    response
}

/// `body` with the revision as `ETag`.
pub fn json_response<T: serde::Serialize>(
    status: axum::http::StatusCode,
    body: &T,
    revision: u64,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, etag(revision));
    response
}

/// Why a read-then-write endpoint did not commit: its own refusal, decided on the state
/// the batch would be committed on, or the store's.
pub enum WriteFailure {
    Refused(ApiError),
    Commit(portalctl_store::CommitError),
}

impl From<portalctl_store::CommitError> for WriteFailure {
    fn from(error: portalctl_store::CommitError) -> Self {
        Self::Commit(error)
    }
}

impl From<ApiError> for WriteFailure {
    fn from(error: ApiError) -> Self {
        Self::Refused(error)
    }
}

impl WriteFailure {
    /// The answer, with `stale_status` for a revision that did not match.
    pub fn into_api(self, stale_status: axum::http::StatusCode) -> ApiError {
        match self {
            Self::Refused(error) => error,
            Self::Commit(error) => ApiError::from_commit(error, stale_status),
        }
    }
}
