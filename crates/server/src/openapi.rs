//! The OpenAPI 3 document of the service, built from the route table and the schemas of
//! the wire types, and checked in as `schemas/openapi.json`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::extract::{MAX_EMAIL_BYTES, MAX_KEY_BYTES, MAX_META_BYTES, MAX_STRING_BYTES};
use super::handlers::resources::{MAX_CURSOR_HEX, MAX_LIMIT};
use super::routes::{Route, table, value_schema};
use portalctl_core::api::ErrorBody;
use portalctl_core::model::{KeyPart, Kind, KindVisitor, Resource};
use schemars::JsonSchema;

/// `{*name}` (axum) becomes `{name}` (OpenAPI).
pub fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

pub use portalctl_core::model::patterns::{
    DNS_LABEL_PATTERN, EMAIL_PATTERN, FOLDER_PATH_PATTERN, FOLDER_TAIL_PATTERN, PRINCIPAL_PATTERN,
};
/// The `If-Match` values the server understands.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"?[0-9]{1,19}"?)$"#;

/// The schema of a path parameter of `path`, as strict as the server's rules.
pub(crate) fn path_parameter_schema(path: &str, name: &str) -> Value {
    match name {
        // A built-in role cannot be redefined.
        "name" if path.starts_with("/v1/roles/") => json!({"type": "string", "minLength": 1,
            "maxLength": MAX_KEY_BYTES, "not": {"enum": portalctl_core::model::BUILTIN_ROLES}}),
        "email" => json!({"type": "string", "maxLength": MAX_EMAIL_BYTES, "pattern": EMAIL_PATTERN}),
        "technical_name" => json!({"type": "string", "maxLength": 63, "pattern": DNS_LABEL_PATTERN}),
        "path" | "folder" => json!({"type": "string", "maxLength": 1024, "pattern": FOLDER_TAIL_PATTERN}),
        "principal" => json!({"type": "string", "maxLength": MAX_KEY_BYTES, "pattern": PRINCIPAL_PATTERN}),
        "revision" => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
        _ => json!({"type": "string", "minLength": 1, "maxLength": MAX_KEY_BYTES}),
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let (name, rest) = match name.strip_prefix('*') {
                Some(name) => (name, " (the rest of the path, slashes included)"),
                None => (name, ""),
            };
            json!({
                "name": name, "in": "path", "required": true,
                "schema": path_parameter_schema(path, name),
                "description": format!("{name}{rest}")
            })
        })
        .collect()
}

/// The schema of a query parameter, with the bounds the server enforces.
fn query_parameter_schema(name: &str, kind: &str) -> Value {
    match name {
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}),
        "after" | "offset" => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX, "default": 0}),
        "cursor" => json!({"type": "string", "maxLength": MAX_CURSOR_HEX,
            "pattern": format!("^([0-9a-f]{{2}}){{0,{}}}$", MAX_CURSOR_HEX / 2),
            "description": "A position: `next_cursor` of the previous page, or the lowercase hex of any bytes (key parts joined by NUL); the page holds the items after it"}),
        "folder" | "dashboard" => json!({
            "type": "string",
            "maxLength": super::handlers::access::MAX_CHECK_PATH_BYTES,
            "pattern": FOLDER_PATH_PATTERN
        }),
        "reveal" => json!({"type": "string", "enum": ["sensitive"]}),
        "before" => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
        "recipient" => json!({"type": "string", "maxLength": super::extract::MAX_EMAIL_BYTES}),
        "portal" => json!({"type": "string", "maxLength": super::handlers::outbox::MAX_PORTAL_BYTES}),
        _ => json!({"type": kind}),
    }
}

/// The tag of a route: its area of the API. A kind's routes are under its list path (the
/// longest that holds the route) and tagged with its noun.
fn tag(path: &str) -> Cow<'static, str> {
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    let second = segments.next().unwrap_or_default();
    let third = segments.nth(1).unwrap_or_default();
    if second == "portals" && third == "self-register" {
        return "self-registration".into();
    }
    let kind = Kind::ALL
        .iter()
        .filter_map(|&kind| Some((kind, kind.list_path()?)))
        .filter(|(_, list)| portalctl_core::model::is_within(path, list))
        .max_by_key(|(_, list)| list.len());
    if let Some((kind, _)) = kind {
        return kind_tag(kind).into();
    }
    match (first, second) {
        ("healthz" | "readyz", _) => "health",
        (_, "state" | "changes") => "state",
        (_, "workspace") => "workspace",
        (_, "access") => "access",
        (_, "audit") => "audit",
        (_, "outbox") => "outbox",
        (_, "tokens") => "tokens",
        _ => "other",
    }
    .into()
}

/// The tag of a kind's routes: its noun, in the plural.
fn kind_tag(kind: Kind) -> String {
    format!("{}s", kind.noun())
}

