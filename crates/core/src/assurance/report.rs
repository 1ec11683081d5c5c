//! Who has access to what: every grant of a state on a day, one row per partner, folder
//! or dashboard and grant, as an auditor asks for it. Rendered as CSV, JSON
//! (`format_version` 1, schema `schemas/output/report.schema.json`) and one
//! self-contained HTML file.
//!
//! The header names where the rows come from (a git revision and commit, or the live
//! target and its revision), the time, and the SHA-256 of the rows: the SHA-256 of the
//! CSV's column line and data lines (`grep -v '^#' report.csv | sha256sum`), the same in
//! every format.
//!
//! # Guarantees
//! Rows come from [`AccessIndex::partner_access`], the one evaluator; sorted by partner,
//! path, then grant, so the same state and day give byte-identical rows.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Owners;
use crate::access::{AccessIndex, ContentKind, GrantKind};
use crate::model::{Access, CalendarDate, Membership, State};

/// The version of the JSON document.
pub const FORMAT_VERSION: u32 = 1;

/// The columns, in CSV order.
pub const COLUMNS: [&str; 12] = [
    "partner",
    "org",
    "portal",
    "role",
    "kind",
    "path",
    "level",
    "permissions",
    "via",
    "shared_on",
    "expires",
    "owners",
];

/// One grant reaching one partner on one folder or dashboard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The partner's email.
    pub partner: String,
    /// The partner org the partner belongs to, if any.
    pub org: Option<String>,
    /// The portal whose membership carries the grant: the shared portal for a portal
    /// share, else the portal where the partner holds `role`.
    pub portal: String,
    /// The role that caps the grant.
    pub role: String,
    /// `folder` or `dashboard`.
    pub kind: ContentKind,
    /// The folder or dashboard.
    pub path: String,
    /// The level this grant gives there (the share's level capped by the role).
    pub level: Access,
    /// The permissions the partner can use there (through all their grants).
    pub permissions: Vec<String>,
    /// The share's principal that reaches the partner: `user:…`, `group:…`,
    /// `portal:…` or `org:…`.
    pub via: String,
    /// The folder or dashboard the share is on: `path` itself or a parent.
    pub shared_on: String,
    /// The last day the grant holds: the earlier of the share's end and the end of the
    /// membership it rests on; absent: no end.
    pub expires: Option<CalendarDate>,
    /// The owners of `path` (the nearest folder with owners).
    pub owners: Vec<String>,
}

impl Row {
    /// The row as CSV cells, in [`COLUMNS`] order (borrowed where they can be: a report
    /// at 100k partners has millions of cells).
    pub fn cells(&self) -> [Cow<'_, str>; 12] {
        fn joined(items: &[String]) -> Cow<'_, str> {
            match items {
                [] => Cow::Borrowed(""),
                [one] => Cow::Borrowed(one.as_str()),
                many => Cow::Owned(many.join(" ")),
            }
        }
        [
            Cow::Borrowed(self.partner.as_str()),
            Cow::Borrowed(self.org.as_deref().unwrap_or_default()),
            Cow::Borrowed(self.portal.as_str()),
            Cow::Borrowed(self.role.as_str()),
            Cow::Borrowed(self.kind.as_str()),
            Cow::Borrowed(self.path.as_str()),
            Cow::Borrowed(match self.level {
                Access::View => "view",
                Access::Edit => "edit",
            }),
            joined(&self.permissions),
            Cow::Borrowed(self.via.as_str()),
            Cow::Borrowed(self.shared_on.as_str()),
            self.expires
                .map_or(Cow::Borrowed(""), |day| Cow::Owned(day.to_string())),
            joined(&self.owners),
        ]
    }
}

