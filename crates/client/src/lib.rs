//! Targets: where live state is read from and changes are applied to. One trait, two
//! implementations — the admin API over HTTP, and the same store in-process (`sqlite:`).
//! The trait states what a target guarantees instead of hiding it.
//!
//! **Architecture invariant:** the only crate that talks HTTP to the service; it shares
//! the wire types of `portalctl-core::api` with the server instead of depending on it.

mod http;
pub mod notify;
mod retry;
mod sqlite;

use std::fmt;
use std::path::PathBuf;

pub use http::HttpProvider;
pub use retry::RetryPolicy;
pub use sqlite::SqliteProvider;

pub use portalctl_core::api::Problems;
use portalctl_core::api::wire::AccessResponse;
use portalctl_core::api::{AuditEntry, ChangeMeta, RevealEntry};
use portalctl_core::model::{CalendarDate, Change, State};
use portalctl_store::{OutboxMessage, OutboxQuery};

/// An HTTP client builder with TLS ready: rustls on the `ring` provider, installed once per
/// process (reqwest is built without a provider so that `aws-lc-sys` is not compiled), and
/// a `User-Agent` naming this version. Every HTTP client of portalctl starts here.
pub fn http_client_builder() -> reqwest::blocking::ClientBuilder {
    // `Err` means a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().user_agent(concat!("portalctl/", env!("CARGO_PKG_VERSION")))
}

/// The live state and the revision it was read at.
#[derive(Debug, Clone)]
pub struct Live {
    pub state: State,
    pub revision: u64,
}

/// What a target promises about `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guarantees {
    /// All changes of a batch commit together or none do.
    pub atomic: bool,
    /// A batch names the revision it was planned against and is refused if live moved.
    pub revision_checked: bool,
}

/// A bearer token. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("plan is stale: live state is at revision {current}, the plan was made at revision {expected}")]
    Stale { expected: u64, current: u64 },
    #[error("the target refused the changes: {}", summarize(.0))]
    Rejected(Problems),
    #[error("portal `{0}` is protected on the live side: set `protect: false` and apply that first")]
    Protected(String),
    #[error("the target refused the token: {0}")]
    Unauthorized(String),
    #[error("the token may not do this: {0}")]
    Forbidden(String),
    #[error("the target is unavailable: {0}")]
    Unavailable(String),
    /// Nothing answers at the target's address (connection refused, unknown host).
    #[error("the target is unreachable: {message}")]
    Unreachable { target: String, message: String },
    #[error("the target answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the local store failed: {0}")]
    Store(#[from] portalctl_store::StoreError),
    #[error("`{0}` is not a target: use `http(s)://host:port` or `sqlite:PATH`")]
    BadTarget(String),
}

impl ProviderError {
    /// What to do next, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Unreachable { target, .. } => Some(format!(
                "is `portalctl serve` running at {target}? start it (`portalctl serve --listen HOST:PORT`), or work on the embedded store with `--target sqlite:portalctl.db`"
            )),
            _ => None,
        }
    }
}

/// A pending registration approved, or found approved already.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Approval {
    /// The live revision after the approval.
    pub revision: u64,
    /// Whether this call approved it (`false`: it was not pending; nothing was written).
    pub approved: bool,
}

