//! Request bodies checked against the JSON Schemas the OpenAPI document states, before a
//! handler decides anything (and before `If-Match` is considered): lengths, patterns,
//! types (no array where an object is expected, which serde's derives would take),
//! `additionalProperties`, `uniqueItems`. The schemas come from the same `JsonSchema`
//! derives as `schemas/openapi.json`, as draft 2020-12, compiled once per type.
//!
//! A `POST /v1/changes` body over [`CHECKED_BODY_BYTES`] (an `apply` of many partners) is
//! not checked here: building its JSON tree would cost several times its size in memory.
//! Its changes still go through the typed parser and the rules.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::http::StatusCode;
use portalctl_core::api::{Problem, Problems};
use portalctl_core::model::{Kind, KindVisitor, Resource, ResourceKey, Workspace};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::error::ApiError;

/// The largest `POST /v1/changes` body checked against its schema.
pub const CHECKED_BODY_BYTES: usize = 1024 * 1024;

type Validators = Mutex<HashMap<TypeId, Arc<jsonschema::Validator>>>;

fn validators() -> &'static Validators {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    VALIDATORS.get_or_init(Validators::default)
}

/// The compiled schema of `T`.
fn validator<T: JsonSchema + 'static>() -> Result<Arc<jsonschema::Validator>, ApiError> {
    let id = TypeId::of::<T>();
    if let Some(found) = validators()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        return Ok(Arc::clone(found));
    }
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let compiled = jsonschema::draft202012::new(schema.as_value()).map_err(|error| {
        tracing::error!(%error, "a request schema does not compile");
        ApiError::internal("a request schema does not compile; see the server log")
    })?;
    let compiled = Arc::new(compiled);
    validators()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, Arc::clone(&compiled));
    Ok(compiled)
}

/// Why a value breaks its schema.
pub struct Refusal {
    /// `422 invalid_body` naming the first offending field as a JSON pointer.
    pub error: ApiError,
    /// Whether the body's shape is wrong (a type, a missing or unknown field), rather
    /// than a value breaking a bound the document states (a length, a pattern, a
    /// repeated item).
    pub shape: bool,
}

fn refusal<T: JsonSchema + 'static>(value: &Value) -> Result<(), Refusal> {
    let validator = validator::<T>().map_err(|error| Refusal { error, shape: true })?;
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(error) => {
            let pointer = error.instance_path().to_string();
            let message = described(&error);
            Err(Refusal {
                error: ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
                    .with_field(pointer),
                shape: is_shape(error.kind()),
            })
        }
    }
}

/// Checks `value` against the schema of `T`.
///
/// # Errors
/// `422 invalid_body` naming the first offending field as a JSON pointer.
pub fn check<T: JsonSchema + 'static>(value: &Value) -> Result<(), ApiError> {
    refusal::<T>(value).map_err(|refusal| refusal.error)
}

/// Whether a schema error is about the body's shape rather than a value's bounds.
fn is_shape(kind: &jsonschema::error::ValidationErrorKind) -> bool {
    use jsonschema::error::ValidationErrorKind as K;
    matches!(
        kind,
        K::Type { .. }
            | K::Required { .. }
            | K::AdditionalProperties { .. }
            | K::UnevaluatedProperties { .. }
            | K::AdditionalItems { .. }
            | K::FalseSchema
    )
}

/// The validator's message, without echoing a long offending value in full.
fn described(error: &jsonschema::ValidationError<'_>) -> String {
    let mut message = error.to_string();
    // A pattern is long and says little to a reader: name where it is stated instead.
    if let Some(at) = message.find(" does not match \"^") {
        message.truncate(at);
        message.push_str(" does not match the pattern `schemas/openapi.json` states for it");
    }
    if message.len() <= 300 {
        return message;
    }
    let mut end = 300;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// Checks `value` against the schema of a value of `kind`.
///
/// # Errors
/// See [`Refusal`].
pub fn check_value(kind: Kind, value: &Value) -> Result<(), Refusal> {
    struct Check<'a>(&'a Value);
    impl KindVisitor for Check<'_> {
        type Output = Result<(), Refusal>;
        fn workspace(self) -> Self::Output {
            refusal::<Workspace>(self.0)
        }
        fn resource<R: Resource>(self) -> Self::Output {
            refusal::<R>(self.0)
        }
    }
    kind.visit(Check(value))
}

