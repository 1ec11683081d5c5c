//! The portal access service behind `portalctl serve`: the admin API, access decisions
//! and the audit log, over the SQLite [`Store`].
//!
//! Code map: `routes` is the one route table (the router and the OpenAPI document are
//! both built from it), `handlers/` answers requests, `auth` gates `/v1`, `extract` and
//! `error` make every failure a JSON error, `wire` holds the request and response bodies,
//! `openapi` renders `schemas/openapi.json`.
//!
//! **Architecture invariant:** handlers never touch SQLite directly and never block the
//! runtime: every store call that may wait runs on the blocking pool, and the store is the
//! only writer. Reads (access decisions, `GET` of resources and of the state) use the
//! published snapshot and never wait for a commit; the audit log is read from the database
//! through read connections of its own.

mod auth;
pub mod connections;
pub mod console;
pub mod error;
mod extract;
mod guard;
mod handlers;
mod listener;
pub mod openapi;
pub mod pages;
mod priority;
pub mod rate_limit;
pub mod routes;
mod schema_check;
pub mod scim;
pub mod sender;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

pub use auth::{Caller, Scope, TokenEntry, Tokens};
pub use connections::{ConnectionLimits, DEFAULT_CONNECTION_LIMITS};
pub use error::ApiError;
pub use portalctl_core::api::{ErrorBody, ErrorDetail, wire};
pub use rate_limit::{DEFAULT_SELF_REGISTER_LIMITS, Quota, SelfRegisterLimits};

use portalctl_core::access::AccessIndex;
use portalctl_core::model::CalendarDate;
use portalctl_store::{Database, Snapshot, Store, StoreError};

/// The default request body limit: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Today in UTC: the day `expires` dates are judged against.
pub fn today() -> CalendarDate {
    CalendarDate::new(time::OffsetDateTime::now_utc().date())
}

/// What the service shares between requests.
pub struct AppInner {
    pub store: Store,
    /// What the catch-up task last saw of the database.
    sync: Mutex<SyncStatus>,
    pub tokens: Tokens,
    /// Requests under `/v1` still to be answered `503` (the `--inject-503` test aid).
    pub inject_503: AtomicU64,
    /// `GET /v1/state` rendered once per revision: with sensitive values masked, and as
    /// revealed to an `admin` token that asks.
    state_json: Mutex<Option<(u64, Bytes)>>,
    revealed_state_json: Mutex<Option<(u64, Bytes)>>,
    /// The access index of the published revision rebuilt for today, when the day turned
    /// since it was published (until the next commit brings a fresh one).
    next_day: Mutex<Option<(u64, CalendarDate, Arc<AccessIndex>)>>,
    /// The partner pages' settings and rate limits.
    pub pages: pages::Pages,
    /// Writers wait here, in arrival order, without holding a blocking thread; see
    /// [`App::writing`].
    write_queue: Arc<tokio::sync::Mutex<()>>,
    /// How long a writer waits in [`AppInner::write_queue`] before `503 busy`, in ms.
    write_wait_millis: AtomicU64,
    /// The config's git repository (`serve --config-repo`), for the console's diffs.
    pub config_files: std::sync::OnceLock<Arc<dyn console::config_repo::ConfigFiles>>,
    /// The console roster's search text of the newest revision searched.
    pub roster_text: console::roster_text::RosterTextCache,
}

/// How long a write waits behind other writes before it is refused with `503 busy`
/// (`serve --write-wait`).
pub const DEFAULT_WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The database as the catch-up task last saw it.
#[derive(Debug, Clone, Copy)]
pub struct SyncStatus {
    pub reachable: bool,
    pub durable_head: u64,
}

/// An access index borrowed from a snapshot or rebuilt for a new day.
pub enum IndexRef<'a> {
    Published(&'a AccessIndex),
    Rebuilt(Arc<AccessIndex>),
}

impl Deref for IndexRef<'_> {
    type Target = AccessIndex;

    fn deref(&self) -> &AccessIndex {
        match self {
            Self::Published(index) => index,
            Self::Rebuilt(index) => index,
        }
    }
}

/// A cheap handle on [`AppInner`], the state of every handler.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

