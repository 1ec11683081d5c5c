//! The portal's own file in git, for *try it*'s unified diff: `apply` records the commit it
//! read (`meta.commit`); with `serve --config-repo PATH` the console reads that commit's
//! YAML files ([`ConfigFiles`], implemented by the binary over `portalctl-sources`, so this
//! crate needs no git), finds the file declaring `portals.NAME` and edits the tried keys
//! in place, line by line, keeping the user's comments and layout. Without a repository,
//! a recorded commit, or a block-style declaration of the portal, the page says why and
//! shows the snippet alone.

use similar::TextDiff;

/// The YAML files of the config at a commit.
pub trait ConfigFiles: Send + Sync + std::fmt::Debug {
    /// Every YAML file of the config directory at `commit` (its path under the directory,
    /// its text), or why it cannot be read.
    ///
    /// # Errors
    /// The commit is not in the repository; the repository cannot be read.
    fn yaml_at(&self, commit: &str) -> Result<Vec<(String, String)>, String>;
}

/// One key to write under `portals.NAME`: its path below the portal (`["color"]`,
/// `["texts", "help_url"]`) and its YAML value.
pub type Edit = (Vec<&'static str>, String);

/// The path of mapping keys a block-style line sits at, given the keys above it; `None`
/// for blank lines, comments, list items and flow style.
fn key_path(stack: &mut Vec<(usize, String)>, line: &str) -> Option<Vec<String>> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
        return None;
    }
    let indent = line.len() - trimmed.len();
    let (key, _) = trimmed.split_once(':')?;
    while stack.last().is_some_and(|(at, _)| *at >= indent) {
        stack.pop();
    }
    stack.push((indent, key.trim().trim_matches('"').to_string()));
    Some(stack.iter().map(|(_, key)| key.clone()).collect())
}

/// `text` with `edits` written under `portals.{portal}`, or `None` when the file does not
/// declare the portal in block style.
pub fn edit_portal(text: &str, portal: &str, edits: &[Edit]) -> Option<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let paths: Vec<Option<Vec<String>>> = {
        let mut stack = Vec::new();
        lines.iter().map(|line| key_path(&mut stack, line)).collect()
    };
    let is = |path: &Option<Vec<String>>, want: &[&str]| {
        path.as_ref()
            .is_some_and(|path| path.len() == want.len() && path.iter().zip(want).all(|(a, b)| a == b))
    };
    let portal_at = paths.iter().position(|path| is(path, &["portals", portal]))?;
    let portal_line = &lines[portal_at];
    if !portal_line.trim_end().ends_with(':') {
        return None; // flow style (`globex: { … }`)
    }
    let child_indent = portal_line.len() - portal_line.trim_start().len() + 2;
    // Edits are applied bottom-up in the file so that earlier positions stay valid;
    // new keys go right below the portal's line.
    let mut replacements: Vec<(usize, String)> = Vec::new();
    let mut insertions: Vec<String> = Vec::new();
    for (keys, value) in edits {
        let mut want = vec!["portals", portal];
        want.extend(keys.iter().copied());
        let leaf = keys.last().copied().unwrap_or_default();
        match paths.iter().position(|path| is(path, &want)) {
            Some(at) => {
                let indent = lines[at].len() - lines[at].trim_start().len();
                let comment = lines[at]
                    .find(" #")
                    .map(|at_comment| lines[at][at_comment..].to_string())
                    .unwrap_or_default();
                replacements.push((at, format!("{}{leaf}: {value}{comment}", " ".repeat(indent))));
            }
            None if keys.len() == 1 => {
                insertions.push(format!("{}{leaf}: {value}", " ".repeat(child_indent)));
            }
            None => {
                let parent = keys[0];
                let mut parent_path = vec!["portals", portal, parent];
                match paths.iter().position(|path| is(path, &parent_path)) {
                    Some(at) => {
                        let indent = lines[at].len() - lines[at].trim_start().len() + 2;
                        replacements.push((
                            at,
                            format!("{}\n{}{leaf}: {value}", lines[at], " ".repeat(indent)),
                        ));
                    }
                    None => {
                        parent_path.clear();
                        insertions.push(format!(
                            "{}{parent}:\n{}{leaf}: {value}",
                            " ".repeat(child_indent),
                            " ".repeat(child_indent + 2)
                        ));
                    }
                }
            }
        }
    }
    for (at, line) in replacements {
        lines[at] = line;
    }
    if !insertions.is_empty() {
        lines[portal_at] = format!("{}\n{}", lines[portal_at], insertions.join("\n"));
    }
    let mut edited = lines.join("\n");
    if text.ends_with('\n') {
        edited.push('\n');
    }
    Some(edited)
}

