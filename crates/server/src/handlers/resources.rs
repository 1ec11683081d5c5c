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
use crate::wire::{ListItem, ListPage, ListQuery, RevealQuery};
use crate::{App, Caller, today};
use portalctl_core::model::{
    Change, KeyParts, Kind, KindVisitor, MemberSource, Resource, ResourceKey, ResourceValue, State as Model,
};
use portalctl_store::{ChangeMeta, CommitError};

/// The default and largest page sizes.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// The resource key of `kind` from an item path's parameters, in the order of the kind's
/// item path (a wildcard there is a folder path, given without its leading `/`; the
/// parts of a key are told apart by their form, so the path may name them in any order).
fn key_from_path(kind: Kind, params: &[String]) -> Result<ResourceKey, ApiError> {
    let names = kind
        .item_path()
        .into_iter()
        .flat_map(|path| path.split('/'))
        .filter_map(|segment| segment.strip_prefix('{'));
    let parts: Vec<String> = params
        .iter()
        .zip(names.chain(std::iter::repeat("")))
        .map(|(param, name)| {
            if name.starts_with('*') {
                format!("/{param}")
            } else {
                param.clone()
            }
        })
        .collect();
    ResourceKey::from_parts(kind, &parts).map_err(|message| ApiError::bad_request("bad_path", message))
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

/// The longest cursor, in hex digits (`pattern` and `maxLength` of the OpenAPI document).
pub const MAX_CURSOR_HEX: usize = 4096;

/// The position of an item in a list: its key parts joined by NUL bytes. Key parts never
/// hold NUL, so the byte order of positions is the order of keys (the order of lists).
fn position(parts: &[String]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

/// A cursor is the lowercase hex of a position; the page it asks for holds the items
/// whose position is greater. Every such string is a position (bytes that are not UTF-8
/// or more parts than a key has included), so every cursor the schema allows means a page.
fn encode_cursor(parts: &[String]) -> String {
    position(parts).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The position a cursor names.
///
/// # Errors
/// `400 bad_cursor` for what is not lowercase hex of whole bytes, or is too long.
fn decode_cursor(cursor: &str) -> Result<Vec<u8>, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "bad_cursor",
            format!("`cursor` is lowercase hex of whole bytes, at most {MAX_CURSOR_HEX} digits"),
        )
        .with_field("cursor")
    };
    let digit = |byte: u8| match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    };
    let hex = cursor.as_bytes();
    if !hex.len().is_multiple_of(2) || hex.len() > MAX_CURSOR_HEX {
        return Err(invalid());
    }
    hex.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)
}

/// The longest prefix of `bytes` (up to its first NUL) that is UTF-8: a string no greater
/// than that part of the position, and no item whose part is smaller is past it.
fn part_floor(bytes: &[u8]) -> (String, bool) {
    let part = bytes.split(|byte| *byte == 0).next().unwrap_or_default();
    match std::str::from_utf8(part) {
        Ok(text) => (text.to_string(), true),
        Err(error) => (
            String::from_utf8_lossy(&part[..error.valid_up_to()]).into_owned(),
            false,
        ),
    }
}

/// The least key of a list that can be past `position`: no key before it is. (`None`:
/// from the start.) Finding it costs a lookup; the few items from it up to the position
/// are skipped by comparing positions.
fn lower_key<K: KeyParts + Ord>(position: &[u8], sorted_in_first_part: bool) -> Option<K> {
    let (first, whole) = part_floor(position);
    let mut parts = vec![first];
    if K::LEN == 2 {
        let rest = position.iter().position(|byte| *byte == 0);
        let second = match rest {
            // The first part is exact: the second part's floor bounds the rest.
            Some(at) if whole && sorted_in_first_part => part_floor(&position[at + 1..]).0,
            _ => String::new(),
        };
        parts.push(second);
    }
    Some(K::least_from_parts(&parts))
}

