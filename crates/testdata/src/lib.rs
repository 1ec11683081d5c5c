//! Synthetic configs for benchmarks, in three layouts ([`Layout`]) of N partners:
//! - `classic` (the generator's first shape): N/100 portals, N/50 orgs, N/20 groups of
//!   about ten, N/20 folders each shared to a group and to a portal or one user;
//! - `realistic` (issue 26): N/100 portals, N/50 orgs, N/20 groups of ten, N/20 folders
//!   each shared to a group and a portal;
//! - `wide` (few huge groups and portals): 10 portals and 10 groups of N/10, N/50 orgs,
//!   N/20 folders each shared to an `org:` principal and every other one to a group.
//!
//! Rosters are CSV; as many dashboards as asked for are spread over the folders (every
//! other one with a share of its own). Deterministic for a seed; the `classic` files
//! without dashboards are those of earlier versions.
//!
//! **Architecture invariant:** pure; returns file contents, writes nothing.

pub mod writes;

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How portals, groups and shares are laid out over the partners.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// The generator's first shape (its files are unchanged).
    #[default]
    Classic,
    /// Issue 26's: many small portals, groups of ten, each folder shared to a group and
    /// a portal.
    Realistic,
    /// Few huge groups and portals (10 of N/10 each); folders shared to `org:` principals.
    Wide,
}

impl Layout {
    pub const ALL: [Self; 3] = [Self::Classic, Self::Realistic, Self::Wide];

    /// The name `gen-config --shape` and the benchmarks use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Classic => "classic",
            Self::Realistic => "realistic",
            Self::Wide => "wide",
        }
    }

    /// The layout named `name`, or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|layout| layout.name() == name)
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub partners: usize,
    pub seed: u64,
    /// Dashboards, in `dashboards.yaml`; 0 writes no such file.
    pub dashboards: usize,
    pub layout: Layout,
}

impl Shape {
    /// `partners` in the classic layout, seed 1, no dashboards.
    pub fn new(partners: usize) -> Self {
        Self {
            partners,
            seed: 1,
            dashboards: 0,
            layout: Layout::Classic,
        }
    }

    pub fn portals(self) -> usize {
        match self.layout {
            Layout::Classic | Layout::Realistic => (self.partners / 100).max(1),
            Layout::Wide => self.partners.clamp(1, 10),
        }
    }
    pub fn orgs(self) -> usize {
        (self.partners / 50).max(1)
    }
    pub fn groups(self) -> usize {
        match self.layout {
            Layout::Classic | Layout::Realistic => (self.partners / 20).max(1),
            Layout::Wide => self.partners.clamp(1, 10),
        }
    }
    pub fn folders(self) -> usize {
        (self.partners / 20).max(1)
    }
}

/// The email of partner `index`; its org is `index % orgs`.
pub fn partner_email(shape: Shape, index: usize) -> String {
    format!("user{index}@org{}.example.com", index % shape.orgs())
}

/// The portal partner `index` belongs to.
pub fn partner_portal(shape: Shape, index: usize) -> usize {
    index * shape.portals() / shape.partners.max(1)
}

