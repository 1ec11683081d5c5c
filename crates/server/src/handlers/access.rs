//! Access decisions: `GET /v1/access/{email}` (everything a partner sees, and why; with
//! `?portal=`, what they may open in that portal, as its home lists it) and
//! `GET /v1/access/{email}/check?folder=|dashboard=&permission=` (one yes/no for apps). Both read the published
//! snapshot and its access index in place: no lock a writer holds, no blocking pool.

use axum::Json;
use axum::extract::State;

use crate::App;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::wire::{AccessQuery, AccessResponse, CheckQuery, CheckResponse};
use portalctl_core::access::ContentKind;
use portalctl_core::model::{is_valid_email, is_valid_folder_path, normalize_email};

/// The longest folder or dashboard path a check takes (as the OpenAPI document says).
pub const MAX_CHECK_PATH_BYTES: usize = 1024;

/// The email of the path, normalised; `400 bad_path` when it is not an email.
fn path_email(email: &str) -> Result<String, ApiError> {
    let email = normalize_email(email);
    if is_valid_email(&email) {
        Ok(email)
    } else {
        Err(ApiError::bad_request("bad_path", "the path does not hold an email address").with_field("email"))
    }
}

pub async fn partner(
    State(app): State<App>,
    ApiPath(email): ApiPath<String>,
    ApiQuery(query): ApiQuery<AccessQuery>,
) -> Result<Json<AccessResponse>, ApiError> {
    let email = path_email(&email)?;
    if let Some(portal) = &query.portal
        && portal.len() > super::outbox::MAX_PORTAL_BYTES
    {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("`portal` is at most {} bytes", super::outbox::MAX_PORTAL_BYTES),
        )
        .with_field("portal"));
    }
    let snapshot = app.snapshot()?;
    let index = app.access_index(&snapshot);
    let (active_partner, folders) = match &query.portal {
        None => (index.is_active_partner(&email), index.partner_access(&email)),
        Some(portal) if snapshot.state.portals.contains_key(portal) => (
            index.is_active_member(&email, portal),
            index.partner_access_in(&email, portal),
        ),
        Some(portal) => return Err(ApiError::not_found(format!("no portal `{portal}`"))),
    };
    Ok(Json(AccessResponse {
        revision: snapshot.revision,
        active_partner,
        folders,
        email,
    }))
}

pub async fn check(
    State(app): State<App>,
    ApiPath(email): ApiPath<String>,
    ApiQuery(query): ApiQuery<CheckQuery>,
) -> Result<Json<CheckResponse>, ApiError> {
    let email = path_email(&email)?;
    if query
        .permission
        .as_ref()
        .is_some_and(|permission| permission.len() > crate::extract::MAX_STRING_BYTES)
    {
        return Err(ApiError::bad_request(
            "bad_query",
            format!(
                "`permission` is at most {} bytes",
                crate::extract::MAX_STRING_BYTES
            ),
        )
        .with_field("permission"));
    }
    let (kind, path) = checked_path(&query)?;
    if let Some(permission) = &query.permission
        && !portalctl_core::model::BUILTIN_PERMISSIONS.contains(&permission.as_str())
    {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_permission",
            format!(
                "`{permission}` is not a permission; the permissions are {}",
                portalctl_core::model::BUILTIN_PERMISSIONS.join(", ")
            ),
        )
        .with_field("permission"));
    }
    let snapshot = app.snapshot()?;
    let known = match kind {
        ContentKind::Folder => portalctl_core::model::declares_within(&snapshot.state.folders, path),
        ContentKind::Dashboard => snapshot.state.dashboards.contains_key(path),
    };
    let decision = app.access_index(&snapshot).decide_on(&email, kind, path);
    let level = decision.as_ref().map(|(level, _)| *level);
    let permissions: Vec<String> = decision
        .map(|(_, permissions)| permissions.into_iter().collect())
        .unwrap_or_default();
    let allowed = match &query.permission {
        Some(permission) => permissions.contains(permission),
        None => level.is_some(),
    };
    let note = (!known).then(|| {
        format!(
            "no {} `{path}` is declared: nobody can open it",
            match kind {
                ContentKind::Folder => "folder",
                ContentKind::Dashboard => "dashboard",
            }
        )
    });
    Ok(Json(CheckResponse {
        allowed,
        level,
        permission: query.permission,
        permissions,
        known,
        note,
    }))
}

/// What the check asks about: exactly one of `folder=` and `dashboard=`, a well-formed
/// path of at most [`MAX_CHECK_PATH_BYTES`]; `400 bad_query` otherwise.
fn checked_path(query: &CheckQuery) -> Result<(ContentKind, &str), ApiError> {
    let (kind, field, path) = match (&query.folder, &query.dashboard) {
        (Some(folder), None) => (ContentKind::Folder, "folder", folder),
        (None, Some(dashboard)) => (ContentKind::Dashboard, "dashboard", dashboard),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_query",
                "give `folder` or `dashboard`, not both",
            ));
        }
        (None, None) => {
            return Err(
                ApiError::bad_request("bad_query", "give `folder` or `dashboard`").with_field("folder")
            );
        }
    };
    if path.len() > MAX_CHECK_PATH_BYTES || !is_valid_folder_path(path) {
        return Err(ApiError::bad_request(
            "bad_query",
            format!(
                "`{field}` must be a path such as `/Partners/Finance`, at most {MAX_CHECK_PATH_BYTES} bytes"
            ),
        )
        .with_field(field));
    }
    Ok((kind, path))
}
