//! Expiry: grants (memberships and shares) whose `expires` day has passed grant nothing,
//! so they are absent from the desired state and `plan` deletes them, saying why; grants
//! that expire soon are listed as notices.
//!
//! **Architecture invariant:** no I/O and no clock: `today` is passed in. A grant with
//! `expires: D` still holds on day `D` and has expired from `D + 1`, as
//! [`State::without_expired`] decides.

use crate::model::{CalendarDate, ResourceKey, State};

/// Grants expiring within this many days (inclusive) are listed as "expiring soon".
pub const EXPIRING_SOON_DAYS: i64 = 14;

/// A grant in the config whose `expires` day is before today.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expired {
    pub key: ResourceKey,
    pub day: CalendarDate,
}

impl Expired {
    /// The reason given for the delete (`expired 2027-03-31`).
    pub fn reason(&self) -> super::ChangeReason {
        super::ChangeReason::Expired(self.day)
    }
}

/// A grant in the config that expires within [`EXPIRING_SOON_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpiringSoon {
    pub key: ResourceKey,
    pub day: CalendarDate,
    /// Days from today until `day`: 0 means it still holds today and not tomorrow.
    pub days_left: i64,
}

/// Every grant that has expired by `today`, sorted by key. `raw` is the desired state
/// as the config declares it, before [`State::without_expired`].
pub fn expired(raw: &State, today: CalendarDate) -> Vec<Expired> {
    grants(raw)
        .filter(|(_, day)| *day < today)
        .map(|(key, day)| Expired { key, day })
        .collect()
}

/// Every grant that still holds today but expires within [`EXPIRING_SOON_DAYS`] days,
/// sorted by key.
pub fn expiring_soon(raw: &State, today: CalendarDate) -> Vec<ExpiringSoon> {
    grants(raw)
        .filter_map(|(key, day)| {
            let days_left = today.days_until(day);
            (0..=EXPIRING_SOON_DAYS)
                .contains(&days_left)
                .then_some(ExpiringSoon { key, day, days_left })
        })
        .collect()
}

/// Every grant with an `expires` day, in key order (members before shares).
fn grants(state: &State) -> impl Iterator<Item = (ResourceKey, CalendarDate)> + '_ {
    let members = state.members.iter().filter_map(|((portal, email), member)| {
        member.expires.map(|day| {
            (
                ResourceKey::Member {
                    portal: portal.clone(),
                    email: email.clone(),
                },
                day,
            )
        })
    });
    let shares = state.shares.iter().filter_map(|((folder, principal), share)| {
        share.expires.map(|day| {
            (
                ResourceKey::Share {
                    folder: folder.clone(),
                    principal: principal.clone(),
                },
                day,
            )
        })
    });
    members.chain(shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, MemberSource, Membership, Principal, Share};

    fn day(text: &str) -> CalendarDate {
        text.parse().unwrap()
    }

    fn state() -> State {
        let mut state = State::default();
        for (email, expires) in [
            ("gone@x.com", Some("2027-03-31")),
            ("today@x.com", Some("2027-04-01")),
            ("soon@x.com", Some("2027-04-15")),
            ("later@x.com", Some("2027-04-16")),
            ("never@x.com", None),
        ] {
            state.members.insert(
                ("p".into(), email.into()),
                Membership {
                    role: "viewer".into(),
                    org: None,
                    attributes: Default::default(),
                    expires: expires.map(day),
                    source: MemberSource::Managed,
                    pending: false,
                },
            );
        }
        state.shares.insert(
            ("/F".into(), Principal::Group("g".into())),
            Share {
                access: Access::View,
                expires: Some(day("2027-01-01")),
            },
        );
        state
    }

    #[test]
    fn lists_expired_grants_with_their_day() {
        let expired = expired(&state(), day("2027-04-01"));
        let shown: Vec<String> = expired
            .iter()
            .map(|e| format!("{}: {}", e.key, e.reason()))
            .collect();
        assert_eq!(
            shown,
            [
                "member gone@x.com in portal p: expired 2027-03-31",
                "share /F with group:g: expired 2027-01-01"
            ]
        );
    }

    #[test]
    fn lists_grants_expiring_within_fourteen_days() {
        let soon = expiring_soon(&state(), day("2027-04-01"));
        let shown: Vec<(String, i64)> = soon.iter().map(|s| (s.key.to_string(), s.days_left)).collect();
        assert_eq!(
            shown,
            [
                ("member soon@x.com in portal p".to_string(), 14),
                ("member today@x.com in portal p".to_string(), 0)
            ]
        );
    }

    #[test]
    fn agrees_with_without_expired() {
        let today = day("2027-04-01");
        let raw = state();
        let kept = raw.without_expired(today);
        for expired in expired(&raw, today) {
            assert!(kept.get(&expired.key).is_none(), "{}", expired.key);
        }
    }
}
