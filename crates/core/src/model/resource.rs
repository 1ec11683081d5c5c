//! One definition per resource kind: the [`resource_kinds!`] table below is the only
//! place that lists the kinds. `Kind` (with its wire and section names), `ResourceValue`,
//! `ResourceKey`, `State`'s maps, the [`Resource`] trait (a kind's key type and its map in
//! `State`) and [`AccessKey`] all follow from it, and so do the generic lookups, diffing
//! and API lists built on [`Kind::visit`] and [`for_each_resource`]. What a row cannot say
//! a kind states in its own model file ([`ResourceApi`]). Adding a kind is its model file,
//! a row here, and what the compiler then points at (ARCHITECTURE.md lists it).
//!
//! kube-rs's `Resource` trait with an associated key type is the model.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    Attribute, Dashboard, DashboardPath, Folder, FolderPath, Group, MemberEntry, MemberKey, Membership,
    PartnerOrg, Portal, Principal, Role, Share, ShareEntry, ShareKey, Workspace, normalize_email,
};

/// A kind of resource kept in a map of [`State`], keyed by its natural key. Implemented by
/// the kind table; what the table cannot say the kind's own model file states
/// ([`ResourceApi`]).
pub trait Resource:
    Clone + PartialEq + Serialize + DeserializeOwned + JsonSchema + ResourceApi + Sized + 'static
{
    const KIND: Kind;
    /// The natural key, as the map in `State` holds it.
    type Key: Ord + Clone + KeyParts;

    fn entries(state: &State) -> &BTreeMap<Self::Key, Self>;
    fn entries_mut(state: &mut State) -> &mut BTreeMap<Self::Key, Self>;
    /// The key as a `ResourceKey`.
    fn resource_key(key: &Self::Key) -> ResourceKey;
    /// The map key of a `ResourceKey` of this kind; `None` for another kind.
    fn map_key(key: &ResourceKey) -> Option<Self::Key>;
    fn into_value(self) -> ResourceValue;
    /// The resource in a `ResourceValue` of this kind; `None` for another kind.
    fn from_value(value: ResourceValue) -> Option<Self>;
}

/// How the API serves a kind and reads its key, stated in the kind's own model file beside
/// its type. No item has a default: a new kind does not compile until it says.
pub trait ResourceApi {
    /// The API path of one item (an axum path). Its parameters are the key's parts, in
    /// the key's order or, when their forms tell them apart ([`KeyPart::may_be`]), in any;
    /// a wildcard `{*name}` is a folder path without its leading `/`. The list is the path
    /// without its trailing parameters.
    const ITEM_PATH: &'static str;
    /// What one item is called in the API's descriptions (`"portal member"`).
    const NOUN: &'static str;
    /// What the kind is, in a sentence: the API document's description of its routes.
    const DESCRIPTION: &'static str;
    /// What each part of the key is, in the key's order on the wire: the API's schemas
    /// check the parts by it.
    const KEY_PARTS: &'static [KeyPart];
    /// Whose attribute values the value at the key with these `parts` (as on the wire,
    /// in order) holds, as their digests are salted (`masking::digest`): a member's email,
    /// `org:NAME` for a partner org; `None` for a kind that holds none.
    fn attribute_owner(parts: &[String]) -> Option<String>;
}

/// What one part of a natural key is: each form has one schema on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPart {
    /// A name: not blank.
    Name,
    /// A role's name: not a built-in role's.
    RoleName,
    /// A portal's technical name: a DNS label.
    PortalName,
    Email,
    /// A folder's or a dashboard's path (`/Partners/Finance`).
    FolderPath,
    /// A principal (`group:finance`).
    Principal,
}