/// Checks a `POST /v1/changes` body against its schema, and each change's `value` against
/// the schema of its kind.
///
/// # Errors
/// `400 malformed_json` for invalid JSON (see [`crate::extract::parse`]); `422
/// invalid_body` naming the first offending field.
pub fn check_changes(body: &[u8]) -> Result<(), ApiError> {
    crate::extract::check_body(body)?;
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        // `parse` says what is wrong.
        return Ok(());
    };
    check::<portalctl_core::api::wire::ChangesRequest>(&value)?;
    let changes = value
        .get("changes")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (at, change) in changes.iter().enumerate() {
        let kind = change
            .get("kind")
            .and_then(Value::as_str)
            .and_then(Kind::from_wire);
        if let Some(kind) = kind {
            check_key_parts(kind, at, change.get("key"))?;
        }
        if let (Some(kind), Some(value)) = (kind, change.get("value"))
            && change.get("op").and_then(Value::as_str) == Some("put")
        {
            let parts: Vec<String> = change
                .get("key")
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|part| part.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            check_value(kind, value).map_err(|refusal| match ResourceKey::from_parts(kind, &parts) {
                Ok(key) => as_problem(refusal, at, &key),
                Err(_) => {
                    let mut error = refusal.error;
                    let inner = error.body.error.field.take().unwrap_or_default();
                    error.with_field(format!("/changes/{at}/value{inner}"))
                }
            })?;
        }
    }
    Ok(())
}

type KeyValidators = Mutex<HashMap<Kind, Arc<jsonschema::Validator>>>;

/// Checks the parts of change `at`'s key against the schemas the document gives a key of
/// `kind` (either part schema for each part of a two-part key).
fn check_key_parts(kind: Kind, at: usize, key: Option<&Value>) -> Result<(), ApiError> {
    static VALIDATORS: OnceLock<KeyValidators> = OnceLock::new();
    let Some(Value::Array(parts)) = key else {
        return Ok(());
    };
    if parts.len() != kind.key_len() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("a key of a {} has {} part(s)", kind.as_str(), kind.key_len()),
        )
        .with_field(format!("/changes/{at}/key")));
    }
    if parts.is_empty() {
        return Ok(());
    }
    let validators = VALIDATORS.get_or_init(KeyValidators::default);
    let cached = validators
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&kind)
        .cloned();
    let validator = match cached {
        Some(validator) => validator,
        None => {
            let options: Vec<Value> = (0..kind.key_len())
                .map(|index| crate::openapi::key_part_schema(kind, index))
                .collect();
            let schema = serde_json::json!({"anyOf": options});
            let compiled = Arc::new(jsonschema::draft202012::new(&schema).map_err(|error| {
                tracing::error!(%error, "a key schema does not compile");
                ApiError::internal("a key schema does not compile; see the server log")
            })?);
            validators
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(kind, Arc::clone(&compiled));
            compiled
        }
    };
    for (index, part) in parts.iter().enumerate() {
        if !validator.is_valid(part) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!(
                    "not a key part of a {} (see `schemas/openapi.json`)",
                    kind.as_str()
                ),
            )
            .with_field(format!("/changes/{at}/key/{index}")));
        }
    }
    Ok(())
}

/// A value's schema refusal as the API answers it: a wrong shape stays `422
/// invalid_body` at a pointer into the value; a broken bound becomes the problem of change
/// `index` of a batch, `422 invalid_changes` at the resource's canonical pointer, as the
/// rules report theirs.
pub fn as_problem(refusal: Refusal, index: usize, key: &ResourceKey) -> ApiError {
    let Refusal { error, shape } = refusal;
    if shape {
        return error;
    }
    let inner = error.body.error.field.clone().unwrap_or_default();
    let problem = Problem {
        index: Some(index),
        field: format!("{}{inner}", key.pointer()),
        message: error.body.error.message.clone(),
        hint: None,
        suggestion: None,
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_changes",
        "1 problem(s); nothing was applied",
    )
    .with_problems(Problems::all(vec![problem]))
}

/// Checks a JSON merge patch's own shape: each of its keys names a field (an empty key
/// names none). Keys inside a field's value (an attribute map) are data, judged with the
/// patched value.
///
/// # Errors
/// `422 invalid_body` naming the empty key.
pub fn check_merge_patch(patch: &Value) -> Result<(), ApiError> {
    if let Value::Object(object) = patch
        && object.contains_key("")
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "a merge patch key names a field; an empty key names none",
        )
        .with_field("/"));
    }
    Ok(())
}