/// The tags of the document, with their descriptions: the kinds' from the kind table.
fn tags() -> Vec<(Cow<'static, str>, &'static str)> {
    let mut tags: Vec<(Cow<'static, str>, &'static str)> = vec![
        ("health".into(), "Liveness and readiness for load balancers."),
        (
            "state".into(),
            "The whole state at once: read it, or commit a batch of changes atomically.",
        ),
        ("workspace".into(), Kind::Workspace.description()),
    ];
    for &kind in Kind::ALL {
        if kind.list_path().is_some() {
            tags.push((kind_tag(kind).into(), kind.description()));
        }
        if kind == Kind::Member {
            tags.push((
                "self-registration".into(),
                "Partners adding themselves to a portal (rate-limited).",
            ));
        }
    }
    tags.extend([
        ("access".into(), "Access decisions: who sees what, and why."),
        ("audit".into(), "The audit log of committed batches."),
        (
            "outbox".into(),
            "Mail the service enqueued (sign-in and verification links, invitations, approvals).",
        ),
        (
            "tokens".into(),
            "Tokens the service creates: scoped, shown once, stored as a hash, revocable at once.",
        ),
    ]);
    tags
}

fn error_response(description: &str, error: &Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": error}}})
}

/// The query parameters of which a request gives exactly one, as one form-exploded object
/// (`?folder=…` or `?dashboard=…`): OpenAPI 3.0 states "exactly one of" only for the
/// properties of a schema, not across parameters.
fn one_of_query_parameter(route: &Route) -> Value {
    let members: Vec<_> = route
        .query
        .iter()
        .filter(|(name, ..)| route.one_of_query.contains(name))
        .collect();
    let properties: serde_json::Map<String, Value> = members
        .iter()
        .map(|(name, kind, _, description)| {
            let mut schema = query_parameter_schema(name, kind);
            schema["description"] = json!(description);
            ((*name).to_string(), schema)
        })
        .collect();
    let options: Vec<Value> = members
        .iter()
        .map(|(name, ..)| json!({"required": [name]}))
        .collect();
    let names: Vec<String> = members.iter().map(|(name, ..)| format!("`{name}`")).collect();
    json!({
        "name": route.one_of_query.join("_or_"),
        "in": "query",
        "required": true,
        "style": "form",
        "explode": true,
        "description": format!("Exactly one of {} (both or neither is `400 bad_query`).", names.join(" and ")),
        "schema": {"type": "object", "additionalProperties": false, "properties": properties, "oneOf": options}
    })
}