/// What a report is limited to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(into = "String", try_from = "String")]
#[schemars(with = "String")]
pub enum Scope {
    /// The grants of the portal's active members.
    Portal(String),
    /// The grants of the org's partners.
    Org(String),
    /// The grants on the folder and everything below it.
    Folder(String),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Portal(name) => write!(f, "portal:{name}"),
            Self::Org(name) => write!(f, "org:{name}"),
            Self::Folder(path) => write!(f, "folder:{path}"),
        }
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some(("portal", name)) if !name.is_empty() => Ok(Self::Portal(name.to_string())),
            Some(("org", name)) if !name.is_empty() => Ok(Self::Org(name.to_string())),
            Some(("folder", path)) if crate::model::is_valid_folder_path(path) => {
                Ok(Self::Folder(path.to_string()))
            }
            _ => Err(format!(
                "`{text}` is not a scope: write `portal:NAME`, `org:NAME` or `folder:/PATH`"
            )),
        }
    }
}

impl Scope {
    /// Whether the scope names something `state` declares; the error says what is unknown.
    ///
    /// # Errors
    /// The portal, org or folder is not declared (with the closest known name).
    pub fn check(&self, state: &State) -> Result<(), String> {
        let (known, names): (bool, Vec<&str>) = match self {
            Self::Portal(name) => (
                state.portals.contains_key(name),
                state.portals.keys().map(String::as_str).collect(),
            ),
            Self::Org(name) => (
                state.partner_orgs.contains_key(name),
                state.partner_orgs.keys().map(String::as_str).collect(),
            ),
            Self::Folder(path) => (
                state.folders.contains_key(path),
                state.folders.keys().map(String::as_str).collect(),
            ),
        };
        if known {
            return Ok(());
        }
        let name = self.to_string();
        let hint = crate::model::suggest::closest(name.split_once(':').map_or("", |(_, n)| n), names)
            .map(|closest| format!(" (did you mean `{closest}`?)"))
            .unwrap_or_default();
        Err(format!("the scope `{name}` names nothing declared{hint}"))
    }
}

/// Where the rows came from and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// `git` (the config at a revision) or `live` (the target's state).
    pub source: String,
    /// The git revision asked for (`HEAD`, `v1.2`, a date-named tag), or the live target.
    pub revision: String,
    /// The commit id (git), or the live revision number.
    pub commit: Option<String>,
    /// When the report was made, RFC 3339 UTC.
    pub generated_at: String,
    /// The day expiry was judged on: a grant counts when it is active on that day.
    pub today: CalendarDate,
    /// Where that day comes from: `clock` (the day the report was made), `commit date`
    /// (the UTC date the commit `--at` names was committed) or `--on` (given).
    pub today_from: String,
    /// What the rows are limited to, if anything.
    pub scope: Option<Scope>,
    /// How many rows.
    pub rows: usize,
    /// `sha256:` of the CSV column line and data lines.
    pub rows_sha256: String,
}

/// Partners and grants of one org or portal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Count {
    pub partners: usize,
    pub grants: usize,
}

/// The JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "portalctl report")]
pub struct Report {
    pub format_version: u32,
    pub header: Header,
    /// Per partner org (`(none)` for partners without one).
    pub by_org: BTreeMap<String, Count>,
    /// Per portal (the `portal` column).
    pub by_portal: BTreeMap<String, Count>,
    pub rows: Vec<Row>,
}

/// Where a report's rows come from, as the caller knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: String,
    pub revision: String,
    pub commit: Option<String>,
    pub generated_at: String,
    /// Where the day expiry is judged on comes from (see [`Header::today_from`]).
    pub today_from: String,
}

/// The grants of a state on a day, limited to a scope, walked one partner at a time:
/// a report's rows without holding them all (a config where a few huge groups share many
/// folders has tens of millions of grants at 100k partners).
pub struct Grants<'s> {
    owners: &'s Owners,
    scope: Option<&'s Scope>,
    index: AccessIndex,
    /// Each partner's active seats, by email (the order of the rows).
    seats: BTreeMap<&'s str, Vec<(&'s str, &'s Membership)>>,
}

impl<'s> Grants<'s> {
    pub fn new(state: &'s State, owners: &'s Owners, today: CalendarDate, scope: Option<&'s Scope>) -> Self {
        let mut seats: BTreeMap<&str, Vec<(&str, &Membership)>> = BTreeMap::new();
        for ((portal, email), member) in &state.members {
            if member.grants_on(today) {
                seats
                    .entry(email.as_str())
                    .or_default()
                    .push((portal.as_str(), member));
            }
        }
        Self {
            owners,
            scope,
            index: AccessIndex::new(state, today),
            seats,
        }
    }

