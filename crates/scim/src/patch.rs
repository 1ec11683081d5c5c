//! The PATCH engine of RFC 7644 §3.5.2: `add`, `remove` and `replace` applied to a
//! [`User`](crate::User) or [`Group`](crate::Group), as identity providers send them.
//!
//! Dialects handled (each has a test replaying the body): `op` in any case (`Replace`, as
//! Entra ID sends it); a path-less `replace` of an object (`{"active": false}`, Okta's
//! deprovisioning); booleans as strings (`"False"`, Entra ID); value-filter paths with a
//! sub-attribute (`emails[type eq "work"].value`), where an `add` that matches nothing
//! creates the element its `eq` filter describes; member removal by filter path
//! (`members[value eq "…"]`, Okta) and by value (`path: "members", value: [{"value": …}]`,
//! Entra ID).
//!
//! # Guarantees
//! [`apply`] is all or nothing: it returns a new resource or an error, never half a change.
//! Read-only attributes (`id`, `meta`, a user's `groups`) may be sent unchanged but never
//! changed (`mutability`). Attributes the schema does not model are dropped from path-less
//! values, as from POST bodies, and refused in a `path` (`invalidPath`).

use serde_json::{Map, Value};

use crate::filter::{self, AttrPath, CompValue, CompareOp, Filter, Resolved};
use crate::resource::{Resource, normalize_value};
use crate::schema::{Attribute, Kind, Mutability, ResourceSchema};
use crate::{Error, PATCH_OP_SCHEMA};

/// `add`, `remove` or `replace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOp,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// A PATCH request body.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// Reads a PATCH body: `schemas` must name the PatchOp message; `Operations`, `op`,
    /// `path` and `value` are matched ignoring case, as is the `op` value.
    ///
    /// # Errors
    /// `invalidSyntax` naming the operation (by index) and field that is wrong.
    pub fn from_json(body: &Value) -> Result<Self, Error> {
        let Value::Object(object) = body else {
            return Err(Error::invalid_syntax("a PATCH body must be a JSON object"));
        };
        let schemas = field(object, "schemas").and_then(Value::as_array);
        if !schemas.is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_OP_SCHEMA))) {
            return Err(Error::invalid_syntax(format!(
                "`schemas` must contain `{PATCH_OP_SCHEMA}`"
            )));
        }
        let Some(Value::Array(items)) = field(object, "Operations") else {
            return Err(Error::invalid_syntax(
                "`Operations` must be an array of operations",
            ));
        };
        if items.is_empty() {
            return Err(Error::invalid_syntax("`Operations` is empty"));
        }
        let operations = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let Value::Object(item) = item else {
                    return Err(Error::invalid_syntax(format!(
                        "`Operations[{index}]` must be an object"
                    )));
                };
                let op = match field(item, "op").and_then(Value::as_str) {
                    Some(op) if op.eq_ignore_ascii_case("add") => PatchOp::Add,
                    Some(op) if op.eq_ignore_ascii_case("remove") => PatchOp::Remove,
                    Some(op) if op.eq_ignore_ascii_case("replace") => PatchOp::Replace,
                    _ => {
                        return Err(Error::invalid_syntax(format!(
                            "`Operations[{index}].op` must be `add`, `remove` or `replace`"
                        )));
                    }
                };
                let path = match field(item, "path") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(path)) => Some(path.clone()),
                    Some(_) => {
                        return Err(Error::invalid_path(format!(
                            "`Operations[{index}].path` must be a string"
                        )));
                    }
                };
                let value = field(item, "value").cloned();
                Ok(PatchOperation { op, path, value })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { operations })
    }
}

fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Applies `operations` in order to `resource`.
///
/// # Errors
/// The first operation's error, with the RFC's `scimType`: `invalidPath` (malformed path,
/// unknown attribute), `noTarget` (a filter that matches nothing, a `remove` without a
/// path), `invalidValue` (a missing or ill-typed value), `mutability` (a read-only
/// attribute changed).
pub fn apply<R: Resource>(resource: &R, operations: &[PatchOperation]) -> Result<R, Error> {
    let schema = R::SCHEMA;
    let before = resource.to_json();
    let mut after = before.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_one(&mut after, operation, &schema).map_err(|mut error| {
            error.detail = format!("Operations[{index}]: {}", error.detail);
            error
        })?;
    }
    for attribute in schema
        .attributes
        .iter()
        .filter(|a| a.mutability == Mutability::ReadOnly)
    {
        if before.get(attribute.name) != after.get(attribute.name) {
            return Err(Error::mutability(format!("`{}` is read-only", attribute.name)));
        }
    }
    if let Some(extension) = schema.extension
        && after
            .get(extension)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        after
            .as_object_mut()
            .expect("a resource is an object")
            .remove(extension);
    }
    R::from_json(after)
}

/// Where an operation points.
struct Target {
    /// The extension URN the attribute lives under, or `None` for a core attribute.
    extension: Option<&'static str>,
    /// The canonical name (as written for an extension attribute).
    name: String,
    /// The core attribute, `None` for an extension attribute.
    attribute: Option<&'static Attribute>,
    filter: Option<Filter>,
    /// A canonical sub-attribute name.
    sub: Option<String>,
}

impl Target {
    fn parse(text: &str, schema: &ResourceSchema) -> Result<Self, Error> {
        let (path, filter, sub_after_filter) = filter::parse_patch_path(text)?;
        let resolved = filter::resolve(schema, &path)?;
        Self::from_path(&path, filter, sub_after_filter, resolved, schema, text)
    }

    fn from_path(
        path: &AttrPath,
        filter: Option<Filter>,
        sub_after_filter: Option<String>,
        resolved: Resolved,
        schema: &ResourceSchema,
        text: &str,
    ) -> Result<Self, Error> {
        match resolved {
            Resolved::Extension => {
                if filter.is_some() {
                    return Err(Error::invalid_path(format!(
                        "`{text}`: extension attributes are simple"
                    )));
                }
                Ok(Self {
                    extension: schema.extension,
                    name: path.name.clone(),
                    attribute: None,
                    filter: None,
                    sub: None,
                })
            }
            Resolved::Core(attribute) => {
                if let Some(filter) = &filter {
                    if !(attribute.multi_valued && attribute.kind == Kind::Complex) {
                        return Err(Error::invalid_path(format!(
                            "`{text}`: a value filter needs a multi-valued complex attribute"
                        )));
                    }
                    filter
                        .validate_sub_attributes(attribute)
                        .map_err(|e| Error::invalid_path(format!("`{text}`: {}", e.detail)))?;
                }
                let sub = match path.sub.as_deref().or(sub_after_filter.as_deref()) {
                    Some(sub) => Some(
                        attribute
                            .sub_attribute(sub)
                            .ok_or_else(|| {
                                Error::invalid_path(format!(
                                    "`{}` has no sub-attribute `{sub}`",
                                    attribute.name
                                ))
                            })?
                            .name
                            .to_owned(),
                    ),
                    None => None,
                };
                Ok(Self {
                    extension: None,
                    name: attribute.name.to_owned(),
                    attribute: Some(attribute),
                    filter,
                    sub,
                })
            }
        }
    }

    fn multi_valued(&self) -> bool {
        self.attribute.is_some_and(|a| a.multi_valued)
    }

    fn complex(&self) -> bool {
        self.attribute.is_some_and(|a| a.kind == Kind::Complex)
    }

    /// The object holding the attribute, created when `create`.
    fn container<'v>(&self, resource: &'v mut Value, create: bool) -> Option<&'v mut Map<String, Value>> {
        let object = resource.as_object_mut().expect("a resource is an object");
        match self.extension {
            None => Some(object),
            Some(urn) => {
                if create && !object.contains_key(urn) {
                    object.insert(urn.to_owned(), Value::Object(Map::new()));
                }
                object.get_mut(urn).and_then(Value::as_object_mut)
            }
        }
    }

    fn normalize(&self, value: Value) -> Value {
        match self.attribute {
            Some(attribute) => normalize_value(value, attribute),
            None => value,
        }
    }
}

