//! `/v1/tokens`: tokens the service creates, lists and revokes — an admin token only (an
//! `apply`, `read` or `partner_org:` token is `403`). A token is shown once, in the answer
//! that creates it; the store keeps its SHA-256 only.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::{App, Caller, Scope};
use portalctl_store::tokens::MAX_LIFETIME_SECONDS;
pub use portalctl_store::tokens::{CreateTokenRequest, CreatedToken, TokenList};
use portalctl_store::{CreateTokenError, TokenScope};

fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.scope == Scope::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` cannot manage tokens: that takes an admin token",
                caller.name
            ),
        ))
    }
}

pub async fn create(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    admin_only(&caller)?;
    if app.tokens.names(&request.name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "token_name_taken",
            format!(
                "the tokens file has a token named `{}`: pick another name",
                request.name
            ),
        )
        .with_field("name"));
    }
    if let TokenScope::PartnerOrg(org) = &request.scope
        && !app.store.published().state.partner_orgs.contains_key(org)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_partner_org",
            format!("there is no partner org `{org}`"),
        )
        .with_field("scope"));
    }
    let now = OffsetDateTime::now_utc();
    let expires_at = match request.expires_in_seconds {
        None => None,
        Some(seconds @ 1..=MAX_LIFETIME_SECONDS) => {
            Some(now + time::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX)))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "bad_expiry",
                format!("`expires_in_seconds` must be 1 to {MAX_LIFETIME_SECONDS} (ten years)"),
            )
            .with_field("expires_in_seconds"));
        }
    };
    let created_by = caller.name.clone();
    let issued = app
        .blocking(move |app| {
            app.store
                .create_token(&request.name, request.scope, expires_at, &created_by, now)
                .map_err(|error| match error {
                    CreateTokenError::NameTaken(_) => {
                        ApiError::new(StatusCode::CONFLICT, "token_name_taken", error.to_string())
                            .with_field("name")
                    }
                    CreateTokenError::BadName(_) => {
                        ApiError::bad_request("bad_token_name", error.to_string()).with_field("name")
                    }
                    CreateTokenError::Random(_) => ApiError::internal(error.to_string()),
                    CreateTokenError::Storage(error) => error.into(),
                })
        })
        .await?;
    tracing::info!(token = issued.info.name, scope = %issued.info.scope, by = caller.name, "token created");
    let body = CreatedToken {
        token: issued.token,
        info: issued.info,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<TokenList>, ApiError> {
    admin_only(&caller)?;
    let tokens = app.blocking(|app| Ok(app.store.tokens()?)).await?;
    Ok(Json(TokenList { tokens }))
}

pub async fn revoke(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    admin_only(&caller)?;
    let revoked_name = name.clone();
    let revoked = app
        .blocking(move |app| Ok(app.store.revoke_token(&revoked_name, OffsetDateTime::now_utc())?))
        .await?;
    if !revoked {
        return Err(ApiError::not_found(format!(
            "no unrevoked token is named `{name}`"
        )));
    }
    tracing::info!(token = name, by = caller.name, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
