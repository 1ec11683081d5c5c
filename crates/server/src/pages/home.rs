//! What a partner's home lists for one portal: the folders and dashboards the access index
//! opens to them there, their non-sensitive attributes, and whether they manage their org's
//! people there. The partner's own home ([`super::sign_in::home`]), the console's view-as
//! and the console's preview all render this one answer, so they cannot disagree.
//!
//! **Architecture invariant:** the items come from the access index restricted to the
//! portal (`partner_access_in`), the same answer as `GET /v1/access/{email}?portal=`;
//! never another portal's `portal:` shares.

use portalctl_core::access::ContentKind;
use portalctl_core::model::{Membership, State as Model};
use portalctl_pages::{Home, HomeItem, Theme};
use portalctl_store::Snapshot;

use crate::App;

/// A partner's home in one portal, before it is put on a theme.
#[derive(Debug, Default)]
pub struct HomeView {
    pub items: Vec<HomeItem>,
    /// Non-sensitive attributes: name, value.
    pub attributes: Vec<(String, String)>,
    /// Whether the partner is an admin of their org's self-management in this portal.
    pub manages_people: bool,
}

impl HomeView {
    /// What `email`, seated as `member` in `portal`, sees on that portal's home.
    pub fn of(app: &App, snapshot: &Snapshot, portal: &str, email: &str, member: &Membership) -> Self {
        let items = app
            .access_index(snapshot)
            .partner_access_in(email, portal)
            .into_iter()
            .map(|access| HomeItem {
                path: access.folder.clone(),
                kind: match access.kind {
                    ContentKind::Folder => "folder".into(),
                    ContentKind::Dashboard => "dashboard".into(),
                },
                level: access.level.to_string(),
                permissions: access.permissions.iter().cloned().collect::<Vec<_>>().join(", "),
            })
            .collect();
        HomeView {
            items,
            attributes: visible_attributes(&snapshot.state, member),
            manages_people: super::people::administered_org(&snapshot.state, portal, email).is_some(),
        }
    }

    /// The page: on `theme`, with `csrf` in its sign-out form (empty for a read-only copy).
    pub fn render(self, theme: Theme, csrf: String, email: String, first_login: Option<String>) -> String {
        portalctl_pages::render(&Home {
            theme,
            csrf,
            email,
            items: self.items,
            attributes: self.attributes,
            first_login,
            manages_people: self.manages_people,
        })
    }
}

/// The attributes of a membership that are not declared `sensitive`, as the home lists them.
fn visible_attributes(state: &Model, member: &Membership) -> Vec<(String, String)> {
    member
        .attributes
        .iter()
        .filter(|(name, _)| {
            state
                .attributes
                .get(*name)
                .is_some_and(|attribute| !attribute.sensitive)
        })
        .map(|(name, value)| (name.clone(), value.to_string()))
        .collect()
}