/// Checks a `PATCH` body of a `kind` against the merge-patch schema the OpenAPI document
/// states for it (`…Patch`), so the service refuses exactly what the document refuses: a
/// `null` where a field cannot be removed, one of two fields that go together (an enum
/// attribute's `type` and `values`), a nested object without its required fields.
///
/// # Errors
/// `422 invalid_body` naming the first offending field as a JSON pointer.
pub fn check_patch(kind: Kind, patch: &Value) -> Result<(), ApiError> {
    static VALIDATORS: OnceLock<Mutex<HashMap<&'static str, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let validators = VALIDATORS.get_or_init(Mutex::default);
    let cached = validators
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(kind.as_str())
        .cloned();
    let validator = match cached {
        Some(validator) => validator,
        None => {
            let compiled = Arc::new(patch_validator(kind)?);
            validators
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(kind.as_str(), Arc::clone(&compiled));
            compiled
        }
    };
    match validator.iter_errors(patch).next() {
        None => Ok(()),
        Some(error) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            described(&error),
        )
        .with_field(error.instance_path().to_string())),
    }
}

/// The compiled merge-patch schema of `kind`, from the OpenAPI document's components read as
/// draft 2020-12.
fn patch_validator(kind: Kind) -> Result<jsonschema::Validator, ApiError> {
    let document = crate::openapi::document();
    let schemas = open_api_30_nullable(document["components"]["schemas"].clone());
    let root = serde_json::json!({
        "$ref": format!("#/components/schemas/{}", crate::openapi::patch_schema_name(kind)),
        "components": {"schemas": schemas}
    });
    jsonschema::draft202012::new(&root).map_err(|error| {
        tracing::error!(%error, "a merge patch schema does not compile");
        ApiError::internal("a merge patch schema does not compile; see the server log")
    })
}

/// OpenAPI 3.0's `nullable: true` in draft 2020-12: `null`, or else the schema.
fn open_api_30_nullable(value: Value) -> Value {
    match value {
        Value::Object(mut object) => {
            let nullable = object.remove("nullable") == Some(Value::Bool(true));
            let object: serde_json::Map<String, Value> = object
                .into_iter()
                .map(|(key, child)| (key, open_api_30_nullable(child)))
                .collect();
            if nullable {
                // Not an `anyOf`: a refusal names the field inside, not the option list.
                serde_json::json!({"if": {"type": "null"}, "else": Value::Object(object)})
            } else {
                Value::Object(object)
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(open_api_30_nullable).collect()),
        other => other,
    }
}

type ParameterValidators = Mutex<HashMap<(String, String), Arc<jsonschema::Validator>>>;

/// Checks the path parameters of the route `route` (an axum path such as
/// `/v1/roles/{name}`), decoded, against the schemas the OpenAPI document gives them.
///
/// # Errors
/// `400 bad_path` naming the first parameter that breaks its schema.
pub fn check_path_parameters(route: &str, parameters: &[(String, String)]) -> Result<(), ApiError> {
    static VALIDATORS: OnceLock<ParameterValidators> = OnceLock::new();
    let validators = VALIDATORS.get_or_init(ParameterValidators::default);
    for (name, text) in parameters {
        let schema = crate::openapi::path_parameter_schema(route, name);
        let key = (route.to_string(), name.clone());
        let cached = validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        let validator = match cached {
            Some(validator) => validator,
            None => {
                let compiled = Arc::new(jsonschema::draft202012::new(&schema).map_err(|error| {
                    tracing::error!(%error, "a path parameter schema does not compile");
                    ApiError::internal("a path parameter schema does not compile; see the server log")
                })?);
                validators
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, Arc::clone(&compiled));
                compiled
            }
        };
        let value = if schema.get("type").and_then(Value::as_str) == Some("integer") {
            serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.clone()))
        } else {
            Value::String(text.clone())
        };
        if let Some(error) = validator.iter_errors(&value).next() {
            return Err(ApiError::bad_request(
                "bad_path",
                format!("path parameter `{name}`: {}", described(&error)),
            )
            .with_field(name.clone()));
        }
    }
    Ok(())
}
