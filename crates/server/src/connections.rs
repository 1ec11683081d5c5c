//! The accept loop of `serve`: every connection is bounded in time and in number, and
//! shutdown is bounded too, so no client can hold the service for everyone else.
//!
//! - **Header timeout.** From the first byte of a request head to its last, at most
//!   [`ConnectionLimits::header_timeout`]; a slower head (slowloris) closes the connection.
//! - **Idle timeout.** A connection with no request in progress that sends nothing for
//!   [`ConnectionLimits::idle_timeout`] is closed (between keep-alive requests, or after
//!   connecting and sending nothing).
//! - **Body timeout.** A request body must arrive within
//!   [`ConnectionLimits::body_timeout`] of its head (`408 request_timeout`, see
//!   [`crate::extract::ApiBytes`]).
//! - **Connection cap.** At most [`ConnectionLimits::max_connections`] connections are
//!   open (lowered to fit the process's file-descriptor limit). At the cap, a new
//!   connection closes the oldest *idle* one (no request in progress): idle sockets cannot
//!   lock anyone out. When every open connection is busy, the new one is answered
//!   `503 too_many_connections` with `Retry-After` and closed.
//! - **Shutdown.** On SIGINT or SIGTERM the listener closes, idle connections close at
//!   once, requests in progress get [`ConnectionLimits::shutdown_timeout`] to finish, and
//!   whatever is left is dropped.
//!
//! Each connection has a [`Tracker`] shared by its task, its I/O (which notes when a
//! request head starts arriving) and its requests (which note when one is in progress,
//! until its response body is sent).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower_service::Service;

use crate::listener::{ClientAddr, JsonErrors};

/// The time and number bounds of connections (flags of `serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once (lowered to fit the file-descriptor limit).
    pub max_connections: usize,
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// With no request in progress and nothing received.
    pub idle_timeout: Duration,
    /// From a request's head to the end of its body.
    pub body_timeout: Duration,
    /// How long shutdown waits for requests in progress.
    pub shutdown_timeout: Duration,
}

/// The defaults: 1024 connections, 10 s for a head, 60 s idle, 60 s for a body, 10 s
/// for shutdown.
pub const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = ConnectionLimits {
    max_connections: 1024,
    header_timeout: Duration::from_secs(10),
    idle_timeout: Duration::from_secs(60),
    body_timeout: Duration::from_secs(60),
    shutdown_timeout: Duration::from_secs(10),
};

impl Default for ConnectionLimits {
    fn default() -> Self {
        DEFAULT_CONNECTION_LIMITS
    }
}

/// File descriptors kept free for the database, logs and refusals when the connection cap
/// is fitted to the process's limit.
const RESERVED_DESCRIPTORS: u64 = 64;

/// `wanted` lowered to fit the soft file-descriptor limit, if the platform tells it.
pub fn fitted_max_connections(wanted: usize) -> usize {
    #[cfg(target_os = "linux")]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        if let Some(limit) = limit {
            let room = usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX);
            return wanted.min(room.max(1));
        }
    }
    wanted
}

/// The deadline a request body must arrive by, put in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    pub at: tokio::time::Instant,
    pub timeout: Duration,
}

/// `state` of a [`Tracker`] once the connection was chosen to be closed.
const EVICTED: usize = usize::MAX;

/// What the service knows of one connection.
struct Tracker {
    id: u64,
    /// Requests in progress (head received, response body not yet sent), or [`EVICTED`].
    state: AtomicUsize,
    /// Milliseconds since `epoch` when the current request head started arriving, 0 if
    /// none is arriving.
    head_started: AtomicU64,
    /// Milliseconds since `epoch` of the last byte received or the last response sent.
    last_active: AtomicU64,
    epoch: Instant,
    evict: Notify,
}

impl Tracker {
    fn new(id: u64, epoch: Instant) -> Self {
        let tracker = Self {
            id,
            state: AtomicUsize::new(0),
            head_started: AtomicU64::new(0),
            last_active: AtomicU64::new(0),
            epoch,
            evict: Notify::new(),
        };
        tracker.touch();
        tracker
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn touch(&self) {
        self.last_active.store(self.now(), Ordering::Relaxed);
    }

    /// Bytes arrived: with no request in progress they start (or continue) a head.
    fn received(&self) {
        let now = self.now();
        self.last_active.store(now, Ordering::Relaxed);
        if self.state.load(Ordering::Acquire) == 0 {
            let _ = self
                .head_started
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    /// A request head arrived; `false` when the connection is being closed.
    fn begin(&self) -> bool {
        let begun = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state != EVICTED).then(|| state + 1)
            })
            .is_ok();
        self.head_started.store(0, Ordering::Release);
        begun
    }

