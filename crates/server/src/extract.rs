//! Extractors that turn every rejection into an [`ApiError`], so axum's plain-text
//! rejections never reach a client: JSON bodies (with the path of the offending field),
//! path segments and query strings.
//!
//! Every JSON body is first walked once ([`check_body`]): it must be an object, no object
//! may repeat a key, and every string is within its size limit ([`string_limit`]). A
//! refusal is `422` naming the field as a JSON pointer, before any typed parsing.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::connections::BodyDeadline;
use super::error::ApiError;

/// A raw body within the size limit, for handlers that parse on the blocking pool; a
/// body over the limit is `413 body_too_large`.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let deadline = request.extensions().get::<BodyDeadline>().copied();
        let read = Bytes::from_request(request, state);
        let read = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.at, read)
                .await
                .map_err(|_| body_timed_out(deadline.timeout))?,
            None => read.await,
        };
        read.map(ApiBytes).map_err(|rejection| {
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

/// `408 request_timeout`: the body did not arrive in time. The connection is closed, since
/// the rest of the body may still be on its way.
fn body_timed_out(timeout: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request body did not arrive within {} s (`--body-timeout`)",
            timeout.as_secs_f64()
        ),
    )
    .closing()
}

/// A JSON body. Malformed JSON is `400 malformed_json`; well-formed JSON of the wrong
/// shape (wrong types, unknown or missing fields) is `422 invalid_body` naming the field;
/// a body over the limit is `413 body_too_large`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + schemars::JsonSchema + 'static> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiBytes(bytes) = ApiBytes::from_request(request, state).await?;
        if std::any::TypeId::of::<T>() != std::any::TypeId::of::<serde_json::Value>() {
            // Checked against the schema the OpenAPI document states before it is read
            // into `T` (a resource's value is checked by its kind, in the handler).
            let value: serde_json::Value = parse(&bytes)?;
            crate::schema_check::check::<T>(&value)?;
        }
        parse(&bytes).map(ApiJson)
    }
}

/// The largest email, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// The largest `meta` field (`commit`, `author`, `plan_id`, `tool_version`), in bytes.
pub const MAX_META_BYTES: usize = 256;
/// The largest object key (names, attribute keys), in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// The largest other string (names, descriptions, URLs, attribute values), in bytes.
pub const MAX_STRING_BYTES: usize = 4096;

/// The size limit of the string at `pointer`: emails and `meta` fields are small, every
/// other string a few KiB.
pub fn string_limit(pointer: &[String]) -> usize {
    let last = pointer.last().map(String::as_str);
    let parent = pointer.len().checked_sub(2).map(|at| pointer[at].as_str());
    if pointer.first().map(String::as_str) == Some("meta") {
        MAX_META_BYTES
    } else if last == Some("email") || parent == Some("members") {
        MAX_EMAIL_BYTES
    } else {
        MAX_STRING_BYTES
    }
}

/// Why [`check_body`] refused a body.
#[derive(Debug)]
struct Refusal {
    pointer: String,
    message: String,
}

fn pointer_text(path: &[String]) -> String {
    path.iter()
        .map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Walks a JSON value in one pass, refusing duplicate keys and oversized strings.
struct Walk<'a> {
    path: &'a mut Vec<String>,
    refusal: &'a mut Option<Refusal>,
}

impl Walk<'_> {
    fn refuse<E: serde::de::Error>(&mut self, message: String) -> E {
        *self.refusal = Some(Refusal {
            pointer: pointer_text(self.path),
            message: message.clone(),
        });
        E::custom(message)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(mut self, value: &str) -> Result<(), E> {
        let limit = string_limit(self.path);
        if value.len() > limit {
            return Err(self.refuse(format!(
                "the value is {} bytes; at most {limit} are accepted here",
                value.len()
            )));
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            self.path.push(index.to_string());
            let next = seq.next_element_seed(Walk {
                path: self.path,
                refusal: self.refusal,
            });
            self.path.pop();
            if next?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let key = key.into_owned();
            self.path.push(key.clone());
            if key.len() > MAX_KEY_BYTES {
                let error = self.refuse(format!("the key is longer than {MAX_KEY_BYTES} bytes"));
                return Err(error);
            }
            if !seen.insert(key.clone()) {
                let error = self.refuse(format!("duplicate key `{key}`"));
                return Err(error);
            }
            map.next_value_seed(Walk {
                path: self.path,
                refusal: self.refusal,
            })?;
            self.path.pop();
        }
        Ok(())
    }
}

/// Checks the shape every body must have: a JSON object, no key twice in any object,
/// every string within [`string_limit`].
///
/// # Errors
/// `400 malformed_json` for invalid JSON, `422 invalid_body` naming the field otherwise.
pub fn check_body(bytes: &[u8]) -> Result<(), ApiError> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "the body must be a JSON object",
        )
        .with_field(""));
    }
    let mut path = Vec::new();
    let mut refusal = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let walked = serde::de::DeserializeSeed::deserialize(
        Walk {
            path: &mut path,
            refusal: &mut refusal,
        },
        &mut deserializer,
    )
    .and_then(|()| deserializer.end());
    match (walked, refusal) {
        (_, Some(refusal)) => {
            Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", refusal.message)
                    .with_field(refusal.pointer),
            )
        }
        (Err(error), None) => Err(ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {error}"),
        )),
        (Ok(()), None) => Ok(()),
    }
}

/// Parses a JSON body as [`ApiJson`] does, after [`check_body`].
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_body(bytes)?;
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
        // Every parameter is first held to the schema the OpenAPI document gives it.
        let route = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|matched| matched.as_str().to_string());
        if let Some(route) = route
            && let Ok(Path(parameters)) =
                Path::<Vec<(String, String)>>::from_request_parts(parts, state).await
        {
            crate::schema_check::check_path_parameters(&route, &parameters)?;
        }
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

    fn refused(body: &str) -> (StatusCode, Option<String>) {
        let error = check_body(body.as_bytes()).unwrap_err();
        (error.status, error.body.error.field)
    }

    #[test]
    fn refuses_non_objects_duplicate_keys_and_oversized_strings() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        assert_eq!(refused("[null,null]"), (unprocessable, Some(String::new())));
        assert_eq!(refused("\"x\""), (unprocessable, Some(String::new())));
        assert_eq!(
            refused(r#"{"a": {"b": 1, "b": 2}}"#),
            (unprocessable, Some("/a/b".into()))
        );
        assert_eq!(
            refused(r#"{"changes": [{"x/y": 1, "x/y": 1}]}"#),
            (unprocessable, Some("/changes/0/x~1y".into()))
        );
        let long_meta = format!(r#"{{"meta": {{"commit": "{}"}}}}"#, "a".repeat(257));
        assert_eq!(refused(&long_meta), (unprocessable, Some("/meta/commit".into())));
        let long_email = format!(r#"{{"email": "{}@x.com"}}"#, "a".repeat(250));
        assert_eq!(refused(&long_email), (unprocessable, Some("/email".into())));
        let long_description = format!(r#"{{"description": "{}"}}"#, "a".repeat(4097));
        assert_eq!(
            refused(&long_description),
            (unprocessable, Some("/description".into()))
        );
        assert_eq!(refused("{\"a\": "), (StatusCode::BAD_REQUEST, None));
        check_body(
            format!(
                r#"{{"description": "{}", "a": [1, {{"a": 2}}]}}"#,
                "a".repeat(4096)
            )
            .as_bytes(),
        )
        .unwrap();
    }
}
