//! Bearer-token authentication and the `/v1` gate: who is calling, with which scope.
//!
//! Tokens are compared in constant time (on their SHA-256 digests, so lengths do not leak
//! either) and are never logged; only a token's name reaches logs and the audit log.
//!
//! Two kinds of tokens are accepted. Tokens the service created (`portalctl token create`,
//! `POST /v1/tokens`) are looked up by their SHA-256 in the store on every request, so a
//! revocation holds at once on every replica; their scopes are `admin`, `read`, `apply`
//! and `partner_org:NAME`. The tokens file (and `--admin-token`) is the bootstrap path:
//! the first admin token, from which the others are created.
//!
//! The tokens file is YAML (or JSON, a subset), a list of named tokens:
//!
//! ```yaml
//! - name: ci
//!   token: 2f7c…
//!   scope: admin   # may read and write
//! - name: dashboard
//!   token: 9a1e…
//!   scope: read    # may only read
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use portalctl_store::TokenScope;

use super::App;
use super::error::ApiError;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read and write.
    Admin,
    /// Read only: any write is `403`.
    Read,
    /// What CI needs for `plan` and `apply`: `GET /v1/state` and `POST /v1/changes`;
    /// anything else is `403`.
    Apply,
    /// SCIM (`/scim/v2`) for one org ([`Caller::org`]), its identity provider's scope;
    /// every `/v1` route and the staff console are `403`. There is no JSON partner-admin
    /// API: partner admins are people, who use the People page of the partner portal with
    /// their session. Only a token the service created has it.
    #[serde(skip)]
    PartnerOrg,
    /// No token, on the one endpoint that takes such calls: a public sign-up
    /// (`POST /v1/portals/{technical_name}/self-register`), which only mails a verification
    /// link. Never a scope of a token.
    #[serde(skip)]
    Public,
}

impl Scope {
    /// Every scope as a tokens file names it, with what it allows.
    pub const ALL: [(&'static str, &'static str); 3] = [
        ("admin", "read and write"),
        ("read", "read only"),
        ("apply", "GET /v1/state and POST /v1/changes only"),
    ];
}

/// One entry of the tokens file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub name: String,
    pub token: String,
    pub scope: Scope,
}

/// The caller of a request, as handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name; `local` when the service runs without tokens.
    pub name: String,
    pub scope: Scope,
    /// The org of a [`Scope::PartnerOrg`] token.
    pub org: Option<String>,
}

impl Caller {
    fn new(name: impl Into<String>, scope: Scope) -> Self {
        Self {
            name: name.into(),
            scope,
            org: None,
        }
    }

    /// The caller a token the service created stands for.
    pub fn of_token(info: &portalctl_store::TokenInfo) -> Self {
        let (scope, org) = match &info.scope {
            TokenScope::Admin => (Scope::Admin, None),
            TokenScope::Read => (Scope::Read, None),
            TokenScope::Apply => (Scope::Apply, None),
            TokenScope::PartnerOrg(org) => (Scope::PartnerOrg, Some(org.clone())),
        };
        Self {
            name: info.name.clone(),
            scope,
            org,
        }
    }

    /// Why this caller may not make the request, if it may not.
    fn refusal(&self, method: &Method, path: &str) -> Option<String> {
        let name = &self.name;
        match self.scope {
            Scope::Read if is_write(method) => {
                Some(format!("token `{name}` has the `read` scope and cannot write"))
            }
            Scope::Apply => {
                let reads_state = matches!(*method, Method::GET | Method::HEAD) && path == "/v1/state";
                let posts_changes = *method == Method::POST && path == "/v1/changes";
                (!reads_state && !posts_changes).then(|| {
                    format!(
                        "token `{name}` has the `apply` scope: it may read `/v1/state` and post `/v1/changes`, nothing else"
                    )
                })
            }
            Scope::PartnerOrg => Some(format!(
                "token `{name}` has the `partner_org:{}` scope: it is for SCIM (`/scim/v2`), not the admin API",
                self.org.as_deref().unwrap_or_default()
            )),
            Scope::Admin | Scope::Read | Scope::Public => None,
        }
    }
}

/// The bearer token of a request, if it carries one.
pub(crate) fn bearer(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(|token| token.trim().to_string())
}

