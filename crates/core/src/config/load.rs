//! The loader: read every file through a [`ConfigSource`], parse, schema-check, merge,
//! then run the shared domain rules, and report every problem at `file:line:col`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::merge::{Merger, ParsedFile, RosterText};
use super::source::ConfigSource;
use super::yaml::{self, Position};
use super::{Diagnostic, Location, SourceMap, schema_check};
use crate::model::rules;
use crate::model::rules::RuleId;
use crate::model::{CalendarDate, State};

/// A loaded config: the desired state as written (expired grants included, see
/// [`State::without_expired`]), where each value came from, and every problem found.
#[derive(Debug)]
pub struct Loaded {
    pub state: State,
    pub source_map: SourceMap,
    /// Errors and warnings, sorted by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// The text of every file read, by displayed path, for source snippets.
    pub texts: BTreeMap<String, String>,
    /// Spans of sensitive values, by (file, line): (column, length in characters).
    /// Snippets show `(sensitive)` there instead.
    pub sensitive_spans: std::collections::HashMap<(String, u32), Vec<(u32, usize)>>,
    /// `sha256:` of every file read (paths and contents), so a saved plan can tell
    /// whether its config changed.
    pub digest: String,
    /// Assertions and owners (`crate::assurance`), checked against the state.
    pub assurance: crate::assurance::Assurance,
    /// Files that could not be read, parsed or matched to the schema, and so were not
    /// merged: checks that could depend on what they declare were skipped.
    pub skipped: Vec<SkippedChecks>,
    /// Where each line of each text starts, built on the first snippet asked for.
    line_starts: std::sync::OnceLock<std::collections::HashMap<String, Vec<usize>>>,
}

/// A file left out of the merge, and the sections it appears to declare (its top-level
/// keys; every section when it could not be read at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedChecks {
    pub file: String,
    pub sections: BTreeSet<String>,
}

impl SkippedChecks {
    /// `checks that read `groups` or `folders` were skipped: access.yaml could not be read`.
    pub fn message(&self) -> String {
        let sections: Vec<String> = self.sections.iter().map(|s| format!("`{s}`")).collect();
        format!(
            "checks across files that read {} were skipped: {} could not be loaded",
            if sections.is_empty() {
                "its sections".to_string()
            } else {
                sections.join(", ")
            },
            self.file
        )
    }
}

/// The config sections whose content a rule judging a resource by others
/// reads to judge a resource, so that it can still be judged when a file declaring
/// other sections could not be read. `None`: it may read any.
fn sections_read(rule: rules::RuleId) -> Option<&'static [&'static str]> {
    use rules::RuleId as R;
    Some(match rule {
        R::RoleExtendsUnknown | R::RoleCycle | R::RegistrationUnknownRole | R::MemberUnknownRole => {
            &["roles"]
        }
        R::OrgDomainInOwnerDomain | R::RegistrationOwnerDomain | R::MemberInOwnerDomain => &["workspace"],
        R::RegistrationUnknownGroup | R::ShareUnknownGroup => &["groups"],
        R::MemberUnknownPortal | R::ShareUnknownPortal => &["portals", "portal_templates"],
        R::MemberUnknownOrg | R::MemberOutsideOrgDomains | R::ShareUnknownOrg => &["partner_orgs"],
        R::OrgAttributeUndeclared | R::MemberAttributeUndeclared | R::MemberAttributeInvalid => {
            &["attributes"]
        }
        R::MemberAttributeMissing | R::MemberAttributeContradictsOrg => &["attributes", "partner_orgs"],
        R::DashboardUnknownFolder | R::DashboardIsFolder | R::ShareUnknownFolder => {
            &["folders", "dashboards"]
        }
        R::InsideDashboard => &["dashboards"],
        _ => return None,
    })
}