    /// Each partner's rows, partners in order, until `visit` fails.
    ///
    /// # Errors
    /// The first error of `visit`.
    pub fn try_for_each_partner<E>(&self, mut visit: impl FnMut(Vec<Row>) -> Result<(), E>) -> Result<(), E> {
        for (email, seats) in &self.seats {
            if let Some(rows) = self.partner_rows(email, seats) {
                visit(rows)?;
            }
        }
        Ok(())
    }

    /// Every row, in order, until `visit` fails.
    ///
    /// # Errors
    /// The first error of `visit`.
    pub fn try_for_each_row<E>(&self, mut visit: impl FnMut(&Row) -> Result<(), E>) -> Result<(), E> {
        self.try_for_each_partner(|rows| rows.iter().try_for_each(&mut visit))
    }

    /// Every row, held at once.
    pub fn rows(&self) -> Vec<Row> {
        let mut all = Vec::new();
        let _ = self.try_for_each_partner(|rows| {
            all.extend(rows);
            Ok::<(), std::convert::Infallible>(())
        });
        all
    }

    /// The rows of one partner, or `None` when the scope leaves the partner out.
    fn partner_rows(&self, email: &str, seats: &[(&str, &Membership)]) -> Option<Vec<Row>> {
        let org = seats.iter().find_map(|(_, member)| member.org.as_deref());
        match self.scope {
            Some(Scope::Portal(portal)) if !seats.iter().any(|(p, _)| p == portal) => return None,
            Some(Scope::Org(wanted)) if org != Some(wanted.as_str()) => return None,
            _ => {}
        }
        // The latest end among the partner's memberships (`None`: one never ends).
        let any_end = seats
            .iter()
            .map(|(_, member)| member.expires)
            .try_fold(None::<CalendarDate>, |latest, end| {
                end.map(|end| latest.max(Some(end)))
            })
            .flatten();
        let mut rows = Vec::new();
        for access in self.index.partner_access(email) {
            if let Some(Scope::Folder(root)) = self.scope
                && !crate::model::is_within(&access.folder, root)
            {
                continue;
            }
            let path_owners = self
                .owners
                .of_path(&access.folder)
                .map(|(_, list)| list.to_vec())
                .unwrap_or_default();
            let permissions: Vec<String> = access.permissions.iter().cloned().collect();
            for grant in &access.grants {
                let (portal, member_end) = if grant.kind == GrantKind::Portal {
                    let name = grant.principal.name();
                    let end = seats
                        .iter()
                        .find(|(p, _)| *p == name)
                        .and_then(|(_, member)| member.expires);
                    (name.to_string(), end)
                } else {
                    let portal = seats
                        .iter()
                        .find(|(_, member)| member.role == grant.role)
                        .map_or("", |(p, _)| p);
                    (portal.to_string(), any_end)
                };
                let expires = match (grant.expires, member_end) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                rows.push(Row {
                    partner: email.to_string(),
                    org: org.map(str::to_string),
                    portal,
                    role: grant.role.clone(),
                    kind: access.kind,
                    path: access.folder.clone(),
                    level: grant.level,
                    permissions: permissions.clone(),
                    via: grant.principal.to_string(),
                    shared_on: grant.shared_folder.clone(),
                    expires,
                    owners: path_owners.clone(),
                });
            }
        }
        Some(rows)
    }
}

/// Every grant of `state` on `today`, limited to `scope`, held at once (a review's
/// grants); a report walks [`Grants`] instead.
pub fn rows(state: &State, owners: &Owners, today: CalendarDate, scope: Option<&Scope>) -> Vec<Row> {
    Grants::new(state, owners, today, scope).rows()
}

/// The CSV writer of the rows: the column line first, `\n` after each line.
fn csv_writer<W: std::io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