impl Deref for App {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    /// A service whose partner pages are reached at `http://127.0.0.1` (tests and benches
    /// that do not follow links); `serve` uses [`App::with_pages`].
    pub fn new(store: Store, tokens: Tokens, inject_503: u64) -> Self {
        Self::with_pages(
            store,
            tokens,
            inject_503,
            pages::PagesSettings::new("http://127.0.0.1"),
        )
    }

    pub fn with_pages(store: Store, tokens: Tokens, inject_503: u64, pages: pages::PagesSettings) -> Self {
        // Invitations, approval results and removal notices go into the outbox with the
        // batch that causes them, whichever endpoint commits it.
        store.leave_hints_to_caller();
        store.send_roster_mail(Arc::new(portalctl_mail::RosterMailer {
            links: portalctl_mail::Links::new(&pages.public_url, pages.host_suffix.clone()),
        }));
        Self(Arc::new(AppInner {
            store,
            sync: Mutex::new(SyncStatus {
                reachable: true,
                durable_head: 0,
            }),
            tokens,
            inject_503: AtomicU64::new(inject_503),
            state_json: Mutex::new(None),
            revealed_state_json: Mutex::new(None),
            next_day: Mutex::new(None),
            pages: pages::Pages::new(pages),
            write_queue: Arc::new(tokio::sync::Mutex::new(())),
            write_wait_millis: AtomicU64::new(millis(DEFAULT_WRITE_WAIT)),
            config_files: std::sync::OnceLock::new(),
            roster_text: console::roster_text::RosterTextCache::default(),
        }))
    }

    /// Sets how long a write waits behind other writes before `503 busy`.
    pub fn set_write_wait(&self, wait: std::time::Duration) {
        self.write_wait_millis
            .store(millis(wait), std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs the commit `work` on the blocking pool once the writes before it are done.
    /// Writers queue in arrival order (a fair lock) without holding a blocking thread, so
    /// a burst of writes cannot take the threads audit pages and state renders need; one
    /// that waits longer than the write wait is refused with `503 busy` and `Retry-After`,
    /// having changed nothing. The turn ends when `work` does, even if the client leaves.
    ///
    /// # Errors
    /// `503 busy`; whatever `work` returns.
    pub async fn writing<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.in_write_turn(work, |app, result| {
            // Hints may scan every partner: looked for once the next writer may go, and
            // given up when a writer waits for the snapshot they read (which becomes the
            // spare copy of the next commit but one).
            result.map_err(|mut error| {
                error.resolve_hints(&app.store.published().state, &|| app.store.a_writer_waits());
                error
            })
        })
        .await
    }

    /// As [`App::writing`], for endpoints with errors of their own (SCIM's, the pages'):
    /// `work` runs in the write queue, then `after` once the turn has passed to the next
    /// writer.
    ///
    /// # Errors
    /// `503 busy` (as `E`); whatever `work` and `after` return.
    pub async fn in_write_turn<T, E>(
        &self,
        work: impl FnOnce(&App) -> Result<T, E> + Send + 'static,
        after: impl FnOnce(&App, Result<T, E>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<ApiError> + Send + 'static,
    {
        let wait = std::time::Duration::from_millis(
            self.write_wait_millis.load(std::sync::atomic::Ordering::Relaxed),
        );
        let Ok(turn) = tokio::time::timeout(wait, Arc::clone(&self.write_queue).lock_owned()).await else {
            return Err(ApiError::busy(wait).into());
        };
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            priority::lower_current_thread();
            let result = work(&app);
            drop(turn);
            after(&app, result)
        })
        .await
        .map_err(|_| ApiError::internal("the request handler failed"))?
    }

    /// Runs `work` on the blocking pool: store calls may wait on SQLite or the write lock.
    /// The pool runs at a lower priority than the workers that answer access checks.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            priority::lower_current_thread();
            work(&app)
        })
        .await
        .map_err(|_| ApiError::internal("the request handler failed"))?
    }

    /// What the catch-up task last saw of the database.
    pub fn sync(&self) -> SyncStatus {
        *self
            .sync
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_sync(&self, status: SyncStatus) {
        *self
            .sync
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = status;
    }

    /// The published snapshot: never waits for a commit.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        Ok(self.store.published())
    }

    /// The access index of `snapshot` today: the one published with it, or, on the rare
    /// request after midnight and before the next commit, one rebuilt once for today.
    pub fn access_index<'a>(&self, snapshot: &'a Snapshot) -> IndexRef<'a> {
        let today = today();
        if snapshot.day == today {
            return IndexRef::Published(&snapshot.index);
        }
        let mut cached = self.next_day.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((revision, day, index)) = cached.as_ref()
            && *revision == snapshot.revision
            && *day == today
        {
            return IndexRef::Rebuilt(Arc::clone(index));
        }
        let index = Arc::new(AccessIndex::new(&snapshot.state, today));
        *cached = Some((snapshot.revision, today, Arc::clone(&index)));
        IndexRef::Rebuilt(index)
    }

    /// The JSON of `GET /v1/state` for `snapshot`, rendered once per revision: sensitive
    /// values masked ([`portalctl_core::model::State::masked`]) unless `reveal`.
    pub fn state_json(&self, snapshot: &Snapshot, reveal: bool) -> Result<Bytes, ApiError> {
        let slot = if reveal {
            &self.revealed_state_json
        } else {
            &self.state_json
        };
        let mut cached = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((revision, body)) = cached.as_ref()
            && *revision == snapshot.revision
        {
            return Ok(body.clone());
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            revision: u64,
            state: &'a portalctl_core::model::State,
        }
        let masked;
        let state = if reveal {
            &snapshot.state
        } else {
            masked = snapshot.state.masked();
            &*masked
        };
        let body = serde_json::to_vec(&Body {
            revision: snapshot.revision,
            state,
        })
        .map_err(|_| ApiError::internal("cannot render the state"))?;
        let body = Bytes::from(body);
        *cached = Some((snapshot.revision, body.clone()));
        Ok(body)
    }
}