impl Filter {
    /// Checks that every path inside a value filter names a sub-attribute of `attribute`.
    fn validate_sub_attributes(&self, attribute: &'static Attribute) -> Result<(), Error> {
        let wrapped = Self::ValuePath {
            path: AttrPath::attribute(attribute.name),
            filter: Box::new(self.clone()),
        };
        let schema = ResourceSchema {
            name: "value",
            core: "",
            attributes: std::slice::from_ref(attribute),
            extension: None,
        };
        wrapped.validate(&schema)
    }

    fn matches_element(&self, element: &Value, attribute: &'static Attribute) -> bool {
        let schema = ResourceSchema {
            name: "value",
            core: "",
            attributes: std::slice::from_ref(attribute),
            extension: None,
        };
        let wrapped = Self::ValuePath {
            path: AttrPath::attribute(attribute.name),
            filter: Box::new(self.clone()),
        };
        let mut holder = Map::new();
        holder.insert(attribute.name.to_owned(), Value::Array(vec![element.clone()]));
        wrapped.matches(&Value::Object(holder), &schema)
    }

    /// The `sub eq value` pairs of a filter made only of `eq` and `and`, which describe the
    /// element an `add` creates when nothing matches.
    fn equalities(&self, attribute: &'static Attribute) -> Option<Vec<(String, Value)>> {
        match self {
            Self::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.schema.is_none() && path.sub.is_none() => {
                let name = attribute.sub_attribute(&path.name)?.name.to_owned();
                let value = match value {
                    CompValue::String(text) => Value::from(text.clone()),
                    CompValue::Bool(flag) => Value::from(*flag),
                    CompValue::Number(number) => Value::Number(number.clone()),
                    CompValue::Null => return None,
                };
                Some(vec![(name, value)])
            }
            Self::And(left, right) => {
                let mut pairs = left.equalities(attribute)?;
                pairs.extend(right.equalities(attribute)?);
                Some(pairs)
            }
            _ => None,
        }
    }
}

fn apply_one(resource: &mut Value, operation: &PatchOperation, schema: &ResourceSchema) -> Result<(), Error> {
    let Some(path) = &operation.path else {
        return apply_without_path(resource, operation, schema);
    };
    // A path naming the extension schema itself (as scim2-tester sends it): its object as
    // a whole. `add` and `replace` set each attribute the value names, leaving the others
    // (RFC 7644 §3.5.2.3 for a complex attribute); `remove` unassigns them all.
    if schema.is_extension(path.trim()) {
        let urn = schema.extension.expect("is_extension implies an extension");
        if operation.op == PatchOp::Remove {
            if let Some(object) = resource.as_object_mut() {
                object.remove(urn);
            }
            return Ok(());
        }
        let value = operation.value.clone().ok_or_else(|| {
            Error::invalid_value(format!("`{path}`: `{}` needs a `value`", op_name(operation.op)))
        })?;
        let whole = PatchOperation {
            op: operation.op,
            path: None,
            value: Some(Value::Object(Map::from_iter([(urn.to_owned(), value)]))),
        };
        return apply_without_path(resource, &whole, schema);
    }
    let target = Target::parse(path, schema)?;
    match operation.op {
        PatchOp::Remove => remove(resource, &target, operation.value.as_ref(), path),
        PatchOp::Add | PatchOp::Replace => {
            let value = operation.value.clone().ok_or_else(|| {
                Error::invalid_value(format!("`{path}`: `{}` needs a `value`", op_name(operation.op)))
            })?;
            set(resource, &target, value, operation.op, path)
        }
    }
}

fn op_name(op: PatchOp) -> &'static str {
    match op {
        PatchOp::Add => "add",
        PatchOp::Remove => "remove",
        PatchOp::Replace => "replace",
    }
}