/// One page of `map` in position order, from `lower` while `within` holds, of the items
/// past `after` (a position). With `sorted_in_first_part` false (shares, whose principals
/// sort by kind), the items of one first part are put in position order before paging.
fn page_of<K: Ord + KeyParts, V>(
    map: &BTreeMap<K, V>,
    lower: Bound<K>,
    within: impl Fn(&[String]) -> bool,
    after: Option<&[u8]>,
    sorted_in_first_part: bool,
    limit: usize,
    item: impl Fn(Vec<String>, &V) -> ListItem,
) -> (Vec<ListItem>, Option<String>) {
    let mut found: Vec<(Vec<u8>, Vec<String>, &V)> = Vec::new();
    for (key, value) in map.range((lower, Bound::Unbounded)) {
        let parts = key.parts();
        if !within(&parts) {
            break;
        }
        if found.len() > limit
            && (sorted_in_first_part || found.last().is_some_and(|last| last.1[0] != parts[0]))
        {
            break;
        }
        let at = position(&parts);
        if after.is_some_and(|after| at.as_slice() <= after) {
            continue;
        }
        found.push((at, parts, value));
    }
    if !sorted_in_first_part {
        found.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let more = found.len() > limit;
    found.truncate(limit);
    let next = if more {
        found.last().map(|(_, parts, _)| encode_cursor(parts))
    } else {
        None
    };
    let items = found
        .into_iter()
        .map(|(_, parts, value)| item(parts, value))
        .collect();
    (items, next)
}

fn item<V: serde::Serialize>(key: Vec<String>, value: &V) -> ListItem {
    ListItem {
        key,
        value: serde_json::to_value(value).ok(),
    }
}

/// One page of a collection. `scope` holds the leading key parts every item shares (the
/// portal, for members); `after` the position (see [`encode_cursor`]) the page starts past.
fn list_page(
    state: &Model,
    collection: Kind,
    scope: &[String],
    after: Option<Vec<u8>>,
    limit: usize,
) -> (Vec<ListItem>, Option<String>) {
    /// Lists the map of one kind; the workspace is one item.
    struct Page<'a> {
        state: &'a Model,
        scope: &'a [String],
        after: Option<Vec<u8>>,
        limit: usize,
    }
    impl KindVisitor for Page<'_> {
        type Output = (Vec<ListItem>, Option<String>);

        fn workspace(self) -> Self::Output {
            (vec![item(Vec::new(), &self.state.workspace)], None)
        }

        fn resource<R: Resource>(self) -> Self::Output {
            let sorted_in_first_part = R::Key::SORTED_AS_PARTS;
            let in_scope = |parts: &[String]| parts.starts_with(self.scope);
            // The least key in scope: the scope, then the least parts.
            let scope_lower = (!self.scope.is_empty()).then(|| R::Key::least_from_parts(self.scope));
            let after_lower = self
                .after
                .as_deref()
                .and_then(|after| lower_key::<R::Key>(after, sorted_in_first_part));
            let lower = match scope_lower.into_iter().chain(after_lower).max() {
                Some(key) => Bound::Included(key),
                None => Bound::Unbounded,
            };
            page_of(
                R::entries(self.state),
                lower,
                in_scope,
                self.after.as_deref(),
                sorted_in_first_part,
                self.limit,
                |parts, value| item(parts, value),
            )
        }
    }
    collection.visit(Page {
        state,
        scope,
        after,
        limit,
    })
}

/// `GET` on a collection; `params` holds the portal for members.
pub async fn list(
    app: App,
    caller: Caller,
    collection: Kind,
    params: Vec<String>,
    query: ListQuery,
    read: String,
) -> Result<Json<ListPage>, ApiError> {
    let limit = page_limit(query.limit)?;
    let reveal = super::reveal_sensitive(&caller, query.reveal)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    app.blocking(move |app| {
        let snapshot = app.snapshot()?;
        if collection == Kind::Member
            && let Some(portal) = params.first()
            && !snapshot.state.portals.contains_key(portal)
        {
            return Err(ApiError::not_found(format!("no portal `{portal}`")));
        }
        let (mut items, next_cursor) = list_page(&snapshot.state, collection, &params, after, limit);
        if reveal {
            super::audit_reveal(app, &caller, &read, snapshot.revision)?;
        } else {
            for item in &mut items {
                if let (Some(owner), Some(value)) =
                    (attribute_owner(collection, &item.key), item.value.as_mut())
                {
                    super::mask_attributes_json(&snapshot.state, &owner, value);
                }
            }
        }
        Ok(Json(ListPage {
            items,
            next_cursor,
            revision: snapshot.revision,
        }))
    })
    .await
}

