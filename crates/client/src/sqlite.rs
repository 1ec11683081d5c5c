//! The embedded `sqlite:PATH` target: the service's own store, opened in-process, with the
//! same guarantees (one atomic batch guarded by the revision).
//!
//! Reading the live state goes straight to the database: a `plan` needs the state once,
//! not the service's published snapshot, its spare copy and its access index. The full
//! [`Store`] is opened on the first write or access question.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{Guarantees, Live, Provider, ProviderError};
use portalctl_core::api::wire::AccessResponse;
use portalctl_core::model::{CalendarDate, Change};
use portalctl_store::{
    AuditEntry, Backend, ChangeMeta, CommitError, OutboxMessage, OutboxQuery, SqliteBackend, Store,
};

pub struct SqliteProvider {
    path: PathBuf,
    backend: SqliteBackend,
    store: OnceLock<Store>,
    target: String,
    today: CalendarDate,
    /// Where the mail a commit enqueues links to.
    public_url: String,
}

/// Where mail enqueued through the embedded target links to, unless `PORTALCTL_PUBLIC_URL`
/// says otherwise: `serve`'s default address, which serves the same file.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:7878";

impl SqliteProvider {
    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// # Errors
    /// A database of a newer portalctl; SQLite errors.
    pub fn open(path: &Path, today: CalendarDate) -> Result<Self, ProviderError> {
        Ok(Self {
            path: path.to_path_buf(),
            backend: SqliteBackend::open(path)?,
            store: OnceLock::new(),
            target: format!("sqlite:{}", path.display()),
            today,
            public_url: DEFAULT_PUBLIC_URL.to_string(),
        })
    }

    /// Links in the mail this target's commits enqueue (invitations) start with
    /// `public_url`, the address `serve` will be reached at.
    #[must_use]
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        public_url.trim_end_matches('/').clone_into(&mut self.public_url);
        self
    }

    /// The full store, opened on first use.
    fn store(&self) -> Result<&Store, ProviderError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        // One command commits once: no spare copy of the state is worth keeping.
        let store = Store::open_for_few_commits(&self.path, self.today)?;
        // Invitations are enqueued with the batch that adds the members, as `serve` does;
        // `serve --smtp` sends them later.
        store.send_roster_mail(std::sync::Arc::new(portalctl_mail::RosterMailer {
            links: portalctl_mail::Links::new(&self.public_url, None),
        }));
        Ok(self.store.get_or_init(|| store))
    }
}

/// A refused commit as a provider error; `expected` is the revision the batch was
/// planned against (for a stale one).
fn commit_error(error: CommitError, expected: u64) -> ProviderError {
    match error {
        CommitError::Stale { current } => ProviderError::Stale { expected, current },
        CommitError::Invalid(problems)
        | CommitError::Conflict(problems)
        | CommitError::SeatLimit(problems) => ProviderError::Rejected(problems),
        CommitError::Protected(portal) => ProviderError::Protected(portal),
        CommitError::Storage(error) => ProviderError::Store(error),
    }
}

/// An error of a write decided inside the store ([`Store::commit_with`]).
enum WriteError {
    Refused(ProviderError),
    Commit(CommitError),
}

impl From<CommitError> for WriteError {
    fn from(error: CommitError) -> Self {
        Self::Commit(error)
    }
}

/// Who the audit log names for writes through the embedded target.
const LOCAL_ACTOR: &str = "local";

impl Provider for SqliteProvider {
    fn target(&self) -> &str {
        &self.target
    }

    fn guarantees(&self) -> Guarantees {
        Guarantees {
            atomic: true,
            revision_checked: true,
        }
    }

    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, ProviderError> {
        Ok(self.backend.outbox(query)?)
    }

    fn read(&self) -> Result<Live, ProviderError> {
        let (state, revision) = match self.store.get() {
            Some(store) => store.read_state(self.today)?,
            None => self.backend.load()?,
        };
        Ok(Live { state, revision })
    }

