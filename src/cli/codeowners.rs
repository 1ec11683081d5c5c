//! `portalctl codeowners`: the CODEOWNERS lines that make a code host require the owners
//! of what each config file declares, and of the grants each review file decides on;
//! `validate --codeowners FILE` fails when they are stale.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use super::output::UserError;
use super::output::say;
use super::{ExitStatus, context};
use portalctl_core::assurance::{codeowners, review};
use portalctl_core::config::{ConfigSource, Diagnostic, Loaded};
use portalctl_sources::DirSource;

#[derive(Debug, Args)]
#[command(after_help = "\
portalctl writes one block between `# BEGIN portalctl codeowners` and `# END portalctl codeowners`; \
the other lines of the file are kept. Code hosts apply the last matching line, so the block is \
appended at the end of a file that has none.")]
pub struct CodeownersArgs {
    /// Config directory (every *.yaml/*.yml below it) inside a git repository
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Update the block in this CODEOWNERS file (created if missing) instead of printing it
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
}

/// The review files under `reviews/` of the config at `path`, by displayed path, each
/// with the owners of the folders its grants are shared on: who must approve a pull
/// request deciding on them (the owners that are team handles cannot be checked from
/// git, so the code host has to). A file that does not parse is left to `validate`.
fn review_files(path: &Path, loaded: &Loaded) -> BTreeMap<String, BTreeSet<String>> {
    let source = DirSource::new(path);
    let mut files = BTreeMap::new();
    for relative in source.yaml_files().unwrap_or_default() {
        if !review::is_review_path(&relative) {
            continue;
        }
        let shown = source.display(&relative);
        let Ok(text) = source.read(&relative) else {
            continue;
        };
        if let (Some(parsed), _) = review::parse(&shown, &text) {
            let owners = review::approvers(&parsed, &loaded.assurance.owners);
            if !owners.is_empty() {
                files.insert(shown, owners);
            }
        }
    }
    files
}

/// The block for a loaded config: its files' paths from the repository root (or from the
/// current directory outside git), and its review files'.
pub fn block(path: &Path, loaded: &Loaded) -> String {
    let root = portalctl_sources::git::workdir(path);
    let mut files = loaded.assurance.owners.by_file(&loaded.state, &loaded.source_map);
    files.extend(review_files(path, loaded));
    let files = files
        .into_iter()
        .map(|(file, owners)| {
            let shown = root
                .as_ref()
                .and_then(|root| {
                    let absolute = std::fs::canonicalize(&file).ok()?;
                    absolute.strip_prefix(root).ok().map(Path::to_path_buf)
                })
                .unwrap_or_else(|| PathBuf::from(&file));
            let shown = shown
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            (shown, owners)
        })
        .collect();
    codeowners::block(&files)
}

/// An error when `file` lacks the current block (for `validate --codeowners`).
pub fn check(path: &Path, loaded: &Loaded, file: &Path) -> Option<Diagnostic> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    codeowners::stale(
        &file.display().to_string(),
        &text,
        &block(path, loaded),
        &path.display().to_string(),
    )
}

pub fn run(args: CodeownersArgs, session: &context::Session) -> anyhow::Result<ExitStatus> {
    let Some(loaded) = context::load_valid_config(&args.path, session.today)? else {
        return Ok(ExitStatus::Failure);
    };
    if loaded.assurance.owners.is_empty() {
        super::output::warning("the config declares no `owners:`; the block is empty");
    }
    let block = block(&args.path, &loaded);
    match &args.write {
        None => print!("{block}"),
        Some(file) => {
            let text = match std::fs::read_to_string(file) {
                Ok(text) => text,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(error) => {
                    return Err(UserError::new(
                        format!("cannot read `{}`: {error}", file.display()),
                        "check the path of the CODEOWNERS file",
                    )
                    .into());
                }
            };
            let updated = codeowners::splice(&text, &block);
            if updated == text {
                say!("{} is up to date", file.display());
            } else {
                std::fs::write(file, updated)
                    .with_context(|| format!("cannot write `{}`", file.display()))?;
                say!("updated the portalctl block of {}", file.display());
            }
        }
    }
    session.retain(loaded);
    Ok(ExitStatus::Success)
}