/// A resource's key as partner access sees it: what the access index keeps up to date and
/// an access impact follows (`access/`). Each row of the kind table states its kind's, so
/// a kind that changes nobody's access ([`AccessKey::None`]) is not named there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKey<'a> {
    Workspace,
    Role(&'a String),
    PartnerOrg(&'a String),
    Portal(&'a String),
    Member {
        portal: &'a String,
        email: &'a String,
    },
    Group(&'a String),
    Folder(&'a String),
    Dashboard(&'a String),
    Share {
        folder: &'a String,
        principal: &'a Principal,
    },
    /// Grants, limits and names no partner: a change of it changes nobody's access.
    None,
}

impl AccessKey<'_> {
    /// Whether the resource is itself a grant (a membership, a share, a group's entries, a
    /// portal's reach): one added or widened outside git gives someone access, which
    /// drift reports first. Roles, orgs, folders and dashboards shape access without
    /// granting it.
    pub fn is_grant(&self) -> bool {
        match self {
            Self::Member { .. } | Self::Share { .. } | Self::Group(_) | Self::Portal(_) => true,
            Self::Workspace
            | Self::Role(_)
            | Self::PartnerOrg(_)
            | Self::Folder(_)
            | Self::Dashboard(_)
            | Self::None => false,
        }
    }
}

/// A natural key as the parts it has on the wire (`["globex", "alice@globex.com"]`).
pub trait KeyParts: Sized {
    /// How many parts the key has.
    const LEN: usize;
    /// Whether keys sort as their parts do, compared part by part as strings (a list in
    /// key order is then in the order of its parts on the wire).
    const SORTED_AS_PARTS: bool;
    fn parts(&self) -> Vec<String>;
    /// # Errors
    /// A part that does not parse (a principal that is not `kind:name`). The caller checks
    /// that there are [`Self::LEN`] parts.
    fn from_parts(parts: &[String]) -> Result<Self, String>;
    /// The least key whose leading parts are `parts` (at least one; missing parts are
    /// the least there are): a bound for ranges over a map of these keys.
    fn least_from_parts(parts: &[String]) -> Self;
}

impl KeyParts for String {
    const LEN: usize = 1;
    const SORTED_AS_PARTS: bool = true;

    fn parts(&self) -> Vec<String> {
        vec![self.clone()]
    }

    fn from_parts(parts: &[String]) -> Result<Self, String> {
        Ok(parts[0].clone())
    }

    fn least_from_parts(parts: &[String]) -> Self {
        parts.first().cloned().unwrap_or_default()
    }
}

impl KeyParts for (String, String) {
    const LEN: usize = 2;
    const SORTED_AS_PARTS: bool = true;

    fn parts(&self) -> Vec<String> {
        vec![self.0.clone(), self.1.clone()]
    }

    fn from_parts(parts: &[String]) -> Result<Self, String> {
        Ok((parts[0].clone(), parts[1].clone()))
    }

    fn least_from_parts(parts: &[String]) -> Self {
        (
            parts.first().cloned().unwrap_or_default(),
            parts.get(1).cloned().unwrap_or_default(),
        )
    }
}

impl KeyParts for (String, Principal) {
    const LEN: usize = 2;
    /// Principals sort by kind, then name.
    const SORTED_AS_PARTS: bool = false;

    fn parts(&self) -> Vec<String> {
        vec![self.0.clone(), self.1.to_string()]
    }

    fn from_parts(parts: &[String]) -> Result<Self, String> {
        Ok((parts[0].clone(), parts[1].parse()?))
    }

    /// Principals sort by kind, then name: the least share of a folder is bounded by the
    /// least principal, whatever the second part says.
    fn least_from_parts(parts: &[String]) -> Self {
        (parts.first().cloned().unwrap_or_default(), Principal::LEAST)
    }
}

/// Code that runs once per kind, generically: see [`Kind::visit`].
pub trait KindVisitor {
    type Output;
    /// The workspace: one value, not a map.
    fn workspace(self) -> Self::Output;
    fn resource<R: Resource>(self) -> Self::Output;
}

/// Code that runs for every kind kept in a map: see [`for_each_resource`].
pub trait ResourceVisitor {
    fn visit<R: Resource>(&mut self);
}

/// The table of kinds. Each row: the attributes of its map in `State` (docs, serde), the
/// `Kind` variant, its wire name, its section (the field of `State` and the first part of
/// its pointers), the value type, the key type, the fields of its `ResourceKey` variant,
/// the key written as a map key and as a `ResourceKey` (the same bindings in both), and
/// the key as partner access sees it ([`AccessKey`], from the same bindings).
macro_rules! resource_kinds {
    ($(
        $(#[$field:meta])*
        $kind:ident = $wire:literal, $section:ident, $value:ty, $key:ty, $key_fields:tt,
            ($($map_key:tt)+) <=> ($($resource_key:tt)+), access: $access:expr;
    )+) => {
        /// The natural key of one resource.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ResourceKey {
            Workspace,
            $($kind $key_fields,)+
        }

        /// Sorted maps keyed by natural keys. On the wire, `members` and `shares` are lists of
        /// entries carrying their key fields, since JSON objects only have string keys.
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct State {
            pub workspace: Workspace,
            $(
                $(#[$field])*
                #[serde(default)]
                pub $section: BTreeMap<$key, $value>,
            )+
        }

        /// The kinds of resource, in the order parents come before children.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            Workspace,
            $($kind,)+
        }

        impl Kind {
            pub const ALL: &[Kind] = &[Kind::Workspace, $(Kind::$kind,)+];

            /// The name on the wire (`partner_org`).
            pub fn as_str(self) -> &'static str {
                match self {
                    Kind::Workspace => "workspace",
                    $(Kind::$kind => $wire,)+
                }
            }

            /// The kind whose wire name is `name`.
            pub fn from_wire(name: &str) -> Option<Kind> {
                Kind::ALL.iter().copied().find(|kind| kind.as_str() == name)
            }

            /// The section of a `State` (and of its canonical pointers) holding this kind.
            pub fn section(self) -> &'static str {
                match self {
                    Kind::Workspace => "workspace",
                    $(Kind::$kind => stringify!($section),)+
                }
            }

            /// Runs `visitor` for this kind, with the kind's [`Resource`] type.
            pub fn visit<V: KindVisitor>(self, visitor: V) -> V::Output {
                match self {
                    Kind::Workspace => visitor.workspace(),
                    $(Kind::$kind => visitor.resource::<$value>(),)+
                }
            }

            /// The API path of one item; `None` for the workspace, whose routes are
            /// written out (see [`ResourceApi::ITEM_PATH`]).
            pub fn item_path(self) -> Option<&'static str> {
                match self {
                    Kind::Workspace => None,
                    $(Kind::$kind => Some(<$value as ResourceApi>::ITEM_PATH),)+
                }
            }

            /// The API path of the list: the item path without its trailing parameters.
            pub fn list_path(self) -> Option<&'static str> {
                let mut path = self.item_path()?;
                while let Some((list, last)) = path.rsplit_once('/')
                    && last.starts_with('{')
                {
                    path = list;
                }
                Some(path)
            }

            /// What one item is called in the API's descriptions.
            pub fn noun(self) -> &'static str {
                match self {
                    Kind::Workspace => "workspace",
                    $(Kind::$kind => <$value as ResourceApi>::NOUN,)+
                }
            }

            /// What the kind is, in a sentence (see [`ResourceApi::DESCRIPTION`]).
            pub fn description(self) -> &'static str {
                match self {
                    Kind::Workspace => "The workspace: owner domains.",
                    $(Kind::$kind => <$value as ResourceApi>::DESCRIPTION,)+
                }
            }

            /// Whose attribute values the value at the key with these `parts` holds (see
            /// [`ResourceApi::attribute_owner`]).
            pub fn attribute_owner(self, parts: &[String]) -> Option<String> {
                struct Owner<'a>(&'a [String]);
                impl KindVisitor for Owner<'_> {
                    type Output = Option<String>;
                    fn workspace(self) -> Option<String> {
                        None
                    }
                    fn resource<R: Resource>(self) -> Option<String> {
                        R::attribute_owner(self.0)
                    }
                }
                self.visit(Owner(parts))
            }

            /// What each part of a key of this kind is, in order.
            pub fn key_parts(self) -> &'static [KeyPart] {
                match self {
                    Kind::Workspace => &[],
                    $(Kind::$kind => <$value as ResourceApi>::KEY_PARTS,)+
                }
            }

            /// How many parts a key of this kind has on the wire.
            pub fn key_len(self) -> usize {
                match self {
                    Kind::Workspace => 0,
                    $(Kind::$kind => <$key as KeyParts>::LEN,)+
                }
            }
        }

        /// Runs `visitor` for every kind kept in a map, parents first.
        pub fn for_each_resource(visitor: &mut impl ResourceVisitor) {
            $(visitor.visit::<$value>();)+
        }

        /// The value of one resource.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ResourceValue {
            Workspace(Workspace),
            $($kind($value),)+
        }

        impl ResourceValue {
            pub fn kind(&self) -> Kind {
                match self {
                    Self::Workspace(_) => Kind::Workspace,
                    $(Self::$kind(_) => Kind::$kind,)+
                }
            }

            /// Writes the value itself (not tagged with its kind), as `to_json` would.
            fn serialize_untagged<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    Self::Workspace(v) => v.serialize(serializer),
                    $(Self::$kind(v) => v.serialize(serializer),)+
                }
            }

            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    Self::Workspace(v) => serde_json::to_value(v),
                    $(Self::$kind(v) => serde_json::to_value(v),)+
                };
                value.expect("model types serialize to JSON")
            }

            /// # Errors
            /// The JSON is not a value of `kind`.
            pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    Kind::Workspace => Self::Workspace(serde_json::from_value(value)?),
                    $(Kind::$kind => Self::$kind(serde_json::from_value(value)?),)+
                })
            }

            /// A value of `kind` read straight from JSON text, without building a
            /// `serde_json::Value` tree first (stores read millions of rows this way).
            ///
            /// # Errors
            /// The text is not JSON of a value of `kind`.
            pub fn from_json_str(kind: Kind, text: &str) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    Kind::Workspace => Self::Workspace(serde_json::from_str(text)?),
                    $(Kind::$kind => Self::$kind(serde_json::from_str(text)?),)+
                })
            }
        }

        /// The value alone, untagged: the kind travels next to it (`WireChange`).
        impl Serialize for ResourceValue {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.serialize_untagged(serializer)
            }
        }

        impl ResourceKey {
            pub fn kind(&self) -> Kind {
                match self {
                    ResourceKey::Workspace => Kind::Workspace,
                    $($($resource_key)+ => {
                        let _ = &$($map_key)+;
                        Kind::$kind
                    })+
                }
            }

            /// The key as partner access sees it.
            pub fn access(&self) -> AccessKey<'_> {
                match self {
                    ResourceKey::Workspace => AccessKey::Workspace,
                    $($($resource_key)+ => {
                        let _ = &$($map_key)+;
                        $access
                    })+
                }
            }

            /// The key's parts as on the wire.
            pub fn parts(&self) -> Vec<String> {
                match self.clone() {
                    ResourceKey::Workspace => Vec::new(),
                    $($($resource_key)+ => KeyParts::parts(&$($map_key)+),)+
                }
            }

            /// The key of `kind` with these parts, as given.
            fn parse_parts(kind: Kind, parts: &[String]) -> Result<Self, String> {
                let expected = kind.key_len();
                if parts.len() != expected {
                    return Err(format!("a {kind} key has {expected} part(s), found {}", parts.len()));
                }
                Ok(match kind {
                    Kind::Workspace => ResourceKey::Workspace,
                    $(Kind::$kind => <$value as Resource>::resource_key(&<$key as KeyParts>::from_parts(parts)?),)+
                })
            }
        }

        $(
            impl Resource for $value {
                const KIND: Kind = Kind::$kind;
                type Key = $key;

                fn entries(state: &State) -> &BTreeMap<$key, Self> {
                    &state.$section
                }

                fn entries_mut(state: &mut State) -> &mut BTreeMap<$key, Self> {
                    &mut state.$section
                }

                fn resource_key(key: &$key) -> ResourceKey {
                    let $($map_key)+ = key.clone();
                    $($resource_key)+
                }

                fn map_key(key: &ResourceKey) -> Option<$key> {
                    match key.clone() {
                        $($resource_key)+ => Some($($map_key)+),
                        _ => None,
                    }
                }

                fn into_value(self) -> ResourceValue {
                    ResourceValue::$kind(self)
                }

                fn from_value(value: ResourceValue) -> Option<Self> {
                    match value {
                        ResourceValue::$kind(value) => Some(value),
                        _ => None,
                    }
                }
            }
        )+
    };
}