/// Config files by relative path.
pub fn generate(shape: Shape) -> BTreeMap<String, String> {
    let mut rng = fastrand::Rng::with_seed(shape.seed);
    let mut files = BTreeMap::new();
    let header = "# yaml-language-server: $schema=https://portalctl.dev/schemas/portalctl.schema.json\n";

    let mut workspace = String::from(header);
    workspace.push_str(
        "workspace:\n  name: Generated Workspace\n  owner_domains: [acme.example]\n\nattributes:\n  tenant_id: { type: string, required: true }\n  region: { type: enum, values: [emea, amer, apac] }\n  seats: { type: integer }\n  contract_ref: { type: string, sensitive: true }\n\nroles:\n  account-manager:\n    extends: viewer\n    permissions: [files.transfer, comments.write]\n\npartner_orgs:\n",
    );
    for org in 0..shape.orgs() {
        let kind = ["channel_partner", "customer", "investor", "lead_partner"][org % 4];
        let _ = writeln!(
            workspace,
            "  org{org}:\n    domains: [org{org}.example.com]\n    kind: {kind}"
        );
    }
    files.insert("workspace.yaml".to_string(), workspace);

    let mut rosters: Vec<String> =
        vec!["email,role,org,attributes.tenant_id,attributes.region,attributes.seats,attributes.contract_ref\n".to_string(); shape.portals()];
    for index in 0..shape.partners {
        let portal = partner_portal(shape, index);
        let org = index % shape.orgs();
        let role = if rng.u8(0..10) == 0 { "editor" } else { "" };
        let region = ["emea", "amer", "apac"][rng.usize(0..3)];
        let _ = writeln!(
            rosters[portal],
            "{},{role},org{org},t-{org},{region},{},K-{}",
            partner_email(shape, index),
            rng.u32(1..100),
            rng.u32(..)
        );
    }
    // `invitations: false`: applying these configs measures plan and apply; the mail an
    // apply enqueues (an invitation per member by default) has a benchmark of its own
    // (`benches/mail.rs`).
    for (portal, roster) in rosters.into_iter().enumerate() {
        let mut yaml = String::from(header);
        let _ = write!(
            yaml,
            "portals:\n  p{portal}:\n    name: Portal {portal}\n    color: \"#{:06X}\"\n    logout_url: https://acme.example/bye\n    session_ttl: 12h\n    invitations: false\n    members:\n      - from_csv: ../rosters/p{portal}.csv\n        role: viewer\n",
            rng.u32(0..0x00FF_FFFF)
        );
        files.insert(format!("portals/p{portal}.yaml"), yaml);
        files.insert(format!("rosters/p{portal}.csv"), roster);
    }

    let mut groups = String::from(header);
    groups.push_str("groups:\n");
    for group in 0..shape.groups() {
        let mut members: Vec<usize> = match shape.layout {
            Layout::Classic => (0..10).map(|_| rng.usize(0..shape.partners)).collect(),
            // Ten distinct partners.
            Layout::Realistic => {
                let mut members = std::collections::BTreeSet::new();
                while members.len() < 10.min(shape.partners) {
                    members.insert(rng.usize(0..shape.partners));
                }
                members.into_iter().collect()
            }
            // Every partner in exactly one of the groups.
            Layout::Wide => (group..shape.partners).step_by(shape.groups()).collect(),
        };
        members.sort_unstable();
        members.dedup();
        let list: Vec<String> = members
            .into_iter()
            .map(|index| partner_email(shape, index))
            .collect();
        let _ = writeln!(
            groups,
            "  g{group}:\n    description: Generated group {group}\n    members: [{}]",
            list.join(", ")
        );
    }
    files.insert("groups.yaml".to_string(), groups);

    let mut folders = String::from(header);
    folders.push_str("folders:\n");
    for folder in 0..shape.folders() {
        let area = folder % 50;
        let _ = writeln!(
            folders,
            "  /Partners/Area{area}/Folder{folder}:\n    description: Generated folder {folder}\n    shares:"
        );
        if shape.layout == Layout::Wide {
            let _ = writeln!(
                folders,
                "      - org: org{}\n        access: view",
                rng.usize(0..shape.orgs())
            );
            if folder % 2 == 0 {
                let _ = writeln!(
                    folders,
                    "      - group: g{}\n        access: edit",
                    rng.usize(0..shape.groups())
                );
            }
            continue;
        }
        let _ = writeln!(
            folders,
            "      - group: g{}\n        access: view",
            rng.usize(0..shape.groups())
        );
        if folder % 2 == 0 || shape.layout == Layout::Realistic {
            let _ = writeln!(
                folders,
                "      - portal: p{}\n        access: view",
                rng.usize(0..shape.portals())
            );
        } else {
            let _ = writeln!(
                folders,
                "      - user: {}\n        access: edit",
                partner_email(shape, rng.usize(0..shape.partners))
            );
        }
    }
    files.insert("folders.yaml".to_string(), folders);

    // After every other file, so that the random draws above do not depend on it.
    if shape.dashboards > 0 {
        let mut dashboards = String::from(header);
        dashboards.push_str("dashboards:\n");
        for dashboard in 0..shape.dashboards {
            let folder = dashboard % shape.folders();
            let area = folder % 50;
            let _ = writeln!(
                dashboards,
                "  /Partners/Area{area}/Folder{folder}/Dashboard{dashboard}:\n    description: Generated dashboard {dashboard}"
            );
            if dashboard % 2 == 0 {
                let _ = writeln!(
                    dashboards,
                    "    shares:\n      - user: {}\n        access: view",
                    partner_email(shape, rng.usize(0..shape.partners))
                );
            }
        }
        files.insert("dashboards.yaml".to_string(), dashboards);
    }
    files
}

