//! `State`: the whole access configuration of one workspace, desired or live. The struct is
//! declared by the kind table (`resource.rs`, a map per row); here are its queries and the
//! wire form of its member and share maps.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CalendarDate, FolderPath, MemberKey, Membership, Principal, Share, ShareKey, State};

/// One roster entry on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    pub portal: String,
    pub email: String,
    #[serde(flatten)]
    pub membership: Membership,
}

/// One share on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareEntry {
    pub folder: FolderPath,
    pub principal: Principal,
    #[serde(flatten)]
    pub share: Share,
}

pub(super) mod member_entries {
    use super::*;
    use serde::{Deserializer, Serializer, ser::SerializeSeq};

    #[derive(Serialize)]
    struct EntryRef<'a> {
        portal: &'a str,
        email: &'a str,
        #[serde(flatten)]
        membership: &'a Membership,
    }

    /// A roster entry as read: the membership's fields spelled out rather than
    /// `#[serde(flatten)]`, which buffers every entry through an untyped tree and made
    /// decoding a large live state several times slower.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EntryWire {
        portal: String,
        email: String,
        role: String,
        #[serde(default)]
        org: Option<String>,
        #[serde(default)]
        attributes: super::super::AttributeValues,
        #[serde(default)]
        expires: Option<super::super::CalendarDate>,
        #[serde(default)]
        source: super::super::MemberSource,
        #[serde(default)]
        pending: bool,
    }

    impl EntryWire {
        fn into_parts(self) -> (MemberKey, Membership) {
            let Self {
                portal,
                email,
                role,
                org,
                attributes,
                expires,
                source,
                pending,
            } = self;
            // No `..`: a new `Membership` field fails to compile here until it is read.
            let membership = Membership {
                role,
                org,
                attributes,
                expires,
                source,
                pending,
            };
            ((portal, super::super::normalize_email(&email)), membership)
        }
    }

    pub fn serialize<S: Serializer>(
        members: &BTreeMap<MemberKey, Membership>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(members.len()))?;
        for ((portal, email), membership) in members {
            seq.serialize_element(&EntryRef {
                portal,
                email,
                membership,
            })?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<MemberKey, Membership>, D::Error> {
        let entries = Vec::<EntryWire>::deserialize(deserializer)?;
        let mut members = BTreeMap::new();
        for entry in entries {
            let (key, membership) = entry.into_parts();
            if members.insert(key.clone(), membership).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "member {} appears twice in portal {}",
                    key.1, key.0
                )));
            }
        }
        Ok(members)
    }
}

pub(super) mod share_entries {
    use super::*;
    use serde::{Deserializer, Serializer, ser::SerializeSeq};

    #[derive(Serialize)]
    struct EntryRef<'a> {
        folder: &'a str,
        principal: &'a Principal,
        #[serde(flatten)]
        share: &'a Share,
    }

    /// A share as read, its fields spelled out rather than flattened (see
    /// `member_entries`).
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EntryWire {
        folder: FolderPath,
        principal: Principal,
        access: super::super::Access,
        #[serde(default)]
        expires: Option<super::super::CalendarDate>,
    }

    pub fn serialize<S: Serializer>(
        shares: &BTreeMap<ShareKey, Share>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(shares.len()))?;
        for ((folder, principal), share) in shares {
            seq.serialize_element(&EntryRef {
                folder,
                principal,
                share,
            })?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<ShareKey, Share>, D::Error> {
        let entries = Vec::<EntryWire>::deserialize(deserializer)?;
        let mut shares = BTreeMap::new();
        for entry in entries {
            let EntryWire {
                folder,
                principal,
                access,
                expires,
            } = entry;
            // No `..`: a new `Share` field fails to compile here until it is read.
            let share = Share { access, expires };
            let key = (folder, principal);
            if shares.insert(key.clone(), share).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "folder {} is shared with {} twice",
                    key.0, key.1
                )));
            }
        }
        Ok(shares)
    }
}

impl State {
    /// The state without the grants that have expired by `today`: a membership or share
    /// whose `expires` day is before `today` grants nothing. Group members whose only
    /// memberships expired stay in their groups (a group is a list of names, not a grant),
    /// but they no longer reach anything through a portal membership.
    ///
    /// Borrows `self` when nothing has expired (the usual case), so planning a large
    /// config does not copy it.
    #[must_use]
    pub fn without_expired(&self, today: CalendarDate) -> Cow<'_, State> {
        let expired = |expires: Option<CalendarDate>| expires.is_some_and(|day| day < today);
        if !self.members.values().any(|member| expired(member.expires))
            && !self.shares.values().any(|share| expired(share.expires))
        {
            return Cow::Borrowed(self);
        }
        let mut state = self.clone();
        state
            .members
            .retain(|_, member| member.expires.is_none_or(|day| day >= today));
        state
            .shares
            .retain(|_, share| share.expires.is_none_or(|day| day >= today));
        Cow::Owned(state)
    }

    /// Every portal an email is a member of, with its membership.
    pub fn memberships_of<'a>(
        &'a self,
        email: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Membership)> + 'a {
        self.members
            .iter()
            .filter(move |((_, member_email), _)| member_email == email)
            .map(|((portal, _), membership)| (portal.as_str(), membership))
    }

    /// The shares of one folder (not of its ancestors), by principal.
    pub fn shares_on<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = (&'a Principal, &'a Share)> + 'a {
        self.shares
            .range((folder.to_string(), Principal::LEAST)..)
            .take_while(move |((shared, _), _)| shared == folder)
            .map(|((_, principal), share)| (principal, share))
    }

    /// Whether the email is a member of any portal.
    pub fn is_partner(&self, email: &str) -> bool {
        self.memberships_of(email).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, MemberSource};

    fn member(expires: Option<&str>) -> Membership {
        Membership {
            role: "viewer".into(),
            org: None,
            attributes: Default::default(),
            expires: expires.map(|day| day.parse().unwrap()),
            source: MemberSource::Managed,
            pending: false,
        }
    }

    #[test]
    fn round_trips_through_json() {
        let mut state = State::default();
        state.members.insert(
            ("globex".into(), "alice@globex.com".into()),
            member(Some("2027-01-01")),
        );
        state.shares.insert(
            ("/Partners".into(), Principal::Portal("globex".into())),
            Share {
                access: Access::View,
                expires: None,
            },
        );
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains(r#""members":[{"portal":"globex","email":"alice@globex.com","role":"viewer","expires":"2027-01-01","source":"managed"}]"#), "{json}");
        let back: State = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn a_pending_member_stays_pending_through_json() {
        let mut state = State::default();
        state.members.insert(
            ("globex".into(), "wait@globex.com".into()),
            Membership {
                source: MemberSource::SelfRegistration,
                pending: true,
                ..member(None)
            },
        );
        let json = serde_json::to_string(&state).unwrap();
        assert!(
            json.contains(r#""source":"self_registration","pending":true"#),
            "{json}"
        );
        let back: State = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn expired_grants_are_dropped_the_day_after() {
        let mut state = State::default();
        state
            .members
            .insert(("p".into(), "a@x.com".into()), member(Some("2026-11-25")));
        state
            .members
            .insert(("p".into(), "b@x.com".into()), member(Some("2026-11-26")));
        state.members.insert(("p".into(), "c@x.com".into()), member(None));
        let today = CalendarDate::from_ymd(2026, 11, 26).unwrap();
        let kept: Vec<_> = state
            .without_expired(today)
            .into_owned()
            .members
            .into_keys()
            .map(|(_, email)| email)
            .collect();
        assert_eq!(kept, ["b@x.com", "c@x.com"]);
    }
}