resource_kinds! {
    Attribute = "attribute", attributes, Attribute, String, (String),
        (name) <=> (ResourceKey::Attribute(name)), access: AccessKey::None;
    Role = "role", roles, Role, String, (String),
        (name) <=> (ResourceKey::Role(name)), access: AccessKey::Role(name);
    PartnerOrg = "partner_org", partner_orgs, PartnerOrg, String, (String),
        (name) <=> (ResourceKey::PartnerOrg(name)), access: AccessKey::PartnerOrg(name);
    Portal = "portal", portals, Portal, String, (String),
        (name) <=> (ResourceKey::Portal(name)), access: AccessKey::Portal(name);
    #[serde(with = "super::state::member_entries")]
    #[schemars(with = "Vec<MemberEntry>")]
    Member = "member", members, Membership, MemberKey, { portal: String, email: String },
        ((portal, email)) <=> (ResourceKey::Member { portal, email }), access: AccessKey::Member { portal, email };
    Group = "group", groups, Group, String, (String),
        (name) <=> (ResourceKey::Group(name)), access: AccessKey::Group(name);
    Folder = "folder", folders, Folder, FolderPath, (String),
        (path) <=> (ResourceKey::Folder(path)), access: AccessKey::Folder(path);
    /// Dashboards, keyed by path inside a declared folder.
    Dashboard = "dashboard", dashboards, Dashboard, DashboardPath, (String),
        (path) <=> (ResourceKey::Dashboard(path)), access: AccessKey::Dashboard(path);
    #[serde(with = "super::state::share_entries")]
    #[schemars(with = "Vec<ShareEntry>")]
    Share = "share", shares, Share, ShareKey, { folder: String, principal: Principal },
        ((folder, principal)) <=> (ResourceKey::Share { folder, principal }),
        access: AccessKey::Share { folder, principal };
}

