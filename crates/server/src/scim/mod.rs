//! The SCIM 2.0 service provider at `/scim/v2` (RFC 7643/7644): a partner org's identity
//! provider (Okta, Entra ID) keeps the org's people current with a `partner_org:NAME`
//! token. Users are the org's partner-managed members (`users.rs`); Groups are the groups
//! they are in, read-only (groups are declared in git); the discovery documents come from
//! `portalctl-scim`'s tables.
//!
//! `/scim/v2` is not the admin API: its contract is the RFCs' (with its own discovery at
//! `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig`), it answers in the SCIM error
//! schema (`application/scim+json`), and it is not in the OpenAPI document.
//!
//! **Architecture invariant:** a SCIM caller reaches only its org: every read is filtered
//! to the org's partner-managed members before anything is rendered, and every write is
//! decided on the state it commits on (`Store::commit_with`) and can only put or delete
//! partner-managed members of that org in the portals the org delegates.

mod users;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use portalctl_scim::discovery::{self, ExtensionAttribute};
use portalctl_scim::schema::Kind;
use portalctl_scim::{Error as ScimError, SELF_SERVICE_SCHEMA};

use crate::auth::{Caller, Scope};
use crate::{App, today};

/// The most resources one list answers with (`filter.maxResults`).
pub const MAX_RESULTS: usize = 200;

/// The media type of every SCIM answer (RFC 7644 §3.1).
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// Whether `path` is under `/scim/v2` (the guard takes `application/scim+json` there).
pub fn is_scim_path(path: &str) -> bool {
    path == "/scim/v2" || path.starts_with("/scim/v2/")
}

/// A SCIM error as an answer.
pub struct Failure(pub ScimError);

impl From<ScimError> for Failure {
    fn from(error: ScimError) -> Self {
        Self(error)
    }
}

impl From<crate::error::ApiError> for Failure {
    fn from(error: crate::error::ApiError) -> Self {
        Self(ScimError::status(error.status.as_u16(), error.body.error.message))
    }
}

impl From<portalctl_store::StoreError> for Failure {
    fn from(error: portalctl_store::StoreError) -> Self {
        Self::from(crate::error::ApiError::from(error))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        scim_json(status, &self.0)
    }
}

/// `body` as `application/scim+json`.
pub fn scim_json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE));
    response
}

/// The org a SCIM caller acts for.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    /// The token's name: the actor of every batch it commits.
    pub token: String,
    pub org: String,
}

impl ScimCaller {
    /// `scim:ORG`, the author the audit log records for its batches.
    pub fn author(&self) -> String {
        format!("scim:{}", self.org)
    }
}

/// The gate of `/scim/v2`: a `partner_org:NAME` token the service created, of an org
/// whose `self_management` has `scim: true`. Everything else is `401` or `403` in the
/// SCIM error schema; the token never reaches a log.
async fn gate(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let presented = crate::auth::bearer(&request);
    let outcome: Result<ScimCaller, Failure> = async {
        let Some(token) = presented else {
            return Err(ScimError::status(401, "missing bearer token: send `Authorization: Bearer <token>`").into());
        };
        let caller: Option<Caller> = match app.tokens.identify(&token) {
            Some(caller) => Some(caller),
            None => crate::auth::stored_caller(&app, &token).await?,
        };
        let Some(caller) = caller else {
            return Err(ScimError::status(401, "unknown, revoked or expired token").into());
        };
        let (Scope::PartnerOrg, Some(org)) = (caller.scope, caller.org.clone()) else {
            return Err(ScimError::status(
                403,
                format!("token `{}` is not a `partner_org:NAME` token: SCIM needs one", caller.name),
            )
            .into());
        };
        let snapshot = app.snapshot()?;
        let delegated = snapshot
            .state
            .partner_orgs
            .get(&org)
            .and_then(|found| found.self_management.as_ref())
            .is_some_and(|delegation| delegation.scim);
        if !delegated {
            return Err(ScimError::status(
                403,
                format!("partner org `{org}` does not let its identity provider provision (`self_management.scim`)"),
            )
            .into());
        }
        Ok(ScimCaller {
            token: caller.name,
            org,
        })
    }
    .await;
    let (response, name) = match outcome {
        Ok(caller) => {
            let name = caller.token.clone();
            request.extensions_mut().insert(caller);
            (next.run(request).await, name)
        }
        Err(failure) => (failure.into_response(), "-".to_string()),
    };
    tracing::info!(%method, path, status = response.status().as_u16(), token = name, "scim request");
    response
}

/// The base URL of the provider as the client reached it, for `meta.location`.
pub fn base_url(app: &App, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic()));
    match host {
        Some(host) => {
            let scheme = if app.pages.settings.public_url.starts_with("https://") {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}/scim/v2")
        }
        None => format!("{}/scim/v2", app.pages.settings.public_url.trim_end_matches('/')),
    }
}