fn operation(route: &Route, generator: &mut schemars::SchemaGenerator, error: &Value) -> Value {
    let is_get = route.method == axum::http::Method::GET;
    let is_resource_write = matches!(route.method, axum::http::Method::PUT | axum::http::Method::DELETE)
        && !route.path.starts_with("/v1/tokens");
    let mut parameters = path_parameters(route.path);
    parameters.extend(
        route
            .query
            .iter()
            .filter(|(name, ..)| !route.one_of_query.contains(name))
            .map(|(name, kind, required, description)| {
                json!({"name": name, "in": "query", "required": required,
                       "schema": query_parameter_schema(name, kind), "description": description})
            }),
    );
    if !route.one_of_query.is_empty() {
        parameters.push(one_of_query_parameter(route));
    }
    if is_resource_write {
        parameters.push(json!({
            "name": "If-Match", "in": "header", "required": false,
            "schema": {"type": "string", "maxLength": 24, "pattern": IF_MATCH_PATTERN},
            "description": "Write only if the state is still at this revision (an `ETag` such as \"12\"); `*` or no header: any revision. A mismatch is `412`."
        }));
    }
    let (status, success) = route.success;
    let mut responses = serde_json::Map::new();
    let etag_header = json!({"ETag": {"description": "The revision, quoted.", "schema": {"type": "string"}}});
    let mut ok = if status == 204 {
        json!({"description": "success, no content"})
    } else {
        json!({"description": "success",
               "content": {"application/json": {"schema": success(generator).to_value()}}})
    };
    let states_revision = !route.path.starts_with("/v1/tokens");
    if !route.public && states_revision && (route.request.is_some() || !is_get || route.path == "/v1/state") {
        ok["headers"] = etag_header;
    }
    for (other, description) in route.also {
        let mut also = ok.clone();
        also["description"] = json!(description);
        responses.insert(other.to_string(), also);
    }
    responses.insert(status.to_string(), ok);
    let mut errors: Vec<(&str, &str)> = vec![
        ("400", "malformed request, path, query or JSON"),
        (
            "403",
            "not a loopback `Host`/`Origin` in no-token mode, a token that may not write, or `reveal_forbidden`: a token other than `admin` asked for sensitive values",
        ),
        ("414", "request target over the size limit"),
        ("431", "request head over the size limit"),
        ("500", "the server failed"),
    ];
    if !route.public {
        errors.push(("401", "missing, unknown, revoked or expired token"));
        errors.push(("404", "not found"));
    }
    if !is_get {
        errors.extend([
            (
                "409",
                "conflicts with the current state: `stale_revision`, `protected`, `seat_limit`, or `conflicts_with_state` (every problem is about other resources: references to missing ones, cycles, overlapping domains), with `problems`",
            ),
            ("413", "body over the size limit"),
            ("415", "the body is not `application/json`"),
            (
                "422",
                "invalid body, or `invalid_changes`: some change breaks a rule of its own resource (the rules this document states), with `problems`; nothing applied",
            ),
        ]);
    }
    if is_resource_write {
        errors.push(("412", "`If-Match` does not match the revision"));
    }
    if route.path == "/v1/access/{email}/check" {
        errors.push((
            "422",
            "`unknown_permission`: `permission` is not one of the permissions (the message lists them)",
        ));
    }
    for (code, description) in errors {
        responses.insert(code.to_string(), error_response(description, error));
    }
    let retry_after = json!({"Retry-After": {"description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0}}});
    if !route.public {
        let mut unavailable = error_response("temporarily unavailable; retry after `Retry-After`", error);
        unavailable["headers"] = retry_after.clone();
        responses.insert("503".into(), unavailable);
    }
    if route.path == "/readyz" {
        // Not ready answers with the same health body, so a balancer can read `behind`.
        responses.insert(
            "503".into(),
            json!({"description": "not ready: the database is unreachable or this replica is behind",
                   "headers": retry_after.clone(),
                   "content": {"application/json": {"schema": success(generator).to_value()}}}),
        );
    }
    if route.path.ends_with("/self-register") {
        let mut limited = error_response(
            "too many self-registrations for this portal or client address; retry after `Retry-After`",
            error,
        );
        limited["headers"] = retry_after;
        responses.insert("429".into(), limited);
    }
    let auth = if route.public {
        "No authentication."
    } else if route.path.ends_with("/self-register") {
        "A token with the `admin` scope registers at once; without a token (a public sign-up) a verification link is mailed and nothing is registered until it is followed; the body must be `application/json`."
    } else if route.path.starts_with("/v1/tokens") {
        "A token with the `admin` scope (or none in loopback mode); `apply`, `read` and `partner_org:` tokens are `403`."
    } else if route.path == "/v1/outbox" {
        "A token with the `admin` scope (or none in loopback mode): the messages hold sign-in links."
    } else if is_get {
        "Any token (or none in loopback mode)."
    } else {
        "A token with the `admin` scope (or none in loopback mode); the body must be `application/json`."
    };
    let mut operation = json!({
        "summary": route.summary,
        "description": format!("{}. {auth}", route.summary.trim_end_matches('.')),
        "tags": [tag(route.path)],
        "operationId": format!("{}{}", route.method.as_str().to_lowercase(),
            route.path.replace(['{', '}', '*'], "").replace(['/', '-'], "_")),
        "parameters": parameters,
        "responses": responses,
    });
    if route.public {
        operation["security"] = json!([]);
    } else if route.path.ends_with("/self-register") {
        // The token is optional: without one, the address is verified first.
        operation["security"] = json!([{"bearer": []}, {}]);
    }
    if let Some(request) = route.request {
        operation["requestBody"] = json!({"required": true,
            "content": {"application/json": {"schema": request(generator).to_value()}}});
    }
    operation
}

/// Rewrites what OpenAPI 3.0 tools reject or read loosely in schemars' output, and adds
/// the bounds the server enforces on every string ([`crate::extract::string_limit`]):
/// - `{"enum": [null], "nullable": true}` next to a `$ref` gets the `type` of the
///   referenced schema (a `nullable` needs a `type` sibling);
/// - when `bound` (a schema of something clients send), every string without a
///   `maxLength` gets its size limit: emails, `meta` fields, other strings.
fn tighten(
    value: &mut Value,
    definitions: &BTreeMap<String, Value>,
    property: Option<&str>,
    in_meta: bool,
    bound: bool,
) {
    match value {
        Value::Object(object) => {
            open_api_30_property_names(object);
            if let Some(Value::Array(options)) = object.get_mut("anyOf") {
                let referenced_type = options.iter().find_map(|option| {
                    let name = option.get("$ref")?.as_str()?.rsplit('/').next()?;
                    definitions.get(name)?.get("type").cloned()
                });
                for option in options.iter_mut() {
                    if option.get("nullable") == Some(&Value::Bool(true)) && option.get("type").is_none() {
                        option["type"] = referenced_type.clone().unwrap_or_else(|| json!("object"));
                    }
                }
            }
            // Integers the server reads as `u32`/`u64` have its bounds.
            let maximum = match object.get("format").and_then(Value::as_str) {
                Some("uint32") => Some(json!(u32::MAX)),
                Some("uint64" | "uint") => Some(json!(u64::MAX)),
                Some("uint16") => Some(json!(u16::MAX)),
                Some("uint8") => Some(json!(u8::MAX)),
                _ => None,
            };
            if bound
                && let Some(maximum) = maximum
                && !object.contains_key("maximum")
            {
                object.insert("maximum".into(), maximum);
            }
            if bound
                && object.get("type") == Some(&json!("string"))
                && !object.contains_key("maxLength")
                && !object.contains_key("enum")
            {
                let limit = if in_meta {
                    MAX_META_BYTES
                } else if property == Some("email") {
                    MAX_EMAIL_BYTES
                } else {
                    MAX_STRING_BYTES
                };
                object.insert("maxLength".into(), json!(limit));
            }
            let properties = object.contains_key("properties");
            for (key, child) in object.iter_mut() {
                if properties && key == "properties" {
                    if let Value::Object(properties) = child {
                        for (name, schema) in properties.iter_mut() {
                            let email = if name == "members" {
                                Some("email")
                            } else {
                                Some(name.as_str())
                            };
                            tighten(schema, definitions, email, in_meta, bound);
                        }
                    }
                } else if key == "items" {
                    tighten(child, definitions, property, in_meta, bound);
                } else {
                    tighten(child, definitions, None, in_meta, bound);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                tighten(item, definitions, None, in_meta, bound);
            }
        }
        _ => {}
    }
}

/// OpenAPI 3.0 has no `propertyNames`: a map whose keys are an enum (`permissions:
/// {files.transfer: …}`) becomes the same object written with one optional property per
/// allowed key and no others, which 3.0 tools read and which admits exactly the same
/// values.
fn open_api_30_property_names(object: &mut serde_json::Map<String, Value>) {
    let Some(Value::Array(keys)) = object
        .get("propertyNames")
        .and_then(|names| names.get("enum"))
        .cloned()
    else {
        return;
    };
    let value_schema = object
        .get("additionalProperties")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let properties: serde_json::Map<String, Value> = keys
        .iter()
        .filter_map(Value::as_str)
        .map(|key| (key.to_string(), value_schema.clone()))
        .collect();
    object.remove("propertyNames");
    object.insert("properties".into(), Value::Object(properties));
    object.insert("additionalProperties".into(), Value::Bool(false));
}

/// Adds the names of the components `value` refers to, transitively, to `names`.
fn referenced(
    value: &Value,
    definitions: &BTreeMap<String, Value>,
    names: &mut std::collections::BTreeSet<String>,
) {
    match value {
        Value::Object(object) => {
            if let Some(name) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| reference.rsplit('/').next())
                && names.insert(name.to_string())
                && let Some(definition) = definitions.get(name)
            {
                referenced(definition, definitions, names);
            }
            for child in object.values() {
                referenced(child, definitions, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| referenced(item, definitions, names)),
        _ => {}
    }
}

/// The document, deterministic: paths and components are sorted.
/// Gives each `PATCH` the body of a merge patch of what its path's `PUT` takes: the same
/// properties, none required (a merge patch names only the fields it changes). Values a
/// patch may not set (unknown fields) stay refused, as the server refuses them.
fn patch_bodies_from_put_bodies(
    paths: &mut BTreeMap<String, BTreeMap<String, Value>>,
    schemas: &mut BTreeMap<String, Value>,
) {
    const JSON_BODY: &str = "/requestBody/content/application~1json/schema";
    for methods in paths.values_mut() {
        let Some(reference) = methods
            .get("put")
            .and_then(|put| put.pointer(&format!("{JSON_BODY}/$ref")))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let Some(patch) = methods.get_mut("patch") else {
            continue;
        };
        let Some(name) = reference.strip_prefix("#/components/schemas/") else {
            continue;
        };
        let Some(body) = schemas.get(name).cloned() else {
            continue;
        };
        let mut body = MergePatch { schemas }.object(&body, false);
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "description".into(),
                json!(format!(
                    "A JSON merge patch (RFC 7396) of a {name}: the fields it names replace the stored ones; `null` removes an optional field; an object field merges the same way into the stored one, naming its required fields (the stored one may be absent)."
                )),
            );
        }
        let patch_name = format!("{name}Patch");
        schemas.insert(patch_name.clone(), body);
        if let Some(schema) = patch.pointer_mut(JSON_BODY) {
            *schema = json!({"$ref": format!("#/components/schemas/{patch_name}")});
        }
    }
}

/// The schema `null` takes in OpenAPI 3.0 as an option of an `anyOf` (a `nullable` needs a
/// `type` beside it).
fn null_option() -> Value {
    json!({"enum": [null], "nullable": true, "type": "object"})
}

/// Rewrites value schemas into the schemas of their JSON merge patches (RFC 7396), adding
/// the patch forms of referenced object components (`SelfManagementPatch`) to `schemas`.
struct MergePatch<'a> {
    schemas: &'a mut BTreeMap<String, Value>,
}

impl MergePatch<'_> {
    /// The patch form of an object schema. At the top (`nested` false) the resource exists,
    /// so nothing is required; a nested object may be absent from the stored value, so it
    /// names its required fields. An optional field also takes `null` (it removes it).
    /// Fields an option of the whole value ties together (an enum attribute's `type` and
    /// `values`) are set together, satisfying an option, or not at all, and never removed
    /// alone: a patch of one could otherwise break the option with what is stored.
    fn object(&mut self, schema: &Value, nested: bool) -> Value {
        let mut body = schema.clone();
        let Some(object) = body.as_object_mut() else {
            return body;
        };
        // A required field cannot be removed, whether or not the patch must name it.
        let required: Vec<String> = object
            .get("required")
            .and_then(|required| serde_json::from_value(required.clone()).ok())
            .unwrap_or_default();
        if !nested {
            object.remove("required");
        }
        let tied: Vec<String> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|key| object.get(*key)?.as_array())
            .flatten()
            .filter_map(|option| option.get("properties")?.as_object())
            .flat_map(|properties| properties.keys().cloned())
            .collect();
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            for (name, property) in properties.iter_mut() {
                let patched = self.value(property);
                *property = if required.contains(name) || tied.contains(name) {
                    patched
                } else {
                    self.nullable(patched)
                };
            }
        }
        if let Some(values) = object
            .get("additionalProperties")
            .filter(|values| values.is_object())
        {
            // A map entry merges like a field, and `null` removes it.
            let patched = self.value(&values.clone());
            object.insert("additionalProperties".into(), self.nullable(patched));
        }
        if let Some(Value::Array(options)) = object.remove("oneOf").or_else(|| object.remove("anyOf")) {
            let mut named: Vec<String> = options
                .iter()
                .filter_map(|option| option.get("properties")?.as_object())
                .flat_map(|properties| properties.keys().cloned())
                .collect();
            named.sort();
            named.dedup();
            let mut together: Vec<Value> = options
                .into_iter()
                .map(|mut option| {
                    option["required"] = json!(named);
                    option
                })
                .collect();
            let none: Vec<Value> = named.iter().map(|name| json!({"required": [name]})).collect();
            together.push(json!({"not": {"anyOf": none}}));
            object.insert("anyOf".into(), Value::Array(together));
        }
        body
    }

    /// The patch form of a field's schema: an object (inline or referenced) merges into the
    /// stored one; anything else (a string, an array) replaces it whole.
    fn value(&mut self, schema: &Value) -> Value {
        let Some(object) = schema.as_object() else {
            return schema.clone();
        };
        if let Some(target) = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
        {
            let mut patched = schema.clone();
            patched["$ref"] = json!(self.component(target));
            return patched;
        }
        if object.contains_key("properties")
            || object.get("additionalProperties").is_some_and(Value::is_object)
        {
            // Its `anyOf` options are constraints on the object, not values: left as they are.
            return self.object(schema, true);
        }
        let mut patched = schema.clone();
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(options)) = patched.get_mut(key) {
                for option in options.iter_mut() {
                    *option = self.value(option);
                }
            }
        }
        patched
    }

    /// A reference to the patch form of the component `name`: `#/components/schemas/{name}Patch`
    /// when it differs from the component, else the component itself.
    fn component(&mut self, name: &str) -> String {
        let patch_name = format!("{name}Patch");
        if self.schemas.contains_key(&patch_name) {
            return format!("#/components/schemas/{patch_name}");
        }
        let Some(schema) = self.schemas.get(name).cloned() else {
            return format!("#/components/schemas/{name}");
        };
        let is_object = schema.get("properties").is_some()
            || schema.get("additionalProperties").is_some_and(Value::is_object);
        if !is_object {
            return format!("#/components/schemas/{name}");
        }
        // Placeholder first: a component that refers to itself stops here.
        self.schemas.insert(patch_name.clone(), schema.clone());
        let patched = self.object(&schema, true);
        if patched == schema {
            self.schemas.remove(&patch_name);
            return format!("#/components/schemas/{name}");
        }
        let mut patched = patched;
        if let Some(object) = patched.as_object_mut() {
            let described = object
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            object.insert(
                "description".into(),
                json!(format!("{described}\n\nIn a merge patch (RFC 7396): merges into the stored value; `null` removes an optional field.").trim_start().to_string()),
            );
        }
        self.schemas.insert(patch_name.clone(), patched);
        format!("#/components/schemas/{patch_name}")
    }

    /// `schema`, also admitting `null`. OpenAPI 3.0 ignores `nullable` beside a `$ref` and
    /// wants a `type` with it: a reference is wrapped and takes its target's type, and a
    /// schema without a type gets a `null` option.
    fn nullable(&self, mut schema: Value) -> Value {
        let Some(object) = schema.as_object_mut() else {
            return schema;
        };
        if let Some(Value::Array(options)) = object.get_mut("anyOf") {
            if !options
                .iter()
                .any(|option| option.get("nullable") == Some(&Value::Bool(true)))
            {
                options.push(null_option());
            }
            return schema;
        }
        let reference = object.get("$ref").or_else(|| {
            match object.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                Some([only]) => only.get("$ref"),
                _ => None,
            }
        });
        let target_type = reference
            .and_then(Value::as_str)
            .and_then(|target| target.strip_prefix("#/components/schemas/"))
            .and_then(|target| self.schemas.get(target))
            .and_then(|target| target.get("type"))
            .cloned();
        if let Some(kind) = target_type {
            if object.contains_key("$ref") {
                let inner = std::mem::take(object);
                object.insert("allOf".into(), json!([Value::Object(inner)]));
            }
            object.insert("type".into(), kind);
        }
        if object.contains_key("type") {
            object.insert("nullable".into(), Value::Bool(true));
            schema
        } else {
            json!({"anyOf": [schema, null_option()]})
        }
    }
}