impl ResourceKey {
    /// The key of `kind` from its parts on the wire. An email part (a member's) is
    /// normalised (trimmed, lowercase), as the config loader does, so both sides name one
    /// partner.
    ///
    /// # Errors
    /// The wrong number of parts, or a part that does not parse.
    ///
    /// The two parts of a key whose forms tell them apart ([`KeyPart::may_be`]: a member's
    /// portal and email, a share's folder and principal) may come in either order, and
    /// always come back in the canonical order. (OpenAPI 3.0 cannot state the type of each
    /// position of an array: the order is the one thing about a key the published schema
    /// cannot say, so the service does not depend on it.)
    pub fn from_parts(kind: Kind, parts: &[String]) -> Result<Self, String> {
        let forms = kind.key_parts();
        let swapped = match (forms, parts) {
            ([first_form, second_form], [first, second])
                if !(first_form.may_be(first) && second_form.may_be(second))
                    && first_form.may_be(second)
                    && second_form.may_be(first) =>
            {
                Some([second.clone(), first.clone()])
            }
            _ => None,
        };
        let parts = swapped.as_ref().map_or(parts, |swapped| swapped.as_slice());
        if forms.contains(&KeyPart::Email) && parts.len() == forms.len() {
            let normalised: Vec<String> = parts
                .iter()
                .zip(forms)
                .map(|(part, form)| match form {
                    KeyPart::Email => normalize_email(part),
                    _ => part.clone(),
                })
                .collect();
            return Self::parse_parts(kind, &normalised);
        }
        Self::parse_parts(kind, parts)
    }
}

