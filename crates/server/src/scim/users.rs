//! `/scim/v2/Users` and `/scim/v2/Groups`: a partner org's people as SCIM resources.
//!
//! A User is one email of the org: its partner-managed memberships in the portals the org
//! delegates (the access, in the state) plus its SCIM profile (`externalId`, `name`,
//! `displayName`, `emails`; beside the state, `portalctl_store::scim`). `id` is derived
//! from the org and the email, so it never changes; `userName` is the email and cannot be
//! changed (one email is one partner: provision a new user instead).
//!
//! Writes are decided on the state they commit on: creating a user puts a member with the
//! org's `default_role` in every delegated portal, refused with `403` when the store finds
//! a seat limit would be passed; `active: false` deletes those members at once (the seat is freed; the
//! roles are kept in the profile and given back on reactivation, seats permitting).
//! Members declared in git, or of another org, are neither listed nor touched. One
//! person's memberships are found by one lookup per portal, and a list reads only the
//! delegated portals' rosters: nothing here scans the whole state.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use portalctl_core::model::{
    AttributeValue, AttributeValues, Change, MemberSource, Membership, ResourceKey, ResourceValue,
    State as Model, email_domain, is_valid_email, normalize_email,
};
use portalctl_scim::resource::Resource as _;
use portalctl_scim::{
    Email, Error as ScimError, Filter, GroupRef, Member, Meta, PatchRequest, SelfService, User,
};
use portalctl_store::{ChangeMeta, ScimProfile};

use super::{Failure, MAX_RESULTS, ScimCaller, base_url, day, scim_json};
use crate::App;
use crate::handlers::WriteFailure;

/// The stable id of `email` in `org`: 32 hex digits of a SHA-256.
pub fn user_id(org: &str, email: &str) -> String {
    let digest = Sha256::digest(format!("{org}\n{email}").as_bytes());
    digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect()
}

/// The profile JSON kept beside the state.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<portalctl_scim::Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    emails: Vec<Email>,
    /// While deactivated: the role held in each portal, given back on reactivation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    roles: BTreeMap<String, String>,
    /// While deactivated: the self-service attribute values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, Value>,
}

/// One user of the org as read: its memberships and its profile.
struct Person {
    email: String,
    members: Vec<(String, Membership)>,
    profile: Option<ScimProfile>,
}

impl Person {
    fn active(&self) -> bool {
        !self.members.is_empty()
    }

    fn profile(&self) -> Profile {
        self.profile
            .as_ref()
            .and_then(|row| serde_json::from_str(&row.profile).ok())
            .unwrap_or_default()
    }
}

/// The memberships of `email`, by portal: one lookup per portal, never a scan of the
/// members (a state may hold millions).
fn memberships_of<'s>(state: &'s Model, email: &str) -> Vec<(&'s String, &'s Membership)> {
    state
        .portals
        .keys()
        .filter_map(|portal| {
            state
                .members
                .get(&(portal.clone(), email.to_string()))
                .map(|member| (portal, member))
        })
        .collect()
}

/// The org's people: every email with a member its org manages in a portal it delegates
/// (read from those portals' rosters only), and every SCIM profile of the org; by email.
fn people(state: &Model, org: &str, profiles: Vec<ScimProfile>) -> BTreeMap<String, Person> {
    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    let portals = state
        .partner_orgs
        .get(org)
        .and_then(|found| found.self_management.as_ref())
        .map(|delegation| delegation.portals.clone())
        .unwrap_or_default();
    for portal in &portals {
        let roster = state
            .members
            .range((portal.clone(), String::new())..)
            .take_while(|((name, _), _)| name == portal);
        for ((_, email), member) in roster {
            if member.managing_org() == Some(org) {
                people
                    .entry(email.clone())
                    .or_insert_with(|| Person {
                        email: email.clone(),
                        members: Vec::new(),
                        profile: None,
                    })
                    .members
                    .push((portal.clone(), member.clone()));
            }
        }
    }
    for profile in profiles {
        if let Some(person) = people.get_mut(&profile.email) {
            person.profile = Some(profile);
        } else if !is_member_elsewhere(state, org, &profile.email) {
            people.insert(
                profile.email.clone(),
                Person {
                    email: profile.email.clone(),
                    members: Vec::new(),
                    profile: Some(profile),
                },
            );
        }
    }
    people
}

/// Whether `email` is in some portal as someone the org does not manage (declared in git,
/// self-registered, or another org's).
fn is_member_elsewhere(state: &Model, org: &str, email: &str) -> bool {
    memberships_of(state, email)
        .iter()
        .any(|(_, member)| member.managing_org() != Some(org))
}