/// The report's header and counts, found in one pass over `grants` that keeps no row:
/// the document [`write_csv`], [`write_json`] and [`write_html`] write, with `rows` empty
/// (they walk `grants` again for the rows).
///
/// # Guarantees
/// Memory for one partner's rows and the counts; `rows_sha256` is the SHA-256 of the
/// CSV column line and data lines those writers write.
pub fn summarize(grants: &Grants<'_>, origin: Origin, today: CalendarDate, scope: Option<Scope>) -> Report {
    let mut hashed = csv_writer(crate::config::Sha256Writer(Sha256::new()));
    let _ = hashed.write_record(COLUMNS);
    let mut rows = 0;
    let mut by_org: BTreeMap<String, (Count, Option<String>)> = BTreeMap::new();
    let mut by_portal: BTreeMap<String, (Count, Option<String>)> = BTreeMap::new();
    let _ = grants.try_for_each_row(|row| {
        rows += 1;
        let _ = hashed.write_record(row.cells().iter().map(|cell| cell.as_bytes()));
        for (map, key) in [
            (&mut by_org, row.org.as_deref().unwrap_or("(none)")),
            (&mut by_portal, row.portal.as_str()),
        ] {
            let (count, last) = match map.get_mut(key) {
                Some(entry) => entry,
                None => map.entry(key.to_string()).or_default(),
            };
            count.grants += 1;
            if last.as_deref() != Some(row.partner.as_str()) {
                count.partners += 1;
                *last = Some(row.partner.clone());
            }
        }
        Ok::<(), std::convert::Infallible>(())
    });
    let digest = hashed
        .into_inner()
        .map(|hashing| hashing.0.finalize())
        .unwrap_or_default();
    Report {
        format_version: FORMAT_VERSION,
        header: Header {
            source: origin.source,
            revision: origin.revision,
            commit: origin.commit,
            generated_at: origin.generated_at,
            today,
            today_from: origin.today_from,
            scope,
            rows,
            rows_sha256: format!("sha256:{}", crate::config::hex(&digest)),
        },
        by_org: by_org.into_iter().map(|(k, (c, _))| (k, c)).collect(),
        by_portal: by_portal.into_iter().map(|(k, (c, _))| (k, c)).collect(),
        rows: Vec::new(),
    }
}

/// The whole report held at once: [`summarize`]'s document with every row (a review's
/// evidence keeps the reports before and after it).
pub fn whole(grants: &Grants<'_>, origin: Origin, today: CalendarDate, scope: Option<Scope>) -> Report {
    Report {
        rows: grants.rows(),
        ..summarize(grants, origin, today, scope)
    }
}

