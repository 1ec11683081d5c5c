//! The one route table. The router ([`super::router`]) and the OpenAPI document
//! ([`super::openapi`]) are both built from it, so they cannot drift apart.

use axum::http::Method;
use axum::routing::{MethodRouter, get, post, put};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::App;
use super::handlers::resources::{bound, group_members};
use super::handlers::{access, audit, outbox, register, state, tokens};
use super::wire;
use portalctl_core::model::{Kind, KindVisitor, Resource};

/// Renders a schema into the document's components and returns a reference to it.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The body of a `PATCH`: a JSON merge patch (RFC 7396) is an object whose keys replace,
/// and whose `null`s remove, the fields of the stored value. OpenAPI 3.0 has no boolean
/// schemas, so "any JSON" (`serde_json::Value`) cannot say this.
fn merge_patch(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "A JSON merge patch (RFC 7396): each key replaces that field of the stored value; `null` removes it."
    })
}

/// One query parameter: name, JSON type, required, description.
pub type QueryParam = (&'static str, &'static str, bool, &'static str);

const LIST_QUERY: &[QueryParam] = &[
    ("limit", "integer", false, "page size, 1 to 1000 (default 100)"),
    ("cursor", "string", false, "`next_cursor` of the previous page"),
    REVEAL,
];

/// `?reveal=sensitive`: sensitive attribute values in clear, for an `admin` token only.
const REVEAL: QueryParam = (
    "reveal",
    "string",
    false,
    "`sensitive`: show sensitive attribute values in clear (an `admin` token only, `403 reveal_forbidden` otherwise; logged); every other reader sees a digest `(sensitive) sha256:…`",
);

/// One method on one path.
pub struct Route {
    pub method: Method,
    /// An axum path: `{name}` for a segment, `{*name}` for the rest of the path.
    pub path: &'static str,
    pub summary: String,
    /// Served without authentication (only `/healthz`).
    pub public: bool,
    pub query: &'static [QueryParam],
    /// Query parameters of which a request gives exactly one (documented as one
    /// form-exploded object parameter with a `oneOf`, since OpenAPI 3.0 has no other way
    /// to say so).
    pub one_of_query: &'static [&'static str],
    pub request: Option<SchemaFn>,
    /// The status of a success and the schema of its body.
    pub success: (u16, SchemaFn),
    /// Other success statuses with the same body, and what each means.
    pub also: &'static [(u16, &'static str)],
    pub handler: MethodRouter<App>,
}

impl Route {
    fn new(
        method: Method,
        path: &'static str,
        summary: impl Into<String>,
        handler: MethodRouter<App>,
    ) -> Self {
        Self {
            method,
            path,
            summary: summary.into(),
            public: false,
            query: &[],
            one_of_query: &[],
            request: None,
            success: (200, schema::<wire::RevisionResponse>),
            also: &[],
            handler,
        }
    }

    fn request(mut self, request: SchemaFn) -> Self {
        self.request = Some(request);
        self
    }

    fn returns(mut self, status: u16, response: SchemaFn) -> Self {
        self.success = (status, response);
        self
    }

    fn also(mut self, also: &'static [(u16, &'static str)]) -> Self {
        self.also = also;
        self
    }

    fn query(mut self, query: &'static [QueryParam]) -> Self {
        self.query = query;
        self
    }

    fn one_of_query(mut self, names: &'static [&'static str]) -> Self {
        self.one_of_query = names;
        self
    }
}

/// The schema of a value of `kind` (its model type), from the kind table.
pub fn value_schema(kind: Kind) -> SchemaFn {
    struct ValueSchema;
    impl KindVisitor for ValueSchema {
        type Output = SchemaFn;
        fn workspace(self) -> SchemaFn {
            schema::<portalctl_core::model::Workspace>
        }
        fn resource<R: Resource>(self) -> SchemaFn {
            schema::<R>
        }
    }
    kind.visit(ValueSchema)
}

