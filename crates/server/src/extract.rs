//! Extractors that turn every rejection into an [`ApiError`], so axum's plain-text
//! rejections never reach a client: JSON bodies (with the path of the offending field),
//! path segments and query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A raw body within the size limit, for handlers that parse on the blocking pool; a
/// body over the limit is `413 body_too_large`.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(ApiBytes)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the request body is over the size limit",
                    )
                } else {
                    ApiError::bad_request("unreadable_body", "the request body could not be read")
                }
            })
    }
}

/// A JSON body. Malformed JSON is `400 malformed_json`; well-formed JSON of the wrong
/// shape (wrong types, unknown or missing fields) is `422 invalid_body` naming the field;
/// a body over the limit is `413 body_too_large`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiBytes(bytes) = ApiBytes::from_request(request, state).await?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body as [`ApiJson`] does.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let api = match inner.classify() {
            serde_json::error::Category::Data => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                inner.to_string(),
            ),
            _ => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {inner}")),
        };
        if path == "." { api } else { api.with_field(path) }
    })?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {error}"))
    })?;
    Ok(value)
}

/// Path parameters; a rejection is `400 bad_path`.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::bad_request("bad_path", rejection.body_text()))
    }
}

/// A query string; a rejection is `400 bad_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::bad_request("bad_query", rejection.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Body {
        count: u32,
    }

    #[test]
    fn sorts_syntax_from_shape_errors() {
        let error = parse::<Body>(b"{\"count\": ").unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        let error = parse::<Body>(b"{\"count\": \"x\"}").unwrap_err();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.body.error.field.as_deref(), Some("count"));
        let error = parse::<Body>(b"{\"count\": 1, \"extra\": 2}").unwrap_err();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        let error = parse::<Body>(b"{\"count\": 1} trailing").unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }
}