/// Top-level keys of a YAML text, read line by line (the text does not parse).
fn top_level_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|line| line.split_once(':').map(|(key, _)| key.trim().to_string()))
        .filter(|key| {
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .collect()
}

impl Loaded {
    /// A CSV line with the cells of sensitive attribute columns replaced.
    fn mask_csv_line(&self, text: &str, raw: &str) -> String {
        let header = text.lines().next().unwrap_or_default();
        let sensitive: Vec<usize> = header
            .split(',')
            .enumerate()
            .filter(|(_, name)| {
                name.trim()
                    .strip_prefix("attributes.")
                    .and_then(|key| self.state.attributes.get(key))
                    .is_some_and(|attribute| attribute.sensitive)
            })
            .map(|(index, _)| index)
            .collect();
        if sensitive.is_empty() || raw == header {
            return raw.to_string();
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(raw.as_bytes());
        let Some(Ok(record)) = reader.records().next() else {
            return "(a line of a roster with sensitive columns)".to_string();
        };
        let cells: Vec<&str> = record
            .iter()
            .enumerate()
            .map(|(index, cell)| {
                if sensitive.contains(&index) && !cell.is_empty() {
                    crate::model::SENSITIVE_MASK
                } else {
                    cell
                }
            })
            .collect();
        cells.join(",")
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The text of one line of a file, for snippets under diagnostics.
    pub fn source_line(&self, file: &str, line: u32) -> Option<String> {
        let text = self.texts.get(file)?;
        let starts = self.line_starts.get_or_init(|| {
            self.texts
                .iter()
                .map(|(file, text)| (file.clone(), line_starts(text)))
                .collect()
        });
        let raw = line_at(text, starts.get(file)?, line)?;
        if Path::new(file).extension().is_some_and(|e| e == "csv") {
            return Some(self.mask_csv_line(text, raw));
        }
        let Some(spans) = self.sensitive_spans.get(&(file.to_string(), line)) else {
            return Some(raw.to_string());
        };
        let mut chars: Vec<char> = raw.chars().collect();
        let mut spans = spans.clone();
        spans.sort_unstable_by(|a, b| b.cmp(a)); // right to left keeps columns valid
        for (column, length) in spans {
            let start = (column as usize).saturating_sub(1).min(chars.len());
            let end = (start + length).min(chars.len());
            chars.splice(start..end, crate::model::SENSITIVE_MASK.chars());
        }
        Some(chars.into_iter().collect())
    }
}

/// Loads a config. Never panics on input: every problem becomes a diagnostic.
///
/// # Errors
/// Only when the files cannot be listed at all (e.g. the path does not exist).
pub fn load(source: &dyn ConfigSource, today: CalendarDate) -> std::io::Result<Loaded> {
    // `reviews/` holds access reviews, never config (see `assurance::review`).
    let mut paths = source.yaml_files()?;
    paths.retain(|path| !crate::assurance::review::is_review_path(path));
    let mut map = SourceMap::default();
    let mut diagnostics = Vec::new();
    let mut texts = BTreeMap::new();
    let mut parsed = Vec::new();
    let mut skipped = Vec::new();
    let mut digest = Sha256::new();
    // Reading, parsing and schema-checking files are independent: do them on every core.
    let mut outcomes = super::parallel::map_in_order(&paths, |path| read_file(source, path.as_path()));
    portals_split_across_files(&mut outcomes);
    for (path, outcome) in paths.into_iter().zip(outcomes) {
        let id = map.add_file(outcome.display.clone());
        if let Some(text) = outcome.text {
            digest.update(path.to_string_lossy().as_bytes());
            digest.update([0]);
            digest.update(text.as_bytes());
            digest.update([0]);
            texts.insert(outcome.display, text);
        }
        let failed = outcome.diagnostics.iter().any(Diagnostic::is_error);
        diagnostics.extend(outcome.diagnostics);
        if let Some((root, doc)) = outcome.parsed {
            parsed.push(ParsedFile { id, path, root, doc });
        } else if failed {
            let display = map.file_name(id).to_string();
            let sections = texts.get(&display).map(|text| top_level_keys(text));
            skipped.push(SkippedChecks {
                file: display,
                sections: sections.unwrap_or_default(),
            });
        }
    }
    let mut merger = Merger::new(map);
    for file in &mut parsed {
        merger.add_templates(file);
    }
    for file in parsed {
        merger.add(file);
    }
    let structurally_complete = !diagnostics.iter().any(Diagnostic::is_error);
    let inline_attributes = std::mem::take(&mut merger.inline_attributes);
    let written = std::mem::take(&mut merger.assurance);
    // Read every roster before merging them, so that the merge itself is pure.
    let roster_paths = merger.roster_paths();
    let roster_texts = super::parallel::map_in_order(&roster_paths, |path| RosterText {
        display: source.display(path),
        text: source.read(path),
    });
    let (state, map, merge_diagnostics, csv_texts) = merger.finish(structurally_complete, roster_texts);
    diagnostics.extend(merge_diagnostics);
    // Fold the CSV files into the digest and snippets.
    for (display, text) in csv_texts {
        digest.update(display.as_bytes());
        digest.update([0]);
        digest.update(text.as_bytes());
        texts.entry(display).or_insert(text);
    }
    // Rules see the whole state. When a file failed to be read, parse or match the schema,
    // what it declares is missing: a rule that judges a resource by sections that file
    // declares would only produce noise, so it is skipped (and `skipped` says so); rules of
    // one resource alone, and rules reading only sections merged whole, still run.
    let missing: BTreeSet<&str> = skipped
        .iter()
        .flat_map(|file| file.sections.iter().map(String::as_str))
        .collect();
    let unknown_sections = skipped.iter().any(|file| file.sections.is_empty());
    let judged = |rule: rules::RuleId| {
        structurally_complete
            || !rule.depends_on_other_resources()
            || (!unknown_sections
                && sections_read(rule)
                    .is_some_and(|read| read.iter().all(|section| !missing.contains(section))))
    };
    if structurally_complete || !skipped.is_empty() {
        for violation in rules::check(&state, today).into_iter().filter(|v| judged(v.rule)) {
            let place = match violation.rule {
                rules::RuleId::PortalSeatLimit | rules::RuleId::OrgSeatLimit => {
                    first_past_limit(&state, &map, &violation.at)
                }
                _ => None,
            };
            let place = place.or_else(|| map.locate(&violation.at));
            if place.is_none() && !structurally_complete {
                continue; // about what an unloaded file would have declared
            }
            let mut diagnostic =
                Diagnostic::error(violation.rule, place, violation.message).with_hint(violation.hint);
            diagnostic.severity = violation.severity;
            for (pointer, label) in violation.related {
                if let Some(location) = map.locate(&pointer) {
                    diagnostic = diagnostic.with_related(location, label);
                }
            }
            diagnostics.push(diagnostic);
        }
    }
    let assurance = if structurally_complete {
        let (assurance, problems) = crate::assurance::Assurance::resolve(written, &state, &map);
        diagnostics.extend(problems);
        assurance
    } else {
        crate::assurance::Assurance::default()
    };
    let sensitive_spans = sensitive_spans(&state, &map, &inline_attributes, &texts);
    diagnostics.sort_by_key(Diagnostic::sort_key);
    diagnostics.dedup();
    let digest = format!("sha256:{}", hex(&digest.finalize()));
    Ok(Loaded {
        state,
        source_map: map,
        diagnostics,
        texts,
        sensitive_spans,
        digest,
        assurance,
        skipped,
        line_starts: std::sync::OnceLock::new(),
    })
}

/// Adds an error at each `FILL-IN-SENSITIVE-VALUE` left by `import --redact-sensitive`:
/// applying one would overwrite the real value with the placeholder. Run by the commands
/// that load a config from a path (the CLI), after [`load`].
pub fn refuse_redaction_placeholders(loaded: &mut Loaded) {
    let placeholder = crate::export::SENSITIVE_PLACEHOLDER;
    let mut found = Vec::new();
    for (file, text) in &loaded.texts {
        for (index, line) in text.lines().enumerate() {
            if let Some(column) = line.find(placeholder) {
                let column = line[..column].chars().count() + 1;
                found.push(
                    Diagnostic::error(
                        RuleId::RedactionPlaceholder,
                        Some(Location {
                            file: file.clone(),
                            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                            column: u32::try_from(column).unwrap_or(u32::MAX),
                        }),
                        format!(
                            "`{placeholder}` is a placeholder from `import --redact-sensitive`, not a value"
                        ),
                    )
                    .with_hint(Some(
                        "fill in the real sensitive value (or remove the attribute) before `plan` or `apply`"
                            .to_string(),
                    )),
                );
            }
        }
    }
    if !found.is_empty() {
        loaded.diagnostics.extend(found);
        loaded.diagnostics.sort_by_key(Diagnostic::sort_key);
    }
}

/// The byte offset where each line of `text` starts: looking a line up then costs a
/// slice, not a scan from the top (a file with thousands of diagnostics or sensitive
/// values would otherwise be read once for each).
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
    starts
}

/// Line `number` (1-based) of `text`, without its line break, given its [`line_starts`].
fn line_at<'a>(text: &'a str, starts: &[usize], number: u32) -> Option<&'a str> {
    let index = (number as usize).checked_sub(1)?;
    let start = *starts.get(index)?;
    if start >= text.len() {
        return None; // past the end, or the empty "line" after a final line break
    }
    let end = starts.get(index + 1).map_or(text.len(), |next| next - 1);
    let line = text.get(start..end)?;
    Some(line.strip_suffix('\r').unwrap_or(line))
}