/// The unified diff of the portal's file at `commit` with `edits` written in, and the
/// file's path; or why there is none.
///
/// # Errors
/// Why only the snippet can be shown, in a sentence.
pub fn portal_file_diff(
    files: &dyn ConfigFiles,
    commit: &str,
    portal: &str,
    edits: &[Edit],
) -> Result<(String, String), String> {
    let yaml = files
        .yaml_at(commit)
        .map_err(|error| format!("the commit `{commit}` that apply recorded cannot be read: {error}"))?;
    for (path, text) in &yaml {
        let mut stack = Vec::new();
        let declares = text
            .lines()
            .any(|line| key_path(&mut stack, line).is_some_and(|found| found == ["portals", portal]));
        if !declares {
            continue;
        }
        let Some(edited) = edit_portal(text, portal, edits) else {
            return Err(format!(
                "`{path}` declares portals.{portal} in flow style (`{{ … }}`), which the console does not edit"
            ));
        };
        let diff = TextDiff::from_lines(text.as_str(), edited.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        return Ok((path.clone(), diff));
    }
    Err(format!(
        "no YAML file of commit `{commit}` declares portals.{portal} (a file of another directory?)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# Globex
portals:
  globex:
    template: partner-default # shared values
    name: Globex Partner Portal
    color: \"#0F62FE\" # brand blue
    members:
      - email: alice@globex.com
        role: viewer
";

    #[derive(Debug)]
    struct Files;
    impl ConfigFiles for Files {
        fn yaml_at(&self, commit: &str) -> Result<Vec<(String, String)>, String> {
            match commit {
                "c1" => Ok(vec![
                    ("workspace.yaml".into(), "workspace:\n  name: Acme\n".into()),
                    ("portals/globex.yaml".into(), FILE.into()),
                ]),
                _ => Err("unknown revision".into()),
            }
        }
    }

    #[test]
    fn keys_are_replaced_in_place_and_missing_ones_added_under_the_portal() {
        let edited = edit_portal(
            FILE,
            "globex",
            &[
                (vec!["color"], "\"#FF0000\"".into()),
                (vec!["home_cover"], "\"https://cdn/x.png\"".into()),
                (vec!["texts", "help_url"], "\"https://help\"".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            edited,
            "# Globex\nportals:\n  globex:\n    home_cover: \"https://cdn/x.png\"\n    texts:\n      help_url: \"https://help\"\n    template: partner-default # shared values\n    name: Globex Partner Portal\n    color: \"#FF0000\" # brand blue\n    members:\n      - email: alice@globex.com\n        role: viewer\n"
        );
        assert_eq!(
            edit_portal("portals:\n  globex: { name: G }\n", "globex", &[]),
            None
        );
    }

    #[test]
    fn the_diff_names_the_file_or_says_why_there_is_none() {
        let (path, diff) =
            portal_file_diff(&Files, "c1", "globex", &[(vec!["color"], "\"#FF0000\"".into())]).unwrap();
        assert_eq!(path, "portals/globex.yaml");
        assert!(
            diff.starts_with("--- a/portals/globex.yaml\n+++ b/portals/globex.yaml\n@@"),
            "{diff}"
        );
        assert!(
            diff.contains("-    color: \"#0F62FE\" # brand blue\n+    color: \"#FF0000\" # brand blue\n"),
            "{diff}"
        );
        let why = portal_file_diff(&Files, "c2", "globex", &[]).unwrap_err();
        assert!(why.contains("cannot be read: unknown revision"), "{why}");
        let why = portal_file_diff(&Files, "c1", "contoso", &[]).unwrap_err();
        assert!(why.contains("declares portals.contoso"), "{why}");
    }
}