/// The memberships of `email` that `org` manages, by portal.
fn managed_by(state: &Model, org: &str, email: &str) -> Vec<(String, Membership)> {
    memberships_of(state, email)
        .into_iter()
        .filter(|(_, member)| member.managing_org() == Some(org))
        .map(|(portal, member)| (portal.clone(), member.clone()))
        .collect()
}

/// The User of `person`, with `meta` and its version.
fn to_user(state: &Model, org: &str, person: &Person, base: &str) -> User {
    let profile = person.profile();
    let id = user_id(org, &person.email);
    let mut user = User::new(person.email.clone());
    user.id = Some(id.clone());
    user.external_id = person.profile.as_ref().and_then(|row| row.external_id.clone());
    user.name = profile.name.clone();
    user.display_name = profile.display_name.clone();
    user.active = person.active();
    // The addresses the identity provider stored, as it stored them (none when it sent
    // none or removed them: the partner's address is `userName`).
    user.emails = profile.emails.clone();
    user.groups = state
        .groups
        .iter()
        .filter(|(_, group)| group.members.contains(&person.email))
        .map(|(name, _)| GroupRef {
            value: name.clone(),
            reference: Some(format!("{base}/Groups/{name}")),
            display: Some(name.clone()),
            kind: Some("direct".into()),
        })
        .collect();
    let self_service: BTreeMap<String, Value> = match person.members.first() {
        Some((_, member)) => member
            .attributes
            .iter()
            .filter(|(key, _)| is_self_service(state, key))
            .map(|(key, value)| (key.clone(), serde_json::to_value(value).unwrap_or(Value::Null)))
            .collect(),
        None => profile.attributes.clone(),
    };
    user.self_service = (!self_service.is_empty()).then_some(SelfService(self_service));
    let version = version_of(&user);
    let fmt = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    user.meta = Some(Meta {
        resource_type: Some("User".into()),
        created: person.profile.as_ref().map(|row| fmt(row.created_at)),
        last_modified: person.profile.as_ref().map(|row| fmt(row.modified_at)),
        location: Some(format!("{base}/Users/{id}")),
        version: Some(version),
    });
    user.schemas = User::schemas_of(&serde_json::to_value(&user).unwrap_or(Value::Null))
        .into_iter()
        .map(str::to_owned)
        .collect();
    user
}

/// The weak ETag of a resource: a digest of its JSON without `meta`.
fn version_of<T: serde::Serialize>(resource: &T) -> String {
    let mut value = serde_json::to_value(resource).unwrap_or(Value::Null);
    if let Value::Object(object) = &mut value {
        object.remove("meta");
    }
    let digest = Sha256::digest(value.to_string().as_bytes());
    let hex: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    format!("W/\"{hex}\"")
}

fn is_self_service(state: &Model, key: &str) -> bool {
    state
        .attributes
        .get(key)
        .is_some_and(|attribute| attribute.self_service && !attribute.sensitive)
}

/// The self-service values of a User as attribute values, refusing any other attribute.
fn self_service_values(state: &Model, user: &User) -> Result<AttributeValues, ScimError> {
    let mut values = AttributeValues::default();
    let Some(extension) = &user.self_service else {
        return Ok(values);
    };
    for (key, value) in &extension.0 {
        if value.is_null() {
            continue;
        }
        if !is_self_service(state, key) {
            return Err(ScimError::mutability(format!(
                "`{}:{key}` is not a self-service attribute: it is declared in git",
                portalctl_scim::SELF_SERVICE_SCHEMA
            )));
        }
        let parsed: AttributeValue = serde_json::from_value(value.clone())
            .map_err(|_| ScimError::invalid_value(format!("`{key}` must be a string, integer or boolean")))?;
        values.insert(key.clone(), parsed);
    }
    Ok(values)
}

/// The answer with a User: its JSON, `ETag` and, for a creation, `Location`.
fn user_response(status: StatusCode, user: &User) -> Response {
    let mut response = scim_json(status, &user.to_json());
    if let Some(meta) = &user.meta {
        if let Some(version) = meta
            .version
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::ETAG, version);
        }
        if status == StatusCode::CREATED
            && let Some(location) = meta
                .location
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// Whether an `If-Match` header allows a write on a resource at `version`.
fn check_if_match(headers: &HeaderMap, version: &str) -> Result<(), ScimError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default();
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let matches = text
        .split(',')
        .any(|tag| tag.trim() == "*" || bare(tag) == bare(version));
    if matches {
        Ok(())
    } else {
        Err(ScimError::status(
            412,
            format!("the user is at version {version}, not the one `If-Match` names: read it again"),
        ))
    }
}

/// A request body as JSON.
fn body_json(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|error| ScimError::invalid_syntax(format!("the body is not JSON: {error}")))
}