/// The list/get/put/delete routes of one collection.
fn collection(routes: &mut Vec<Route>, collection: Kind) {
    // The paths and the noun are the kind's own (`ResourceApi`, beside its model type).
    let (Some(list_path), Some(item_path)) = (collection.list_path(), collection.item_path()) else {
        return;
    };
    let noun = collection.noun();
    let value = value_schema(collection);
    let list = if list_path.contains('{') {
        bound::list(collection)
    } else {
        bound::list_root(collection)
    };
    routes.push(
        Route::new(Method::GET, list_path, format!("List {noun}s"), list)
            .query(LIST_QUERY)
            .returns(200, schema::<wire::ListPage>),
    );
    routes.push(
        Route::new(
            Method::GET,
            item_path,
            format!("Get one {noun}"),
            bound::get_one(collection),
        )
        .query(&[REVEAL])
        .returns(200, value),
    );
    routes.push(
        Route::new(
            Method::PUT,
            item_path,
            format!("Create or replace one {noun} (idempotent; honours `If-Match`)"),
            bound::put_one(collection),
        )
        .request(value),
    );
    routes.push(
        Route::new(
            Method::PATCH,
            item_path,
            format!(
                "Change part of one {noun}: a JSON merge patch (RFC 7396), committed on the value it read (honours `If-Match`)"
            ),
            bound::patch_one(collection),
        )
        .request(merge_patch),
    );
    routes.push(Route::new(
        Method::DELETE,
        item_path,
        format!("Delete one {noun} (honours `If-Match`)"),
        bound::delete_one(collection),
    ));
}