    /// A response was sent (or abandoned).
    fn end(&self) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (state != EVICTED && state > 0).then(|| state - 1)
            });
        self.touch();
    }

    fn busy(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        state != 0 && state != EVICTED
    }

    /// Marks an idle connection to be closed; `false` when a request is in progress.
    fn try_evict(&self) -> bool {
        let evicted = self
            .state
            .compare_exchange(0, EVICTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if evicted {
            self.evict.notify_one();
        }
        evicted
    }

    /// Why the connection should be closed now, if it should.
    fn expired(&self, limits: &ConnectionLimits) -> Option<&'static str> {
        if self.busy() {
            return None;
        }
        let now = self.now();
        let since = |at: u64| Duration::from_millis(now.saturating_sub(at));
        let head = self.head_started.load(Ordering::Acquire);
        if head != 0 && since(head) >= limits.header_timeout {
            return Some("the request head did not arrive within the header timeout");
        }
        if head == 0 && since(self.last_active.load(Ordering::Relaxed)) >= limits.idle_timeout {
            return Some("idle");
        }
        None
    }
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Tracker>>>,
    next_id: AtomicU64,
}

impl Registry {
    /// Registers a new connection.
    fn register(&self, epoch: Instant) -> Arc<Tracker> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Tracker::new(id, epoch));
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&tracker));
        tracker
    }

    /// Marks the oldest idle connection to be closed; `false` when every one is busy (or
    /// already closing).
    fn evict_oldest_idle(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.values().any(|tracker| tracker.try_evict())
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Room for connections: a permit per open connection, held until its socket is closed.
struct Room {
    connections: Arc<Semaphore>,
    /// Refusals being written (each holds a socket for at most a second).
    refusals: Arc<Semaphore>,
}

/// Refusals written at once; beyond that a connection over the cap is closed unanswered.
const MAX_REFUSALS: usize = 32;

/// How long a new connection waits for an evicted idle one to close.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

impl Room {
    /// A permit for a new connection: a free one, or one freed by closing the oldest
    /// idle connection; `None` when every connection is busy.
    async fn admit(&self, registry: &Registry) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.connections).try_acquire_owned() {
            return Some(permit);
        }
        if !registry.evict_oldest_idle() {
            return None;
        }
        tokio::time::timeout(EVICTION_WAIT, Arc::clone(&self.connections).acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

/// A connection's I/O, telling its tracker when bytes arrive.
struct Watched {
    inner: JsonErrors<TcpStream>,
    tracker: Arc<Tracker>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buffer.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(context, buffer);
        if matches!(polled, Poll::Ready(Ok(()))) && buffer.filled().len() > before {
            self.tracker.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

/// Ends the tracker's request when dropped: when the response body is sent or abandoned.
struct InProgress(Arc<Tracker>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A response body that keeps its request in progress until it is sent.
struct TrackedBody {
    inner: Body,
    _request: InProgress,
}

impl http_body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(context)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The plain answer to a connection over the cap.
fn refusal() -> Vec<u8> {
    let body = serde_json::json!({"error": {
        "code": "too_many_connections",
        "message": "the service has as many connections open as it serves, all busy; retry shortly"
    }})
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// How often a connection checks its deadlines.
fn tick(limits: &ConnectionLimits) -> Duration {
    (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down within
/// [`ConnectionLimits::shutdown_timeout`].
///
/// # Errors
/// None in practice: accept errors (such as running out of file descriptors) are logged
/// and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let registry = Arc::new(Registry::default());
    let epoch = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let room = Room {
        connections: Arc::new(Semaphore::new(limits.max_connections)),
        refusals: Arc::new(Semaphore::new(MAX_REFUSALS)),
    };
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, address) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, or a connection reset before it was
                        // accepted: wait a moment rather than spin.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let Some(permit) = room.admit(&registry).await else {
                    tracing::warn!(open = registry.len(), "connection refused: every connection is busy");
                    if let Ok(refusing) = Arc::clone(&room.refusals).try_acquire_owned() {
                        tasks.spawn(async move {
                            refuse(stream).await;
                            drop(refusing);
                        });
                    }
                    continue;
                };
                let tracker = registry.register(epoch);
                tasks.spawn(connection(
                    Accepted { stream, address, permit },
                    tracker,
                    Arc::clone(&registry),
                    router.clone(),
                    limits,
                    stopped.clone(),
                ));
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "requests still in progress after the shutdown timeout; closing their connections"
        );
        tasks.abort_all();
    }
    Ok(())
}

/// Answers `503 too_many_connections` and closes, within a second whatever the client does.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&refusal()).await?;
        stream.shutdown().await
    })
    .await;
}

/// An accepted connection and its room.
struct Accepted {
    stream: TcpStream,
    address: SocketAddr,
    permit: OwnedSemaphorePermit,
}