const DOCUMENTATION: &str = "https://github.com/portalctl/portalctl/blob/main/docs/serve.md#scim";

async fn service_provider_config(State(app): State<App>, headers: HeaderMap) -> Response {
    let base = base_url(&app, &headers);
    scim_json(
        StatusCode::OK,
        &discovery::service_provider_config(&base, DOCUMENTATION, MAX_RESULTS),
    )
}

async fn resource_types(State(app): State<App>, headers: HeaderMap) -> Response {
    let base = base_url(&app, &headers);
    let types = discovery::resource_types(&base);
    let total = types.len();
    scim_json(StatusCode::OK, &discovery::ListResponse::new(types, total, 1))
}

async fn resource_type(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let base = base_url(&app, &headers);
    match discovery::resource_types(&base)
        .into_iter()
        .find(|document| document["id"].as_str() == Some(id.as_str()))
    {
        Some(document) => scim_json(StatusCode::OK, &document),
        None => Failure(ScimError::status(404, format!("no resource type `{id}`"))).into_response(),
    }
}

/// The workspace's self-service attributes, as the extension schema lists them.
fn extension_attributes(state: &portalctl_core::model::State) -> Vec<ExtensionAttribute> {
    use portalctl_core::model::AttributeType;
    state
        .attributes
        .iter()
        .filter(|(_, attribute)| attribute.self_service && !attribute.sensitive)
        .map(|(name, attribute)| ExtensionAttribute {
            name: name.clone(),
            kind: match attribute.kind {
                AttributeType::Integer => Kind::Integer,
                AttributeType::Boolean => Kind::Boolean,
                AttributeType::String | AttributeType::Enum => Kind::String,
            },
            required: false,
            description: format!("The self-service attribute `{name}`"),
            canonical_values: attribute.values.clone(),
        })
        .collect()
}

fn schema_documents(app: &App, headers: &HeaderMap) -> Result<Vec<Value>, Failure> {
    let base = base_url(app, headers);
    let snapshot = app.snapshot()?;
    Ok(discovery::schemas(&base, &extension_attributes(&snapshot.state)))
}

async fn schemas(State(app): State<App>, headers: HeaderMap) -> Result<Response, Failure> {
    let documents = schema_documents(&app, &headers)?;
    let total = documents.len();
    Ok(scim_json(
        StatusCode::OK,
        &discovery::ListResponse::new(documents, total, 1),
    ))
}

async fn schema(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    schema_documents(&app, &headers)?
        .into_iter()
        .find(|document| document["id"].as_str() == Some(id.as_str()))
        .map(|document| scim_json(StatusCode::OK, &document))
        .ok_or_else(|| ScimError::status(404, format!("no schema `{id}`")).into())
}

/// Whether the extension URN names the self-service schema.
pub fn is_extension(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(SELF_SERVICE_SCHEMA)
}

/// The routes of `/scim/v2`, behind [`gate`].
pub fn router(app: &App) -> Router<App> {
    Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(service_provider_config))
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/Users", get(users::list).post(users::create))
        .route("/scim/v2/Users/.search", post(users::search))
        .route("/scim/v2/Groups/.search", post(users::search_groups))
        .route("/scim/v2/.search", post(search_everything))
        .route(
            "/scim/v2/Users/{id}",
            get(users::read)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route(
            "/scim/v2/Groups",
            get(users::list_groups).post(users::groups_read_only),
        )
        .route(
            "/scim/v2/Groups/{id}",
            get(users::read_group)
                .put(users::groups_read_only)
                .patch(users::groups_read_only)
                .delete(users::groups_read_only),
        )
        .route("/scim/v2", axum::routing::any(no_such_endpoint))
        .route("/scim/v2/{*rest}", axum::routing::any(no_such_endpoint))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), gate))
}

/// `POST /.search` at the root, across resource types: not supported (`501`, as RFC 7644
/// §3.12 gives for an operation a provider does not support). Each resource type has its
/// own `POST /Users/.search` and `POST /Groups/.search`.
async fn search_everything() -> Failure {
    Failure(ScimError::status(
        501,
        "searching several resource types at once is not supported: POST /Users/.search or /Groups/.search",
    ))
}

/// Anything else under `/scim/v2`: a SCIM `404`, not the admin API's error body.
async fn no_such_endpoint() -> Failure {
    Failure(ScimError::status(
        404,
        "no such SCIM endpoint: see /scim/v2/ResourceTypes and /scim/v2/ServiceProviderConfig",
    ))
}

/// Today, for the store's commits.
fn day() -> portalctl_core::model::CalendarDate {
    today()
}
