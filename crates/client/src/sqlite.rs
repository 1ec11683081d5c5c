//! The embedded `sqlite:PATH` target: the service's own store, opened in-process, with the
//! same guarantees (one atomic batch guarded by the revision).

use std::path::Path;

use super::{Guarantees, Live, Provider, ProviderError};
use portalctl_core::access::AccessIndex;
use portalctl_core::api::wire::AccessResponse;
use portalctl_core::model::{CalendarDate, Change};
use portalctl_store::{AuditEntry, ChangeMeta, CommitError, Store};

pub struct SqliteProvider {
    store: Store,
    target: String,
    today: CalendarDate,
}

impl SqliteProvider {
    pub fn open(path: &Path, today: CalendarDate) -> Result<Self, ProviderError> {
        let store = Store::open(path, today)?;
        Ok(Self {
            store,
            target: format!("sqlite:{}", path.display()),
            today,
        })
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

    fn read(&self) -> Result<Live, ProviderError> {
        let (state, revision) = self.store.read_state(self.today)?;
        Ok(Live { state, revision })
    }

    fn apply(
        &self,
        expected_revision: u64,
        changes: &[Change],
        meta: &ChangeMeta,
    ) -> Result<u64, ProviderError> {
        self.store
            .commit(Some(expected_revision), changes, meta, LOCAL_ACTOR, self.today)
            .map_err(|error| match error {
                CommitError::Stale { current } => ProviderError::Stale {
                    expected: expected_revision,
                    current,
                },
                CommitError::Invalid(problems) | CommitError::SeatLimit(problems) => {
                    ProviderError::Rejected(problems)
                }
                CommitError::Protected(portal) => ProviderError::Protected(portal),
                CommitError::Storage(error) => ProviderError::Store(error),
            })
    }

    fn audit(&self, after: u64) -> Result<Vec<AuditEntry>, ProviderError> {
        super::all_audit_pages(after, |cursor| Ok(self.store.audit(cursor, super::AUDIT_PAGE)?))
    }

    fn access(&self, email: &str) -> Result<AccessResponse, ProviderError> {
        let snapshot = self.store.snapshot(self.today)?;
        let email = portalctl_core::model::normalize_email(email);
        let index = AccessIndex::new(&snapshot.state, self.today);
        Ok(AccessResponse {
            active_partner: index.is_active_partner(&email),
            folders: index.partner_access(&email),
            revision: snapshot.revision,
            email,
        })
    }
}
