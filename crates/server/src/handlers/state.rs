//! The whole state at once: `GET /v1/state`, `POST /v1/changes` (the batch `apply` uses)
//! and `GET /healthz`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{etag, revision_response};
use crate::error::ApiError;
use crate::extract::{ApiBytes, parse};
use crate::wire::{ChangesRequest, Health};
use crate::{App, Caller, today};

/// `GET /v1/state`: the canonical state and its revision, which is also the `ETag`.
pub async fn get_state(State(app): State<App>) -> Result<Response, ApiError> {
    let (revision, body) = app
        .blocking(|app| {
            let snapshot = app.snapshot()?;
            Ok((snapshot.revision, app.state_json(&snapshot)?))
        })
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag(revision)),
        ],
        body,
    )
        .into_response())
}

/// `POST /v1/changes`: one batch, all or nothing, guarded by `expected_revision`.
pub async fn post_changes(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let revision = app
        .blocking(move |app| {
            let request: ChangesRequest = parse(&body)?;
            app.store
                .commit(
                    request.expected_revision,
                    &request.changes,
                    &request.meta,
                    &caller.name,
                    today(),
                )
                .map_err(|error| ApiError::from_commit(error, StatusCode::CONFLICT))
        })
        .await?;
    Ok(revision_response(StatusCode::OK, revision))
}

/// `GET /healthz`: no authentication, for load balancers.
pub async fn health(State(app): State<App>) -> Result<Json<Health>, ApiError> {
    let revision = app.blocking(|app| Ok(app.snapshot()?.revision)).await?;
    Ok(Json(Health {
        status: "ok".into(),
        revision,
    }))
}
