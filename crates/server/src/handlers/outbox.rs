//! `GET /v1/outbox`: the mail the service has enqueued, newest first, with its links — so
//! that, without an SMTP server, the two-command start still works on a laptop. Sign-in
//! links are credentials: an `admin` token is required (a `read` token is `403`).

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::{App, Caller, Scope};
use portalctl_store::{OutboxMessage, OutboxQuery};

/// `?limit=&before=&unsent=&portal=&recipient=`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxListQuery {
    pub limit: Option<usize>,
    /// An outbox id: ids are PostgreSQL `BIGSERIAL`s, so one past `i64::MAX` names none
    /// and is refused rather than read as "everything".
    pub before: Option<i64>,
    pub unsent: Option<bool>,
    pub portal: Option<String>,
    pub recipient: Option<String>,
}

/// A page of the outbox.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OutboxPage {
    /// Newest first.
    pub messages: Vec<OutboxMessage>,
    /// `before=` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// The longest `portal` filter: a technical name is a DNS label.
pub const MAX_PORTAL_BYTES: usize = 63;

pub async fn list(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<OutboxListQuery>,
) -> Result<Json<OutboxPage>, ApiError> {
    if caller.scope != Scope::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the outbox holds sign-in links: it takes an admin token",
        ));
    }
    let too_long = |name: &str, value: Option<&String>, max: usize| match value {
        Some(value) if value.len() > max => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("`{name}` is at most {max} bytes"),
        )),
        _ => Ok(()),
    };
    too_long(
        "recipient",
        query.recipient.as_ref(),
        crate::extract::MAX_EMAIL_BYTES,
    )?;
    too_long("portal", query.portal.as_ref(), MAX_PORTAL_BYTES)?;
    let limit = super::resources::page_limit(query.limit)?;
    let recipient = query
        .recipient
        .as_deref()
        .map(portalctl_core::model::normalize_email);
    let before = query
        .before
        .map(|before| {
            u64::try_from(before).map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_query",
                    "`before` is an outbox id: 0 or more",
                )
                .with_field("before")
            })
        })
        .transpose()?;
    let filter = OutboxQuery {
        before,
        limit,
        unsent_only: query.unsent.unwrap_or(false),
        portal: query.portal,
        recipient,
    };
    let messages = app.blocking(move |app| Ok(app.store.outbox(&filter)?)).await?;
    let next_before = (messages.len() == limit)
        .then(|| messages.last().map(|message| message.id))
        .flatten();
    Ok(Json(OutboxPage {
        messages,
        next_before,
    }))
}