/// Every route of the service.
pub fn table() -> Vec<Route> {
    let mut routes = vec![
        Route {
            public: true,
            ..Route::new(Method::GET, "/healthz", "Liveness, without authentication", get(state::health))
                .returns(200, schema::<wire::Health>)
        },
        Route {
            public: true,
            ..Route::new(
                Method::GET,
                "/readyz",
                "Readiness, without authentication: `503` while the database is unreachable or this replica is behind",
                get(state::ready),
            )
            .returns(200, schema::<wire::Health>)
        },
        Route::new(
            Method::GET,
            "/v1/state",
            "The whole live state and its revision (also the `ETag`); sensitive attribute values are digests unless an `admin` token asks with `reveal=sensitive`",
            get(state::get_state),
        )
        .query(&[REVEAL])
        .returns(200, schema::<wire::StateResponse>),
        Route::new(
            Method::POST,
            "/v1/changes",
            "Commit a batch of changes atomically: 409 when `expected_revision` is stale, 422 with one problem per offending change",
            post(state::post_changes),
        )
        .request(schema::<wire::ChangesRequest>),
        Route::new(Method::GET, "/v1/workspace", "The workspace", bound::get_workspace())
            .returns(200, schema::<portalctl_core::model::Workspace>),
        Route::new(Method::PUT, "/v1/workspace", "Replace the workspace", bound::put_workspace())
            .request(schema::<portalctl_core::model::Workspace>),
        Route::new(
            Method::PATCH,
            "/v1/workspace",
            "Change part of the workspace: a JSON merge patch (RFC 7396)",
            bound::patch_workspace(),
        )
        .request(merge_patch),
    ];
    for &kind in Kind::ALL {
        collection(&mut routes, kind);
        if kind == Kind::Member {
            routes.push(
                Route::new(
                    Method::POST,
                    "/v1/portals/{technical_name}/members/{email}/approve",
                    "Approve a pending self-registration: the member starts granting access and joins the portal's registration groups; a member that is not pending is answered unchanged (`approved: false`) and nothing is written",
                    post(register::approve),
                )
                .returns(200, schema::<wire::ApproveResponse>),
            );
        }
        if kind == Kind::Group {
            routes.push(
                Route::new(
                    Method::GET,
                    "/v1/groups/{name}/members",
                    "List the members of a group",
                    get(group_members::list),
                )
                .query(LIST_QUERY)
                .returns(200, schema::<wire::ListPage>),
            );
            routes.push(Route::new(
                Method::PUT,
                "/v1/groups/{name}/members/{email}",
                "Add a partner to a group (idempotent)",
                put(group_members::add),
            ));
            routes.push(Route::new(
                Method::DELETE,
                "/v1/groups/{name}/members/{email}",
                "Remove a partner from a group",
                axum::routing::delete(group_members::remove),
            ));
        }
    }
    routes.extend([
        Route::new(
            Method::GET,
            "/v1/access/{email}",
            "Everything a partner can see, and each path that grants it",
            get(access::partner),
        )
        .query(&[(
            "portal",
            "string",
            false,
            "a portal's technical name: only what the partner may open in that portal (its `portal:` shares and the shares with the partner, their groups or org), as the portal's home lists it; `404` for an unknown portal",
        )])
        .returns(200, schema::<wire::AccessResponse>),
        Route::new(
            Method::GET,
            "/v1/access/{email}/check",
            "Whether a partner may open a folder or a dashboard (or use a permission there), and at which level",
            get(access::check),
        )
        .query(&[
            (
                "folder",
                "string",
                false,
                "a folder path such as /Partners/Finance; exactly one of `folder` and `dashboard` (both or neither is `400 bad_query`)",
            ),
            (
                "dashboard",
                "string",
                false,
                "a dashboard path such as /Partners/Finance/Q3 Revenue, answered for a declared dashboard only; exactly one of `folder` and `dashboard`",
            ),
            (
                "permission",
                "string",
                false,
                "a permission such as reports.edit: allowed says whether the partner can use it on the folder or dashboard",
            ),
        ])
        .one_of_query(&["folder", "dashboard"])
        .returns(200, schema::<wire::CheckResponse>),
        Route::new(
            Method::GET,
            "/v1/audit",
            "Committed batches after a revision, oldest first",
            get(audit::list),
        )
        .query(&[
            (
                "after",
                "integer",
                false,
                "only entries with a higher revision (default 0)",
            ),
            (
                "limit",
                "integer",
                false,
                "at most this many entries, 1 to 1000 (default 100)",
            ),
        ])
        .returns(200, schema::<wire::AuditPage>),
        Route::new(
            Method::GET,
            "/v1/audit/reveals",
            "Reads of sensitive attribute values in clear (`reveal=sensitive`), oldest first: who read what, from which revision, when; never the values",
            get(audit::reveals),
        )
        .query(&[
            (
                "after",
                "integer",
                false,
                "only entries with a higher id (default 0)",
            ),
            (
                "limit",
                "integer",
                false,
                "at most this many entries, 1 to 1000 (default 100)",
            ),
        ])
        .returns(200, schema::<portalctl_core::api::RevealPage>),
        Route::new(
            Method::GET,
            "/v1/audit/{revision}/changes",
            "The changes of one committed batch, a slice at a time (for batches too large for one audit page)",
            get(audit::changes),
        )
        .query(&[
            (
                "offset",
                "integer",
                false,
                "the first change to return, from 0 (default 0)",
            ),
            (
                "limit",
                "integer",
                false,
                "at most this many changes, 1 to 1000 (default 100)",
            ),
        ])
        .returns(200, schema::<wire::AuditChangesPage>),
        Route::new(
            Method::GET,
            "/v1/outbox",
            "The mail the service enqueued (sign-in and verification links, invitations, approvals), newest first, with its links; an admin token only",
            get(outbox::list),
        )
        .query(&[
            (
                "limit",
                "integer",
                false,
                "at most this many messages, 1 to 1000 (default 100)",
            ),
            (
                "before",
                "integer",
                false,
                "only messages with a lower id (`next_before` of the previous page)",
            ),
            ("unsent", "boolean", false, "only messages not sent yet"),
            ("portal", "string", false, "only messages of this portal"),
            ("recipient", "string", false, "only messages to this address"),
        ])
        .returns(200, schema::<outbox::OutboxPage>),
        Route::new(
            Method::POST,
            "/v1/tokens",
            "Create a token with a scope (`admin`, `read`, `apply`, `partner_org:NAME`) and an optional expiry; the answer is the only time the token is shown (the store keeps its SHA-256). An admin token only",
            post(tokens::create),
        )
        .request(schema::<tokens::CreateTokenRequest>)
        .returns(201, schema::<tokens::CreatedToken>),
        Route::new(
            Method::GET,
            "/v1/tokens",
            "The tokens the service created, revoked ones too, with scope, creation, last use and expiry (never the tokens). An admin token only",
            get(tokens::list),
        )
        .returns(200, schema::<tokens::TokenList>),
        Route::new(
            Method::DELETE,
            "/v1/tokens/{name}",
            "Revoke a token: from the next request on, on every replica, it is refused (`404` when no unrevoked token has the name). An admin token only",
            axum::routing::delete(tokens::revoke),
        )
        .returns(204, schema::<()>),
        Route::new(
            Method::POST,
            "/v1/portals/{technical_name}/self-register",
            "Self-registration of a partner, when the portal enables it for the email's domain. With an admin token (an integration that verified the address itself): `201` a member now, `202` pending when the portal requires approval. Without a token (a public sign-up): `202` with `verification_pending`, nothing registered until the link mailed to the address is followed",
            post(register::register),
        )
        .request(schema::<wire::SelfRegisterRequest>)
        .returns(201, schema::<wire::SelfRegisterResponse>)
        .also(&[(
            202,
            "the portal requires approval (the registration is pending and grants nothing until an admin approves it), or, without a token, the address is being verified (`verification_pending`: a link was mailed; nothing is registered yet)",
        )]),
    ]);
    routes
}
