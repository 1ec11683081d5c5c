//! `GET /v1/audit?after=REV&limit=N`: committed batches, oldest first, at most `limit`
//! entries and about 1 MiB of changes per page; a batch larger than that alone comes with
//! its first changes and `changes_truncated: true`, and
//! `GET /v1/audit/{revision}/changes?offset=&limit=` pages the rest. Both read the database
//! through read connections: never behind a commit. Pages are also rendered to JSON on the
//! blocking pool, so a large page never occupies a worker that answers access checks.
//! `GET /v1/audit/reveals` pages the read audit: each `reveal=sensitive` read.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::App;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::wire::{AuditChangesPage, AuditChangesQuery, AuditPage, AuditQuery};

pub async fn list(
    State(app): State<App>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    json_page(&app, &query, |app, after, limit| {
        Ok(AuditPage {
            entries: app.store.audit_page(after, limit)?,
        })
    })
    .await
}

/// `GET /v1/audit/reveals?after=ID&limit=N`: the read audit of sensitive values.
pub async fn reveals(
    State(app): State<App>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    json_page(&app, &query, |app, after, limit| {
        Ok(portalctl_core::api::RevealPage {
            entries: app.store.reveals(after, limit)?,
        })
    })
    .await
}

/// A page of a log after `query.after`: the query checked, then the page read and
/// rendered to JSON on the blocking pool.
async fn json_page<P: serde::Serialize>(
    app: &App,
    query: &AuditQuery,
    read: impl FnOnce(&App, u64, usize) -> Result<P, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let (after, limit) = page_bounds(query)?;
    let body = app
        .blocking(move |app| to_json(&read(app, after, limit)?))
        .await?;
    Ok(json_response(body))
}

pub async fn changes(
    State(app): State<App>,
    ApiPath(revision): ApiPath<u64>,
    ApiQuery(query): ApiQuery<AuditChangesQuery>,
) -> Result<Response, ApiError> {
    let limit = super::resources::page_limit(query.limit)?;
    let offset = query.offset.unwrap_or(0);
    let body = app
        .blocking(move |app| {
            let found = app
                .store
                .audit_changes(revision, offset, limit)?
                .ok_or_else(|| ApiError::not_found(format!("no audit entry at revision {revision}")))?;
            to_json(&AuditChangesPage {
                revision,
                change_count: found.change_count,
                offset,
                changes: found.changes,
            })
        })
        .await?;
    Ok(json_response(body))
}

/// The `after` and `limit` of an audit page query: `after` must fit the databases'
/// signed revisions and ids.
fn page_bounds(query: &AuditQuery) -> Result<(u64, usize), ApiError> {
    let limit = super::resources::page_limit(query.limit)?;
    let after = query.after.unwrap_or(0);
    if i64::try_from(after).is_err() {
        return Err(
            ApiError::bad_request("bad_query", format!("`after` is at most {}", i64::MAX))
                .with_field("after"),
        );
    }
    Ok((after, limit))
}

fn to_json(page: &impl serde::Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(page)
        .map(Bytes::from)
        .map_err(|_| ApiError::internal("an audit page could not be rendered"))
}

fn json_response(body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}
