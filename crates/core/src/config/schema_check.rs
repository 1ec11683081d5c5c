//! JSON Schema validation of one parsed file, with each error placed on the YAML node it
//! concerns and unknown keys answered with "did you mean".
//!
//! The schema also states rules the domain rules check (colours, URLs, emails, portal and
//! folder names, permissions, "exactly one of"), so editors flag them; `validate` leaves
//! those to the rules, whose messages name the rule and suggest a fix
//! ([`reported_by_rules`]).

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};

use super::yaml::{Node, Position};
use crate::model::suggest::did_you_mean;

/// A schema problem at a position.
pub struct SchemaProblem {
    pub at: Position,
    pub message: String,
    pub hint: Option<String>,
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&super::document::schema())
            .expect("the generated config schema is a valid schema")
    })
}

/// Property names the schema allows at the object the error concerns.
fn allowed_keys(schema_path: &str) -> Vec<String> {
    let schema = super::document::schema();
    let object_path = schema_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(schema_path);
    let object = schema.pointer(object_path);
    object
        .and_then(|object| object.get("properties"))
        .and_then(serde_json::Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

fn describe(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "nothing (null)",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

fn type_name(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "string" => "a string".to_string(),
        "integer" => "an integer".to_string(),
        "boolean" => "a boolean".to_string(),
        other => other.to_string(),
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(set) => set
            .iter()
            .filter(|t| t.to_string() != "null")
            .map(|t| name(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// Whether the domain rules (`model::rules`, `config::merge`) report this schema error
/// themselves, with a better message ("not a colour", "did you mean `reports.view`?"),
/// once the file deserialises; these schema errors exist for editors and other validators.
/// The keys in each pattern below are the ones the rules check.
fn reported_by_rules(kind: &ValidationErrorKind, pointer: &str) -> bool {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    match kind {
        ValidationErrorKind::Pattern { .. } => matches!(
            segments.as_slice(),
            ["portals", _, "color" | "logout_url" | "home_cover"]
                | ["portals" | "portal_templates", _, "texts", "help_url"]
                | ["portals", _, "members", _, "email"]
                | ["folders" | "dashboards", _, "shares", _, "user"]
                | ["groups", _, "members", _]
        ),
        // Portal names (DNS labels), folder and dashboard paths.
        ValidationErrorKind::PropertyNames { .. } => {
            matches!(segments.as_slice(), ["portals" | "folders" | "dashboards"])
        }
        ValidationErrorKind::Enum { .. } => matches!(segments.as_slice(), ["roles", _, "permissions", _]),
        // Exactly one principal per share; `email` or `from_csv` per roster entry; one
        // form per assertion (`assurance::assertion` names the forms it found).
        ValidationErrorKind::OneOfMultipleValid { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            matches!(
                segments.as_slice(),
                ["folders" | "dashboards", _, "shares", _] | ["portals", _, "members", _] | ["assertions", _]
            )
        }
        // `scim: true` needs `portals` (`delegated-scim-without-portals` says so, with a hint).
        ValidationErrorKind::AnyOf { .. } => {
            matches!(segments.as_slice(), ["partner_orgs", _, "self_management"])
        }
        _ => false,
    }
}

/// Validates a file's data; returns every problem, placed on its node.
pub fn check(root: &Node) -> Vec<SchemaProblem> {
    let instance = root.to_json();
    let mut problems = Vec::new();
    for error in validator().iter_errors(&instance) {
        let pointer = error.instance_path().as_str().to_string();
        if reported_by_rules(error.kind(), &pointer) {
            continue;
        }
        let (node, _) = root.at_pointer(&pointer);
        let at = node.at;
        let value = instance.pointer(&pointer).unwrap_or(&serde_json::Value::Null);
        let field = pointer
            .rsplit('/')
            .next()
            .unwrap_or("")
            .replace("~1", "/")
            .replace("~0", "~");
        let field_text = if field.is_empty() {
            "the file".to_string()
        } else {
            format!("`{field}`")
        };
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = allowed_keys(error.schema_path().as_str());
                for key in unexpected {
                    problems.push(SchemaProblem {
                        at: node.key_position(key).unwrap_or(at),
                        message: format!("unknown key `{key}`"),
                        hint: did_you_mean(key, allowed.iter().map(String::as_str)).or_else(|| {
                            (!allowed.is_empty()).then(|| format!("expected one of: {}", allowed.join(", ")))
                        }),
                    });
                }
            }
            ValidationErrorKind::Type { kind } => problems.push(SchemaProblem {
                at,
                message: format!(
                    "{field_text} must be {}, found {}",
                    type_name(kind),
                    describe(value)
                ),
                hint: None,
            }),
            ValidationErrorKind::Required { property } => problems.push(SchemaProblem {
                at,
                message: format!("missing required key `{}`", property.as_str().unwrap_or_default()),
                hint: None,
            }),
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .filter_map(|o| o.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let found = value.as_str().unwrap_or_default();
                problems.push(SchemaProblem {
                    at,
                    message: format!("{field_text}: `{}` is not one of: {}", found, options.join(", ")),
                    hint: did_you_mean(found, options.iter().map(String::as_str)),
                });
            }
            ValidationErrorKind::Pattern { .. } | ValidationErrorKind::Format { .. } => {
                let hint = match field.as_str() {
                    "expires" => Some("dates are written `YYYY-MM-DD`".to_string()),
                    "session_ttl" => Some("durations are written like `18h`, `90m` or `1h30m`".to_string()),
                    _ => None,
                };
                problems.push(SchemaProblem {
                    at,
                    message: format!(
                        "{field_text}: `{}` is not in the expected form",
                        value.as_str().unwrap_or_default()
                    ),
                    hint,
                });
            }
            ValidationErrorKind::AnyOf { .. } => problems.push(SchemaProblem {
                at,
                message: format!(
                    "{field_text} must be a string, an integer or a boolean, found {}",
                    describe(value)
                ),
                hint: None,
            }),
            // Other keywords: name the keyword, never echo the value (it may be sensitive).
            other => problems.push(SchemaProblem {
                at,
                message: format!("{field_text} breaks the schema's `{}` rule", other.keyword()),
                hint: None,
            }),
        }
    }
    problems
}