/// Where the first member past a seat limit was written, in file order (the rules, which
/// know no files, name the one past it in email order). `at` is a member pointer; the
/// limit and the members counted follow from the violation's rule.
fn first_past_limit(state: &State, map: &SourceMap, at: &crate::model::Pointer) -> Option<Location> {
    let segments = at.segments();
    let [_, portal, email] = segments.as_slice() else {
        return None;
    };
    let member = state.members.get(&(portal.clone(), email.clone()))?;
    // The org limit when the member's org has one and is over it, else the portal's.
    let (limit, keys): (u32, Vec<(String, String)>) = match member
        .org
        .as_ref()
        .and_then(|org| state.partner_orgs.get(org).map(|o| (org, o)))
        .and_then(|(org, o)| o.max_members.map(|limit| (org, limit)))
    {
        Some((org, limit))
            if state.portals.get(portal).and_then(|p| p.max_members).is_none()
                || state
                    .members
                    .iter()
                    .filter(|(_, m)| m.org.as_ref() == Some(org))
                    .count()
                    > limit as usize =>
        {
            let keys = state
                .members
                .iter()
                .filter(|(_, m)| m.org.as_ref() == Some(org))
                .map(|(key, _)| key.clone())
                .collect();
            (limit, keys)
        }
        _ => {
            let limit = state.portals.get(portal)?.max_members?;
            let keys = state
                .members
                .range((portal.clone(), String::new())..)
                .take_while(|((p, _), _)| p == portal)
                .map(|(key, _)| key.clone())
                .collect();
            (limit, keys)
        }
    };
    let mut places: Vec<(String, Location)> = keys
        .iter()
        .filter_map(|(p, e)| {
            map.locate(&crate::model::Pointer::member(p, e))
                .map(|l| (e.clone(), l))
        })
        .collect();
    places.sort_by(|a, b| (&a.1.file, a.1.line, a.1.column).cmp(&(&b.1.file, b.1.line, b.1.column)));
    // Seats are partners: count each email once, in file order.
    let mut seen = std::collections::HashSet::new();
    places
        .into_iter()
        .filter(|(email, _)| seen.insert(email.clone()))
        .nth(limit as usize)
        .map(|(_, location)| location)
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An `io::Write` that only feeds a SHA-256: what is hashed as it is serialised is never
/// held whole (a million-change batch, a report's rows).
pub struct Sha256Writer(pub Sha256);

impl std::io::Write for Sha256Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where each sensitive inline attribute value stands, so snippets can hide it.
fn sensitive_spans(
    state: &State,
    map: &SourceMap,
    inline_attributes: &[(String, u32, Position)],
    texts: &BTreeMap<String, String>,
) -> std::collections::HashMap<(String, u32), Vec<(u32, usize)>> {
    let mut spans: std::collections::HashMap<(String, u32), Vec<(u32, usize)>> =
        std::collections::HashMap::new();
    let mut indexes: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (key, file, at) in inline_attributes {
        if !state
            .attributes
            .get(key)
            .is_some_and(|attribute| attribute.sensitive)
        {
            continue;
        }
        let file = map.file_name(*file);
        let Some(text) = texts.get(file) else {
            continue;
        };
        let starts = indexes.entry(file).or_insert_with(|| line_starts(text));
        let Some(line) = line_at(text, starts, at.line) else {
            continue;
        };
        let rest: String = line
            .chars()
            .skip((at.column as usize).saturating_sub(1))
            .collect();
        spans
            .entry((file.to_string(), at.line))
            .or_default()
            .push((at.column, scalar_length(&rest)));
    }
    spans
}

/// The length in characters of the scalar at the start of `rest`: a quoted string up to
/// its closing quote, or a plain value up to `,`, `}`, `]`, ` #` or the end of the line.
fn scalar_length(rest: &str) -> usize {
    let mut chars = rest.chars();
    match chars.next() {
        Some(quote @ ('"' | '\'')) => {
            let mut length = 1;
            let mut escaped = false;
            for c in chars {
                length += 1;
                if c == quote && !escaped {
                    break;
                }
                escaped = quote == '"' && c == '\\' && !escaped;
            }
            length
        }
        _ => {
            let plain: String = rest
                .chars()
                .take_while(|c| !matches!(c, ',' | '}' | ']'))
                .collect();
            let plain = plain.split(" #").next().unwrap_or("");
            plain.trim_end().chars().count()
        }
    }
}

#[cfg(test)]
mod line_tests {
    use super::{line_at, line_starts};

    #[test]
    fn finds_lines_like_str_lines() {
        for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\nc\n", "é\nü"] {
            let starts = line_starts(text);
            let expected: Vec<&str> = text.lines().collect();
            let found: Vec<&str> = (1..=expected.len() as u32 + 2)
                .map_while(|number| line_at(text, &starts, number))
                .collect();
            assert_eq!(found, expected, "{text:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MemorySource;

    #[test]
    fn snippets_hide_sensitive_values() {
        let yaml = "workspace: {name: A}\nattributes:\n  secret: {type: string, sensitive: true}\nportals:\n  p:\n    name: P\n    color: \"#000000\"\n    logout_url: https://a.io/\n    members:\n      - email: a@x.com\n        role: viwer\n        attributes: { secret: K-SECRET-1 }\n      - email: b@x.com\n        role: viewer\n        attributes: {secret: \"K-SECRET-2\"}\n";
        let source = MemorySource::default().with("c.yaml", yaml);
        let loaded = load(&source, CalendarDate::from_ymd(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(
            loaded.source_line("c.yaml", 12).unwrap(),
            "        attributes: { secret: (sensitive) }"
        );
        assert_eq!(
            loaded.source_line("c.yaml", 15).unwrap(),
            "        attributes: {secret: (sensitive)}"
        );
        assert_eq!(loaded.source_line("c.yaml", 11).unwrap(), "        role: viwer");
    }

    /// Issue 21 audit, gap 1: a partner org's sensitive value showed in clear in the
    /// snippet of a diagnostic on its line.
    #[test]
    fn snippets_hide_sensitive_values_of_partner_orgs() {
        let yaml = "workspace: {name: A}\nattributes:\n  secret: {type: string, sensitive: true}\npartner_orgs:\n  globex:\n    domains: [globex.com]\n    attributes: { secret: ORG-SECRET-1, nope: x }\n";
        let source = MemorySource::default().with("c.yaml", yaml);
        let loaded = load(&source, CalendarDate::from_ymd(2026, 1, 1).unwrap()).unwrap();
        assert!(
            loaded.has_errors(),
            "the undeclared attribute is an error on that line"
        );
        assert_eq!(
            loaded.source_line("c.yaml", 7).unwrap(),
            "    attributes: { secret: (sensitive), nope: x }"
        );
    }
}

#[cfg(test)]
mod dry_yaml_tests {
    use super::*;
    use crate::config::MemorySource;

    fn load_one(yaml: &str) -> Loaded {
        let source = MemorySource::default().with("c.yaml", yaml);
        load(&source, CalendarDate::from_ymd(2026, 1, 1).unwrap()).unwrap()
    }

    #[test]
    fn merge_keys_and_x_holders_load_and_errors_point_at_the_anchor() {
        let yaml = "workspace: {name: A}\nx-defaults: &portal_defaults\n  color: \"#0F62FE\"\n  logout_url: https://a.io/\n  session_ttl: 12h\nportals:\n  p:\n    <<: *portal_defaults\n    name: P\n  q:\n    <<: [*portal_defaults]\n    name: Q\n    color: \"#112233\"\n";
        let loaded = load_one(yaml);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        assert_eq!(loaded.state.portals["p"].color, "#0F62FE");
        assert_eq!(loaded.state.portals["q"].color, "#112233");
        // a bad merged value is reported where it was written: the anchor's line
        let loaded = load_one(&yaml.replace("https://a.io/", "http://a.io/"));
        let error = loaded.errors().next().expect("an error");
        assert_eq!(error.location.as_ref().unwrap().line, 4, "{error:?}");
        // a schema error in a merged value too
        let loaded = load_one(&yaml.replace("session_ttl: 12h", "session_ttl: [12h]"));
        let error = loaded.errors().next().expect("an error");
        assert_eq!(error.location.as_ref().unwrap().line, 5, "{error:?}");
    }

    #[test]
    fn only_top_level_x_keys_are_ignored() {
        let yaml = "workspace: {name: A, x-note: hi}\nx-anything: [1, 2]\n";
        let loaded = load_one(yaml);
        let error = loaded.errors().next().expect("nested x- keys stay unknown");
        assert_eq!(error.location.as_ref().unwrap().line, 1);
        assert!(!load_one("workspace: {name: A}\nx-anything: [1, 2]\n").has_errors());
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;
    use crate::config::MemorySource;

    const TEMPLATES: &str = "workspace: {name: A}\nportal_templates:\n  partner-default:\n    color: \"#0F62FE\"\n    logout_url: https://acme.io/bye\n    session_ttl: 12h\n    require_2fa: true\n    texts:\n      initiation: Welcome\n      help_url: https://acme.io/help\n";

    fn load_files(files: &[(&str, &str)]) -> Loaded {
        let mut source = MemorySource::default();
        for (path, text) in files {
            source = source.with(path, text);
        }
        load(&source, CalendarDate::from_ymd(2026, 1, 1).unwrap()).unwrap()
    }

    /// Regression (issue 21, defect 8): a syntax error in one file hid every other problem
    /// (a bad colour and a role typo elsewhere), without a hint.
    #[test]
    fn a_syntax_error_in_one_file_hides_no_other_problem() {
        let access = "groups:\n  finance:\n   description: x: y\n    members: []\n";
        let portals = "roles:\n  analyst: {extends: editor}\nportals:\n  globex:\n    template: partner-default\n    name: Globex\n    color: \"#12345\"\n    members:\n      - {email: a@globex.com, role: analyts}\n";
        let loaded = load_files(&[
            ("a.yaml", TEMPLATES),
            ("access.yaml", access),
            ("b.yaml", portals),
        ]);
        let rules: Vec<RuleId> = loaded.errors().map(|d| d.rule).collect();
        assert_eq!(
            rules,
            [RuleId::YamlSyntax, RuleId::PortalColor, RuleId::MemberUnknownRole],
            "{:#?}",
            loaded.diagnostics
        );
        let syntax = loaded.errors().next().unwrap();
        assert!(
            syntax.hint.as_deref().is_some_and(|hint| hint.contains("indent")),
            "{syntax:?}"
        );
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(
            loaded.skipped[0].message(),
            "checks across files that read `groups` were skipped: access.yaml could not be loaded"
        );
    }

    /// Regression (issue 21, defect 9): a portal split across two files gave "missing
    /// required key `name`" and a misleading did-you-mean.
    #[test]
    fn a_portal_split_across_two_files_is_named_as_such() {
        let first = "portals:\n  globex:\n    template: partner-default\n    name: Globex\n";
        let second = "portals:\n  globex:\n    members:\n      - {email: a@globex.com, role: viewer}\n";
        for (one, two) in [("b.yaml", "c.yaml"), ("c.yaml", "b.yaml")] {
            let loaded = load_files(&[("a.yaml", TEMPLATES), (one, first), (two, second)]);
            let errors: Vec<_> = loaded.errors().collect();
            assert_eq!(errors.len(), 1, "{errors:#?}");
            assert_eq!(errors[0].rule, RuleId::DefinedTwice);
            assert_eq!(
                errors[0].message,
                format!("portal `globex` is declared in two files: {one} and here")
            );
            assert_eq!(errors[0].location.as_ref().unwrap().file, two);
            assert_eq!(errors[0].related[0].location.file, one, "{:?}", errors[0].related);
        }
    }

    #[test]
    fn portals_inherit_template_values_and_their_own_win() {
        let portals = "portals:\n  globex:\n    template: partner-default\n    name: Globex\n    color: \"#112233\"\n    texts: {first_login: Hello}\n";
        let loaded = load_files(&[("a.yaml", TEMPLATES), ("b.yaml", portals)]);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let globex = &loaded.state.portals["globex"];
        assert_eq!(globex.color, "#112233");
        assert_eq!(globex.logout_url, "https://acme.io/bye");
        assert_eq!(globex.session_ttl.to_string(), "12h");
        assert!(globex.require_2fa);
        assert_eq!(globex.texts.initiation.as_deref(), Some("Welcome"));
        assert_eq!(globex.texts.first_login.as_deref(), Some("Hello"));
        assert_eq!(globex.template.as_deref(), Some("partner-default"));
        assert!(globex.from_template.contains("logout_url") && !globex.from_template.contains("color"));
        assert!(globex.from_template.contains("texts.help_url"));
        // the source map sends inherited fields to the template
        let place = loaded
            .source_map
            .locate(
                &crate::model::Pointer::root()
                    .join("portals")
                    .join("globex")
                    .join("logout_url"),
            )
            .unwrap();
        assert_eq!((place.file.as_str(), place.line), ("a.yaml", 5));
    }

    #[test]
    fn a_template_sets_the_mail_a_portal_sends() {
        let templates = "workspace: {name: A}\nportal_templates:\n  quiet:\n    color: \"#0F62FE\"\n    logout_url: https://acme.io/bye\n    invitations: false\n    removal_notice: true\n";
        let portals = "portals:\n  globex:\n    template: quiet\n    name: Globex\n  initech:\n    template: quiet\n    name: Initech\n    invitations: true\n  hooli:\n    name: Hooli\n    color: \"#000000\"\n    logout_url: https://hooli.com/bye\n";
        let loaded = load_files(&[("a.yaml", templates), ("b.yaml", portals)]);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let portals = &loaded.state.portals;
        assert!(!portals["globex"].invitations && portals["globex"].removal_notice);
        assert!(portals["globex"].from_template.contains("invitations"));
        assert!(portals["initech"].invitations && portals["initech"].removal_notice);
        assert!(portals["hooli"].invitations && !portals["hooli"].removal_notice);
        // Exported and loaded again, every portal keeps its settings.
        let export = crate::export::export(&loaded.state, false);
        let mut source = MemorySource::default();
        for (path, text) in &export.files {
            source = source.with(path, text);
        }
        let again = load(&source, CalendarDate::from_ymd(2026, 1, 1).unwrap()).unwrap();
        assert!(!again.has_errors(), "{:?}", again.diagnostics);
        for name in ["globex", "initech", "hooli"] {
            let (before, after) = (&portals[name], &again.state.portals[name]);
            assert_eq!(
                (before.invitations, before.removal_notice),
                (after.invitations, after.removal_notice),
                "{name}"
            );
        }
    }

    #[test]
    fn an_error_in_a_template_stands_at_its_line_and_names_a_portal() {
        let templates = TEMPLATES.replace("https://acme.io/help", "http://acme.io/help");
        let portals = "portals:\n  globex:\n    template: partner-default\n    name: Globex\n";
        let loaded = load_files(&[("a.yaml", &templates), ("b.yaml", portals)]);
        let error = loaded.errors().next().expect("an error");
        let place = error.location.as_ref().unwrap();
        assert_eq!((place.file.as_str(), place.line), ("a.yaml", 10), "{error:?}");
        assert!(
            error.message.contains("partner-default") && error.message.contains("globex"),
            "{error:?}"
        );
    }

    #[test]
    fn unknown_templates_and_missing_fields_are_reported() {
        let portals = "portals:\n  globex:\n    template: partner-defualt\n    name: Globex\n";
        let loaded = load_files(&[("a.yaml", TEMPLATES), ("b.yaml", portals)]);
        let error = loaded
            .errors()
            .find(|e| e.message.contains("unknown portal template"))
            .expect("an error");
        assert_eq!(error.location.as_ref().unwrap().line, 3);
        assert!(
            error
                .hint
                .as_deref()
                .unwrap_or_default()
                .contains("partner-default"),
            "{error:?}"
        );
        let loaded = load_files(&[(
            "b.yaml",
            "workspace: {name: A}\nportals:\n  globex:\n    name: Globex\n    logout_url: https://a.io/\n",
        )]);
        assert!(
            loaded
                .errors()
                .any(|e| e.message.contains("does not set `color`")),
            "{:?}",
            loaded.diagnostics
        );
    }

    #[test]
    fn texts_are_checked() {
        let long = "x".repeat(2001);
        let portals = format!(
            "portals:\n  globex:\n    template: partner-default\n    name: Globex\n    texts:\n      first_login: {long}\n"
        );
        let loaded = load_files(&[("a.yaml", TEMPLATES), ("b.yaml", &portals)]);
        let error = loaded.errors().next().expect("an error");
        assert_eq!(error.location.as_ref().unwrap().line, 6);
        assert!(error.message.contains("maxLength"), "{error:?}");
    }

    #[test]
    fn seat_limits_point_at_the_first_member_past_them_in_file_order() {
        let portals = "partner_orgs:\n  globex: {domains: [globex.com], max_members: 5}\nportals:\n  globex:\n    template: partner-default\n    name: Globex\n    max_members: 2\n    members:\n      - {email: zed@globex.com, role: viewer, org: globex}\n      - {email: yan@globex.com, role: viewer, org: globex}\n      - {email: abe@globex.com, role: viewer, org: globex}\n      - {email: bob@globex.com, role: viewer, org: globex}\n";
        let loaded = load_files(&[("a.yaml", TEMPLATES), ("b.yaml", portals)]);
        let errors: Vec<_> = loaded.errors().collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location.as_ref().unwrap().line, 11, "{errors:?}");
        assert!(errors[0].message.contains("allows 2"), "{errors:?}");
        // Regression (issue 21, defect 7): the message named the member past the limit in
        // email order (yan) while pointing at the one in file order (abe, line 11).
        assert_eq!(
            errors[0].message, "portal `globex` allows 2 member(s) and has 4: this is member 3",
            "{errors:?}"
        );
        // the org limit, across portals
        let loaded = load_files(&[
            ("a.yaml", TEMPLATES),
            (
                "b.yaml",
                &portals
                    .replace("max_members: 5", "max_members: 1")
                    .replace("    max_members: 2\n", ""),
            ),
        ]);
        let errors: Vec<_> = loaded.errors().collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location.as_ref().unwrap().line, 9, "{errors:?}");
    }
}

#[cfg(test)]
mod csv_mask_tests {
    use super::*;
    use crate::config::MemorySource;

    #[test]
    fn roster_snippets_hide_sensitive_cells() {
        let yaml = "workspace: {name: A}\nattributes:\n  secret: {type: string, sensitive: true}\nportals:\n  p:\n    name: P\n    color: \"#000000\"\n    logout_url: https://a.io/\n    members:\n      - from_csv: r.csv\n";
        let csv = "email,role,attributes.secret\na@x.com,viwer,K-SECRET-1\n";
        let source = MemorySource::default().with("c.yaml", yaml).with("r.csv", csv);
        let loaded = load(&source, CalendarDate::from_ymd(2026, 1, 1).unwrap()).unwrap();
        let role_error = loaded
            .diagnostics
            .iter()
            .find(|d| d.message.contains("viwer"))
            .expect("a role error");
        let location = role_error.location.as_ref().unwrap();
        assert_eq!(
            (location.file.as_str(), location.line, location.column),
            ("r.csv", 2, 9)
        );
        assert_eq!(
            loaded.source_line("r.csv", 2).unwrap(),
            "a@x.com,viwer,(sensitive)"
        );
    }
}

/// Top-level keys starting with `x-` are the user's own (the docker-compose convention,
/// mostly holders for anchors: `x-defaults: &defaults`); they are dropped before the
/// schema sees the file.
fn without_extension_keys(root: yaml::Node) -> yaml::Node {
    match root.value {
        yaml::Value::Map(entries) => yaml::Node {
            value: yaml::Value::Map(
                entries
                    .into_iter()
                    .filter(|(key, _)| !key.text.starts_with(EXTENSION_PREFIX))
                    .collect(),
            ),
            at: root.at,
        },
        _ => root,
    }
}

/// The prefix of top-level keys portalctl ignores (see [`without_extension_keys`]).
pub const EXTENSION_PREFIX: &str = "x-";

/// What reading one YAML file gave.
struct FileOutcome {
    display: String,
    text: Option<String>,
    diagnostics: Vec<Diagnostic>,
    parsed: Option<(yaml::Node, super::document::ConfigFile)>,
    /// The portals the file declares: each key's place and the line its entry ends before.
    portals: Vec<PortalPart>,
}

struct PortalPart {
    name: String,
    at: Position,
    end_line: u32,
}

/// A portal declared in two files is reported as such, instead of the schema errors of
/// the part that lacks the required fields (which the other part has): `missing required
/// key name` and a did-you-mean would send the reader the wrong way.
fn portals_split_across_files(outcomes: &mut [FileOutcome]) {
    let mut places: BTreeMap<String, Vec<Location>> = BTreeMap::new();
    for outcome in outcomes.iter() {
        for part in &outcome.portals {
            places.entry(part.name.clone()).or_default().push(Location {
                file: outcome.display.clone(),
                line: part.at.line,
                column: part.at.column,
            });
        }
    }
    for outcome in outcomes.iter_mut() {
        for part in &outcome.portals {
            let Some(declared) = places
                .get(&part.name)
                .and_then(|places| places.iter().find(|place| place.file != outcome.display))
            else {
                continue;
            };
            let inside = |diagnostic: &Diagnostic| {
                diagnostic.rule == RuleId::Schema
                    && diagnostic
                        .location
                        .as_ref()
                        .is_some_and(|at| at.line >= part.at.line && at.line < part.end_line)
            };
            if !outcome.diagnostics.iter().any(inside) {
                continue; // a complete second declaration: the merge reports it as defined twice
            }
            outcome.diagnostics.retain(|diagnostic| !inside(diagnostic));
            outcome.diagnostics.push(
                Diagnostic::error(
                    RuleId::DefinedTwice,
                    Some(Location {
                        file: outcome.display.clone(),
                        line: part.at.line,
                        column: part.at.column,
                    }),
                    format!(
                        "portal `{}` is declared in two files: {} and here",
                        part.name, declared.file
                    ),
                )
                .with_hint(Some(format!(
                    "a portal is declared once: move these fields (members too) under `{}` in {}",
                    part.name, declared.file
                )))
                .with_related(declared.clone(), "first declared here"),
            );
        }
    }
}

/// Reads, parses and schema-checks one file.
fn read_file(source: &dyn ConfigSource, path: &Path) -> FileOutcome {
    let display = source.display(path);
    let at = |position: Position| Location {
        file: display.clone(),
        line: position.line,
        column: position.column,
    };
    let mut outcome = FileOutcome {
        display: display.clone(),
        text: None,
        diagnostics: Vec::new(),
        parsed: None,
        portals: Vec::new(),
    };
    let text = match source.read(path) {
        Ok(text) => text,
        Err(error) => {
            outcome.diagnostics.push(Diagnostic::error(
                RuleId::UnreadableFile,
                Some(at(Position { line: 1, column: 1 })),
                format!("cannot read the file: {error}"),
            ));
            return outcome;
        }
    };
    let parsed = yaml::parse(&text);
    outcome.text = Some(text);
    let root = match parsed {
        Ok(root) => root,
        Err(error) => {
            let mut diagnostic = Diagnostic::error(RuleId::YamlSyntax, Some(at(error.at)), error.message);
            if let Some(first) = error.first {
                diagnostic = diagnostic.with_related(at(first), "first defined here");
            } else {
                diagnostic = diagnostic.with_hint(Some(
                    "YAML nests by indentation: check that this line and the one above are indented as their neighbours are, and quote a value that holds `: ` or starts with `{`, `[`, `*` or `&`"
                        .to_string(),
                ));
            }
            outcome.diagnostics.push(diagnostic);
            return outcome;
        }
    };
    if root.value == yaml::Value::Null {
        return outcome; // an empty file (or only comments) declares nothing
    }
    let root = without_extension_keys(root);
    if let Some(yaml::Value::Map(portals)) = root.get("portals").map(|node| &node.value) {
        let mut starts: Vec<(String, Position)> = portals
            .iter()
            .map(|(key, _)| (key.text.clone(), key.at))
            .collect();
        starts.sort_by_key(|(_, at)| at.line);
        for (index, (name, at)) in starts.iter().enumerate() {
            let end = starts.get(index + 1).map_or(u32::MAX, |(_, next)| next.line);
            outcome.portals.push(PortalPart {
                name: name.clone(),
                at: *at,
                end_line: end,
            });
        }
    }
    let problems = schema_check::check(&root);
    if !problems.is_empty() {
        for problem in problems {
            outcome.diagnostics.push(
                Diagnostic::error(RuleId::Schema, Some(at(problem.at)), problem.message)
                    .with_hint(problem.hint),
            );
        }
        return outcome;
    }
    match serde_json::from_value(root.to_json()) {
        Ok(doc) => outcome.parsed = Some((root, doc)),
        Err(error) => {
            outcome.diagnostics.push(Diagnostic::error(
                RuleId::Schema,
                Some(at(root.at)),
                format!("unexpected content: {error}"),
            ));
        }
    }
    outcome
}