/// The whole service: every route of [`routes::table`], `/v1` behind the auth gate, JSON
/// errors for unknown paths and methods, and the body limit.
pub fn router(app: App, max_body_bytes: usize) -> Router {
    router_with_limits(app, max_body_bytes, SelfRegisterLimits::default())
}

/// [`router`] with the given self-registration limits, behind the request guard
/// (URI length, loopback rule, JSON content type).
pub fn router_with_limits(app: App, max_body_bytes: usize, limits: SelfRegisterLimits) -> Router {
    let mut public = Router::new();
    let mut gated = Router::new();
    for route in routes::table() {
        if route.public {
            public = public.route(route.path, route.handler);
        } else {
            gated = gated.route(route.path, route.handler);
        }
    }
    // Layers run outside in: the gate authenticates, then the limiter counts, so a
    // refused request draws from no bucket and each token has buckets of its own.
    let gated = gated
        .route_layer(axum::middleware::from_fn_with_state(
            rate_limit::SelfRegisterLimiter::new(limits, !app.tokens.is_empty()),
            rate_limit::limit,
        ))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), auth::gate));
    public
        .merge(gated)
        .merge(pages::router())
        .merge(console::router())
        .merge(scim::router(&app))
        .fallback(|| async { ApiError::not_found("no such endpoint; see schemas/openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard::guard))
        .with_state(app)
}

/// How to run the service.
#[derive(Debug)]
pub struct ServeConfig {
    pub db: Database,
    pub listen: String,
    pub tokens: Tokens,
    pub max_body_bytes: usize,
    pub inject_503: u64,
    pub self_register_limits: SelfRegisterLimits,
    pub connection_limits: ConnectionLimits,
    /// How long a write waits behind other writes before `503 busy`.
    pub write_wait: std::time::Duration,
    /// The URL partners reach the service at (links in mail); the listen address when
    /// `None`.
    pub public_url: Option<String>,
    /// Serve portal `p`'s pages at `p.{suffix}` too.
    pub portal_host_suffix: Option<String>,
    /// Send the outbox through SMTP; without it, mail stays in the outbox.
    pub mail: Option<sender::SenderSettings>,
    /// The config's git repository, for the console's diffs (`--config-repo`).
    pub config_files: Option<Arc<dyn console::config_repo::ConfigFiles>>,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open `{path}`")]
    Store {
        /// The file, or the URL without its password.
        path: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot listen on `{address}`")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to listen on {0} without a token: anyone on the network could change access")]
    NoTokenOffLoopback(SocketAddr),
    #[error(
        "refusing to send mail with links to `{public_url}` while listening on {address}: partners could not follow them"
    )]
    LoopbackPublicUrl { public_url: String, address: SocketAddr },
    #[error("cannot send mail")]
    Mail(#[from] portalctl_mail::SmtpSettingsError),
    #[error("the server failed")]
    Io(#[from] std::io::Error),
}

impl ServeError {
    /// What the operator can do about the error, for the CLI's `hint:` line.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::NoTokenOffLoopback(_) => {
                Some("set `PORTALCTL_TOKEN` or pass `--token-file`, or listen on 127.0.0.1")
            }
            Self::LoopbackPublicUrl { .. } => Some(
                "pass `--public-url` with the address partners reach the service at, such as `https://portals.acme.io`",
            ),
            _ => None,
        }
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Threads for store work (commits, audit pages, state renders). Commits take the
/// store's writer lock one at a time anyway; tokio's default of 512 let a burst of writers
/// spread over dozens of threads, each keeping its own allocator cache.
const BLOCKING_THREADS: usize = 16;