/// The `admin`-scope caller of an `Authorization: Bearer` header, if it names one (the
/// staff console opens for it); `None` for no header, an unknown token or another scope.
pub(crate) async fn admin_caller(
    app: &App,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    let Some(presented) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(|token| token.trim().to_string())
    else {
        return Ok(None);
    };
    let caller = match app.tokens.identify(&presented) {
        Some(caller) => Some(caller),
        None => stored_caller(app, &presented).await?,
    };
    Ok(caller.filter(|caller| caller.scope == Scope::Admin))
}

/// The caller a token the service created stands for, looked up in the store (so a
/// revoked or expired token is refused at once, on every replica).
pub(crate) async fn stored_caller(app: &App, presented: &str) -> Result<Option<Caller>, ApiError> {
    if !presented.starts_with(portalctl_store::tokens::TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = portalctl_store::tokens::token_hash(presented);
    app.blocking(move |app| {
        Ok(app
            .store
            .token_by_hash(&hash, time::OffsetDateTime::now_utc())?
            .map(|info| Caller::of_token(&info)))
    })
    .await
}

struct Known {
    name: String,
    digest: [u8; 32],
    scope: Scope,
}

/// The tokens the service accepts. Empty means "no authentication, loopback only".
#[derive(Default)]
pub struct Tokens {
    known: Vec<Known>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.known.iter().map(|known| known.name.as_str()).collect();
        f.debug_struct("Tokens").field("names", &names).finish()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// The admin token (named `admin`), if any, and the entries of a tokens file.
    ///
    /// # Errors
    /// An empty token or a name used twice.
    pub fn new(admin: Option<&str>, entries: Vec<TokenEntry>) -> Result<Self, String> {
        let mut tokens = Self::default();
        let admin = admin.map(|token| TokenEntry {
            name: "admin".into(),
            token: token.to_string(),
            scope: Scope::Admin,
        });
        for entry in admin.into_iter().chain(entries) {
            if entry.token.trim().is_empty() {
                return Err(format!("token `{}` is empty", entry.name));
            }
            if tokens.known.iter().any(|known| known.name == entry.name) {
                return Err(format!("token name `{}` is used twice", entry.name));
            }
            tokens.known.push(Known {
                name: entry.name,
                digest: digest(entry.token.trim()),
                scope: entry.scope,
            });
        }
        Ok(tokens)
    }

    /// Parses a tokens file (YAML or JSON).
    ///
    /// # Errors
    /// A file that is not a list of `{name, token, scope}`.
    pub fn parse_file(text: &str) -> Result<Vec<TokenEntry>, String> {
        serde_yaml::from_str(text).map_err(|error| {
            if let Some(unknown) = unknown_scope(text) {
                return unknown;
            }
            // The parser may quote the offending text; keep only its location.
            let location = error
                .location()
                .map(|at| format!(" at line {} column {}", at.line(), at.column()))
                .unwrap_or_default();
            format!("the tokens file is not a list of {{name, token, scope}}{location}")
        })
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Whether a token of this file or flag is named `name`.
    pub fn names(&self, name: &str) -> bool {
        self.known.iter().any(|known| known.name == name)
    }

    /// The caller a presented token belongs to. Every known token is compared, in
    /// constant time, whatever matches.
    pub fn identify(&self, presented: &str) -> Option<Caller> {
        let presented = digest(presented);
        let mut found = None;
        for known in &self.known {
            if bool::from(known.digest.ct_eq(&presented)) {
                found = Some(Caller::new(known.name.clone(), known.scope));
            }
        }
        found
    }
}

/// "entry 2 (`ops`): unknown scope `writer`; …", naming the valid scopes, when an entry
/// of the tokens file has a scope that is not one. Never quotes a token.
fn unknown_scope(text: &str) -> Option<String> {
    let serde_yaml::Value::Sequence(entries) = serde_yaml::from_str(text).ok()? else {
        return None;
    };
    entries.iter().enumerate().find_map(|(index, entry)| {
        let scope = entry.get("scope")?;
        let known = scope
            .as_str()
            .is_some_and(|name| Scope::ALL.iter().any(|(known, _)| *known == name));
        if known {
            return None;
        }
        let shown = scope.as_str().map_or_else(
            || "(not a string)".to_string(),
            |name| format!("`{}`", name.chars().take(40).collect::<String>()),
        );
        let name = entry
            .get("name")
            .and_then(serde_yaml::Value::as_str)
            .map(|name| format!(" (`{name}`)"))
            .unwrap_or_default();
        let valid: Vec<String> = Scope::ALL
            .iter()
            .map(|(scope, allows)| format!("`{scope}` ({allows})"))
            .collect();
        Some(format!(
            "entry {} of the tokens file{name} has an unknown scope {shown}; the scopes are {}",
            index + 1,
            valid.join(", ")
        ))
    })
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Decrements the injected-failure budget; `true` when this request should get a 503.
fn take_injected(budget: &AtomicU64) -> bool {
    budget
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
        .is_ok()
}

/// Whether `path` is `/v1/portals/{technical_name}/self-register`.
fn is_self_register_path(path: &str) -> bool {
    path.strip_prefix("/v1/portals/")
        .and_then(|rest| rest.strip_suffix("/self-register"))
        .is_some_and(|portal| !portal.is_empty() && !portal.contains('/'))
}

/// The `/v1` gate: injected 503s (a test aid), then authentication, then scope; logs one
/// line per request with the token's name (also when it is refused: its name, or
/// `(none)`/`(unknown)`), never the token.
pub async fn gate(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    // Who was refused, for the log: the token's name when it is known, else what was
    // (not) presented. The token itself never reaches the log.
    let mut refused_as = "-";
    let mut refused_name: Option<String> = None;
    let presented = bearer(&request);
    let outcome: Result<Caller, ApiError> = async {
        if take_injected(&app.inject_503) {
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "injected failure (`--inject-503`)",
            );
            error.retry_after = true;
            return Err(error);
        }
        let static_caller = presented.as_deref().and_then(|token| app.tokens.identify(token));
        let caller = match (static_caller, presented.as_deref()) {
            (Some(caller), _) => Some(caller),
            (None, Some(token)) => stored_caller(&app, token).await?,
            (None, None) => None,
        };
        if app.tokens.is_empty() && caller.is_none() {
            return Ok(Caller::new("local", Scope::Admin));
        }
        let Some(caller) = caller else {
            if presented.is_some() {
                refused_as = "(unknown)";
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "unknown, revoked or expired token",
                ));
            }
            if method == Method::POST && is_self_register_path(&path) {
                return Ok(Caller::new("(public)", Scope::Public));
            }
            refused_as = "(none)";
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing bearer token: send `Authorization: Bearer <token>`",
            ));
        };
        if let Some(refusal) = caller.refusal(&method, &path) {
            refused_name = Some(caller.name.clone());
            return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", refusal));
        }
        Ok(caller)
    }
    .await;
    let (response, name) = match outcome {
        Ok(caller) => {
            let name = caller.name.clone();
            request.extensions_mut().insert(caller);
            (next.run(request).await, name)
        }
        Err(error) => {
            let name = refused_name.unwrap_or_else(|| refused_as.to_string());
            (error.into_response(), name)
        }
    };
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        token = name,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 21): an unknown scope was reported without the valid ones.
    #[test]
    fn an_unknown_scope_names_the_valid_ones() {
        let error = Tokens::parse_file("- {name: ci, token: s3cret-value, scope: admin}\n- {name: ops, token: other-s3cret, scope: writer}\n")
            .unwrap_err();
        assert_eq!(
            error,
            "entry 2 of the tokens file (`ops`) has an unknown scope `writer`; the scopes are `admin` (read and write), `read` (read only), `apply` (GET /v1/state and POST /v1/changes only)"
        );
        assert!(!error.contains("s3cret"));
    }

    #[test]
    fn identifies_tokens_by_value_and_keeps_scopes() {
        let entries = Tokens::parse_file(
            "- {name: ci, token: t-ci, scope: admin}\n- {name: ro, token: t-ro, scope: read}\n",
        )
        .unwrap();
        let tokens = Tokens::new(Some("t-admin"), entries).unwrap();
        assert_eq!(tokens.identify("t-admin").unwrap().name, "admin");
        assert_eq!(tokens.identify("t-ro").unwrap().scope, Scope::Read);
        assert_eq!(tokens.identify("t-r"), None);
        assert!(!format!("{tokens:?}").contains("t-ci"));
    }

    #[test]
    fn refuses_bad_token_files_without_echoing_them() {
        let error = Tokens::parse_file("- {name: ci, token: s3cret, scope: root}").unwrap_err();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(
            Tokens::new(
                None,
                Tokens::parse_file("- {name: a, token: ' ', scope: read}").unwrap()
            )
            .is_err()
        );
    }

    #[test]
    fn injected_failures_run_out() {
        let budget = AtomicU64::new(2);
        assert!(take_injected(&budget) && take_injected(&budget));
        assert!(!take_injected(&budget));
    }
}
