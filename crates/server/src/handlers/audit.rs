//! `GET /v1/audit?after=REV&limit=N`: committed batches, oldest first, at most `limit`
//! entries and about 1 MiB of changes per page; a batch larger than that alone comes with
//! its first changes and `changes_truncated: true`, and
//! `GET /v1/audit/{revision}/changes?offset=&limit=` pages the rest. Both read the database
//! through read connections: never behind a commit.

use axum::Json;
use axum::extract::State;

use crate::App;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::wire::{AuditChangesPage, AuditChangesQuery, AuditPage, AuditQuery};

pub async fn list(
    State(app): State<App>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = super::resources::page_limit(query.limit)?;
    let after = query.after.unwrap_or(0);
    let entries = app
        .blocking(move |app| Ok(app.store.audit_page(after, limit)?))
        .await?;
    Ok(Json(AuditPage { entries }))
}

pub async fn changes(
    State(app): State<App>,
    ApiPath(revision): ApiPath<u64>,
    ApiQuery(query): ApiQuery<AuditChangesQuery>,
) -> Result<Json<AuditChangesPage>, ApiError> {
    let limit = super::resources::page_limit(query.limit)?;
    let offset = query.offset.unwrap_or(0);
    let found = app
        .blocking(move |app| Ok(app.store.audit_changes(revision, offset, limit)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no audit entry at revision {revision}")))?;
    Ok(Json(AuditChangesPage {
        revision,
        change_count: found.change_count,
        offset,
        changes: found.changes,
    }))
}