/// How long shutdown waits, after the connections' own bound, for store work still
/// running on the blocking pool (a commit finishing), before the process exits anyway.
const BLOCKING_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the store, binds, announces `listening on http://ADDR` on stderr and serves
/// until SIGINT or SIGTERM; requests in progress get the shutdown timeout to finish.
///
/// # Errors
/// See [`ServeError`].
pub fn run(config: ServeConfig) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()?;
    // Refused before anything binds: mail with links partners cannot follow.
    if let Ok(address) = config.listen.parse::<SocketAddr>()
        && config.mail.is_some()
        && !address.ip().is_loopback()
    {
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        if is_local_url(&public_url) {
            return Err(ServeError::LoopbackPublicUrl { public_url, address });
        }
    }
    let served = runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(&config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    address: config.listen.clone(),
                    source,
                })?;
        let address = listener.local_addr()?;
        if config.tokens.is_empty() {
            if !address.ip().is_loopback() {
                return Err(ServeError::NoTokenOffLoopback(address));
            }
            eprintln!(
                "warning: no token configured: the API is open to local clients only (set `PORTALCTL_TOKEN` or `--token-file`)"
            );
        }
        let db = config.db.clone();
        let store = tokio::task::spawn_blocking(move || Store::open_database(&db, today()))
            .await
            .map_err(|error| std::io::Error::other(error.to_string()))?
            .map_err(|source| ServeError::Store {
                path: config.db.to_string(),
                source,
            })?;
        tracing::info!(database = %config.db, "opened the store");
        if config.inject_503 > 0 {
            eprintln!(
                "warning: answering 503 to the first {} request(s) under /v1 (`--inject-503`, a test aid)",
                config.inject_503
            );
        }
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        if config.mail.is_some() && !address.ip().is_loopback() && is_local_url(&public_url) {
            return Err(ServeError::LoopbackPublicUrl { public_url, address });
        }
        let mut pages = pages::PagesSettings::new(&public_url);
        pages.host_suffix = config.portal_host_suffix.clone();
        let app = App::with_pages(store, config.tokens, config.inject_503, pages.clone());
        app.set_write_wait(config.write_wait);
        if let Some(files) = config.config_files.clone() {
            let _ = app.config_files.set(files);
        }
        tokio::spawn(catch_up(app.clone()));
        let mut limits = config.connection_limits;
        let fitted = connections::fitted_max_connections(limits.max_connections);
        if fitted < limits.max_connections {
            eprintln!(
                "warning: serving at most {fitted} connections at once (not {}): the file-descriptor limit is lower",
                limits.max_connections
            );
            limits.max_connections = fitted;
        }
        let sender = match config.mail {
            Some(settings) => {
                tracing::info!(smtp = %settings.smtp.url, public_url = %public_url, "sending mail");
                Some(sender::Sender::start(Arc::new(app.clone()), settings)?)
            }
            None => {
                tracing::info!("no `--smtp`: mail stays in the outbox (`portalctl outbox`, `GET /v1/outbox`)");
                None
            }
        };
        eprintln!("listening on http://{address}");
        eprintln!("staff console: {public_url}/console (staff declared under `workspace.console`, or an admin token)");
        let router = router_with_limits(app, config.max_body_bytes, config.self_register_limits);
        // `{portal}.{suffix}` is rewritten to `/p/{portal}` before routing: the outer router
        // has no routes, so every request reaches the rewrite, then the real routes.
        let rewrite = tower::util::MapRequestLayer::new(move |request| pages::rewrite_portal_host(&pages, request));
        let router = axum::Router::new().fallback_service(tower::Layer::layer(&rewrite, router));
        connections::serve(listener, router, limits, shutdown_signal()).await?;
        if let Some(sender) = sender {
            // The threads finish the messages they are sending, then stop.
            let _ = tokio::task::spawn_blocking(move || sender.stop()).await;
        }
        Ok::<(), ServeError>(())
    });
    // A commit still running on the blocking pool gets a moment to finish (it is atomic
    // either way); the process does not wait for it beyond that.
    runtime.shutdown_timeout(BLOCKING_SHUTDOWN);
    served?;
    eprintln!("stopped");
    Ok(())
}