/// A path-less `add` or `replace`: each member of the value object is an operation on the
/// attribute it names (an extension's object, on each of its attributes).
fn apply_without_path(
    resource: &mut Value,
    operation: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), Error> {
    if operation.op == PatchOp::Remove {
        return Err(Error::no_target("`remove` needs a `path`"));
    }
    let Some(Value::Object(object)) = &operation.value else {
        return Err(Error::invalid_value(format!(
            "a `{}` without a `path` needs an object `value`",
            op_name(operation.op)
        )));
    };
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if schema.is_extension(key) {
            let Value::Object(attributes) = value else {
                return Err(Error::invalid_value(format!("`{key}` must be an object")));
            };
            let urn = schema.extension.expect("is_extension implies an extension");
            for (name, value) in attributes {
                // The extension's own `schemas`, as a client may copy it from a read.
                if name.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                let target = Target {
                    extension: Some(urn),
                    name: name.clone(),
                    attribute: None,
                    filter: None,
                    sub: None,
                };
                set(resource, &target, value.clone(), operation.op, name)?;
            }
            continue;
        }
        let target = match Target::parse(key, schema) {
            Ok(target) => target,
            // Unmodelled attributes are dropped, as from a POST body.
            Err(error) if error.scim_type == Some(crate::ScimType::InvalidPath) && !key.contains('[') => {
                continue;
            }
            Err(error) => return Err(error),
        };
        set(resource, &target, value.clone(), operation.op, key)?;
    }
    Ok(())
}

