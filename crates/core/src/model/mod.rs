//! The canonical model: one `State` type for both the desired state (from YAML) and the
//! live state (from a provider), made of sorted maps keyed by natural keys.
//!
//! **Architecture invariant:** this module does no I/O and reads no clock; "today" is
//! always passed in. Everything here is deterministic: `BTreeMap`/`BTreeSet` only.

mod attribute;
mod change;
mod console;
mod dashboard;
mod date;
mod email;
mod folder;
mod group;
mod membership;
mod ownership;
mod partner_org;
pub mod patterns;
mod pointer;
mod portal;
mod principal;
mod resource;
mod role;
pub mod rules;
mod sensitive;
mod share;
mod state;
pub mod suggest;
mod vec_map;
mod workspace;

pub use attribute::{Attribute, AttributeType, AttributeValue};
pub use change::{Change, ChangeError, Op, WireChange};
pub use console::{CONSOLE_GROUP_PREFIX, Console, StaffRole};
pub use dashboard::{Dashboard, DashboardPath, dashboard_folder};
pub use date::CalendarDate;
pub use email::{email_domain, is_valid_email, normalize_email};
pub use folder::{
    Folder, FolderPath, declares_within, is_valid_folder_path, is_within, paths_below, self_and_ancestors,
};
pub use group::Group;
pub use membership::{MemberKey, MemberSource, Membership};
pub use ownership::{ApprovalError, LiveKey, LiveOrigin};
pub use partner_org::{OrgKind, PartnerOrg, SelfManagement};
pub use pointer::Pointer;
pub use portal::{
    Approval, Portal, PortalTexts, SelfRegistration, SessionTtl, admits_domain, is_allowed_domain,
    is_dns_label, is_hex_color, is_https_url,
};
pub use principal::{Principal, PrincipalKind};
pub use resource::{
    AccessKey, KeyPart, KeyParts, Kind, KindVisitor, Resource, ResourceApi, ResourceKey, ResourceValue,
    ResourceVisitor, State, for_each_resource,
};
pub use role::{
    BUILTIN_PERMISSIONS, BUILTIN_ROLES, FIXED_LEVEL_PERMISSIONS, Role, builtin_role, permission_needs_edit,
    required_level, role_permissions,
};
pub use sensitive::{MASK as SENSITIVE_MASK, Sensitive, masking};
pub use share::{Access, Share, ShareKey};
pub use state::{MemberEntry, ShareEntry};
pub use vec_map::{VecMap, VecSet};
pub use workspace::{PermissionSpec, Workspace};

/// A partner's (or a partner org's) attribute values by attribute key.
pub type AttributeValues = VecMap<String, AttributeValue>;