/// The JSON document of `summary` with the rows of `grants`, pretty-printed as serde
/// would print the whole document, one row at a time.
///
/// # Errors
/// Writing fails.
pub fn write_json(
    out: &mut impl std::io::Write,
    summary: &Report,
    grants: &Grants<'_>,
) -> std::io::Result<()> {
    // The document without rows ends `"rows": []\n}`: the rows go where `[]` stands, each
    // pretty-printed and indented to its depth (JSON strings hold no raw line breaks).
    let text = serde_json::to_string_pretty(&Report {
        rows: Vec::new(),
        ..summary.clone()
    })
    .map_err(std::io::Error::other)?;
    let head = text
        .strip_suffix("[]\n}")
        .ok_or_else(|| std::io::Error::other("the report document does not end with its rows"))?;
    out.write_all(head.as_bytes())?;
    let mut first = true;
    grants.try_for_each_row(|row| {
        out.write_all(if first { b"[\n" } else { b",\n" })?;
        first = false;
        let row = serde_json::to_string_pretty(row).map_err(std::io::Error::other)?;
        for (at, line) in row.lines().enumerate() {
            if at > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"    ")?;
            out.write_all(line.as_bytes())?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    out.write_all(if first { b"[]\n}\n" } else { b"\n  ]\n}\n" })
}

/// The header as `# key: value` lines, then the CSV column line and the rows of `grants`.
///
/// # Errors
/// Writing fails.
pub fn write_csv(
    out: &mut impl std::io::Write,
    summary: &Report,
    grants: &Grants<'_>,
) -> std::io::Result<()> {
    for (key, value) in header_fields(&summary.header) {
        writeln!(out, "# {key}: {value}")?;
    }
    let mut writer = csv_writer(out);
    writer.write_record(COLUMNS)?;
    grants.try_for_each_row(|row| writer.write_record(row.cells().iter().map(|cell| cell.as_bytes())))?;
    writer.flush()?;
    Ok(())
}

fn header_fields(header: &Header) -> Vec<(&'static str, String)> {
    vec![
        ("portalctl report", format!("format_version {FORMAT_VERSION}")),
        ("source", header.source.clone()),
        ("revision", header.revision.clone()),
        ("commit", header.commit.clone().unwrap_or_else(|| "(none)".into())),
        ("generated_at", header.generated_at.clone()),
        ("today", header.today.to_string()),
        ("today_from", header.today_from.clone()),
        (
            "scope",
            header
                .scope
                .as_ref()
                .map_or_else(|| "(all)".into(), ToString::to_string),
        ),
        ("rows", header.rows.to_string()),
        ("rows_sha256", header.rows_sha256.clone()),
    ]
}

/// Escapes text for HTML element content and attribute values.
fn escape_into(out: &mut String, text: &str) {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1b1b}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}\
th{background:#f0f0f0}th button{all:unset;cursor:pointer;font-weight:bold}th button:focus{outline:2px solid #0b57d0}\
th[aria-sort=ascending] button::after{content:' \\25B2'}th[aria-sort=descending] button::after{content:' \\25BC'}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0;font-family:monospace}\
.counts{display:flex;gap:3rem;flex-wrap:wrap}";

/// Sorts a table by the clicked column; a second click reverses. Digits compare as
/// numbers (`9` before `15`), so the counts sort right.
const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function(t){\
var hs=t.tHead.rows[0].cells;Array.prototype.forEach.call(hs,function(h,i){var b=h.querySelector('button');if(!b)return;\
b.addEventListener('click',function(){var asc=h.getAttribute('aria-sort')!=='ascending';\
Array.prototype.forEach.call(hs,function(o){o.removeAttribute('aria-sort')});h.setAttribute('aria-sort',asc?'ascending':'descending');\
var body=t.tBodies[0],rs=Array.prototype.slice.call(body.rows);\
rs.sort(function(a,c){var x=a.cells[i].textContent,y=c.cells[i].textContent;var o={numeric:true};return asc?x.localeCompare(y,undefined,o):y.localeCompare(x,undefined,o)});\
var f=document.createDocumentFragment();rs.forEach(function(r){f.appendChild(r)});body.appendChild(f)})})});";