impl KeyPart {
    /// Whether `part` may be of this form, as far as the form tells two parts of a key
    /// apart: an email has an `@` a portal name never has; a folder path starts with `/`,
    /// a principal never does. A name has no such mark: anything may be one.
    pub fn may_be(self, part: &str) -> bool {
        match self {
            KeyPart::Email => part.contains('@'),
            KeyPart::PortalName => !part.contains('@'),
            KeyPart::FolderPath => part.starts_with('/'),
            KeyPart::Principal => !part.starts_with('/'),
            KeyPart::Name | KeyPart::RoleName => true,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl State {
    /// The current value of a resource.
    pub fn get(&self, key: &ResourceKey) -> Option<ResourceValue> {
        struct Get<'a>(&'a State, &'a ResourceKey);
        impl KindVisitor for Get<'_> {
            type Output = Option<ResourceValue>;
            fn workspace(self) -> Self::Output {
                Some(ResourceValue::Workspace(self.0.workspace.clone()))
            }
            fn resource<R: Resource>(self) -> Self::Output {
                let key = R::map_key(self.1)?;
                R::entries(self.0).get(&key).cloned().map(R::into_value)
            }
        }
        key.kind().visit(Get(self, key))
    }

    /// Whether a resource exists (the workspace always does).
    pub fn contains(&self, key: &ResourceKey) -> bool {
        struct Contains<'a>(&'a State, &'a ResourceKey);
        impl KindVisitor for Contains<'_> {
            type Output = bool;
            fn workspace(self) -> bool {
                true
            }
            fn resource<R: Resource>(self) -> bool {
                R::map_key(self.1).is_some_and(|key| R::entries(self.0).contains_key(&key))
            }
        }
        key.kind().visit(Contains(self, key))
    }

    /// Puts a value at its key. The key and the value are of the same kind (checked by
    /// the caller: see `State::apply`); a mismatch changes nothing and returns `false`.
    pub(crate) fn put(&mut self, key: &ResourceKey, value: ResourceValue) -> bool {
        struct Put<'a>(&'a mut State, &'a ResourceKey, ResourceValue);
        impl KindVisitor for Put<'_> {
            type Output = bool;
            fn workspace(self) -> bool {
                match self.2 {
                    ResourceValue::Workspace(workspace) => {
                        self.0.workspace = workspace;
                        true
                    }
                    _ => false,
                }
            }
            fn resource<R: Resource>(self) -> bool {
                match (R::map_key(self.1), R::from_value(self.2)) {
                    (Some(key), Some(value)) => {
                        R::entries_mut(self.0).insert(key, value);
                        true
                    }
                    _ => false,
                }
            }
        }
        key.kind().visit(Put(self, key, value))
    }