/// The schema of one key part of `kind`, at `index`: the part's form, as the kind states
/// it (`ResourceApi::KEY_PARTS`).
pub(crate) fn key_part_schema(kind: Kind, index: usize) -> Value {
    let string = |pattern: &str| json!({"type": "string", "maxLength": MAX_KEY_BYTES, "pattern": pattern});
    match kind.key_parts().get(index) {
        Some(KeyPart::PortalName) => string(DNS_LABEL_PATTERN),
        Some(KeyPart::Email) => {
            json!({"type": "string", "maxLength": MAX_EMAIL_BYTES, "pattern": EMAIL_PATTERN})
        }
        Some(KeyPart::FolderPath) => {
            json!({"type": "string", "maxLength": 1024, "pattern": FOLDER_PATH_PATTERN})
        }
        Some(KeyPart::Principal) => string(PRINCIPAL_PATTERN),
        Some(KeyPart::RoleName) => json!({"type": "string", "minLength": 1, "maxLength": MAX_KEY_BYTES,
            "not": {"enum": portalctl_core::model::BUILTIN_ROLES}}),
        Some(KeyPart::Name) | None => json!({"type": "string", "minLength": 1, "maxLength": MAX_KEY_BYTES}),
    }
}

/// `Change` (a `WireChange` sent), one option per kind and op: the key has the kind's parts (OpenAPI 3.0
/// has no tuples, so a two-part key's parts are each either schema; the service reads
/// them in either order, telling them apart by their form), a `put` carries a value of the kind's schema
/// and a `delete` none. The workspace cannot be deleted.
fn wire_change_schema() -> Value {
    let mut options = Vec::new();
    for &kind in Kind::ALL {
        let parts: Vec<Value> = (0..kind.key_len())
            .map(|index| key_part_schema(kind, index))
            .collect();
        let items = match parts.as_slice() {
            [] => json!({"type": "string"}),
            [one] => one.clone(),
            several => json!({"anyOf": several}),
        };
        let key =
            json!({"type": "array", "items": items, "minItems": kind.key_len(), "maxItems": kind.key_len()});
        let value = json!({"$ref": format!("#/components/schemas/{}", value_schema_name(kind))});
        let mut put = json!({
            "type": "object", "additionalProperties": false,
            "required": ["op", "kind", "value"],
            "properties": {"op": {"type": "string", "enum": ["put"]}, "kind": {"type": "string", "enum": [kind.as_str()]},
                "key": key, "value": value}
        });
        let mut delete = json!({
            "type": "object", "additionalProperties": false,
            "required": ["op", "kind"],
            "properties": {"op": {"type": "string", "enum": ["delete"]}, "kind": {"type": "string", "enum": [kind.as_str()]},
                "key": key}
        });
        if kind.key_len() > 0 {
            for option in [&mut put, &mut delete] {
                option["required"]
                    .as_array_mut()
                    .into_iter()
                    .for_each(|required| required.push(json!("key")));
            }
        }
        options.push(put);
        if kind != Kind::Workspace {
            options.push(delete);
        }
    }
    json!({
        "description": "A change: `put` (create or replace, with the whole `value` of the kind) or `delete` (no `value`) of the resource `kind` at `key` (its natural key's parts: `[]` for the workspace, `[portal, email]` for a member, `[folder or dashboard, principal]` for a share, `[name]` otherwise; the two parts of a member or share key may come in either order).",
        "oneOf": options
    })
}