/// `add` or `replace` at a target.
fn set(resource: &mut Value, target: &Target, value: Value, op: PatchOp, path: &str) -> Result<(), Error> {
    let value = if target.sub.is_some() {
        value
    } else {
        target.normalize(value)
    };
    let container = target
        .container(resource, true)
        .ok_or_else(|| Error::invalid_value(format!("`{path}`: the extension must be an object")))?;
    if let Some(filter) = &target.filter {
        let attribute = target.attribute.expect("a filter implies a core attribute");
        let elements = container
            .entry(target.name.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(elements) = elements else {
            return Err(Error::invalid_value(format!(
                "`{}` is not multi-valued",
                target.name
            )));
        };
        let matched: Vec<usize> = (0..elements.len())
            .filter(|&i| filter.matches_element(&elements[i], attribute))
            .collect();
        if matched.is_empty() {
            let creatable = op == PatchOp::Add || target.sub.is_some();
            if let (true, Some(pairs)) = (creatable && op == PatchOp::Add, filter.equalities(attribute)) {
                let mut element: Map<String, Value> = pairs.into_iter().collect();
                match (&target.sub, value) {
                    (Some(sub), value) => {
                        element.insert(sub.clone(), value);
                    }
                    (None, Value::Object(fields)) => element.extend(fields),
                    (None, _) => {
                        return Err(Error::invalid_value(format!(
                            "`{path}`: the value must be an object"
                        )));
                    }
                }
                elements.push(Value::Object(element));
                return Ok(());
            }
            return Err(Error::no_target(format!("`{path}`: the filter matches no value")));
        }
        for index in matched {
            match &target.sub {
                Some(sub) => {
                    if let Value::Object(element) = &mut elements[index] {
                        element.insert(sub.clone(), value.clone());
                    }
                }
                None => {
                    let Value::Object(fields) = &value else {
                        return Err(Error::invalid_value(format!(
                            "`{path}`: the value must be an object"
                        )));
                    };
                    if op == PatchOp::Replace {
                        elements[index] = Value::Object(fields.clone());
                    } else if let Value::Object(element) = &mut elements[index] {
                        element.extend(fields.clone());
                    }
                }
            }
        }
        return Ok(());
    }
    if let Some(sub) = &target.sub {
        if target.multi_valued() {
            return Err(Error::invalid_path(format!(
                "`{path}`: select the values with a filter, as in `{}[type eq \"work\"].{sub}`",
                target.name
            )));
        }
        let parent = container
            .entry(target.name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(parent) = parent else {
            return Err(Error::invalid_value(format!("`{}` is not complex", target.name)));
        };
        parent.insert(sub.clone(), value);
        return Ok(());
    }
    if target.multi_valued() {
        let values = match value {
            Value::Array(values) => values,
            Value::Null => Vec::new(),
            single => vec![single],
        };
        if op == PatchOp::Replace {
            container.insert(target.name.clone(), Value::Array(values));
            return Ok(());
        }
        let elements = container
            .entry(target.name.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(elements) = elements else {
            return Err(Error::invalid_value(format!(
                "`{}` is not multi-valued",
                target.name
            )));
        };
        for value in values {
            if !elements.iter().any(|existing| same_element(existing, &value)) {
                elements.push(value);
            }
        }
        return Ok(());
    }
    if target.complex() {
        let Value::Object(fields) = value else {
            return Err(Error::invalid_value(format!(
                "`{path}`: the value must be an object"
            )));
        };
        let parent = container
            .entry(target.name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        match parent {
            Value::Object(parent) => parent.extend(fields),
            other => *other = Value::Object(fields),
        }
        return Ok(());
    }
    container.insert(target.name.clone(), value);
    Ok(())
}

/// Two values of a multi-valued attribute are the same when their `value`s are (or, without
/// one, when they are equal).
fn same_element(left: &Value, right: &Value) -> bool {
    match (left.get("value"), right.get("value")) {
        (Some(left), Some(right)) => left == right,
        _ => left == right,
    }
}

fn remove(resource: &mut Value, target: &Target, value: Option<&Value>, path: &str) -> Result<(), Error> {
    let Some(container) = target.container(resource, false) else {
        return Ok(());
    };
    if let Some(filter) = &target.filter {
        let attribute = target.attribute.expect("a filter implies a core attribute");
        let Some(Value::Array(elements)) = container.get_mut(&target.name) else {
            return Err(Error::no_target(format!("`{path}`: the filter matches no value")));
        };
        let before = elements.len();
        let mut matched = 0;
        match &target.sub {
            None => {
                elements.retain(|element| !filter.matches_element(element, attribute));
                matched = before - elements.len();
            }
            Some(sub) => {
                for element in elements.iter_mut() {
                    if filter.matches_element(element, attribute)
                        && let Value::Object(fields) = element
                    {
                        fields.remove(sub);
                        matched += 1;
                    }
                }
            }
        }
        if matched == 0 {
            return Err(Error::no_target(format!("`{path}`: the filter matches no value")));
        }
        if elements.is_empty() {
            container.remove(&target.name);
        }
        return Ok(());
    }
    match (&target.sub, target.multi_valued(), value) {
        (Some(sub), true, _) => {
            if let Some(Value::Array(elements)) = container.get_mut(&target.name) {
                for element in elements.iter_mut() {
                    if let Value::Object(fields) = element {
                        fields.remove(sub);
                    }
                }
            }
        }
        (Some(sub), false, _) => {
            if let Some(Value::Object(parent)) = container.get_mut(&target.name) {
                parent.remove(sub);
            }
        }
        (None, true, Some(value)) => {
            let Some(Value::Array(elements)) = container.get_mut(&target.name) else {
                return Ok(());
            };
            let removed = match target.normalize(value.clone()) {
                Value::Array(values) => values,
                single => vec![single],
            };
            elements.retain(|element| !removed.iter().any(|r| same_element(element, r)));
            if elements.is_empty() {
                container.remove(&target.name);
            }
        }
        (None, _, _) => {
            container.remove(&target.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Email, Group, Member, ScimType, User};

    fn request(operations: Value) -> PatchRequest {
        PatchRequest::from_json(&json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations}))
            .expect("a valid PATCH body")
    }

    fn alice() -> User {
        let mut user = User::from_body(json!({
            "id": "u1",
            "userName": "alice@globex.com",
            "externalId": "00u1",
            "name": {"givenName": "Alice", "familyName": "Ng"},
            "emails": [{"value": "alice@globex.com", "type": "work", "primary": true}],
        }))
        .expect("a user");
        user.meta = Some(crate::Meta {
            version: Some("W/\"1\"".to_owned()),
            ..crate::Meta::default()
        });
        user
    }

    fn sales() -> Group {
        Group::from_body(json!({
            "id": "g1",
            "displayName": "sales",
            "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u3"}],
        }))
        .expect("a group")
    }

    fn patch_user(operations: Value) -> Result<User, Error> {
        apply(&alice(), &request(operations).operations)
    }

    #[test]
    fn okta_deactivates_with_a_path_less_replace() {
        let user = patch_user(json!([{"op": "replace", "value": {"active": false}}])).expect("applies");
        assert_eq!(
            user,
            User {
                active: false,
                ..alice()
            }
        );
    }

    #[test]
    fn entra_deactivates_with_replace_in_capitals_and_a_string_boolean() {
        let user =
            patch_user(json!([{"op": "Replace", "path": "active", "value": "False"}])).expect("applies");
        assert_eq!(
            user,
            User {
                active: false,
                ..alice()
            }
        );
    }

    #[test]
    fn entra_replaces_the_work_email_through_a_value_path() {
        let user = patch_user(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a.ng@globex.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Ng-Smith"},
            {"op": "Add", "path": "externalId", "value": "aad-1"}
        ]))
        .expect("applies");
        assert_eq!(user.emails[0].value, "a.ng@globex.com");
        assert!(user.emails[0].primary);
        assert_eq!(user.name.and_then(|n| n.family_name).as_deref(), Some("Ng-Smith"));
        assert_eq!(user.external_id.as_deref(), Some("aad-1"));
    }

    #[test]
    fn entra_path_less_add_with_paths_as_keys_creates_the_element_the_filter_describes() {
        let user = patch_user(json!([{"op": "Add", "value": {
            "emails[type eq \"home\"].value": "alice@home.example",
            "displayName": "Alice Ng",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "ignored"
        }}]))
        .expect("applies");
        assert_eq!(user.emails.len(), 2);
        assert_eq!(
            user.emails[1],
            Email {
                value: "alice@home.example".to_owned(),
                kind: Some("home".to_owned()),
                primary: false,
                display: None
            }
        );
        assert_eq!(user.display_name.as_deref(), Some("Alice Ng"));
    }

    #[test]
    fn the_self_service_extension_is_patched_by_urn_path_or_object() {
        let user = patch_user(json!([
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:portalctl:2.0:User:region", "value": "emea"},
            {"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:portalctl:2.0:User": {"tier": 2}}}
        ]))
        .expect("applies");
        let extension = user.self_service.expect("extension").0;
        assert_eq!(extension["region"], json!("emea"));
        assert_eq!(extension["tier"], json!(2));
        let removed = apply(
            &User { self_service: Some(crate::SelfService([("region".to_owned(), json!("emea"))].into())), ..alice() },
            &request(json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:portalctl:2.0:User:region"}])).operations,
        )
        .expect("applies");
        assert_eq!(removed.self_service, None);
        assert_eq!(removed.schemas, vec![crate::USER_SCHEMA]);
    }

    /// A path naming the extension schema itself (as scim2-tester sends it) is its object:
    /// `add` and `replace` set the attributes named (its own `schemas` ignored) and keep
    /// the others; `remove` unassigns them all.
    #[test]
    fn a_path_naming_the_extension_schema_patches_its_object() {
        const URN: &str = "urn:ietf:params:scim:schemas:extension:portalctl:2.0:User";
        let with_tier = User {
            self_service: Some(crate::SelfService([("tier".to_owned(), json!(1))].into())),
            ..alice()
        };
        for op in ["add", "Replace"] {
            let user = apply(
                &with_tier,
                &request(json!([{"op": op, "path": URN, "value": {"schemas": [URN], "region": "emea"}}]))
                    .operations,
            )
            .expect("applies");
            let extension = user.self_service.expect("extension").0;
            assert_eq!(extension.get("region"), Some(&json!("emea")), "{op}");
            assert_eq!(extension.get("tier"), Some(&json!(1)), "{op}");
            assert!(!extension.contains_key("schemas"), "{op}");
        }
        let removed = apply(
            &with_tier,
            &request(json!([{"op": "remove", "path": URN.to_uppercase()}])).operations,
        )
        .expect("applies");
        assert_eq!(removed.self_service, None);
        let error = apply(
            &with_tier,
            &request(json!([{"op": "add", "path": URN}])).operations,
        )
        .unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn okta_removes_a_member_by_filter_path_and_adds_members() {
        let group = apply(
            &sales(),
            &request(json!([
                {"op": "remove", "path": "members[value eq \"u2\"]"},
                {"op": "add", "path": "members", "value": [{"value": "u4", "display": "dan@globex.com"}, {"value": "u1"}]}
            ]))
            .operations,
        )
        .expect("applies");
        let members: Vec<&str> = group.members.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(members, ["u1", "u3", "u4"]);
    }

    #[test]
    fn okta_renames_a_group_sending_its_unchanged_id() {
        let group = apply(
            &sales(),
            &request(json!([{"op": "replace", "value": {"id": "g1", "displayName": "Sales EMEA"}}]))
                .operations,
        )
        .expect("applies");
        assert_eq!(group.display_name, "Sales EMEA");
    }

    #[test]
    fn entra_removes_members_by_value() {
        let group = apply(
            &sales(),
            &request(
                json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u3"}]}]),
            )
            .operations,
        )
        .expect("applies");
        assert_eq!(
            group.members,
            vec![Member {
                value: "u2".to_owned(),
                reference: None,
                display: None,
                kind: None
            }]
        );
    }

    #[test]
    fn errors_carry_the_rfc_scim_type() {
        for (operations, expected) in [
            (
                json!([{"op": "replace", "path": "title", "value": "CFO"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "name.nickname", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails.value", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "userName[value eq \"x\"]", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails[kind eq \"work\"].value", "value": "x"}]),
                ScimType::InvalidPath,
            ),
            (json!([{"op": "remove"}]), ScimType::NoTarget),
            (
                json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x"}]),
                ScimType::NoTarget,
            ),
            (
                json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
                ScimType::NoTarget,
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "maybe"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "add", "path": "displayName"}]),
                ScimType::InvalidValue,
            ),
            (json!([{"op": "replace", "value": true}]), ScimType::InvalidValue),
            (
                json!([{"op": "remove", "path": "userName"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "replace", "path": "id", "value": "other"}]),
                ScimType::Mutability,
            ),
            (
                json!([{"op": "add", "path": "groups", "value": [{"value": "g9"}]}]),
                ScimType::Mutability,
            ),
            (json!([{"op": "remove", "path": "meta"}]), ScimType::Mutability),
            (
                json!([{"op": "replace", "value": {"meta": {"version": "W/\"9\""}}}]),
                ScimType::Mutability,
            ),
        ] {
            let error = patch_user(operations.clone()).expect_err(&operations.to_string());
            assert_eq!(error.scim_type, Some(expected), "{operations}: {error}");
            if matches!(expected, ScimType::InvalidPath | ScimType::NoTarget) {
                assert!(error.detail.starts_with("Operations[0]: "), "{}", error.detail);
            }
        }
        let error = apply(
            &sales(),
            &request(json!([{"op": "remove", "path": "members[value eq \"u9\"]"}])).operations,
        )
        .expect_err("no such member");
        assert_eq!(error.scim_type, Some(ScimType::NoTarget));
    }

    #[test]
    fn malformed_bodies_are_invalid_syntax() {
        for body in [
            json!([]),
            json!({"Operations": [{"op": "add", "path": "displayName", "value": "x"}]}),
            json!({"schemas": [PATCH_OP_SCHEMA]}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "move", "path": "x"}]}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ["add"]}),
        ] {
            let error = PatchRequest::from_json(&body).expect_err(&body.to_string());
            assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax), "{body}");
        }
        let lower = PatchRequest::from_json(
            &json!({"SCHEMAS": [PATCH_OP_SCHEMA], "operations": [{"OP": "ADD", "Path": "x", "Value": 1}]}),
        )
        .expect("names ignore case");
        assert_eq!(
            lower.operations,
            vec![PatchOperation {
                op: PatchOp::Add,
                path: Some("x".to_owned()),
                value: Some(json!(1))
            }]
        );
    }

    #[test]
    fn a_failing_operation_changes_nothing() {
        let user = alice();
        let result = apply(
            &user,
            &request(json!([
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "path": "title", "value": "CFO"}
            ]))
            .operations,
        );
        assert!(result.is_err());
        assert!(user.active);
    }
}