    /// Removes a resource kept in a map; the workspace cannot be removed (`false`).
    pub(crate) fn remove(&mut self, key: &ResourceKey) -> bool {
        struct Remove<'a>(&'a mut State, &'a ResourceKey);
        impl KindVisitor for Remove<'_> {
            type Output = bool;
            fn workspace(self) -> bool {
                false
            }
            fn resource<R: Resource>(self) -> bool {
                R::map_key(self.1).is_some_and(|key| R::entries_mut(self.0).remove(&key).is_some())
            }
        }
        key.kind().visit(Remove(self, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_its_key_through_parts() {
        for &kind in Kind::ALL {
            let parts: Vec<String> = match kind.key_len() {
                0 => Vec::new(),
                1 => vec!["/Partners".into()],
                _ => vec!["/Partners".into(), "group:finance".into()],
            };
            let key = ResourceKey::from_parts(kind, &parts).unwrap();
            assert_eq!(key.kind(), kind);
            assert_eq!(key.parts(), parts, "{kind}");
        }
    }

    #[test]
    fn every_kind_states_one_form_per_key_part_and_an_item_path_naming_them() {
        for &kind in Kind::ALL {
            assert_eq!(kind.key_parts().len(), kind.key_len(), "{kind}");
            let Some(item) = kind.item_path() else {
                assert_eq!(kind, Kind::Workspace);
                continue;
            };
            let list = kind.list_path().unwrap();
            assert_eq!(item.matches('{').count(), kind.key_len(), "{kind}: {item}");
            assert!(item.strip_prefix(list).is_some_and(|tail| tail.starts_with("/{")));
            assert!(!list.ends_with('}'), "{kind}: {list}");
        }
        assert_eq!(
            Kind::Member.list_path(),
            Some("/v1/portals/{technical_name}/members")
        );
        assert_eq!(Kind::Share.list_path(), Some("/v1/shares"));
    }

    #[test]
    fn names_and_sections_are_distinct_and_ordered_parents_first() {
        let names: std::collections::BTreeSet<_> = Kind::ALL.iter().map(|kind| kind.as_str()).collect();
        let sections: std::collections::BTreeSet<_> = Kind::ALL.iter().map(|kind| kind.section()).collect();
        assert_eq!(names.len(), Kind::ALL.len());
        assert_eq!(sections.len(), Kind::ALL.len());
        assert!(Kind::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        let member = ResourceKey::from_parts(Kind::Member, &["p".into(), "Eve@X.com".into()]).unwrap();
        assert_eq!(member.parts(), ["p", "eve@x.com"], "emails are normalised");
        assert_eq!(Kind::PartnerOrg.as_str(), "partner_org");
        assert_eq!(Kind::PartnerOrg.section(), "partner_orgs");
    }

    #[test]
    fn two_part_keys_are_read_in_either_order_and_written_in_one() {
        let member = ResourceKey::from_parts(Kind::Member, &["Eve@X.com".into(), "globex".into()]).unwrap();
        assert_eq!(member.parts(), ["globex", "eve@x.com"]);
        let share =
            ResourceKey::from_parts(Kind::Share, &["group:finance".into(), "/Partners".into()]).unwrap();
        assert_eq!(share.parts(), ["/Partners", "group:finance"]);
        let as_given = ResourceKey::from_parts(Kind::Share, &["/a".into(), "group:b".into()]).unwrap();
        assert_eq!(as_given.parts(), ["/a", "group:b"], "the canonical order is kept");
        assert!(
            ResourceKey::from_parts(Kind::Share, &["/a".into(), "/b".into()]).is_err(),
            "`/b` is not a principal"
        );
    }

    #[test]
    fn put_get_and_remove_follow_the_kind() {
        let mut state = State::default();
        let key = ResourceKey::Group("finance".into());
        assert!(!state.contains(&key));
        assert!(state.put(&key, ResourceValue::Group(Group::default())));
        assert_eq!(state.get(&key), Some(ResourceValue::Group(Group::default())));
        assert!(
            !state.put(&key, ResourceValue::Folder(Folder::default())),
            "a mismatch"
        );
        assert!(state.remove(&key));
        assert!(state.get(&key).is_none());
        assert!(!state.remove(&ResourceKey::Workspace));
    }
}
