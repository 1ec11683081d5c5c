//! `portalctl explain`: everything one partner can see, and every path that grants it.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::output::UserError;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_core::access::{AccessIndex, ContentKind, FolderAccess, GrantKind};
use portalctl_core::model::{CalendarDate, State, normalize_email};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// Readable lines
    Text,
    /// A versioned JSON document
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The partner's email
    email: String,
    /// Config directory or file (ignored with --live)
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Ask the live target instead of the YAML
    #[arg(long)]
    live: bool,
    /// How to print the answer
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

/// One partner's identity and access, as `explain --format json` shows it
/// (`schemas/output/explain.schema.json`).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl explain --format json", rename = "ExplainDocument")]
pub struct Explanation {
    #[schemars(extend("const" = 1))]
    pub format_version: u32,
    pub email: String,
    pub source: String,
    pub memberships: Vec<MembershipView>,
    pub org: Option<String>,
    /// Sensitive values are `(sensitive)`.
    pub attributes: std::collections::BTreeMap<String, String>,
    pub groups: Vec<String>,
    pub folders: Vec<FolderAccess>,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct MembershipView {
    pub portal: String,
    pub role: String,
    pub expires: Option<String>,
    /// Whether the membership grants access today: not expired, not pending.
    pub active: bool,
    /// A self-registration awaiting approval: it grants nothing until approved.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    pub source: String,
}

pub fn explain(state: &State, email: &str, today: CalendarDate, source: String) -> Option<Explanation> {
    let email = normalize_email(email);
    let memberships: Vec<MembershipView> = state
        .memberships_of(&email)
        .map(|(portal, member)| MembershipView {
            portal: portal.to_string(),
            role: member.role.clone(),
            expires: member.expires.map(|d| d.to_string()),
            active: member.grants_on(today),
            pending: member.pending,
            source: member.source.to_string(),
        })
        .collect();
    let first = state.memberships_of(&email).next().map(|(_, m)| m)?;
    let attributes = first
        .attributes
        .iter()
        .map(|(key, value)| {
            let sensitive = state.attributes.get(key).is_some_and(|a| a.sensitive);
            (
                key.clone(),
                if sensitive {
                    portalctl_core::model::SENSITIVE_MASK.to_string()
                } else {
                    value.to_string()
                },
            )
        })
        .collect();
    let groups = state
        .groups
        .iter()
        .filter(|(_, g)| g.members.contains(&email))
        .map(|(n, _)| n.clone())
        .collect();
    let folders = AccessIndex::new(state, today).partner_access(&email);
    Some(Explanation {
        format_version: 1,
        org: first.org.clone(),
        email,
        source,
        memberships,
        attributes,
        groups,
        folders,
    })
}

fn grant_text(grant: &portalctl_core::access::Grant, folder: &str) -> String {
    let via = match grant.kind {
        GrantKind::Direct => "user share".to_string(),
        GrantKind::Group => format!("group {}", grant.principal.trim_start_matches("group:")),
        GrantKind::Portal => format!("portal {}", grant.principal.trim_start_matches("portal:")),
        GrantKind::Org => format!("org {}", grant.principal.trim_start_matches("org:")),
    };
    let mut text = format!("{} via {via}", grant.level);
    if grant.shared_folder != folder {
        let _ = write!(text, " (shared on {})", grant.shared_folder);
    }
    if grant.level < grant.shared_level {
        let _ = write!(
            text,
            " (shared as {}, capped by role {})",
            grant.shared_level, grant.role
        );
    }
    if let Some(day) = grant.expires {
        let _ = write!(text, ", expires {day}");
    }
    text
}

pub fn render_text(explanation: &Explanation) -> String {
    let mut out = format!("{} ({})\n", explanation.email, explanation.source);
    let _ = writeln!(out, "  org: {}", explanation.org.as_deref().unwrap_or("(none)"));
    for membership in &explanation.memberships {
        let _ = writeln!(
            out,
            "  portal {}: role {}{}{}",
            membership.portal,
            membership.role,
            membership
                .expires
                .as_deref()
                .map(|d| format!(", expires {d}"))
                .unwrap_or_default(),
            if membership.active {
                ""
            } else if membership.pending {
                " (pending approval: grants nothing)"
            } else {
                " (expired: grants nothing)"
            }
        );
    }
    if !explanation.groups.is_empty() {
        let _ = writeln!(out, "  groups: {}", explanation.groups.join(", "));
    }
    if !explanation.attributes.is_empty() {
        let shown: Vec<String> = explanation
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "  attributes: {}", shown.join(", "));
    }
    if explanation.folders.is_empty() {
        out.push_str("\ncan see no folder\n");
    } else {
        let dashboards = explanation
            .folders
            .iter()
            .filter(|access| access.kind == ContentKind::Dashboard)
            .count();
        let folders = explanation.folders.len() - dashboards;
        let count = super::validate::count;
        if dashboards == 0 {
            let _ = writeln!(out, "\ncan see {}:", count(folders, "folder"));
        } else {
            let _ = writeln!(
                out,
                "\ncan see {} and {}:",
                count(folders, "folder"),
                count(dashboards, "dashboard")
            );
        }
        for folder in &explanation.folders {
            match folder.kind {
                ContentKind::Folder => {
                    let _ = writeln!(out, "  {}  {}", folder.level, folder.folder);
                }
                ContentKind::Dashboard => {
                    let _ = writeln!(out, "  {}  dashboard {}", folder.level, folder.folder);
                }
            }
            if !folder.permissions.is_empty() {
                let shown: Vec<&str> = folder.permissions.iter().map(String::as_str).collect();
                let _ = writeln!(out, "      permissions: {}", shown.join(", "));
            }
            for grant in &folder.grants {
                let _ = writeln!(out, "      {}", grant_text(grant, &folder.folder));
            }
        }
    }
    out
}

pub fn run(args: ExplainArgs, session: &context::Session) -> anyhow::Result<ExitStatus> {
    let today = session.today;
    let (state, source) = if args.live {
        let provider = args.target.open(today)?;
        let live = super::context::read_live(provider.as_ref())?;
        (
            live.state,
            format!("live on {} at revision {}", provider.target(), live.revision),
        )
    } else {
        let Some(loaded) = context::load_valid_config(&args.path, today)? else {
            return Ok(ExitStatus::Failure);
        };
        (loaded.state, format!("config at {}", args.path.display()))
    };
    let Some(explanation) = explain(&state, &args.email, today, source.clone()) else {
        let email = normalize_email(&args.email);
        let partners: std::collections::BTreeSet<&str> = state
            .members
            .keys()
            .map(|(_, partner)| partner.as_str())
            .collect();
        let hint = portalctl_core::model::suggest::did_you_mean(&email, partners.iter().copied())
            .unwrap_or_else(|| "check the spelling, or look in another config or target".to_string());
        return Err(UserError::new(
            format!("`{email}` is not a partner in the {source}: no portal lists them"),
            hint,
        )
        .into());
    };
    match args.format {
        ExplainFormat::Text => print!("{}", render_text(&explanation)),
        ExplainFormat::Json => println!("{}", serde_json::to_string_pretty(&explanation)?),
    }
    session.retain(state);
    Ok(ExitStatus::Success)
}