/// `startIndex`, `count`, `filter`, `attributes`, `excludedAttributes`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default, rename = "startIndex")]
    start_index: Option<String>,
    #[serde(default)]
    count: Option<String>,
    #[serde(default)]
    attributes: Option<String>,
    #[serde(default, rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

impl ListQuery {
    /// The query a `POST /.search` body asks for (RFC 7644 §3.4.3): the same parameters
    /// as a `GET`, with `attributes` and `excludedAttributes` as lists and `startIndex` and
    /// `count` as numbers.
    fn from_search(body: &Bytes) -> Result<Self, ScimError> {
        let value = body_json(body)?;
        let Value::Object(fields) = value else {
            return Err(ScimError::invalid_syntax("a search request is a JSON object"));
        };
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match fields.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)) {
                None | Some((_, Value::Null)) => Ok(None),
                Some((_, Value::String(text))) => Ok(Some(text.clone())),
                Some((_, Value::Number(number))) => Ok(Some(number.to_string())),
                Some((_, Value::Array(items))) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_string).ok_or_else(|| {
                            ScimError::invalid_value(format!("`{name}` is a list of attribute names"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|names| Some(names.join(","))),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "`{name}` must be a string, a number or a list of strings"
                ))),
            }
        };
        Ok(Self {
            filter: text("filter")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
        })
    }
}

/// `POST /Users/.search`: `GET /Users` with its parameters in the body (RFC 7644 §3.4.3).
pub async fn search(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let query = ListQuery::from_search(&body)?;
    list(State(app), Extension(caller), headers, Query(query)).await
}

/// `POST /Groups/.search`: `GET /Groups` with its parameters in the body.
pub async fn search_groups(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let query = ListQuery::from_search(&body)?;
    list_groups(State(app), Extension(caller), headers, Query(query)).await
}

/// Query parameters that project a resource (`attributes`, `excludedAttributes`).
#[derive(Debug, Default, Deserialize)]
pub struct Projection {
    #[serde(default)]
    attributes: Option<String>,
    #[serde(default, rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

fn integer(text: Option<&str>, name: &str) -> Result<Option<i64>, ScimError> {
    text.map(|text| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("`{name}` must be an integer")))
    })
    .transpose()
}

/// Keeps (or drops) the top-level attributes named in `attributes` (`excluded`); `id`,
/// `schemas` and `meta` stay (returned "always" or needed to address the resource).
fn project(mut value: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|name| {
                let name = name.trim();
                let name = [
                    "urn:ietf:params:scim:schemas:core:2.0:User:",
                    "urn:ietf:params:scim:schemas:core:2.0:Group:",
                ]
                .iter()
                .find_map(|prefix| {
                    name.get(..prefix.len())
                        .filter(|head| head.eq_ignore_ascii_case(prefix))
                        .map(|_| &name[prefix.len()..])
                })
                .unwrap_or(name);
                name.split('.').next().unwrap_or(name).to_ascii_lowercase()
            })
            .filter(|name| !name.is_empty())
            .collect()
    };
    let always = ["id", "schemas", "meta"];
    if let Value::Object(object) = &mut value {
        if let Some(list) = attributes.filter(|list| !list.trim().is_empty()) {
            let keep = names(list);
            let prefixed: Vec<String> = list
                .split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .collect();
            object.retain(|key, _| {
                let lower = key.to_ascii_lowercase();
                always.contains(&key.as_str())
                    || keep.contains(&lower)
                    || prefixed.iter().any(|name| name.starts_with(&lower))
            });
        } else if let Some(list) = excluded {
            let drop = names(list);
            object.retain(|key, _| {
                always.contains(&key.as_str())
                    || key == "userName"
                    || !drop.contains(&key.to_ascii_lowercase())
            });
        }
    }
    value
}

/// Runs store work on the blocking pool, as `App::blocking` does, with SCIM errors.
async fn blocking<T: Send + 'static>(
    app: &App,
    work: impl FnOnce(&App) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        crate::priority::lower_current_thread();
        work(&app)
    })
    .await
    .map_err(|_| Failure(ScimError::status(500, "the request's work stopped unexpectedly")))?
}

/// As [`blocking`], in the service's write queue ([`App::in_write_turn`]): a SCIM write
/// waits its turn with every other write, and is refused `503` past the write wait.
async fn writing<T: Send + 'static>(
    app: &App,
    work: impl FnOnce(&App) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    app.in_write_turn(work, |_, result| result).await
}

/// The org's people and the state, read fresh (a write on another replica is seen).
fn load(
    app: &App,
    org: &str,
) -> Result<
    (
        std::sync::Arc<portalctl_store::Snapshot>,
        BTreeMap<String, Person>,
    ),
    Failure,