    fn apply(
        &self,
        expected_revision: u64,
        changes: &[Change],
        meta: &ChangeMeta,
    ) -> Result<u64, ProviderError> {
        self.store()?
            .commit(Some(expected_revision), changes, meta, LOCAL_ACTOR, self.today)
            .map_err(|error| commit_error(error, expected_revision))
    }

    fn audit(&self, after: u64) -> Result<Vec<AuditEntry>, ProviderError> {
        let store = self.store()?;
        super::all_audit_pages(after, |cursor| Ok(store.audit(cursor, super::AUDIT_PAGE)?))
    }

    fn reveals(&self, after: u64) -> Result<Vec<portalctl_core::api::RevealEntry>, ProviderError> {
        let store = self.store()?;
        super::all_reveal_pages(after, |cursor| Ok(store.reveals(cursor, super::AUDIT_PAGE)?))
    }

    fn approve(&self, portal: &str, email: &str) -> Result<super::Approval, ProviderError> {
        let email = portalctl_core::model::normalize_email(email);
        let mut approved = false;
        let revision = self
            .store()?
            .commit_with(&ChangeMeta::default(), LOCAL_ACTOR, self.today, |state, _| {
                let (changes, _) = state.approval(portal, &email).map_err(|error| {
                    WriteError::Refused(ProviderError::Server {
                        status: 404,
                        message: error.to_string(),
                    })
                })?;
                approved = !changes.is_empty();
                Ok(changes)
            })
            .map_err(|error| match error {
                WriteError::Refused(error) => error,
                WriteError::Commit(error) => commit_error(error, 0),
            })?;
        Ok(super::Approval { revision, approved })
    }

    fn access(&self, email: &str) -> Result<AccessResponse, ProviderError> {
        let snapshot = self.store()?.snapshot(self.today)?;
        let email = portalctl_core::model::normalize_email(email);
        Ok(AccessResponse {
            active_partner: snapshot.index.is_active_partner(&email),
            folders: snapshot.index.partner_access(&email),
            revision: snapshot.revision,
            email,
        })
    }

    fn create_token(
        &self,
        request: &portalctl_store::tokens::CreateTokenRequest,
    ) -> Result<portalctl_store::tokens::CreatedToken, ProviderError> {
        use portalctl_store::{CreateTokenError, TokenScope};
        let store = self.store()?;
        if let TokenScope::PartnerOrg(org) = &request.scope
            && !store.published().state.partner_orgs.contains_key(org)
        {
            return Err(ProviderError::Server {
                status: 422,
                message: format!("there is no partner org `{org}`"),
            });
        }
        let now = time::OffsetDateTime::now_utc();
        let expires_at = match request.expires_in_seconds {
            None => None,
            Some(seconds @ 1..=portalctl_store::tokens::MAX_LIFETIME_SECONDS) => {
                Some(now + time::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX)))
            }
            Some(_) => {
                return Err(ProviderError::Server {
                    status: 400,
                    message: "a token lives at most ten years".to_string(),
                });
            }
        };
        let issued = store
            .create_token(&request.name, request.scope.clone(), expires_at, LOCAL_ACTOR, now)
            .map_err(|error| match error {
                CreateTokenError::Storage(error) => ProviderError::Store(error),
                CreateTokenError::NameTaken(_) => ProviderError::Server {
                    status: 409,
                    message: error.to_string(),
                },
                other => ProviderError::Server {
                    status: 400,
                    message: other.to_string(),
                },
            })?;
        Ok(portalctl_store::tokens::CreatedToken {
            token: issued.token,
            info: issued.info,
        })
    }

    fn tokens(&self) -> Result<Vec<portalctl_store::TokenInfo>, ProviderError> {
        Ok(self.store()?.tokens()?)
    }

    fn revoke_token(&self, name: &str) -> Result<bool, ProviderError> {
        Ok(self
            .store()?
            .revoke_token(name, time::OffsetDateTime::now_utc())?)
    }
}
