//! The OpenAPI 3 document of the service, built from the route table and the schemas of
//! the wire types, and checked in as `schemas/openapi.json`.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::routes::{Route, table};
use portalctl_core::api::ErrorBody;

/// `{*name}` (axum) becomes `{name}` (OpenAPI).
pub fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
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
                "schema": {"type": "string"},
                "description": format!("{name}{rest}")
            })
        })
        .collect()
}

fn operation(route: &Route, generator: &mut schemars::SchemaGenerator, error: &Value) -> Value {
    let mut parameters = path_parameters(route.path);
    parameters.extend(route.query.iter().map(|(name, kind, required, description)| {
        json!({"name": name, "in": "query", "required": required,
               "schema": {"type": kind}, "description": description})
    }));
    let (status, success) = route.success;
    let mut responses = serde_json::Map::new();
    responses.insert(
        status.to_string(),
        json!({"description": "success",
               "content": {"application/json": {"schema": success(generator).to_value()}}}),
    );
    let errors: &[(&str, &str)] = if route.public {
        &[]
    } else if route.method == axum::http::Method::GET {
        &[
            ("400", "bad path or query"),
            ("401", "missing or unknown token"),
            ("404", "not found"),
        ]
    } else {
        &[
            ("400", "malformed JSON or bad path"),
            ("401", "missing or unknown token"),
            ("403", "the token may not write"),
            ("404", "not found"),
            ("409", "stale revision, protected portal or conflict"),
            ("412", "`If-Match` does not match the revision"),
            ("413", "body over the size limit"),
            ("422", "invalid body or changes; nothing applied"),
        ]
    };
    for (code, description) in errors {
        responses.insert(
            (*code).to_string(),
            json!({"description": description, "content": {"application/json": {"schema": error}}}),
        );
    }
    let mut operation = json!({
        "summary": route.summary,
        "operationId": format!("{}{}", route.method.as_str().to_lowercase(),
            route.path.replace(['{', '}', '*'], "").replace(['/', '-'], "_")),
        "parameters": parameters,
        "responses": responses,
    });
    if route.public {
        operation["security"] = json!([]);
    }
    if let Some(request) = route.request {
        operation["requestBody"] = json!({"required": true,
            "content": {"application/json": {"schema": request(generator).to_value()}}});
    }
    operation
}

/// The document, deterministic: paths and components are sorted.
pub fn document() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let error = generator.subschema_for::<ErrorBody>().to_value();
    let mut paths: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for route in table() {
        let operation = operation(&route, &mut generator, &error);
        paths
            .entry(openapi_path(route.path))
            .or_default()
            .insert(route.method.as_str().to_lowercase(), operation);
    }
    let schemas: BTreeMap<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "portalctl portal access service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The admin API, access decisions and audit log of `portalctl serve`. \
                Every error is `{\"error\": {\"code\", \"message\", \"field\"?}}`."
        },
        "servers": [{"url": "http://127.0.0.1:7878"}],
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

    #[test]
    fn the_router_builds_from_the_table() {
        // Building panics on overlapping or malformed routes.
        let dir = tempfile::tempdir().unwrap();
        let store = portalctl_store::Store::open(&dir.path().join("db"), super::super::today()).unwrap();
        let app = super::super::App::new(store, super::super::Tokens::default(), 0);
        let _ = super::super::router(app, 1024);
    }
}