async fn connection(
    accepted: Accepted,
    tracker: Arc<Tracker>,
    registry: Arc<Registry>,
    router: Router,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<bool>,
) {
    let Accepted {
        stream,
        address,
        permit,
    } = accepted;
    let io = TokioIo::new(Watched {
        inner: JsonErrors::new(stream),
        tracker: Arc::clone(&tracker),
    });
    let requests = Arc::clone(&tracker);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let begun = requests.begin();
        let in_progress = InProgress(Arc::clone(&requests));
        let extensions = request.extensions_mut();
        extensions.insert(ConnectInfo(ClientAddr(address)));
        extensions.insert(BodyDeadline {
            at: tokio::time::Instant::now() + limits.body_timeout,
            timeout: limits.body_timeout,
        });
        let mut router = router.clone();
        // Boxed: the connection is polled without shutting its socket down, which needs
        // an `Unpin` future (see `linger`).
        Box::pin(async move {
            let response: Response<Body> = if begun {
                match router.call(request.map(Body::new)).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            } else {
                // Chosen to be closed just as this request arrived: the client retries.
                let mut response = Response::new(Body::from(refusal_body()));
                *response.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
                response
            };
            Ok::<_, std::convert::Infallible>(response.map(|inner| TrackedBody {
                inner,
                _request: in_progress,
            }))
        })
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Our own deadlines apply (see `Tracker::expired`); hyper's would need its timer.
    builder.header_read_timeout(None);
    let mut connection = builder.serve_connection(io, service);
    let mut ticker = tokio::time::interval(tick(&limits));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping = *stopped.borrow();
    let mut finished = false;
    loop {
        if stopping && !tracker.busy() {
            break;
        }
        tokio::select! {
            result = std::future::poll_fn(|context| connection.poll_without_shutdown(context)) => {
                match result {
                    Ok(()) => finished = true,
                    Err(error) => tracing::debug!(%error, "connection ended with an error"),
                }
                break;
            }
            () = tracker.evict.notified() => {
                tracing::debug!(connection = tracker.id, "closed an idle connection to admit a new one");
                break;
            }
            changed = stopped.changed(), if !stopping => {
                if changed.is_err() || *stopped.borrow() {
                    stopping = true;
                    Pin::new(&mut connection).graceful_shutdown();
                }
            }
            _ = ticker.tick() => {
                if let Some(reason) = tracker.expired(&limits) {
                    tracing::debug!(connection = tracker.id, reason, "closed a connection");
                    break;
                }
            }
        }
    }
    registry.remove(tracker.id);
    if finished {
        let io = connection.into_parts().io.into_inner();
        linger(io.inner.into_inner()).await;
    } else {
        drop(connection);
    }
    // The socket is closed before its room is given back.
    drop(permit);
}

/// How long a finished connection reads what its client still sends before closing.
const LINGER: Duration = Duration::from_secs(2);

/// Closes a finished connection gently: its answer is sent, the write side is shut, and
/// what the client still sends is read and dropped for up to [`LINGER`]. Closing at once
/// with unread bytes would reset the connection, and a client still sending a body that
/// was refused (`413`) would see the reset instead of the answer.
async fn linger(mut stream: TcpStream) {
    let _ = tokio::time::timeout(LINGER, async {
        stream.shutdown().await?;
        let mut sink = [0u8; 16 * 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
}

fn refusal_body() -> String {
    serde_json::json!({"error": {
        "code": "unavailable",
        "message": "the connection is being closed; retry on a new one"
    }})
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_is_chosen_to_close() {
        let registry = Registry::default();
        let epoch = Instant::now();
        let first = registry.register(epoch);
        let second = registry.register(epoch);
        assert!(first.begin());
        // The first is busy: the second, idle, is chosen.
        assert!(registry.evict_oldest_idle());
        assert_eq!(second.state.load(Ordering::Acquire), EVICTED);
        assert!(
            !second.begin(),
            "a request arriving on a closing connection is not begun"
        );
        // Both busy or closing: nothing to choose.
        assert!(!registry.evict_oldest_idle());
        first.end();
        assert!(registry.evict_oldest_idle());
        assert_eq!(first.state.load(Ordering::Acquire), EVICTED);
    }

    #[test]
    fn a_slow_head_and_an_idle_connection_expire() {
        let limits = ConnectionLimits {
            header_timeout: Duration::from_millis(30),
            idle_timeout: Duration::from_millis(60),
            ..DEFAULT_CONNECTION_LIMITS
        };
        let tracker = Tracker::new(0, Instant::now());
        assert_eq!(tracker.expired(&limits), None);
        tracker.received();
        std::thread::sleep(Duration::from_millis(40));
        tracker.received();
        assert!(
            tracker
                .expired(&limits)
                .is_some_and(|reason| reason.contains("head"))
        );
        assert!(tracker.begin());
        assert_eq!(
            tracker.expired(&limits),
            None,
            "a request in progress never expires"
        );
        tracker.end();
        assert_eq!(tracker.expired(&limits), None);
        std::thread::sleep(Duration::from_millis(70));
        assert_eq!(tracker.expired(&limits), Some("idle"));
    }
}