> {
    let snapshot = app
        .store
        .newest_snapshot(day())
        .map_err(crate::error::ApiError::from)?;
    let profiles = app
        .store
        .scim_profiles(org)
        .map_err(crate::error::ApiError::from)?;
    let profiles = purge_stale(app, org, profiles)?;
    let people = people(&snapshot.state, org, profiles);
    Ok((snapshot, people))
}

/// Retention: a profile (name, emails, externalId, remembered roles) lives as long as its
/// person is the org's SCIM user — with a membership the org manages, or deactivated
/// through SCIM (kept for re-activation). A profile still marked active whose person has
/// no such membership any more (a partner admin removed them, git withdrew the delegation
/// or the portal, git declared them itself) is deleted here, before any answer, so the
/// person never reappears. Judged on a snapshot taken after the profiles were read: a
/// write commits the state before it writes the profile, so a profile being created is
/// never taken for a stale one.
fn purge_stale(app: &App, org: &str, profiles: Vec<ScimProfile>) -> Result<Vec<ScimProfile>, Failure> {
    let (suspect, mut kept): (Vec<ScimProfile>, Vec<ScimProfile>) =
        profiles.into_iter().partition(|row| row.active);
    if suspect.is_empty() {
        return Ok(kept);
    }
    let fresh = app
        .store
        .newest_snapshot(day())
        .map_err(crate::error::ApiError::from)?;
    for row in suspect {
        if managed_by(&fresh.state, org, &row.email).is_empty() {
            app.store
                .delete_scim_profile(org, &row.email)
                .map_err(crate::error::ApiError::from)?;
            tracing::info!(
                target: "portalctl_server::audit",
                org = %org,
                user = %user_id(org, &row.email),
                "SCIM profile purged: the person is no longer managed by the org"
            );
        } else {
            kept.push(row);
        }
    }
    kept.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(kept)
}

fn find<'p>(people: &'p BTreeMap<String, Person>, org: &str, id: &str) -> Result<&'p Person, ScimError> {
    people
        .values()
        .find(|person| user_id(org, &person.email) == id)
        .ok_or_else(|| ScimError::status(404, format!("no user `{id}`")))
}

