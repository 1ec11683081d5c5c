//! The whole state at once: `GET /v1/state`, `POST /v1/changes` (the batch `apply` uses)
//! and `GET /healthz`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{etag, revision_response};
use crate::error::ApiError;
use crate::extract::{ApiBytes, ApiQuery, parse};
use crate::wire::{ChangesRequest, Health, RevealQuery};
use crate::{App, Caller, today};

/// `GET /v1/state`: the canonical state and its revision, which is also the `ETag`.
/// Sensitive attribute values are digests unless an `admin` token asks for them
/// (`?reveal=sensitive`, recorded in the read audit first).
pub async fn get_state(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<RevealQuery>,
) -> Result<Response, ApiError> {
    let reveal = super::reveal_sensitive(&caller, query.reveal)?;
    let (revision, body) = app
        .blocking(move |app| {
            // The whole state is what `plan` reads: catch up with the database's head first
            // (one query when current), so a plan through one replica sees a commit just
            // acknowledged by another. Falls back to the last snapshot if the database is away.
            let snapshot = app.store.snapshot(today()).or_else(|_| app.snapshot())?;
            if reveal {
                super::audit_reveal(app, &caller, "GET /v1/state?reveal=sensitive", snapshot.revision)?;
            }
            Ok((snapshot.revision, app.state_json(&snapshot, reveal)?))
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
    // Checked and parsed before the write's turn: that work grows with the body, and
    // other writes need not wait for it.
    let request = app
        .blocking(move |_| {
            if body.len() <= crate::schema_check::CHECKED_BODY_BYTES {
                crate::schema_check::check_changes(&body)?;
            }
            // The text of a large batch is hundreds of megabytes: dropped once parsed.
            parse::<ChangesRequest>(&body)
        })
        .await?;
    let revision = app
        .writing(move |app| {
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

/// The health of this replica, from the published snapshot and what the catch-up task
/// last saw of the database: never waits for the database.
fn health_now(app: &App) -> Health {
    let revision = app.store.published().revision;
    let sync = app.sync();
    Health {
        status: "ok".into(),
        revision,
        ready: sync.reachable && sync.durable_head <= revision,
        behind: sync.durable_head.saturating_sub(revision),
    }
}

/// `GET /healthz`: liveness, no authentication, for load balancers. Answers `200` while
/// the process serves, whether or not its database is reachable.
pub async fn health(State(app): State<App>) -> Json<Health> {
    Json(health_now(&app))
}

/// `GET /readyz`: readiness, no authentication. `200` when the database is reachable and
/// this replica is caught up with it, else `503` with the same body.
pub async fn ready(State(app): State<App>) -> Response {
    let health = health_now(&app);
    if health.ready {
        (StatusCode::OK, Json(health)).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(health),
        )
            .into_response()
    }
}
