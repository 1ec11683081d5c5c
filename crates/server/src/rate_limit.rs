//! Rate limits on self-registration, the endpoint a public sign-up page calls through:
//! one token bucket per portal and one per caller, in memory. A request that finds
//! either bucket empty is `429 rate_limited` with `Retry-After` (whole seconds until a
//! token is back) and takes nothing from the other bucket.
//!
//! **Keys.** The limiter runs after authentication, so a refused request (`401`, `403`)
//! takes nothing from any bucket. A caller with a token is counted on its own: the
//! portal's bucket for that token and the token's bucket, which no other caller draws
//! from. Without tokens (loopback mode) callers are counted by client address, and
//! together per portal. The portal is the path's segment percent-decoded and in lower
//! case, so `%63ontoso` and `Contoso` count against `contoso`.
//!
//! Buckets live in memory only: a restart refills them, and with several replicas each
//! counts on its own. Full buckets are dropped when the table grows, so memory stays
//! bounded by the clients of the last minute or so.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Caller;
use super::error::ApiError;
use super::listener::ClientAddr;

/// How many requests a bucket allows: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    /// `per_minute` requests a minute, all of which may come at once; 0 disables the limit.
    pub const fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute,
            burst: per_minute,
        }
    }
}

/// The self-registration limits of `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfRegisterLimits {
    /// All clients together, per portal.
    pub per_portal: Quota,
    /// One client address, whatever the portal.
    pub per_client: Quota,
}

/// The defaults: 60 a minute per portal, 10 a minute per client address.
pub const DEFAULT_SELF_REGISTER_LIMITS: SelfRegisterLimits = SelfRegisterLimits {
    per_portal: Quota::per_minute(60),
    per_client: Quota::per_minute(10),
};

impl Default for SelfRegisterLimits {
    fn default() -> Self {
        DEFAULT_SELF_REGISTER_LIMITS
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by a string.
#[derive(Debug)]
struct Buckets {
    quota: Quota,
    buckets: HashMap<String, Bucket>,
}

/// Above this many buckets, full ones are dropped.
const MAX_BUCKETS: usize = 10_000;

impl Buckets {
    fn new(quota: Quota) -> Self {
        Self {
            quota,
            buckets: HashMap::new(),
        }
    }

    fn rate(&self) -> f64 {
        f64::from(self.quota.per_minute) / 60.0
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        Bucket {
            tokens: (bucket.tokens + elapsed * self.rate()).min(f64::from(self.quota.burst)),
            at: now,
        }
    }

    /// `Ok` when `key` may go now, else how long until it may.
    fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.quota.per_minute == 0 {
            return Ok(());
        }
        let bucket = self.buckets.get(key).map_or(
            Bucket {
                tokens: f64::from(self.quota.burst),
                at: now,
            },
            |bucket| self.refilled(*bucket, now),
        );
        if bucket.tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate()))
        }
    }

    fn take(&mut self, key: &str, now: Instant) {
        if self.quota.per_minute == 0 {
            return;
        }
        if self.buckets.len() >= MAX_BUCKETS {
            let burst = f64::from(self.quota.burst);
            let buckets = std::mem::take(&mut self.buckets);
            self.buckets = buckets
                .into_iter()
                .filter(|(_, bucket)| self.refilled(*bucket, now).tokens < burst)
                .collect();
        }
        let fresh = Bucket {
            tokens: f64::from(self.quota.burst),
            at: now,
        };
        let bucket = self
            .buckets
            .get(key)
            .map_or(fresh, |bucket| self.refilled(*bucket, now));
        self.buckets.insert(
            key.to_string(),
            Bucket {
                tokens: bucket.tokens - 1.0,
                at: now,
            },
        );
    }
}

/// Who a self-registration is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Counted {
    /// A caller with a token, by its name: buckets of its own.
    Token(String),
    /// A caller without a token (loopback mode), by client address.
    Address(Option<IpAddr>),
}

impl Counted {
    /// The keys of its portal bucket and of its own.
    fn keys(&self, portal: &str) -> (String, String) {
        match self {
            Self::Token(name) => (format!("{portal} token:{name}"), format!("token:{name}")),
            Self::Address(address) => (
                format!("{portal} address"),
                address.map_or_else(|| "address:unknown".to_string(), |ip| format!("address:{ip}")),
            ),
        }
    }
}

/// Two limits on one kind of request, each keyed its own way (an address and a client, a
/// portal and a client): a request goes when both buckets have a token, and then takes one
/// from each.
#[derive(Debug)]
pub struct PairLimiter {
    inner: Mutex<(Buckets, Buckets)>,
}

impl PairLimiter {
    pub fn new(first: Quota, second: Quota) -> Self {
        Self {
            inner: Mutex::new((Buckets::new(first), Buckets::new(second))),
        }
    }

    /// Takes one token from `first`'s and `second`'s buckets, or none when either is
    /// empty; `Err` holds the wait.
    ///
    /// # Errors
    /// How long until both buckets have a token again.
    pub fn admit(&self, first: &str, second: &str, now: Instant) -> Result<(), Duration> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (firsts, seconds) = &mut *guard;
        let first_wait = firsts.check(first, now).err();
        let second_wait = seconds.check(second, now).err();
        if let Some(wait) = first_wait.into_iter().chain(second_wait).max() {
            return Err(wait);
        }
        firsts.take(first, now);
        seconds.take(second, now);
        Ok(())
    }
}