fn summarize(problems: &Problems) -> String {
    let shown: Vec<String> = problems
        .listed
        .iter()
        .take(5)
        .map(|p| match p.index {
            Some(index) => format!("change #{index} at {}: {}", p.field, p.message),
            None => format!("{}: {}", p.field, p.message),
        })
        .collect();
    let more = problems.total.saturating_sub(shown.len());
    let mut text = shown.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

/// A place live state lives.
pub trait Provider: Send {
    /// How the target is shown in output: `sqlite:portalctl.db`, `http://127.0.0.1:7878`.
    fn target(&self) -> &str;
    fn guarantees(&self) -> Guarantees;
    /// The whole live state with its revision, in one read. A service shows sensitive
    /// attribute values as digests ([`portalctl_core::model::masking`]).
    fn read(&self) -> Result<Live, ProviderError>;
    /// As [`Provider::read`], with sensitive values in clear where the credentials allow
    /// (an `admin` token asks the service, which records the read in its read audit first;
    /// the embedded store has them).
    ///
    /// # Errors
    /// As `read`; `Forbidden` when the token may not see sensitive values.
    fn read_revealed(&self) -> Result<Live, ProviderError> {
        self.read()
    }
    /// Applies a batch planned against `expected_revision`; returns the new revision.
    ///
    /// # Errors
    /// `Stale` when live moved since the plan; `Rejected` with one problem per offending
    /// change; `Protected`; transport and auth failures. On any error nothing was applied.
    fn apply(
        &self,
        expected_revision: u64,
        changes: &[Change],
        meta: &ChangeMeta,
    ) -> Result<u64, ProviderError>;
    /// Committed batches with a revision above `after`, oldest first.
    fn audit(&self, after: u64) -> Result<Vec<AuditEntry>, ProviderError>;
    /// Reads of sensitive values in clear (`reveal=sensitive`) with an id above `after`,
    /// oldest first: the read audit.
    fn reveals(&self, after: u64) -> Result<Vec<RevealEntry>, ProviderError>;
    /// One partner's effective access, as the service decides it.
    fn access(&self, email: &str) -> Result<AccessResponse, ProviderError>;
    /// Approves `email`'s pending registration in `portal` (see
    /// [`portalctl_core::model::State::approval`]); approving one that is not pending
    /// writes nothing.
    ///
    /// # Errors
    /// No such portal or member (`Server` with status 404); transport and auth failures.
    fn approve(&self, portal: &str, email: &str) -> Result<Approval, ProviderError>;
    /// Creates a token: the answer is the only time its secret is known.
    fn create_token(
        &self,
        request: &portalctl_store::tokens::CreateTokenRequest,
    ) -> Result<portalctl_store::tokens::CreatedToken, ProviderError>;
    /// The tokens the service created, revoked ones too, by name.
    fn tokens(&self) -> Result<Vec<portalctl_store::TokenInfo>, ProviderError>;
    /// Revokes the token named `name`; `false` when no unrevoked token has that name.
    fn revoke_token(&self, name: &str) -> Result<bool, ProviderError>;

    /// The outbox's messages matching `query`, newest first (`GET /v1/outbox`: an admin
    /// token; they hold sign-in links).
    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, ProviderError>;
}

/// Collects every audit entry after `after` from a paged source (`page(cursor)` returns
/// entries after `cursor`, oldest first; a page may be short because it is bounded in
/// bytes, so only an empty page ends the log).
pub(crate) fn all_audit_pages(
    after: u64,
    mut page: impl FnMut(u64) -> Result<Vec<AuditEntry>, ProviderError>,
) -> Result<Vec<AuditEntry>, ProviderError> {
    let mut entries = Vec::new();
    let mut cursor = after;
    loop {
        let batch = page(cursor)?;
        let Some(last) = batch.last() else { break };
        cursor = last.revision;
        entries.extend(batch);
    }
    Ok(entries)
}

/// Every reveal after `after`, a page at a time.
pub(crate) fn all_reveal_pages(
    after: u64,
    mut page: impl FnMut(u64) -> Result<Vec<RevealEntry>, ProviderError>,
) -> Result<Vec<RevealEntry>, ProviderError> {
    let mut entries = Vec::new();
    let mut cursor = after;
    loop {
        let batch = page(cursor)?;
        let Some(last) = batch.last() else { break };
        cursor = last.id;
        entries.extend(batch);
    }
    Ok(entries)
}

/// Audit entries asked for per request.
pub(crate) const AUDIT_PAGE: usize = 1000;

/// Which target a command talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Http(String),
    Sqlite(PathBuf),
}

impl Target {
    /// Parses `http(s)://…` or `sqlite:PATH`.
    pub fn parse(text: &str) -> Result<Self, ProviderError> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(ProviderError::BadTarget(text.to_string()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if (text.starts_with("http://") || text.starts_with("https://")) && text.len() > "https://".len() {
            return Ok(Self::Http(text.trim_end_matches('/').to_string()));
        }
        Err(ProviderError::BadTarget(text.to_string()))
    }

    /// Opens the target.
    pub fn open(
        &self,
        token: Option<Token>,
        today: CalendarDate,
        retry: RetryPolicy,
    ) -> Result<Box<dyn Provider>, ProviderError> {
        Ok(match self {
            Self::Http(base) => Box::new(HttpProvider::new(base, token, retry)?),
            Self::Sqlite(path) => {
                let provider = SqliteProvider::open(path, today)?;
                // The one setting of the embedded target: where the mail its commits
                // enqueue links to (`serve --public-url` reads the same variable).
                match std::env::var("PORTALCTL_PUBLIC_URL") {
                    Ok(url) if !url.is_empty() => Box::new(provider.with_public_url(&url)),
                    _ => Box::new(provider),
                }
            }
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(base) => f.write_str(&portalctl_core::plan::file::without_credentials(base)),
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        assert_eq!(
            Target::parse("sqlite:x.db").unwrap(),
            Target::Sqlite("x.db".into())
        );
        assert_eq!(
            Target::parse("http://127.0.0.1:7878/").unwrap(),
            Target::Http("http://127.0.0.1:7878".into())
        );
        for bad in ["sqlite:", "ftp://x", "portalctl.db", "http://"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_never_print() {
        let token = Token::new("s3cret".into());
        assert_eq!(format!("{token:?}"), "Token(***)");
    }
}