/// The component name of the body of a `PATCH` of a `kind` (a merge patch of its value).
pub(crate) fn patch_schema_name(kind: Kind) -> String {
    format!("{}Patch", value_schema_name(kind))
}

/// The component name of the value schema of `kind` (its model type's schema name).
fn value_schema_name(kind: Kind) -> String {
    struct Name;
    impl KindVisitor for Name {
        type Output = String;
        fn workspace(self) -> String {
            portalctl_core::model::Workspace::schema_name().into_owned()
        }
        fn resource<R: Resource>(self) -> String {
            R::schema_name().into_owned()
        }
    }
    kind.visit(Name)
}

pub fn document() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let error = generator.subschema_for::<ErrorBody>().to_value();
    // The value schemas `WireChange` refers to, whether or not a route names them.
    for &kind in Kind::ALL {
        let _ = value_schema(kind)(&mut generator);
    }
    let mut paths: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for route in table() {
        let operation = operation(&route, &mut generator, &error);
        paths
            .entry(openapi_path(route.path))
            .or_default()
            .insert(route.method.as_str().to_lowercase(), operation);
    }
    let mut schemas: BTreeMap<String, Value> = generator.take_definitions(true).into_iter().collect();
    let definitions = schemas.clone();
    // Only what a client sends gets the input limits: responses (error messages that
    // quote input, stored values) may be longer.
    let mut sent = std::collections::BTreeSet::new();
    for methods in paths.values() {
        for operation in methods.values() {
            referenced(&operation["requestBody"], &definitions, &mut sent);
        }
    }
    for (name, schema) in &mut schemas {
        tighten(
            schema,
            &definitions,
            None,
            name == "ChangeMeta",
            sent.contains(name),
        );
    }
    for methods in paths.values_mut() {
        for operation in methods.values_mut() {
            for part in ["parameters", "requestBody"] {
                if let Some(part) = operation.get_mut(part) {
                    tighten(part, &definitions, None, false, true);
                }
            }
        }
    }
    patch_bodies_from_put_bodies(&mut paths, &mut schemas);
    // What `POST /v1/changes` takes (`Change`); responses (the audit log) keep the
    // looser `WireChange`, as what was committed stays readable when rules tighten.
    if let Some(change) = schemas.get_mut("Change") {
        *change = wire_change_schema();
    }
    let tags: Vec<Value> = tags()
        .iter()
        .map(|(name, description)| json!({"name": name, "description": description}))
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "portalctl portal access service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The admin API, access decisions and audit log of `portalctl serve`. \
                Every error is `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
                Bodies are `application/json` objects with no repeated key; see docs/serve.md for the limits.",
            "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"}
        },
        "servers": [{"url": "http://127.0.0.1:7878"}],
        "tags": tags,
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas
        }
    })
}

