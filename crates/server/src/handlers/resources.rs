//! Resource endpoints for people and other tools: list (cursor-paginated, in the stable
//! order of natural keys), get, put (idempotent upsert honouring `If-Match`) and delete,
//! for each collection of the state; plus the members of a group.

use std::collections::BTreeMap;
use std::ops::Bound;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{WriteFailure, etag, if_match, revision_response};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::wire::{ListItem, ListPage, ListQuery};
use crate::{App, Caller, today};
use portalctl_core::model::{
    Change, KeyParts, Kind, KindVisitor, MemberSource, Resource, ResourceKey, ResourceValue, State as Model,
};
use portalctl_store::{ChangeMeta, CommitError};

/// The default and largest page sizes.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// A collection of the state with its own endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Workspace,
    Attributes,
    Roles,
    PartnerOrgs,
    Portals,
    /// The members of one portal.
    Members,
    Groups,
    Folders,
    Dashboards,
    Shares,
}

impl Collection {
    pub fn kind(self) -> Kind {
        match self {
            Self::Workspace => Kind::Workspace,
            Self::Attributes => Kind::Attribute,
            Self::Roles => Kind::Role,
            Self::PartnerOrgs => Kind::PartnerOrg,
            Self::Portals => Kind::Portal,
            Self::Members => Kind::Member,
            Self::Groups => Kind::Group,
            Self::Folders => Kind::Folder,
            Self::Dashboards => Kind::Dashboard,
            Self::Shares => Kind::Share,
        }
    }

    /// The resource key from the item path's parameters, in path order.
    fn key(self, params: &[String]) -> Result<ResourceKey, ApiError> {
        let parts: Vec<String> = match (self, params) {
            (Self::Folders | Self::Dashboards, [path]) => vec![format!("/{path}")],
            (Self::Shares, [principal, folder]) => vec![format!("/{folder}"), principal.clone()],
            _ => params.to_vec(),
        };
        ResourceKey::from_parts(self.kind(), &parts)
            .map_err(|message| ApiError::bad_request("bad_path", message))
    }
}

/// The page size asked for.
///
/// # Errors
/// `400 bad_query` outside 1..=1000.
pub fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        limit @ 1..=MAX_LIMIT => Ok(limit),
        _ => Err(
            ApiError::bad_request("bad_query", format!("`limit` must be 1 to {MAX_LIMIT}"))
                .with_field("limit"),
        ),
    }
}

fn encode_cursor(parts: &[String]) -> String {
    let json = serde_json::to_string(parts).unwrap_or_default();
    json.bytes().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Result<Vec<String>, ApiError> {
    let invalid = || {
        ApiError::bad_request("bad_cursor", "`cursor` is not one this service issued").with_field("cursor")
    };
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&cursor[at..at + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// One page of `map` after `after` (exclusive) or from `start`, while `within` holds.
fn page_of<K: Ord, V>(
    map: &BTreeMap<K, V>,
    lower: Bound<K>,
    within: impl Fn(&K) -> bool,
    limit: usize,
    item: impl Fn(&K, &V) -> ListItem,
) -> (Vec<ListItem>, Option<String>) {
    let mut items: Vec<ListItem> = map
        .range((lower, Bound::Unbounded))
        .take_while(|(key, _)| within(key))
        .take(limit + 1)
        .map(|(key, value)| item(key, value))
        .collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|item| encode_cursor(&item.key))
    } else {
        None
    };
    (items, next)
}

fn item<V: serde::Serialize>(key: Vec<String>, value: &V) -> ListItem {
    ListItem {
        key,
        value: serde_json::to_value(value).ok(),
    }
}

/// One page of a collection. `scope` holds the leading key parts every item shares (the
/// portal, for members); `after` the key parts of the last item of the previous page.
fn list_page(
    state: &Model,
    collection: Collection,
    scope: &[String],
    after: Option<Vec<String>>,
    limit: usize,
) -> Result<(Vec<ListItem>, Option<String>), ApiError> {
    /// Lists the map of one kind; the workspace is one item.
    struct Page<'a> {
        state: &'a Model,
        scope: &'a [String],
        after: Option<Vec<String>>,
        limit: usize,
    }
    impl KindVisitor for Page<'_> {
        type Output = Result<(Vec<ListItem>, Option<String>), ApiError>;

        fn workspace(self) -> Self::Output {
            Ok((vec![item(Vec::new(), &self.state.workspace)], None))
        }

        fn resource<R: Resource>(self) -> Self::Output {
            let bad = || {
                ApiError::bad_request("bad_cursor", "`cursor` does not fit this list").with_field("cursor")
            };
            let in_scope = |parts: &[String]| parts.starts_with(self.scope);
            let lower = match self.after {
                Some(parts) if parts.len() == R::Key::LEN && in_scope(&parts) => {
                    Bound::Excluded(R::Key::from_parts(&parts).map_err(|_| bad())?)
                }
                Some(_) => return Err(bad()),
                None if self.scope.is_empty() => Bound::Unbounded,
                None => {
                    // The smallest key in scope: the scope, then empty parts.
                    let mut parts = self.scope.to_vec();
                    parts.resize(R::Key::LEN, String::new());
                    Bound::Included(R::Key::from_parts(&parts).map_err(|_| bad())?)
                }
            };
            Ok(page_of(
                R::entries(self.state),
                lower,
                |key| in_scope(&key.parts()),
                self.limit,
                |key, value| item(key.parts(), value),
            ))
        }
    }
    collection.kind().visit(Page {
        state,
        scope,
        after,
        limit,
    })
}

