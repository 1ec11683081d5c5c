//! The documents a SCIM service provider serves besides its resources: the list response
//! (RFC 7644 §3.4.2), `/ServiceProviderConfig` (RFC 7643 §5), `/ResourceTypes` (§6) and
//! `/Schemas` (§7, rendered from the [`crate::schema`] tables, so the schema a client reads
//! is the one the evaluator and PATCH engine apply).

use serde::Serialize;
use serde_json::{Value, json};

use crate::schema::{Attribute, Kind, ResourceSchema};
use crate::{
    LIST_RESPONSE_SCHEMA, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SELF_SERVICE_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA,
};

/// A page of resources (`startIndex` is 1-based; totals are integers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    pub schemas: [&'static str; 1],
    pub total_results: usize,
    pub start_index: usize,
    pub items_per_page: usize,
    #[serde(rename = "Resources")]
    pub resources: Vec<T>,
}

impl<T> ListResponse<T> {
    /// A page of `resources` out of `total_results`, starting at `start_index`.
    #[must_use]
    pub fn new(resources: Vec<T>, total_results: usize, start_index: usize) -> Self {
        Self {
            schemas: [LIST_RESPONSE_SCHEMA],
            total_results,
            start_index,
            items_per_page: resources.len(),
            resources,
        }
    }
}

/// Pagination as RFC 7644 §3.4.2.4 asks: a `startIndex` below 1 is 1, a negative `count`
/// is 0; returns the range of items to serve out of `total`.
#[must_use]
pub fn page(
    total: usize,
    start_index: Option<i64>,
    count: Option<i64>,
    max: usize,
) -> (usize, std::ops::Range<usize>) {
    let start_index = usize::try_from(start_index.unwrap_or(1).max(1)).unwrap_or(usize::MAX);
    let count = count.map_or(max, |c| usize::try_from(c.max(0)).unwrap_or(usize::MAX).min(max));
    let first = (start_index - 1).min(total);
    let last = first.saturating_add(count).min(total);
    (start_index, first..last)
}

/// `/ServiceProviderConfig`: what this provider supports. `base` is the provider's base URL
/// (for `meta.location`), `documentation` a page that explains it.
#[must_use]
pub fn service_provider_config(base: &str, documentation: &str, max_results: usize) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "documentationUri": documentation,
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token with the `partner_org:NAME` scope, sent as `Authorization: Bearer ...`",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "documentationUri": documentation,
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

/// `/ResourceTypes`: User (with the self-service extension) and Group.
#[must_use]
pub fn resource_types(base: &str) -> Vec<Value> {
    [(&crate::schema::USER, "/Users", "A partner of the org"), (&crate::schema::GROUP, "/Groups", "A group of the org's partners")]
        .into_iter()
        .map(|(schema, endpoint, description)| {
            let mut document = json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": schema.name,
                "name": schema.name,
                "endpoint": endpoint,
                "description": description,
                "schema": schema.core,
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", schema.name)},
            });
            if let Some(extension) = schema.extension {
                document["schemaExtensions"] = json!([{"schema": extension, "required": false}]);
            }
            document
        })
        .collect()
}

/// One attribute of the self-service extension, as the org declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionAttribute {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub description: String,
    /// For an enum attribute, the allowed values.
    pub canonical_values: Vec<String>,
}

/// `/Schemas`: the User and Group schemas and the self-service extension with the org's
/// attributes.
#[must_use]
pub fn schemas(base: &str, extension: &[ExtensionAttribute]) -> Vec<Value> {
    let mut documents: Vec<Value> = [&crate::schema::USER, &crate::schema::GROUP]
        .into_iter()
        .map(|schema| schema_document(base, schema))
        .collect();
    let attributes: Vec<Value> = extension
        .iter()
        .map(|attribute| {
            let mut document = json!({
                "name": attribute.name,
                "type": attribute.kind.as_str(),
                "multiValued": false,
                "description": attribute.description,
                "required": attribute.required,
                "caseExact": false,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none",
            });
            if !attribute.canonical_values.is_empty() {
                document["canonicalValues"] = json!(attribute.canonical_values);
            }
            document
        })
        .collect();
    documents.push(json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": SELF_SERVICE_SCHEMA,
        "name": "SelfService",
        "description": "The org's self-service attributes",
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{SELF_SERVICE_SCHEMA}")},
    }));
    documents
}

fn schema_document(base: &str, schema: &ResourceSchema) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.core,
        "name": schema.name,
        "description": format!("{} resource", schema.name),
        "attributes": schema.attributes.iter().map(attribute_document).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", schema.core)},
    })
}

fn attribute_document(attribute: &Attribute) -> Value {
    let mut document = json!({
        "name": attribute.name,
        "type": attribute.kind.as_str(),
        "multiValued": attribute.multi_valued,
        "description": attribute.description,
        "required": attribute.required,
        "caseExact": attribute.case_exact,
        "mutability": attribute.mutability.as_str(),
        "returned": if attribute.name == "id" { "always" } else { "default" },
        "uniqueness": attribute.uniqueness,
    });
    if attribute.kind == Kind::Reference {
        document["referenceTypes"] = json!(["uri"]);
    }
    if !attribute.sub_attributes.is_empty() {
        document["subAttributes"] = Value::from(
            attribute
                .sub_attributes
                .iter()
                .map(attribute_document)
                .collect::<Vec<_>>(),
        );
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_rfc() {
        assert_eq!(page(10, None, None, 100), (1, 0..10));
        assert_eq!(page(10, Some(0), Some(3), 100), (1, 0..3));
        assert_eq!(page(10, Some(9), Some(5), 100), (9, 8..10));
        assert_eq!(page(10, Some(20), Some(5), 100), (20, 10..10));
        assert_eq!(page(10, Some(1), Some(-4), 100), (1, 0..0));
        assert_eq!(page(500, Some(1), Some(1000), 200), (1, 0..200));
        assert_eq!(
            page(5, Some(i64::MAX), Some(i64::MAX), 200),
            (usize::try_from(i64::MAX).unwrap_or(usize::MAX), 5..5)
        );
    }

    #[test]
    fn schemas_render_from_the_tables() {
        let documents = schemas(
            "http://x/scim/v2",
            &[ExtensionAttribute {
                name: "region".to_owned(),
                kind: Kind::String,
                required: false,
                description: "Sales region".to_owned(),
                canonical_values: vec!["emea".to_owned(), "amer".to_owned()],
            }],
        );
        assert_eq!(documents.len(), 3);
        let user = &documents[0];
        let emails = user["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["name"] == "emails"))
            .expect("emails");
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["subAttributes"].as_array().map(Vec::len), Some(4));
        let groups = user["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["name"] == "groups"))
            .expect("groups");
        assert_eq!(groups["mutability"], "readOnly");
        assert_eq!(
            documents[2]["attributes"][0]["canonicalValues"],
            json!(["emea", "amer"])
        );
        let list = serde_json::to_value(ListResponse::new(vec![1, 2], 7, 3)).expect("serialises");
        assert_eq!(list["totalResults"], 7);
        assert_eq!(list["itemsPerPage"], 2);
        assert_eq!(list["Resources"], json!([1, 2]));
    }
}