/// One self-contained HTML file: the header, counts per org and portal, and every row of
/// `grants` in a table sortable by any column (a small inline script; the table reads
/// fine without). Written a row at a time.
///
/// # Errors
/// Writing fails.
pub fn write_html(
    out: &mut impl std::io::Write,
    summary: &Report,
    grants: &Grants<'_>,
) -> std::io::Result<()> {
    let mut text = String::with_capacity(8192);
    text.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>portalctl access report</title>\n<style>");
    text.push_str(STYLE);
    text.push_str("</style>\n</head>\n<body>\n<main>\n<h1>Who has access to what</h1>\n<dl>\n");
    for (key, value) in header_fields(&summary.header).into_iter().skip(1) {
        text.push_str("<dt>");
        escape_into(&mut text, key);
        text.push_str("</dt><dd>");
        escape_into(&mut text, &value);
        text.push_str("</dd>\n");
    }
    text.push_str("</dl>\n<div class=\"counts\">\n");
    for (title, counts) in [
        ("Per partner org", &summary.by_org),
        ("Per portal", &summary.by_portal),
    ] {
        let _ = write!(
            text,
            "<section>\n<h2>{title}</h2>\n<table class=\"sortable\">\n<thead><tr><th scope=\"col\"><button type=\"button\">name</button></th><th scope=\"col\"><button type=\"button\">partners</button></th><th scope=\"col\"><button type=\"button\">grants</button></th></tr></thead>\n<tbody>\n"
        );
        for (name, count) in counts {
            text.push_str("<tr><td>");
            escape_into(&mut text, name);
            let _ = writeln!(
                text,
                "</td><td>{}</td><td>{}</td></tr>",
                count.partners, count.grants
            );
        }
        text.push_str("</tbody>\n</table>\n</section>\n");
    }
    text.push_str("</div>\n<h2>Grants</h2>\n<table class=\"sortable\">\n<thead><tr>");
    for column in COLUMNS {
        let _ = write!(
            text,
            "<th scope=\"col\"><button type=\"button\">{column}</button></th>"
        );
    }
    text.push_str("</tr></thead>\n<tbody>\n");
    out.write_all(text.as_bytes())?;
    grants.try_for_each_row(|row| {
        text.clear();
        text.push_str("<tr>");
        for cell in row.cells() {
            text.push_str("<td>");
            escape_into(&mut text, &cell);
            text.push_str("</td>");
        }
        text.push_str("</tr>\n");
        out.write_all(text.as_bytes())
    })?;
    out.write_all(b"</tbody>\n</table>\n</main>\n<script>")?;
    out.write_all(SCRIPT.as_bytes())?;
    out.write_all(b"</script>\n</body>\n</html>\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MemorySource, load};

    const CONFIG: &str = "\
workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  contoso: {domains: [contoso.com]}
portals:
  partners:
    name: Partners
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: ana@contoso.com, role: editor, org: contoso}
      - {email: bo@contoso.com, role: viewer, org: contoso, expires: 2027-01-31}
      - {email: cy@example.com, role: viewer}
groups:
  finance: {members: [ana@contoso.com, cy@example.com]}
folders:
  /Room: {shares: [{org: contoso, access: edit}, {group: finance, access: view}]}
  /Room/Sub: {}
  /Open: {shares: [{portal: partners, access: edit}]}
dashboards:
  /Room/Sub/Board: {}
";

    fn origin() -> Origin {
        Origin {
            source: "git".into(),
            revision: "HEAD".into(),
            commit: None,
            generated_at: "2026-11-26T00:00:00Z".into(),
            today_from: "clock".into(),
        }
    }

    /// The written JSON is what serde prints for the whole document held at once, and the
    /// header's SHA-256 is that of the written CSV's column line and rows.
    #[test]
    fn written_reports_equal_the_document_held_whole() {
        let today = CalendarDate::from_ymd(2026, 11, 26).expect("a day");
        let loaded = load(&MemorySource::default().with("c.yaml", CONFIG), today).expect("loads");
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        for scope in [
            None,
            Some(Scope::Folder("/Room".into())),
            Some(Scope::Portal("nowhere".into())),
        ] {
            let grants = Grants::new(&loaded.state, &loaded.assurance.owners, today, scope.as_ref());
            let summary = summarize(&grants, origin(), today, scope.clone());
            let whole = whole(&grants, origin(), today, scope.clone());
            assert_eq!(summary.header.rows, whole.rows.len());
            if scope.is_none() {
                assert!(whole.rows.len() > 6, "{:?}", whole.rows);
            }
            let mut json = Vec::new();
            write_json(&mut json, &summary, &grants).expect("writes");
            let mut expected = serde_json::to_string_pretty(&whole).expect("serializes");
            expected.push('\n');
            assert_eq!(String::from_utf8(json).expect("utf-8"), expected, "{scope:?}");
            let mut csv = Vec::new();
            write_csv(&mut csv, &summary, &grants).expect("writes");
            let csv = String::from_utf8(csv).expect("utf-8");
            let body: String = csv
                .lines()
                .filter(|line| !line.starts_with('#'))
                .map(|line| format!("{line}\n"))
                .collect();
            assert_eq!(
                summary.header.rows_sha256,
                format!("sha256:{}", crate::config::hex(&Sha256::digest(body.as_bytes())))
            );
            let mut html = Vec::new();
            write_html(&mut html, &summary, &grants).expect("writes");
            let html = String::from_utf8(html).expect("utf-8");
            assert_eq!(
                html.matches("<tr><td>").count(),
                whole.rows.len() + summary.by_org.len() + summary.by_portal.len()
            );
        }
    }
}
