//! The JSON body of every error the service answers with: the wire contract shared by the
//! server, which writes it, and the HTTP client, which reads it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Problem;

/// The JSON body of every error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// One entry per problem, for `422 invalid_changes` and `409 conflicts_with_state`
    /// or `seat_limit`: at most 100 of them, the first by change index and field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub problems: Option<Vec<Problem>>,
    /// How many problems there are in all, listed or not (present with `problems`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_count: Option<u64>,
    /// The revision the state is at, for `409 stale_revision` and `412 precondition_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `stale_revision`.
    pub code: String,
    pub message: String,
    /// The offending field, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