/// `GET` on a collection; `params` holds the portal for members.
pub async fn list(
    app: App,
    collection: Collection,
    params: Vec<String>,
    query: ListQuery,
) -> Result<Json<ListPage>, ApiError> {
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    app.blocking(move |app| {
        let snapshot = app.snapshot()?;
        if collection == Collection::Members
            && let Some(portal) = params.first()
            && !snapshot.state.portals.contains_key(portal)
        {
            return Err(ApiError::not_found(format!("no portal `{portal}`")));
        }
        let (items, next_cursor) = list_page(&snapshot.state, collection, &params, after, limit)?;
        Ok(Json(ListPage {
            items,
            next_cursor,
            revision: snapshot.revision,
        }))
    })
    .await
}

/// `GET` on one resource: its value, with the revision as `ETag`.
pub async fn get_one(app: App, collection: Collection, params: Vec<String>) -> Result<Response, ApiError> {
    let key = collection.key(&params)?;
    app.blocking(move |app| {
        let snapshot = app.snapshot()?;
        let value = snapshot
            .state
            .get(&key)
            .ok_or_else(|| ApiError::not_found(format!("no {key}")))?;
        let mut response = Json(value.to_json()).into_response();
        response
            .headers_mut()
            .insert(header::ETAG, etag(snapshot.revision));
        Ok(response)
    })
    .await
}

/// Writes one resource (`Some`) or deletes it (`None`) as a one-change batch. Writing the
/// value it already has commits nothing and answers the current revision.
async fn write(
    app: App,
    caller: Caller,
    expected: Option<u64>,
    key: ResourceKey,
    value: Option<ResourceValue>,
) -> Result<u64, ApiError> {
    edit(app, caller, expected, key, move |_| Ok(value.clone())).await
}

/// Reads one resource and writes what `update` makes of it, inside the store, on the
/// state the write is committed on: a concurrent write is never lost. `update` gets the
/// current value (`None`: absent) and returns the new one (`None`: delete). The same
/// value commits nothing; deleting an absent resource is `404`.
async fn edit(
    app: App,
    caller: Caller,
    expected: Option<u64>,
    key: ResourceKey,
    mut update: impl FnMut(Option<ResourceValue>) -> Result<Option<ResourceValue>, WriteFailure> + Send + 'static,
) -> Result<u64, ApiError> {
    app.blocking(move |app| {
        app.store
            .commit_with(
                &ChangeMeta::default(),
                &caller.name,
                today(),
                |state, revision| {
                    if let Some(expected) = expected
                        && expected != revision
                    {
                        return Err(CommitError::Stale { current: revision }.into());
                    }
                    let existing = state.get(&key);
                    let present = existing.is_some();
                    let new = update(existing.clone())?;
                    Ok(match new {
                        Some(value) if existing.as_ref() == Some(&value) => Vec::new(),
                        Some(value) => vec![Change::Put {
                            key: key.clone(),
                            value,
                        }],
                        None if !present => return Err(ApiError::not_found(format!("no {key}")).into()),
                        None => vec![Change::Delete { key: key.clone() }],
                    })
                },
            )
            .map_err(|failure: WriteFailure| failure.into_api(StatusCode::PRECONDITION_FAILED))
    })
    .await
}

/// `PUT` on one resource: an idempotent upsert. Members written here are `managed`.
pub async fn put_one(
    app: App,
    caller: Caller,
    headers: HeaderMap,
    collection: Collection,
    params: Vec<String>,
    body: serde_json::Value,
) -> Result<Response, ApiError> {
    let key = collection.key(&params)?;
    let expected = if_match(&headers)?;
    let omits_protect = body_omits(&body, "protect");
    let value = written_value(key.kind(), body)?;
    // Protection is lifted only by an explicit `"protect": false`: a PUT that omits it
    // keeps what the resource has, so an ordinary edit never unprotects a portal.
    let revision = edit(app, caller, expected, key, move |existing| {
        let mut value = value.clone();
        if omits_protect
            && let (ResourceValue::Portal(new), Some(ResourceValue::Portal(old))) = (&mut value, &existing)
        {
            new.protect = old.protect;
        }
        Ok(Some(value))
    })
    .await?;
    Ok(revision_response(StatusCode::OK, revision))
}