/// Whose attribute values a collection's item holds, as the digest is salted: a member's
/// email, `org:NAME` for a partner org; `None` for other collections.
fn attribute_owner(collection: Kind, key: &[String]) -> Option<String> {
    match (collection, key) {
        (Kind::Member, [_, email]) => Some(email.clone()),
        (Kind::PartnerOrg, [name]) => Some(format!("org:{name}")),
        _ => None,
    }
}

/// `GET` on one resource: its value, with the revision as `ETag`; sensitive attribute
/// values masked unless an `admin` token asks (`?reveal=sensitive`).
pub async fn get_one(
    app: App,
    caller: Caller,
    collection: Kind,
    params: Vec<String>,
    query: RevealQuery,
    read: String,
) -> Result<Response, ApiError> {
    let key = key_from_path(collection, &params)?;
    let reveal = super::reveal_sensitive(&caller, query.reveal)?;
    app.blocking(move |app| {
        let snapshot = app.snapshot()?;
        let value = snapshot
            .state
            .get(&key)
            .ok_or_else(|| ApiError::not_found(format!("no {key}")))?;
        let mut json = value.to_json();
        if reveal {
            super::audit_reveal(app, &caller, &read, snapshot.revision)?;
        } else if let Some(owner) = attribute_owner(collection, &key.parts()) {
            super::mask_attributes_json(&snapshot.state, &owner, &mut json);
        }
        let mut response = Json(json).into_response();
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
    app.writing(move |app| {
        app.store
            .commit_with(
                &ChangeMeta::default(),
                &caller.name,
                today(),
                |state, revision| {
                    let existing = state.get(&key);
                    let present = existing.is_some();
                    // The request is judged first (a patched value that breaks the
                    // schema is `422` whatever the revision), then `If-Match`.
                    let new = update(existing.clone())?;
                    if let Some(expected) = expected
                        && expected != revision
                    {
                        return Err(CommitError::Stale { current: revision }.into());
                    }
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
    collection: Kind,
    params: Vec<String>,
    body: serde_json::Value,
) -> Result<Response, ApiError> {
    let key = key_from_path(collection, &params)?;
    let expected = if_match(&headers)?;
    let omits_protect = body_omits(&body, "protect");
    let omits_pending = body_omits(&body, "pending");
    let value = written_value(&key, body)?;
    // Protection is lifted only by an explicit `"protect": false`, and a pending
    // registration approved only by an explicit `"pending": false` (or the approve
    // endpoint): a PUT that omits either keeps what the resource has, so an ordinary edit
    // never unprotects a portal or lets in a partner nobody approved.
    let revision = edit(app, caller, expected, key, move |existing| {
        let mut value = value.clone();
        match (&mut value, &existing) {
            (ResourceValue::Portal(new), Some(ResourceValue::Portal(old))) if omits_protect => {
                new.protect = old.protect;
            }
            (ResourceValue::Member(new), Some(ResourceValue::Member(old))) if omits_pending => {
                new.pending = old.pending;
            }
            _ => {}
        }
        Ok(Some(value))
    })
    .await?;
    Ok(revision_response(StatusCode::OK, revision))
}

/// The value an admin write (`PUT` or a patched `PATCH`) stores: `422 invalid_body` when
/// it is not a value of `kind`; a membership written by an admin is managed.
fn written_value(key: &ResourceKey, json: serde_json::Value) -> Result<ResourceValue, ApiError> {
    let kind = key.kind();
    crate::schema_check::check_value(kind, &json)
        .map_err(|refusal| crate::schema_check::as_problem(refusal, 0, key))?;
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
    collection: Kind,
    params: Vec<String>,
    patch: serde_json::Value,
) -> Result<Response, ApiError> {
    let key = key_from_path(collection, &params)?;
    crate::schema_check::check_merge_patch(&patch)?;
    crate::schema_check::check_patch(collection, &patch)?;
    let expected = if_match(&headers)?;
    let written = key.clone();
    let missing = key.to_string();
    let revision = edit(app, caller, expected, key, move |existing| {
        let Some(existing) = existing else {
            return Err(ApiError::not_found(format!("no {missing}")).into());
        };
        let mut document = existing.to_json();
        merge_patch(&mut document, &patch);
        Ok(Some(written_value(&written, document)?))
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
    collection: Kind,
    params: Vec<String>,
) -> Result<Response, ApiError> {
    let key = key_from_path(collection, &params)?;
    let expected = if_match(&headers)?;
    let revision = write(app, caller, expected, key, None).await?;
    Ok(revision_response(StatusCode::OK, revision))
}

/// What a read audit entry says was read: the method and the path (the query holds
/// nothing but `reveal`, `limit` and `cursor`).
fn reveal_read(uri: &axum::http::Uri) -> String {
    match uri.query() {
        Some(query) => format!("GET {}?{query}", uri.path()),
        None => format!("GET {}", uri.path()),
    }
}

/// Handlers with the collection bound, for the route table.
pub mod bound {
    use super::*;
    use axum::routing::{MethodRouter, delete, get, patch, put};

    pub fn list(collection: Kind) -> MethodRouter<App> {
        get(
            move |State(app): State<App>,
                  Extension(caller): Extension<Caller>,
                  uri: axum::http::Uri,
                  ApiPath(params): ApiPath<Vec<String>>,
                  ApiQuery(query): ApiQuery<ListQuery>| {
                super::list(app, caller, collection, params, query, reveal_read(&uri))
            },
        )
    }

    pub fn list_root(collection: Kind) -> MethodRouter<App> {
        get(
            move |State(app): State<App>,
                  Extension(caller): Extension<Caller>,
                  uri: axum::http::Uri,
                  ApiQuery(query): ApiQuery<ListQuery>| {
                super::list(app, caller, collection, Vec::new(), query, reveal_read(&uri))
            },
        )
    }

    pub fn get_one(collection: Kind) -> MethodRouter<App> {
        get(
            move |State(app): State<App>,
                  Extension(caller): Extension<Caller>,
                  uri: axum::http::Uri,
                  ApiPath(params): ApiPath<Vec<String>>,
                  ApiQuery(query): ApiQuery<RevealQuery>| {
                super::get_one(app, caller, collection, params, query, reveal_read(&uri))
            },
        )
    }

    pub fn put_one(collection: Kind) -> MethodRouter<App> {
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

    pub fn patch_one(collection: Kind) -> MethodRouter<App> {
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
                super::patch_one(app, caller, headers, Kind::Workspace, Vec::new(), body)
            },
        )
    }

    pub fn delete_one(collection: Kind) -> MethodRouter<App> {
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
        get(|State(app): State<App>, Extension(caller): Extension<Caller>| {
            super::get_one(
                app,
                caller,
                Kind::Workspace,
                Vec::new(),
                RevealQuery::default(),
                "GET /v1/workspace".into(),
            )
        })
    }

    pub fn put_workspace() -> MethodRouter<App> {
        put(
            |State(app): State<App>,
             Extension(caller): Extension<Caller>,
             headers: HeaderMap,
             ApiJson(body): ApiJson<serde_json::Value>| {
                super::put_one(app, caller, headers, Kind::Workspace, Vec::new(), body)
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
        let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
        app.blocking(move |app| {
            let snapshot = app.snapshot()?;
            let found = snapshot
                .state
                .groups
                .get(&group)
                .ok_or_else(|| ApiError::not_found(format!("no group `{group}`")))?;
            // Positions are `group NUL email`: past `after` are the emails greater than
            // what follows the prefix, all of them when `after` is before the prefix, and
            // none when it is past it.
            let prefix = position(&[group.clone(), String::new()]);
            let (lower, rest, past_all): (Bound<String>, Option<Vec<u8>>, bool) = match after {
                None => (Bound::Unbounded, None, false),
                Some(after) if after.starts_with(&prefix) => {
                    let rest = after[prefix.len()..].to_vec();
                    (Bound::Included(part_floor(&rest).0), Some(rest), false)
                }
                Some(after) => (Bound::Unbounded, None, after > prefix),
            };
            let past = |email: &String| {
                rest.as_ref()
                    .is_none_or(|rest| email.as_bytes() > rest.as_slice())
            };
            let mut items: Vec<ListItem> = found
                .members
                .range::<String, _>((lower, Bound::Unbounded))
                .filter(|email| past(email))
                .take(if past_all { 0 } else { limit + 1 })
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
                    value.remove_member(&email)
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
    fn cursors_round_trip_and_reject_only_what_is_not_hex() {
        let parts = vec!["/Partners".to_string(), "group:g".to_string()];
        assert_eq!(decode_cursor(&encode_cursor(&parts)).unwrap(), position(&parts));
        assert_eq!(encode_cursor(&["ab".to_string(), "c".to_string()]), "61620063");
        for bad in ["zz", "abc", "7B7D", "é", &"00".repeat(MAX_CURSOR_HEX / 2 + 1)] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        for good in ["", "7b7d", "ff00ff", "00", &"ff".repeat(MAX_CURSOR_HEX / 2)] {
            assert!(decode_cursor(good).is_ok(), "{good}");
        }
    }

    fn sample() -> Model {
        let mut state = Model::default();
        for portal in ["a", "ab", "b", "é"] {
            state.portals.insert(
                portal.to_string(),
                serde_json::from_value(
                    json!({"name": portal, "color": "#000000", "logout_url": "https://x.io"}),
                )
                .unwrap(),
            );
            for email in ["x@a.io", "x@b.io", "xy@a.io", "y@é.io"] {
                state.members.insert(
                    (portal.to_string(), email.to_string()),
                    serde_json::from_value(json!({"role": "viewer"})).unwrap(),
                );
            }
        }
        for folder in ["/a", "/a/b", "/b"] {
            for principal in ["user:x@a.io", "org:o", "group:g", "portal:p", "group:h"] {
                state.shares.insert(
                    (folder.to_string(), principal.parse().unwrap()),
                    serde_json::from_value(json!({"access": "view"})).unwrap(),
                );
            }
        }
        state
    }

    /// Every page holds exactly the items past its cursor, in position order: checked
    /// against sorting every position, for cursors at, between and beside the items'.
    #[test]
    fn every_cursor_is_a_position_and_pages_are_exact() {
        let state = sample();
        for (collection, scope) in [
            (Kind::Portal, vec![]),
            (Kind::Member, vec![]),
            (Kind::Member, vec!["ab".to_string()]),
            (Kind::Share, vec![]),
        ] {
            let (everything, _) = list_page(&state, collection, &scope, None, MAX_LIMIT);
            let mut positions: Vec<Vec<u8>> = everything.iter().map(|item| position(&item.key)).collect();
            let sorted = {
                let mut sorted = positions.clone();
                sorted.sort();
                sorted
            };
            assert_eq!(positions, sorted, "{collection:?} lists in position order");
            // Cursors: each item's, each with a byte more or less, odd bytes, and none.
            let mut cursors: Vec<Vec<u8>> =
                vec![Vec::new(), vec![0xff], vec![0], vec![0xc3], b"a\0\xff".to_vec()];
            for at in positions.drain(..) {
                let mut more = at.clone();
                more.push(0);
                let mut less = at.clone();
                less.pop();
                let mut odd = at.clone();
                odd.push(0x80);
                cursors.extend([at, more, less, odd]);
            }
            for cursor in cursors {
                let expected: Vec<&Vec<u8>> = sorted
                    .iter()
                    .filter(|at| at.as_slice() > cursor.as_slice())
                    .collect();
                for limit in [1, 2, 3, MAX_LIMIT] {
                    let (items, next) = list_page(&state, collection, &scope, Some(cursor.clone()), limit);
                    let got: Vec<Vec<u8>> = items.iter().map(|item| position(&item.key)).collect();
                    let want: Vec<Vec<u8>> = expected.iter().take(limit).map(|at| (*at).clone()).collect();
                    assert_eq!(
                        got, want,
                        "{collection:?} {scope:?} after {cursor:?}, limit {limit}"
                    );
                    assert_eq!(next.is_some(), expected.len() > limit);
                    if let Some(next) = next {
                        assert_eq!(decode_cursor(&next).unwrap(), *got.last().unwrap());
                    }
                }
            }
        }
    }
}
