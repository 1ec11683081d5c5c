//! `GET /v1/audit?after=REV`: committed batches, oldest first.

use axum::Json;
use axum::extract::State;

use crate::App;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::wire::{AuditPage, AuditQuery};

pub async fn list(
    State(app): State<App>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = super::resources::page_limit(query.limit)?;
    let after = query.after.unwrap_or(0);
    let entries = app
        .blocking(move |app| Ok(app.store.audit(after, limit)?))
        .await?;
    Ok(Json(AuditPage { entries }))
}