/// Whether links to `url` can only be followed on this machine: its host is a loopback
/// address, `localhost`, or the unspecified address (`0.0.0.0`, `[::]`).
fn is_local_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// How often expired sessions and sign-in links are removed from the store.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// How often the service looks for commits another process made to its database, at the
/// latest (PostgreSQL announces each commit, and the replica wakes up at once).
const CATCH_UP_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Keeps the published snapshot up with commits made by another process (another replica,
/// or the `sqlite:` target of the CLI on the same file), reading only the rows they wrote;
/// records whether the database is reachable and how far ahead it is, for `/readyz`.
async fn catch_up(app: App) {
    let mut last_purge = std::time::Instant::now();
    loop {
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = std::time::Instant::now();
            let purged = app
                .blocking(|app| Ok(app.store.purge_expired(time::OffsetDateTime::now_utc())?))
                .await;
            if let Err(error) = purged {
                tracing::warn!(error = %error.body.error.message, "cannot remove expired sessions and links");
            }
        }
        let result = app
            .blocking(|app| {
                // Wakes on a commit announced elsewhere, or after the polling period.
                let waited = app.store.backend().wait_for_commit(CATCH_UP_EVERY);
                let caught_up = waited.and_then(|()| {
                    let head = app.store.backend().head()?;
                    let snapshot = app.store.snapshot(today())?;
                    Ok((head, snapshot.revision))
                });
                let outcome = match caught_up {
                    Ok((head, _)) => {
                        app.set_sync(SyncStatus {
                            reachable: true,
                            durable_head: head,
                        });
                        Ok(())
                    }
                    Err(error) => {
                        let last = app.sync();
                        app.set_sync(SyncStatus {
                            reachable: false,
                            durable_head: last.durable_head,
                        });
                        Err(error.to_string())
                    }
                };
                Ok(outcome)
            })
            .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                tracing::warn!(error = %message, "cannot catch up with the database");
                // Do not spin while the database is away.
                tokio::time::sleep(CATCH_UP_EVERY).await;
            }
            Err(error) => {
                tracing::warn!(error = %error.body.error.message, "the catch-up task failed");
                tokio::time::sleep(CATCH_UP_EVERY).await;
            }
        }
    }
}

/// Resolves on SIGINT or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod public_url_tests {
    use super::is_local_url;

    #[test]
    fn tells_local_urls_apart() {
        for local in [
            "http://127.0.0.1:7878",
            "http://localhost:7878/",
            "https://LOCALHOST",
            "http://[::1]:80",
            "http://0.0.0.0:7878",
            "http://[::]:7878",
            "http://127.1.2.3",
            "http://app.localhost",
        ] {
            assert!(is_local_url(local), "{local}");
        }
        for public in [
            "https://portals.acme.io",
            "http://10.0.0.5:7878",
            "https://[2001:db8::1]/x",
        ] {
            assert!(!is_local_url(public), "{public}");
        }
    }
}
