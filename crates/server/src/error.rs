//! API errors: every failure becomes a status and a JSON body
//! `{"error": {"code", "message", "field"?}}`, plus `problems` for a refused batch and
//! `current_revision` for a stale one. Nothing answers in plain text.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portalctl_core::api::{ErrorBody, ErrorDetail};
use portalctl_store::{CommitError, Problems, StoreError};

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed: errors travel in `Result`s, which stay small.
    pub body: Box<ErrorBody>,
    pub retry_after: bool,
    /// Whether the connection is closed after the answer (`Connection: close`).
    pub close: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: message.into(),
                    field: None,
                },
                problems: None,
                problem_count: None,
                current_revision: None,
            }),
            retry_after: false,
            close: false,
        }
    }

    /// The answer closes the connection: part of the request may still be on its way.
    #[must_use]
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.body.error.field = Some(field.into());
        self
    }

    /// The problems of a refused batch: the listed ones, their total, and the first one's
    /// field as the error's.
    #[must_use]
    pub fn with_problems(mut self, problems: Problems) -> Self {
        if let Some(first) = problems.listed.first() {
            self.body.error.field = Some(first.field.clone());
        }
        self.body.problem_count = Some(problems.total as u64);
        self.body.problems = Some(problems.listed);
        self
    }

    /// Looks for the hints of the first listed problems in `state` (at most
    /// [`portalctl_store::HINTS_PER_REFUSAL`] of them), where the store left them unresolved.
    /// Stops looking (the rest get none) as soon as `stop` says so.
    pub fn resolve_hints(&mut self, state: &portalctl_core::model::State, stop: &dyn Fn() -> bool) {
        let Some(listed) = self.body.problems.take() else {
            return;
        };
        let mut problems = Problems {
            total: listed.len(),
            listed,
        };
        problems.resolve_hints_unless(state, portalctl_store::HINTS_PER_REFUSAL, stop);
        self.body.problems = Some(problems.listed);
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A refused commit. `stale_status` is 409 for `POST /v1/changes` and 412 for a
    /// resource write guarded by `If-Match`.
    pub fn from_commit(error: CommitError, stale_status: StatusCode) -> Self {
        match error {
            CommitError::Stale { current } => {
                let (code, message) = if stale_status == StatusCode::PRECONDITION_FAILED {
                    (
                        "precondition_failed",
                        format!("`If-Match` does not match revision {current}"),
                    )
                } else {
                    (
                        "stale_revision",
                        format!("the state is at revision {current}; plan again against it"),
                    )
                };
                let mut error = Self::new(stale_status, code, message);
                error.body.current_revision = Some(current);
                error
            }
            CommitError::Invalid(problems) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_changes",
                format!("{}; nothing was applied", count(&problems)),
            )
            .with_problems(problems),
            CommitError::Conflict(problems) => Self::new(
                StatusCode::CONFLICT,
                "conflicts_with_state",
                format!(
                    "{} with the current state (references, limits, overlaps); nothing was applied",
                    count(&problems)
                ),
            )
            .with_problems(problems),
            CommitError::SeatLimit(problems) => {
                let message = problems.listed.first().map_or_else(
                    || "a seat limit would be passed".to_string(),
                    |p| p.message.clone(),
                );
                Self::new(StatusCode::CONFLICT, "seat_limit", message).with_problems(problems)
            }
            CommitError::Protected(portal) => Self::new(
                StatusCode::CONFLICT,
                "protected",
                format!("portal `{portal}` is protected; commit `protect: false` first"),
            )
            .with_field(format!("/portals/{portal}/protect")),
            CommitError::Storage(error) => Self::from(error),
        }
    }
}

/// "3 problem(s)", or "1000000 problem(s), the first 100 listed".
fn count(problems: &Problems) -> String {
    if problems.unlisted() == 0 {
        format!("{} problem(s)", problems.total)
    } else {
        format!(
            "{} problem(s), the first {} listed",
            problems.total,
            problems.listed.len()
        )
    }
}

impl ApiError {
    /// `503 busy`: the write waited `wait` behind other writes and was not made.
    #[must_use]
    pub fn busy(wait: std::time::Duration) -> Self {
        let mut refusal = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "this write waited {} ms behind other writes and was not made; try again",
                wait.as_millis()
            ),
        );
        refusal.retry_after = true;
        refusal
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if let StoreError::Contended(_) = error {
            let mut refusal = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "contended",
                "other writers kept committing first; try again",
            );
            refusal.retry_after = true;
            return refusal;
        }
        if error.is_unavailable() {
            tracing::warn!(%error, "the database is unreachable");
            let mut refusal = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unreachable; try again",
            );
            refusal.retry_after = true;
            return refusal;
        }
        tracing::error!(%error, "storage failure");
        Self::internal("the database failed; see the server log")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(*self.body)).into_response();
        if self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
        }
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
