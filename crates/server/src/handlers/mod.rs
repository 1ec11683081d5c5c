//! Request handlers, one file per area of the API. Each is thin: parse, call the store or
//! the access index on the blocking pool, answer with a `wire` type.

pub mod access;
pub mod audit;
pub mod outbox;
pub mod register;
pub mod resources;
pub mod state;

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
    let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    bare.parse().map(Some).map_err(|_| {
        ApiError::bad_request("bad_if_match", "`If-Match` must carry a revision such as \"12\"")
            .with_field("If-Match")
    })
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