/// The limiter of `POST /v1/portals/{technical_name}/self-register`.
#[derive(Debug)]
pub struct SelfRegisterLimiter {
    /// The portal's bucket, then the caller's.
    buckets: PairLimiter,
    /// Whether callers present tokens (else they are counted by address).
    by_token: bool,
}

impl SelfRegisterLimiter {
    /// `by_token`: the service has tokens, and callers are counted by theirs.
    pub fn new(limits: SelfRegisterLimits, by_token: bool) -> Arc<Self> {
        Arc::new(Self {
            buckets: PairLimiter::new(limits.per_portal, limits.per_client),
            by_token,
        })
    }

    /// Takes one token from the portal's and the caller's buckets, or none when either
    /// is empty; `Err` holds the wait.
    fn admit(&self, portal: &str, who: &Counted, now: Instant) -> Result<(), Duration> {
        let (portal_key, caller_key) = who.keys(portal);
        self.buckets.admit(&portal_key, &caller_key, now)
    }
}

/// The route the limiter counts.
const SELF_REGISTER_ROUTE: &str = "/v1/portals/{technical_name}/self-register";

/// The portal of a self-registration path as it is counted: its segment percent-decoded
/// and in lower case (`None` when `path` is not one).
fn self_register_portal(path: &str) -> Option<String> {
    let portal = path
        .strip_prefix("/v1/portals/")?
        .strip_suffix("/self-register")?;
    if portal.is_empty() || portal.contains('/') {
        return None;
    }
    Some(percent_decoded(portal).to_lowercase())
}

/// `text` with `%XX` escapes decoded (left as they are when they do not decode to UTF-8).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap_or_else(|_| text.to_string())
}

/// The middleware, after authentication: counts self-registration attempts, answers
/// `429` over the limit.
pub async fn limit(
    State(limiter): State<Arc<SelfRegisterLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let counted = request.method() == Method::POST
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|matched| matched.as_str() == SELF_REGISTER_ROUTE);
    let portal = counted
        .then(|| self_register_portal(request.uri().path()))
        .flatten();
    let Some(portal) = portal else {
        return next.run(request).await;
    };
    let caller = request
        .extensions()
        .get::<Caller>()
        .map(|caller| caller.name.clone());
    let who = match caller {
        Some(name) if limiter.by_token => Counted::Token(name),
        _ => Counted::Address(
            request
                .extensions()
                .get::<ConnectInfo<ClientAddr>>()
                .map(|ConnectInfo(ClientAddr(address))| address.ip()),
        ),
    };
    match limiter.admit(&portal, &who, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let seconds = seconds.max(1);
            tracing::info!(
                portal,
                status = 429,
                retry_after = seconds,
                "self-registration rate limited"
            );
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many self-registrations; retry in {seconds} s"),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Counted {
        Counted::Address(text.parse().ok())
    }

    #[test]
    fn limits_per_portal_and_per_client_and_refills() {
        let limiter = SelfRegisterLimiter::new(
            SelfRegisterLimits {
                per_portal: Quota::per_minute(3),
                per_client: Quota::per_minute(2),
            },
            false,
        );
        let start = Instant::now();
        let (one, two) = (address("10.0.0.1"), address("10.0.0.2"));
        assert!(limiter.admit("p", &one, start).is_ok());
        assert!(limiter.admit("p", &one, start).is_ok());
        let wait = limiter.admit("p", &one, start).unwrap_err();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        // Another client still fits the portal's bucket, then the portal is full.
        assert!(limiter.admit("p", &two, start).is_ok());
        assert!(limiter.admit("p", &two, start).is_err());
        // Another portal is counted apart, but the client's bucket is shared.
        assert!(limiter.admit("q", &one, start).is_err());
        // Thirty seconds later one token is back for client one.
        assert!(limiter.admit("q", &one, start + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn a_token_has_buckets_no_one_else_draws_from() {
        let limiter = SelfRegisterLimiter::new(
            SelfRegisterLimits {
                per_portal: Quota::per_minute(2),
                per_client: Quota::per_minute(2),
            },
            true,
        );
        let now = Instant::now();
        let stranger = address("10.0.0.9");
        while limiter.admit("p", &stranger, now).is_ok() {}
        let integration = Counted::Token("ci".into());
        assert!(limiter.admit("p", &integration, now).is_ok());
        assert!(limiter.admit("p", &integration, now).is_ok());
        assert!(limiter.admit("p", &integration, now).is_err());
        assert!(limiter.admit("p", &Counted::Token("other".into()), now).is_ok());
    }

    #[test]
    fn zero_disables_and_paths_are_normalised() {
        let limiter = SelfRegisterLimiter::new(
            SelfRegisterLimits {
                per_portal: Quota::per_minute(0),
                per_client: Quota::per_minute(0),
            },
            false,
        );
        for _ in 0..100 {
            assert!(
                limiter
                    .admit("p", &Counted::Address(None), Instant::now())
                    .is_ok()
            );
        }
        for path in [
            "/v1/portals/contoso/self-register",
            "/v1/portals/%63ontoso/self-register",
            "/v1/portals/%63%6F%6e%74oso/self-register",
            "/v1/portals/Contoso/self-register",
        ] {
            assert_eq!(self_register_portal(path).as_deref(), Some("contoso"), "{path}");
        }
        assert_eq!(self_register_portal("/v1/portals/globex/members"), None);
        assert_eq!(self_register_portal("/v1/portals//self-register"), None);
        assert_eq!(
            self_register_portal("/v1/portals/a%zz%/self-register").as_deref(),
            Some("a%zz%")
        );
        assert_eq!(
            self_register_portal("/v1/portals/%ff/self-register").as_deref(),
            Some("%ff")
        );
    }
}