/// The value an admin write (`PUT` or a patched `PATCH`) stores: `422 invalid_body` when
/// it is not a value of `kind`; a membership written by an admin is managed.
fn written_value(kind: Kind, json: serde_json::Value) -> Result<ResourceValue, ApiError> {
    let mut value = ResourceValue::from_json(kind, json).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            error.to_string(),
        )
    })?;
    if let ResourceValue::Member(member) = &mut value {
        member.source = MemberSource::Managed;
    }
    Ok(value)
}

/// Whether `body` is an object without `field`.
fn body_omits(body: &serde_json::Value, field: &str) -> bool {
    body.as_object().is_some_and(|object| !object.contains_key(field))
}

/// `PATCH` on one resource: a JSON merge patch (RFC 7396) applied to the value the write
/// is committed on, so a concurrent write is never lost. `404` when absent.
pub async fn patch_one(
    app: App,
    caller: Caller,
    headers: HeaderMap,
    collection: Collection,
    params: Vec<String>,
    patch: serde_json::Value,
) -> Result<Response, ApiError> {
    let key = collection.key(&params)?;
    let expected = if_match(&headers)?;
    let kind = key.kind();
    let missing = key.to_string();
    let revision = edit(app, caller, expected, key, move |existing| {
        let Some(existing) = existing else {
            return Err(ApiError::not_found(format!("no {missing}")).into());
        };
        let mut document = existing.to_json();
        merge_patch(&mut document, &patch);
        Ok(Some(written_value(kind, document)?))
    })
    .await?;
    Ok(revision_response(StatusCode::OK, revision))
}

/// RFC 7396: an object patch merges member by member, `null` removes a member, anything
/// else replaces the target whole.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    if let serde_json::Value::Object(object) = target {
        for (name, change) in changes {
            if change.is_null() {
                object.remove(name);
            } else {
                merge_patch(
                    object.entry(name.clone()).or_insert(serde_json::Value::Null),
                    change,
                );
            }
        }
    }
}

/// `DELETE` on one resource.
pub async fn delete_one(
    app: App,
    caller: Caller,
    headers: HeaderMap,
    collection: Collection,
    params: Vec<String>,
) -> Result<Response, ApiError> {
    let key = collection.key(&params)?;
    let expected = if_match(&headers)?;
    let revision = write(app, caller, expected, key, None).await?;
    Ok(revision_response(StatusCode::OK, revision))
}

/// Handlers with the collection bound, for the route table.
pub mod bound {
    use super::*;
    use axum::routing::{MethodRouter, delete, get, patch, put};

    pub fn list(collection: Collection) -> MethodRouter<App> {
        get(
            move |State(app): State<App>,
                  ApiPath(params): ApiPath<Vec<String>>,
                  ApiQuery(query): ApiQuery<ListQuery>| {
                super::list(app, collection, params, query)
            },
        )
    }

    pub fn list_root(collection: Collection) -> MethodRouter<App> {
        get(
            move |State(app): State<App>, ApiQuery(query): ApiQuery<ListQuery>| {
                super::list(app, collection, Vec::new(), query)
            },
        )
    }

    pub fn get_one(collection: Collection) -> MethodRouter<App> {
        get(
            move |State(app): State<App>, ApiPath(params): ApiPath<Vec<String>>| {
                super::get_one(app, collection, params)
            },
        )
    }

    pub fn put_one(collection: Collection) -> MethodRouter<App> {
        put(
            move |State(app): State<App>,
                  Extension(caller): Extension<Caller>,
                  headers: HeaderMap,
                  ApiPath(params): ApiPath<Vec<String>>,
                  ApiJson(body): ApiJson<serde_json::Value>| {
                super::put_one(app, caller, headers, collection, params, body)
            },
        )
    }

    pub fn patch_one(collection: Collection) -> MethodRouter<App> {
        patch(
            move |State(app): State<App>,
                  Extension(caller): Extension<Caller>,
                  headers: HeaderMap,
                  ApiPath(params): ApiPath<Vec<String>>,
                  ApiJson(body): ApiJson<serde_json::Value>| {
                super::patch_one(app, caller, headers, collection, params, body)
            },
        )
    }