/// Five assertions, one or more of every form, that hold on `files` (a config of
/// [`generate`]): `only` the principals that share the first two folders, `never:
/// files.transfer` for three orgs and for a portal (the generator's roles grant no
/// transfer), and `can: view` for the first member of
/// the group sharing the first folder. Benchmarks add them to time what assertions cost
/// on a config that passes, as a no-op plan's config does.
pub fn assertions(files: &BTreeMap<String, String>) -> String {
    let folders = files.get("folders.yaml").map_or("", String::as_str);
    let groups = files.get("groups.yaml").map_or("", String::as_str);
    // The share principals of each of the first two folders, as `kind:name`.
    let mut shared: Vec<(String, Vec<String>)> = Vec::new();
    for line in folders.lines() {
        if let Some(path) = line.strip_prefix("  /").and_then(|rest| rest.strip_suffix(':')) {
            if shared.len() == 2 {
                break;
            }
            shared.push((format!("/{path}"), Vec::new()));
        } else if let Some(rest) = line.trim_start().strip_prefix("- ")
            && let Some((principal_kind, name)) = rest.split_once(": ")
            && let Some((_, principals)) = shared.last_mut()
        {
            principals.push(format!("{principal_kind}:{name}"));
        }
    }
    let first_group = shared
        .first()
        .and_then(|(_, principals)| principals.iter().find_map(|p| p.strip_prefix("group:")));
    let first_member = first_group.and_then(|group| {
        let header = format!("  {group}:");
        let mut lines = groups.lines().skip_while(|line| *line != header);
        lines
            .find_map(|line| line.trim_start().strip_prefix("members: ["))
            .and_then(|list| list.split([',', ']']).next())
            .map(|email| email.trim().to_string())
    });
    let mut out = String::from("assertions:\n");
    for (index, (path, principals)) in shared.iter().enumerate() {
        let _ = writeln!(
            out,
            "  - name: only its sharers see folder {index}\n    folder: {path}\n    only: [{}]",
            principals.join(", ")
        );
    }
    out.push_str(
        "  - name: three orgs never transfer files\n    principals: [org:org2, org:org6, org:org10]\n    never: files.transfer\n",
    );
    out.push_str(
        "  - name: portal 0 never transfers files\n    principals: [portal:p0]\n    never: files.transfer\n",
    );
    if let (Some(email), Some((path, _))) = (first_member, shared.first()) {
        let _ = writeln!(
            out,
            "  - name: a member of the first folder's group sees it\n    user: {email}\n    can: view\n    folder: {path}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use portalctl_core::config::{MemorySource, load};
    use portalctl_core::model::CalendarDate;

    #[test]
    fn generated_configs_are_valid_and_deterministic() {
        let shape = Shape {
            partners: 1_000,
            seed: 7,
            dashboards: 0,
            layout: Layout::Classic,
        };
        let files = generate(shape);
        assert_eq!(files, generate(shape));
        let mut source = MemorySource::default();
        for (path, text) in &files {
            source = source.with(path, text);
        }
        let loaded = load(&source, CalendarDate::from_ymd(2026, 11, 26).unwrap()).unwrap();
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
        assert_eq!(loaded.state.members.len(), 1_000);
        assert_eq!(loaded.state.portals.len(), 10);
        assert_eq!(loaded.state.partner_orgs.len(), 20);
        assert_eq!(loaded.state.groups.len(), 50);
        assert_eq!(loaded.state.folders.len(), 50);
        assert_eq!(loaded.state.shares.len(), 100);
        assert!(!files.contains_key("dashboards.yaml"));
    }

    #[test]
    fn dashboards_come_on_top_of_the_same_files() {
        let plain = Shape {
            partners: 1_000,
            seed: 7,
            dashboards: 0,
            layout: Layout::Classic,
        };
        let shape = Shape {
            dashboards: 120,
            ..plain
        };
        let files = generate(shape);
        let mut without = files.clone();
        without.remove("dashboards.yaml");
        assert_eq!(without, generate(plain), "dashboards change no other file");
        let mut source = MemorySource::default();
        for (path, text) in &files {
            source = source.with(path, text);
        }
        let loaded = load(&source, CalendarDate::from_ymd(2026, 11, 26).unwrap()).unwrap();
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
        assert_eq!(loaded.state.dashboards.len(), 120);
        assert_eq!(loaded.state.shares.len(), 100 + 60);
    }

    #[test]
    fn the_benchmark_assertions_hold_on_every_shape() {
        for layout in [Layout::Classic, Layout::Realistic, Layout::Wide] {
            for partners in [1_000, 2_000, 5_000] {
                let files = generate(Shape {
                    layout,
                    ..Shape::new(partners)
                });
                let mut source = MemorySource::default();
                for (path, text) in &files {
                    source = source.with(path, text);
                }
                source = source.with("assertions.yaml", &assertions(&files));
                let today = CalendarDate::from_ymd(2026, 11, 26).unwrap();
                let mut loaded = load(&source, today).unwrap();
                assert_eq!(loaded.assurance.assertions.len(), 5, "{layout:?} {partners}");
                // As `validate` does: the assertions are evaluated on the loaded state.
                portalctl_core::assurance::check_assertions(&mut loaded, today);
                assert!(
                    !loaded.has_errors(),
                    "{layout:?} {partners}: {:?}",
                    loaded.diagnostics.first()
                );
            }
        }
    }

    #[test]
    fn every_layout_loads_with_the_counts_it_promises() {
        // (layout, portals, groups, group size, shares, org shares)
        for (layout, portals, groups, group_size, shares, org_shares) in [
            (Layout::Realistic, 20, 100, 10, 200, 0),
            (Layout::Wide, 10, 10, 200, 150, 100),
        ] {
            let shape = Shape {
                layout,
                ..Shape::new(2_000)
            };
            let mut source = MemorySource::default();
            for (path, text) in &generate(shape) {
                source = source.with(path, text);
            }
            let loaded = load(&source, CalendarDate::from_ymd(2026, 11, 26).unwrap()).unwrap();
            let state = &loaded.state;
            assert!(
                !loaded.has_errors(),
                "{layout:?}: {:?}",
                loaded.diagnostics.first()
            );
            assert_eq!(state.members.len(), 2_000, "{layout:?}");
            assert_eq!(state.portals.len(), portals, "{layout:?}");
            assert_eq!(state.partner_orgs.len(), 40, "{layout:?}");
            assert_eq!(state.groups.len(), groups, "{layout:?}");
            assert!(
                state
                    .groups
                    .values()
                    .all(|group| group.members.len() == group_size),
                "{layout:?}: every group has {group_size} members"
            );
            assert_eq!(state.folders.len(), 100, "{layout:?}");
            assert_eq!(state.shares.len(), shares, "{layout:?}");
            let orgs = state
                .shares
                .keys()
                .filter(|(_, principal)| matches!(principal, portalctl_core::model::Principal::Org(_)))
                .count();
            assert_eq!(orgs, org_shares, "{layout:?}");
        }
        assert_eq!(Layout::from_name("wide"), Some(Layout::Wide));
        assert_eq!(Layout::from_name("square"), None);
    }
}