/// `GET /Users`.
pub async fn list(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let filter = query
        .filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(Filter::parse)
        .transpose()?;
    if let Some(filter) = &filter {
        filter.validate(&User::SCHEMA)?;
    }
    let start_index = integer(query.start_index.as_deref(), "startIndex")?;
    let count = integer(query.count.as_deref(), "count")?;
    let body = blocking(&app, move |app| {
        let (snapshot, people) = load(app, &caller.org)?;
        let matching: Vec<Value> = people
            .values()
            .map(|person| to_user(&snapshot.state, &caller.org, person, &base).to_json())
            .filter(|json| {
                filter
                    .as_ref()
                    .is_none_or(|filter| filter.matches(json, &User::SCHEMA))
            })
            .collect();
        let total = matching.len();
        let (start, range) = portalctl_scim::discovery::page(total, start_index, count, MAX_RESULTS);
        let page: Vec<Value> = matching[range]
            .iter()
            .cloned()
            .map(|json| {
                project(
                    json,
                    query.attributes.as_deref(),
                    query.excluded_attributes.as_deref(),
                )
            })
            .collect();
        Ok(portalctl_scim::discovery::ListResponse::new(page, total, start))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

/// `GET /Users/{id}`.
pub async fn read(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(projection): Query<Projection>,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let user = blocking(&app, move |app| {
        let (snapshot, people) = load(app, &caller.org)?;
        let person = find(&people, &caller.org, &id)?;
        Ok(to_user(&snapshot.state, &caller.org, person, &base))
    })
    .await?;
    let mut response = user_response(StatusCode::OK, &user);
    if projection.attributes.is_some() || projection.excluded_attributes.is_some() {
        let version = response.headers().get(header::ETAG).cloned();
        response = scim_json(
            StatusCode::OK,
            &project(
                user.to_json(),
                projection.attributes.as_deref(),
                projection.excluded_attributes.as_deref(),
            ),
        );
        if let Some(version) = version {
            response.headers_mut().insert(header::ETAG, version);
        }
    }
    Ok(response)
}

/// What a write wants for one person, decided against the state it commits on.
struct Desired {
    active: bool,
    attributes: AttributeValues,
}

/// The changes that take `email`'s partner-managed members in `org` to `desired`, and the
/// roles to remember when deactivating. New members get `roles` (by portal) or the org's
/// `default_role`, in every portal the org delegates.
///
/// # Errors
/// `403` when the org no longer delegates, or a seat limit would be passed; `409
/// uniqueness` when the email is someone else's (declared in git, another org's).
fn person_changes(
    state: &Model,
    org: &str,
    email: &str,
    desired: &Desired,
    roles: &BTreeMap<String, String>,
) -> Result<(Vec<Change>, BTreeMap<String, String>), Failure> {
    let delegation = state
        .partner_orgs
        .get(org)
        .and_then(|found| found.self_management.clone())
        .filter(|delegation| delegation.scim)
        .ok_or_else(|| {
            ScimError::status(
                403,
                format!("partner org `{org}` does not delegate its roster to SCIM"),
            )
        })?;
    if is_member_elsewhere(state, org, email) {
        return Err(ScimError::uniqueness(format!(
            "`{email}` is already a partner that {org}'s identity provider does not manage"
        ))
        .into());
    }
    let current = managed_by(state, org, email);
    let key = |portal: &str| ResourceKey::Member {
        portal: portal.to_string(),
        email: email.to_string(),
    };
    let mut changes = Vec::new();
    if !desired.active {
        let kept: BTreeMap<String, String> = current
            .iter()
            .map(|(portal, member)| (portal.clone(), member.role.clone()))
            .collect();
        for (portal, _) in &current {
            changes.push(Change::Delete { key: key(portal) });
        }
        return Ok((changes, kept));
    }
    // The org's attribute values, for the values the user does not state (as a
    // self-registration and a declared member get them).
    let mut attributes = desired.attributes.clone();
    if let Some(found) = state.partner_orgs.get(org) {
        for (name, value) in &found.attributes {
            if !attributes.contains_key(name) {
                attributes.insert(name.clone(), value.clone());
            }
        }
    }
    // Seat limits (the portal's, the org's) are the store's to hold, on the state the
    // batch commits on, without counting members here under its writer lock: a batch that
    // would pass one is `CommitError::SeatLimit`, answered `403`.
    for portal in &delegation.portals {
        if !state.portals.contains_key(portal) {
            continue;
        }
        let existing = current.iter().find(|(name, _)| name == portal);
        let member = match existing {
            Some((_, member)) => Membership {
                attributes: attributes.clone(),
                ..member.clone()
            },
            None => {
                let role = roles
                    .get(portal)
                    .filter(|role| state.role_within(role, &delegation.max_role))
                    .cloned()
                    .unwrap_or_else(|| delegation.default_role().to_string());
                Membership {
                    role,
                    org: Some(org.to_string()),
                    attributes: attributes.clone(),
                    expires: None,
                    source: MemberSource::PartnerManaged,
                    pending: false,
                }
            }
        };
        if existing.map(|(_, old)| old) != Some(&member) {
            changes.push(Change::Put {
                key: key(portal),
                value: ResourceValue::Member(member),
            });
        }
    }
    Ok((changes, BTreeMap::new()))
}

/// A commit refusal in SCIM terms: the rules' problems as `invalidValue`.
fn commit_failure(failure: WriteFailure) -> Failure {
    match failure {
        WriteFailure::Refused(error) => Failure::from(error),
        WriteFailure::Commit(portalctl_store::CommitError::SeatLimit(_)) => Failure(ScimError::status(
            403,
            "no seat left: a seat limit of the portal or the partner org would be passed; nothing was changed",
        )),
        WriteFailure::Commit(
            portalctl_store::CommitError::Invalid(problems)
            | portalctl_store::CommitError::Conflict(problems),
        ) => {
            let messages: Vec<String> = problems
                .listed
                .iter()
                .take(3)
                .map(|problem| problem.message.clone())
                .collect();
            Failure(ScimError::invalid_value(messages.join("; ")))
        }
        WriteFailure::Commit(error) => {
            Failure::from(crate::error::ApiError::from_commit(error, StatusCode::CONFLICT))
        }
    }
}

/// Commits the changes for `email` decided on the current state (with `check` run first on
/// it), then writes the profile; returns the person as stored.
#[expect(clippy::too_many_arguments, reason = "one write, described once")]
fn write_person(
    app: &App,
    caller: &ScimCaller,
    email: &str,
    desired: &Desired,
    user: &User,
    previous: Option<&ScimProfile>,
    check: &dyn Fn(&Model) -> Result<(), Failure>,
    now: time::OffsetDateTime,
) -> Result<(), Failure> {
    let previous_profile: Profile = previous
        .and_then(|row| serde_json::from_str(&row.profile).ok())
        .unwrap_or_default();
    let meta = ChangeMeta {
        author: Some(caller.author()),
        ..ChangeMeta::default()
    };
    let mut remembered = BTreeMap::new();
    let mut refused: Option<Failure> = None;
    let outcome = app.store.commit_with(&meta, &caller.token, day(), |state, _| {
        if let Err(failure) = check(state) {
            refused = Some(failure);
            return Err(WriteFailure::Refused(crate::error::ApiError::internal("refused")));
        }
        match person_changes(state, &caller.org, email, desired, &previous_profile.roles) {
            Ok((changes, roles)) => {
                remembered = roles;
                Ok(changes)
            }
            Err(failure) => {
                refused = Some(failure);
                Err(WriteFailure::Refused(crate::error::ApiError::internal("refused")))
            }
        }
    });
    if let Some(failure) = refused {
        return Err(failure);
    }
    outcome.map_err(commit_failure)?;
    let mut attributes = BTreeMap::new();
    if !desired.active {
        attributes = desired
            .attributes
            .iter()
            .map(|(key, value)| (key.clone(), serde_json::to_value(value).unwrap_or(Value::Null)))
            .collect();
        if remembered.is_empty() {
            remembered = previous_profile.roles.clone();
        }
    } else {
        remembered = BTreeMap::new();
    }
    let profile = Profile {
        name: user.name.clone(),
        display_name: user.display_name.clone(),
        emails: user.emails.clone(),
        roles: remembered,
        attributes,
    };
    app.store
        .put_scim_profile(&ScimProfile {
            org: caller.org.clone(),
            email: email.to_string(),
            external_id: user.external_id.clone(),
            profile: serde_json::to_string(&profile).unwrap_or_else(|_| "{}".into()),
            active: desired.active,
            created_at: previous.map_or(now, |row| row.created_at),
            modified_at: now,
        })
        .map_err(crate::error::ApiError::from)?;
    // The profile is not state (no audit entry of its own): its writes are logged with
    // who made them, naming the user by id.
    tracing::info!(
        target: "portalctl_server::audit",
        token = %caller.token,
        org = %caller.org,
        user = %user_id(&caller.org, email),
        active = desired.active,
        "SCIM profile written"
    );
    Ok(())
}

/// `userName` as the partner's email, in one of the org's domains.
fn email_of(state: &Model, org: &str, user: &User) -> Result<String, ScimError> {
    let email = normalize_email(&user.user_name);
    if !is_valid_email(&email) {
        return Err(ScimError::invalid_value(format!(
            "`userName` must be the partner's email address, not `{}`",
            user.user_name
        )));
    }
    let domains = state
        .partner_orgs
        .get(org)
        .map(|found| found.domains.clone())
        .unwrap_or_default();
    let domain = email_domain(&email).unwrap_or_default();
    if !domains.iter().any(|allowed| {
        domain == allowed
            || domain
                .strip_suffix(allowed.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    }) {
        return Err(ScimError::invalid_value(format!(
            "`userName` {email} is not at a domain of partner org {org} ({})",
            domains.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(email)
}

/// `POST /Users`.
pub async fn create(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let user = User::from_body(body_json(&body)?)?;
    let stored = writing(&app, move |app| {
        let snapshot = app.store.snapshot(day()).map_err(crate::error::ApiError::from)?;
        let email = email_of(&snapshot.state, &caller.org, &user)?;
        let attributes = self_service_values(&snapshot.state, &user)?;
        let profiles = app
            .store
            .scim_profiles(&caller.org)
            .map_err(crate::error::ApiError::from)?;
        if profiles.iter().any(|row| row.email == email) {
            return Err(ScimError::uniqueness(format!("a user with `userName` {email} exists")).into());
        }
        let org = caller.org.clone();
        let taken = {
            let email = email.clone();
            move |state: &Model| -> Result<(), Failure> {
                if !managed_by(state, &org, &email).is_empty() {
                    Err(ScimError::uniqueness(format!("a user with `userName` {email} exists")).into())
                } else {
                    Ok(())
                }
            }
        };
        let desired = Desired {
            active: user.active,
            attributes,
        };
        write_person(
            app,
            &caller,
            &email,
            &desired,
            &user,
            None,
            &taken,
            time::OffsetDateTime::now_utc(),
        )?;
        let (snapshot, people) = load(app, &caller.org)?;
        let person = people
            .get(&email)
            .ok_or_else(|| ScimError::status(500, "the user was stored but cannot be read back"))?;
        Ok(to_user(&snapshot.state, &caller.org, person, &base))
    })
    .await?;
    Ok(user_response(StatusCode::CREATED, &stored))
}

/// Replaces a user's writable attributes with `user`'s (PUT, or the result of a PATCH).
fn update(
    app: &App,
    caller: &ScimCaller,
    base: &str,
    id: &str,
    headers: &HeaderMap,
    next: impl FnOnce(&User) -> Result<User, ScimError>,
) -> Result<User, Failure> {
    let (snapshot, people) = load(app, &caller.org)?;
    let person = find(&people, &caller.org, id)?;
    let current = to_user(&snapshot.state, &caller.org, person, base);
    let version = current
        .meta
        .as_ref()
        .and_then(|meta| meta.version.clone())
        .unwrap_or_default();
    check_if_match(headers, &version)?;
    let user = next(&current)?;
    if !user.user_name.trim().eq_ignore_ascii_case(&person.email) {
        return Err(ScimError::mutability(
            "`userName` is the partner's email and cannot change: deprovision this user and create one with the new address",
        )
        .into());
    }
    if user.id.as_deref().is_some_and(|sent| sent != id) {
        return Err(ScimError::mutability("`id` cannot change").into());
    }
    let attributes = self_service_values(&snapshot.state, &user)?;
    let desired = Desired {
        active: user.active,
        attributes,
    };
    let email = person.email.clone();
    let previous = person.profile.clone();
    // The new value was computed from `current`: when the user changed between that read and
    // the commit (another request, another replica), the write is refused rather than lost.
    let org = caller.org.clone();
    let (base_owned, expected) = (base.to_string(), version.clone());
    let profile_for_check = previous.clone();
    let email_for_check = email.clone();
    let still_current = move |state: &Model| -> Result<(), Failure> {
        {
            let person = Person {
                email: email_for_check.clone(),
                members: managed_by(state, &org, &email_for_check),
                profile: profile_for_check.clone(),
            };
            let now = to_user(state, &org, &person, &base_owned);
            if now.meta.and_then(|meta| meta.version).as_deref() != Some(expected.as_str()) {
                return Err(ScimError::status(412, "the user changed meanwhile: read it again").into());
            }
        }
        Ok(())
    };
    write_person(
        app,
        caller,
        &email,
        &desired,
        &user,
        previous.as_ref(),
        &still_current,
        time::OffsetDateTime::now_utc(),
    )?;
    let (snapshot, people) = load(app, &caller.org)?;
    let person = people
        .get(&email)
        .ok_or_else(|| ScimError::status(500, "the user was stored but cannot be read back"))?;
    Ok(to_user(&snapshot.state, &caller.org, person, base))
}

/// `PUT /Users/{id}`.
pub async fn replace(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let sent = User::from_body(body_json(&body)?)?;
    let stored = writing(&app, move |app| {
        update(app, &caller, &base, &id, &headers, |_| Ok(sent))
    })
    .await?;
    Ok(user_response(StatusCode::OK, &stored))
}

/// `PATCH /Users/{id}`: the operations applied by `portalctl-scim`'s engine (Okta's and
/// Entra ID's dialects), then stored as a PUT would.
pub async fn patch(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let request = PatchRequest::from_json(&body_json(&body)?)?;
    let stored = writing(&app, move |app| {
        update(app, &caller, &base, &id, &headers, |current| {
            let mut without_groups = current.clone();
            without_groups.groups.clear();
            without_groups.meta = None;
            let mut next = portalctl_scim::patch::apply(&without_groups, &request.operations)?;
            next.groups = current.groups.clone();
            Ok(next)
        })
    })
    .await?;
    Ok(user_response(StatusCode::OK, &stored))
}

/// `DELETE /Users/{id}`: the person's members go at once, and the profile.
pub async fn delete(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    writing(&app, move |app| {
        let (snapshot, people) = load(app, &caller.org)?;
        let person = find(&people, &caller.org, &id)?;
        let current = to_user(&snapshot.state, &caller.org, person, &base);
        check_if_match(
            &headers,
            current
                .meta
                .as_ref()
                .and_then(|m| m.version.as_deref())
                .unwrap_or_default(),
        )?;
        let email = person.email.clone();
        let org = caller.org.clone();
        let meta = ChangeMeta {
            author: Some(caller.author()),
            ..ChangeMeta::default()
        };
        app.store
            .commit_with(&meta, &caller.token, day(), |state, _| {
                Ok::<_, WriteFailure>(
                    managed_by(state, &org, &email)
                        .into_iter()
                        .map(|(portal, _)| Change::Delete {
                            key: ResourceKey::Member {
                                portal,
                                email: email.clone(),
                            },
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .map_err(commit_failure)?;
        app.store
            .delete_scim_profile(&caller.org, &email)
            .map_err(crate::error::ApiError::from)?;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The org's groups: the groups its people are in, with only its people as members.
fn groups(
    state: &Model,
    org: &str,
    people: &BTreeMap<String, Person>,
    base: &str,
) -> Vec<portalctl_scim::Group> {
    state
        .groups
        .iter()
        .filter_map(|(name, group)| {
            let members: Vec<Member> = group
                .members
                .iter()
                .filter(|email| people.get(*email).is_some_and(Person::active))
                .map(|email| {
                    let id = user_id(org, email);
                    Member {
                        value: id.clone(),
                        reference: Some(format!("{base}/Users/{id}")),
                        display: Some(email.clone()),
                        kind: Some("User".into()),
                    }
                })
                .collect();
            (!members.is_empty()).then(|| {
                let mut scim = portalctl_scim::Group {
                    schemas: vec![portalctl_scim::GROUP_SCHEMA.to_owned()],
                    id: Some(name.clone()),
                    external_id: None,
                    display_name: name.clone(),
                    members,
                    meta: None,
                };
                let version = version_of(&scim);
                scim.meta = Some(Meta {
                    resource_type: Some("Group".into()),
                    created: None,
                    last_modified: None,
                    location: Some(format!("{base}/Groups/{name}")),
                    version: Some(version),
                });
                scim
            })
        })
        .collect()
}

/// `GET /Groups`.
pub async fn list_groups(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let filter = query
        .filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(Filter::parse)
        .transpose()?;
    if let Some(filter) = &filter {
        filter.validate(&portalctl_scim::Group::SCHEMA)?;
    }
    let start_index = integer(query.start_index.as_deref(), "startIndex")?;
    let count = integer(query.count.as_deref(), "count")?;
    let body = blocking(&app, move |app| {
        let (snapshot, people) = load(app, &caller.org)?;
        let matching: Vec<Value> = groups(&snapshot.state, &caller.org, &people, &base)
            .iter()
            .map(portalctl_scim::resource::Resource::to_json)
            .filter(|json| {
                filter
                    .as_ref()
                    .is_none_or(|filter| filter.matches(json, &portalctl_scim::Group::SCHEMA))
            })
            .collect();
        let total = matching.len();
        let (start, range) = portalctl_scim::discovery::page(total, start_index, count, MAX_RESULTS);
        let page: Vec<Value> = matching[range]
            .iter()
            .cloned()
            .map(|json| {
                project(
                    json,
                    query.attributes.as_deref(),
                    query.excluded_attributes.as_deref(),
                )
            })
            .collect();
        Ok(portalctl_scim::discovery::ListResponse::new(page, total, start))
    })
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

/// `GET /Groups/{id}`.
pub async fn read_group(
    State(app): State<App>,
    Extension(caller): Extension<ScimCaller>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let base = base_url(&app, &headers);
    let group = blocking(&app, move |app| {
        let (snapshot, people) = load(app, &caller.org)?;
        groups(&snapshot.state, &caller.org, &people, &base)
            .into_iter()
            .find(|group| group.id.as_deref() == Some(id.as_str()))
            .ok_or_else(|| ScimError::status(404, format!("no group `{id}`")).into())
    })
    .await?;
    let mut response = scim_json(
        StatusCode::OK,
        &portalctl_scim::resource::Resource::to_json(&group),
    );
    if let Some(version) = group
        .meta
        .as_ref()
        .and_then(|meta| meta.version.as_deref())
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::ETAG, version);
    }
    Ok(response)
}

/// Writes to `/Groups`: groups are declared in git.
///
/// The body is read (and dropped) first: a connection whose request body is left unread
/// is closed after the answer, and a client that reuses it at that moment sees the server
/// hang up without answering its next request.
pub async fn groups_read_only(_body: axum::body::Bytes) -> Failure {
    Failure(ScimError::status(
        403,
        "groups are declared in git and read-only here: ask the vendor to change them in a pull request",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_stable_and_per_org() {
        assert_eq!(
            user_id("globex", "a@globex.com"),
            user_id("globex", "a@globex.com")
        );
        assert_ne!(
            user_id("globex", "a@globex.com"),
            user_id("initech", "a@globex.com")
        );
        assert_eq!(user_id("globex", "a@globex.com").len(), 32);
    }

    #[test]
    fn if_match_accepts_weak_strong_and_star() {
        let mut headers = HeaderMap::new();
        assert!(check_if_match(&headers, "W/\"ab\"").is_ok());
        for good in ["W/\"ab\"", "\"ab\"", "*", "\"zz\", W/\"ab\""] {
            headers.insert(header::IF_MATCH, HeaderValue::from_static(good));
            assert!(check_if_match(&headers, "W/\"ab\"").is_ok(), "{good}");
        }
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"cd\""));
        assert_eq!(check_if_match(&headers, "W/\"ab\"").unwrap_err().status, 412);
    }

    #[test]
    fn projection_keeps_what_is_asked_and_what_is_always_returned() {
        let user = json!({"id": "1", "schemas": [], "userName": "a@x.com", "name": {"givenName": "A"}, "emails": []});
        let kept = project(user.clone(), Some("name.givenName"), None);
        assert!(kept.get("name").is_some() && kept.get("id").is_some() && kept.get("emails").is_none());
        let dropped = project(user, None, Some("emails"));
        assert!(dropped.get("emails").is_none() && dropped.get("userName").is_some());
    }
}
