//! Safety checks: plans that must not run without a human saying so. A protected portal
//! is never deleted; a plan removing many members and shares at once is refused unless
//! the operator raises the limit.
//!
//! **Architecture invariant:** pure checks over a plan and the live state; no I/O. The
//! caller turns refusals into an error (exit 1) and applies nothing.

use std::fmt;

use super::{Action, Plan};
use crate::model::{Kind, ResourceKey, State};

/// The operator's overrides (`--allow-mass-removal`, `--max-removals N`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--allow-mass-removal`: no limit on member and share deletions.
    pub allow_mass_removal: bool,
    /// `--max-removals N`; `None` means [`default_max_removals`].
    pub max_removals: Option<usize>,
}

/// Why a plan is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The plan deletes a portal whose live `protect` is true.
    ProtectedPortal { portal: String },
    /// The plan deletes more members and shares than allowed.
    MassRemoval { removals: usize, limit: usize },
}

impl Refusal {
    /// What to do about it, for a `hint:` line.
    pub fn hint(&self) -> String {
        match self {
            Self::ProtectedPortal { portal } => {
                format!("set `protect: false` on portal `{portal}` and apply that first, then remove it")
            }
            Self::MassRemoval { removals, .. } => {
                format!("if this is intended, pass `--allow-mass-removal` or `--max-removals {removals}`")
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProtectedPortal { portal } => {
                write!(
                    f,
                    "refusing to delete portal `{portal}`: it is protected (`protect: true`)"
                )
            }
            Self::MassRemoval { removals, limit } => write!(
                f,
                "refusing to remove {removals} members and shares at once: the limit is {limit}"
            ),
        }
    }
}

/// The default limit on member and share deletions: 25% of the live members and
/// shares, and at least 10.
pub fn default_max_removals(live: &State) -> usize {
    ((live.members.len() + live.shares.len()) / 4).max(10)
}

/// Every reason to refuse `plan` against `live`, in a fixed order (protected portals by
/// name, then mass removal).
pub fn check(plan: &Plan, live: &State, limits: &Limits) -> Vec<Refusal> {
    let mut refusals: Vec<Refusal> = plan
        .resources
        .iter()
        .filter(|change| change.action == Action::Delete)
        .filter_map(|change| match &change.key {
            ResourceKey::Portal(name) if live.portals.get(name).is_some_and(|portal| portal.protect) => {
                Some(Refusal::ProtectedPortal { portal: name.clone() })
            }
            _ => None,
        })
        .collect();
    refusals.sort_by(|a, b| format!("{a}").cmp(&format!("{b}")));
    if !limits.allow_mass_removal {
        let removals = plan
            .resources
            .iter()
            .filter(|change| {
                change.action == Action::Delete && matches!(change.kind(), Kind::Member | Kind::Share)
            })
            .count();
        let limit = limits.max_removals.unwrap_or_else(|| default_max_removals(live));
        if removals > limit {
            refusals.push(Refusal::MassRemoval { removals, limit });
        }
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MemberSource, Membership, Portal, SessionTtl};
    use crate::plan::diff;

    fn live(members: usize, protect: bool) -> State {
        let mut state = State::default();
        state.portals.insert(
            "globex".into(),
            Portal {
                name: "Globex".into(),
                color: "#0F62FE".into(),
                logout_url: "https://globex.example/bye".into(),
                home_cover: None,
                session_ttl: SessionTtl::default(),
                require_2fa: false,
                self_registration: None,
                protect,
                texts: Default::default(),
                max_members: None,
                invitations: true,
                removal_notice: false,
                template: None,
                from_template: Default::default(),
            },
        );
        for n in 0..members {
            state.members.insert(
                ("globex".into(), format!("p{n:03}@x.com")),
                Membership {
                    role: "viewer".into(),
                    org: None,
                    attributes: Default::default(),
                    expires: None,
                    source: MemberSource::Managed,
                    pending: false,
                },
            );
        }
        state
    }

    #[test]
    fn refuses_to_delete_a_protected_portal() {
        let live = live(0, true);
        let refusals = check(&diff(&live, &State::default()), &live, &Limits::default());
        assert_eq!(
            refusals,
            [Refusal::ProtectedPortal {
                portal: "globex".into()
            }]
        );
        assert!(check(&diff(&live, &live), &live, &Limits::default()).is_empty());
    }

    #[test]
    fn refuses_mass_removal_unless_allowed() {
        let live = live(100, false);
        let mut desired = live.clone();
        let doomed: Vec<_> = desired.members.keys().take(26).cloned().collect();
        for key in doomed {
            desired.members.remove(&key);
        }
        let plan = diff(&live, &desired);
        let refusals = check(&plan, &live, &Limits::default());
        assert_eq!(
            refusals,
            [Refusal::MassRemoval {
                removals: 26,
                limit: 25
            }]
        );
        assert_eq!(
            refusals[0].to_string(),
            "refusing to remove 26 members and shares at once: the limit is 25"
        );
        assert!(refusals[0].hint().contains("--allow-mass-removal"));
        assert!(refusals[0].hint().contains("--max-removals 26"));
        let allowed = Limits {
            allow_mass_removal: true,
            max_removals: None,
        };
        assert!(check(&plan, &live, &allowed).is_empty());
        let raised = Limits {
            allow_mass_removal: false,
            max_removals: Some(26),
        };
        assert!(check(&plan, &live, &raised).is_empty());
    }

    #[test]
    fn the_default_limit_is_at_least_ten() {
        assert_eq!(default_max_removals(&live(8, false)), 10);
        assert_eq!(default_max_removals(&live(100, false)), 25);
    }
}