    pub fn patch_workspace() -> MethodRouter<App> {
        patch(
            |State(app): State<App>,
             Extension(caller): Extension<Caller>,
             headers: HeaderMap,
             ApiJson(body): ApiJson<serde_json::Value>| {
                super::patch_one(app, caller, headers, Collection::Workspace, Vec::new(), body)
            },
        )
    }

    pub fn delete_one(collection: Collection) -> MethodRouter<App> {
        delete(
            move |State(app): State<App>,
                  Extension(caller): Extension<Caller>,
                  headers: HeaderMap,
                  ApiPath(params): ApiPath<Vec<String>>| {
                super::delete_one(app, caller, headers, collection, params)
            },
        )
    }

    pub fn get_workspace() -> MethodRouter<App> {
        get(|State(app): State<App>| super::get_one(app, Collection::Workspace, Vec::new()))
    }

    pub fn put_workspace() -> MethodRouter<App> {
        put(
            |State(app): State<App>,
             Extension(caller): Extension<Caller>,
             headers: HeaderMap,
             ApiJson(body): ApiJson<serde_json::Value>| {
                super::put_one(app, caller, headers, Collection::Workspace, Vec::new(), body)
            },
        )
    }
}

/// The members of a group: list, add (`PUT`), remove (`DELETE`).
pub mod group_members {
    use super::*;

    pub async fn list(
        State(app): State<App>,
        ApiPath(group): ApiPath<String>,
        ApiQuery(query): ApiQuery<ListQuery>,
    ) -> Result<Json<ListPage>, ApiError> {
        let limit = page_limit(query.limit)?;
        let after = match query.cursor.as_deref().map(decode_cursor).transpose()? {
            None => None,
            Some(parts) => match parts.as_slice() {
                [g, email] if *g == group => Some(email.clone()),
                _ => {
                    return Err(ApiError::bad_request(
                        "bad_cursor",
                        "`cursor` does not fit this list",
                    ));
                }
            },
        };
        app.blocking(move |app| {
            let snapshot = app.snapshot()?;
            let found = snapshot
                .state
                .groups
                .get(&group)
                .ok_or_else(|| ApiError::not_found(format!("no group `{group}`")))?;
            let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
            let mut items: Vec<ListItem> = found
                .members
                .range::<String, _>((lower, Bound::Unbounded))
                .take(limit + 1)
                .map(|email| ListItem {
                    key: vec![group.clone(), email.clone()],
                    value: None,
                })
                .collect();
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|item| encode_cursor(&item.key))
            } else {
                None
            };
            Ok(Json(ListPage {
                items,
                next_cursor,
                revision: snapshot.revision,
            }))
        })
        .await
    }

    /// Adds or removes one member of a group, on the group as it is when the change is
    /// committed: concurrent adds to one group all land.
    async fn change(
        app: App,
        caller: Caller,
        headers: HeaderMap,
        group: String,
        email: String,
        add: bool,
    ) -> Result<Response, ApiError> {
        let expected = if_match(&headers)?;
        let email = portalctl_core::model::normalize_email(&email);
        let name = group.clone();
        let revision = edit(
            app,
            caller,
            expected,
            ResourceKey::Group(group),
            move |existing| {
                let Some(ResourceValue::Group(mut value)) = existing else {
                    return Err(ApiError::not_found(format!("no group `{name}`")).into());
                };
                let changed = if add {
                    value.members.insert(email.clone())
                } else {
                    value.members.remove(&email)
                };
                if !add && !changed {
                    return Err(ApiError::not_found(format!("`{email}` is not in group `{name}`")).into());
                }
                Ok(Some(ResourceValue::Group(value)))
            },
        )
        .await?;
        Ok(revision_response(StatusCode::OK, revision))
    }

    pub async fn add(
        State(app): State<App>,
        Extension(caller): Extension<Caller>,
        headers: HeaderMap,
        ApiPath((group, email)): ApiPath<(String, String)>,
    ) -> Result<Response, ApiError> {
        change(app, caller, headers, group, email, true).await
    }

    pub async fn remove(
        State(app): State<App>,
        Extension(caller): Extension<Caller>,
        headers: HeaderMap,
        ApiPath((group, email)): ApiPath<(String, String)>,
    ) -> Result<Response, ApiError> {
        change(app, caller, headers, group, email, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patches_follow_rfc_7396() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (json!({"a": "foo"}), json!(["c"]), json!(["c"])),
            (json!("x"), json!({"a": {"b": null}}), json!({"a": {}})),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected, "{patch}");
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let parts = vec!["/Partners".to_string(), "group:g".to_string()];
        assert_eq!(decode_cursor(&encode_cursor(&parts)).unwrap(), parts);
        for bad in ["zz", "abc", "7b7d", "é"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