/// The document as checked in: pretty JSON with a trailing newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/openapi.json");

    #[test]
    fn checked_in_document_is_current() {
        let fresh = document_text();
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas")).unwrap();
            std::fs::write(PATH, &fresh).unwrap();
            return;
        }
        let stored = std::fs::read_to_string(PATH).unwrap_or_default();
        assert!(
            stored == fresh,
            "schemas/openapi.json is stale: run `UPDATE_SCHEMAS=1 cargo test openapi` to regenerate it"
        );
    }

    #[test]
    fn every_route_is_documented() {
        let stored: Value =
            serde_json::from_str(&std::fs::read_to_string(PATH).unwrap_or_else(|_| "{}".into())).unwrap();
        for route in table() {
            let path = openapi_path(route.path);
            let method = route.method.as_str().to_lowercase();
            assert!(
                stored["paths"][&path][&method].is_object(),
                "{method} {path} is served but not in schemas/openapi.json"
            );
        }
        let documented: usize = stored["paths"].as_object().map_or(0, |paths| {
            paths
                .values()
                .filter_map(Value::as_object)
                .map(serde_json::Map::len)
                .sum()
        });
        assert_eq!(
            documented,
            table().len(),
            "schemas/openapi.json documents routes that are not served"
        );
    }

    /// What `@redocly/cli lint` (run by `.ci/run`) needs of every operation, checked here
    /// too so `cargo test` catches it: tags, a description, an error response with the
    /// error body, declared `If-Match` where `412` is possible, `Retry-After` on `429`/`503`,
    /// and no `nullable` without a `type`.
    #[test]
    fn every_operation_is_lint_clean() {
        let document = document();
        let declared_tags: Vec<&str> = document["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|tag| tag["name"].as_str())
            .collect();
        for (path, methods) in document["paths"].as_object().unwrap() {
            for (method, operation) in methods.as_object().unwrap() {
                let at = format!("{method} {path}");
                let tags = operation["tags"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{at}: no tags"));
                assert!(!tags.is_empty(), "{at}: no tags");
                for tag in tags {
                    assert!(
                        declared_tags.contains(&tag.as_str().unwrap()),
                        "{at}: undeclared tag {tag}"
                    );
                }
                assert!(
                    operation["description"]
                        .as_str()
                        .is_some_and(|text| text.len() > 10),
                    "{at}: no description"
                );
                let responses = operation["responses"].as_object().unwrap();
                let errors: Vec<&String> = responses.keys().filter(|code| code.starts_with('4')).collect();
                assert!(!errors.is_empty(), "{at}: no 4XX response");
                for code in errors {
                    assert_eq!(
                        responses[code]["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{at} {code}: not the error body"
                    );
                }
                if responses.contains_key("412") {
                    let parameters = operation["parameters"].as_array().unwrap();
                    assert!(
                        parameters
                            .iter()
                            .any(|p| p["name"] == "If-Match" && p["in"] == "header"),
                        "{at}: 412 without a declared `If-Match`"
                    );
                }
                for code in ["429", "503"] {
                    if responses.contains_key(code) {
                        assert!(
                            responses[code]["headers"]["Retry-After"].is_object(),
                            "{at} {code}: no `Retry-After` header"
                        );
                    }
                }
            }
        }
        fn no_bare_nullable(value: &Value, at: &str) {
            match value {
                Value::Object(object) => {
                    assert!(
                        !object.contains_key("nullable") || object.contains_key("type"),
                        "{at}: `nullable` without `type`"
                    );
                    assert!(
                        !object.contains_key("propertyNames"),
                        "{at}: `propertyNames` is not OpenAPI 3.0"
                    );
                    for (key, child) in object {
                        no_bare_nullable(child, &format!("{at}/{key}"));
                    }
                }
                Value::Array(items) => items.iter().for_each(|item| no_bare_nullable(item, at)),
                _ => {}
            }
        }
        no_bare_nullable(&document, "");
    }

    /// OpenAPI 3.0 has no boolean schemas (`true` = anything): `@redocly/cli lint` refuses
    /// them, so every schema anywhere in the document is an object.
    #[test]
    fn every_schema_is_an_object() {
        fn walk(value: &Value, at: &str, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        let here = format!("{at}/{key}");
                        // `additionalProperties: false` is fine: there a boolean is no schema.
                        if matches!(key.as_str(), "schema" | "items" | "not") && child.is_boolean() {
                            found.push(here.clone());
                        }
                        walk(child, &here, found);
                    }
                }
                Value::Array(items) => {
                    for (index, child) in items.iter().enumerate() {
                        walk(child, &format!("{at}/{index}"), found);
                    }
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(&document(), "", &mut found);
        assert!(found.is_empty(), "boolean schemas at {found:?}");
    }

    #[test]
    fn documented_bounds_are_the_servers() {
        let document = document();
        let limit = &document["paths"]["/v1/roles"]["get"]["parameters"][0];
        assert_eq!(limit["name"], "limit");
        assert_eq!(limit["schema"]["maximum"], MAX_LIMIT);
        assert_eq!(
            document["components"]["schemas"]["ChangeMeta"]["properties"]["commit"]["maxLength"],
            MAX_META_BYTES
        );
        // Error bodies quote input: they are not bounded like input.
        assert!(
            document["components"]["schemas"]["ErrorDetail"]["properties"]["message"]["maxLength"].is_null()
        );
        let email = regex_lite_match(EMAIL_PATTERN);
        for good in ["alice@globex.com", "a.b+tag@mail.example.co.uk", "x@a-b.io"] {
            assert!(
                email(good) && portalctl_core::model::is_valid_email(good),
                "{good}"
            );
        }
        for bad in ["alice", "a@b", "a@-b.com", "a b@c.com", "a@b..com"] {
            assert!(
                !email(bad) && !portalctl_core::model::is_valid_email(bad),
                "{bad}"
            );
        }
    }

    /// A matcher for the patterns above through the `jsonschema` crate's regex engine, the
    /// same dialect as the document's readers.
    fn regex_lite_match(pattern: &str) -> impl Fn(&str) -> bool {
        let validator = jsonschema::validator_for(&json!({"type": "string", "pattern": pattern})).unwrap();
        move |text: &str| validator.is_valid(&json!(text))
    }

    #[test]
    fn the_router_builds_from_the_table() {
        // Building panics on overlapping or malformed routes.
        let dir = tempfile::tempdir().unwrap();
        let store = portalctl_store::Store::open(&dir.path().join("db"), super::super::today()).unwrap();
        let app = super::super::App::new(store, super::super::Tokens::default(), 0);
        let _ = super::super::router(app, 1024);
    }
}
