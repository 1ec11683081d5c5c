//! Git as the source of truth: reading a config tree at a revision straight from the
//! object database (no checkout, so it works in worktrees, bare and CI clones), and the
//! commit metadata that `apply` sends so the audit log names the reviewed commit.
//!
//! **Architecture invariant:** read-only; never writes to a repository, never touches
//! the network (git2 is built without it).

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, StatusOptions, TreeWalkMode, TreeWalkResult};

use portalctl_core::config::MemorySource;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{0}` is not inside a git repository")]
    NotARepository(PathBuf),
    #[error("the repository has no working tree")]
    Bare,
    #[error("revision `{rev}` not found: {message}")]
    UnknownRevision { rev: String, message: String },
    #[error("`{path}` does not exist at revision `{rev}`")]
    MissingPath { rev: String, path: String },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// The commit a config was taken from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitInfo {
    /// Full hex id of HEAD.
    pub id: String,
    /// `Name <email>` of the commit's author.
    pub author: String,
    /// First line of the commit message.
    pub summary: String,
    /// Whether the config path has uncommitted or untracked changes.
    pub dirty: bool,
}

struct Located {
    repo: Repository,
    /// The config path relative to the working tree root, `/`-separated ("" for the root).
    relative: PathBuf,
}

fn locate(config_path: &Path) -> Result<Located, GitError> {
    let absolute = std::fs::canonicalize(config_path)
        .map_err(|_| GitError::NotARepository(config_path.to_path_buf()))?;
    let repo =
        Repository::discover(&absolute).map_err(|_| GitError::NotARepository(config_path.to_path_buf()))?;
    let workdir = repo.workdir().ok_or(GitError::Bare)?;
    let workdir = std::fs::canonicalize(workdir).map_err(|_| GitError::Bare)?;
    let relative = absolute
        .strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok(Located { repo, relative })
}

/// Reads every YAML and CSV file under `config_path` as it is at `rev`. Displayed paths
/// are prefixed `REV:` so diagnostics say which side of a diff they concern.
pub fn source_at(config_path: &Path, rev: &str) -> Result<MemorySource, GitError> {
    let Located { repo, relative } = locate(config_path)?;
    let object = repo
        .revparse_single(rev)
        .map_err(|error| GitError::UnknownRevision {
            rev: rev.to_string(),
            message: error.message().to_string(),
        })?;
    let tree = object.peel_to_tree()?;
    let (tree, single_file) = if relative.as_os_str().is_empty() {
        (tree, None)
    } else {
        let entry = tree.get_path(&relative).map_err(|_| GitError::MissingPath {
            rev: rev.to_string(),
            path: relative.display().to_string(),
        })?;
        match entry.kind() {
            Some(ObjectType::Tree) => (repo.find_tree(entry.id())?, None),
            _ => {
                let parent = relative.parent().map(Path::to_path_buf).unwrap_or_default();
                let tree = if parent.as_os_str().is_empty() {
                    tree
                } else {
                    repo.find_tree(tree.get_path(&parent)?.id())?
                };
                (tree, relative.file_name().map(PathBuf::from))
            }
        }
    };
    let mut source = MemorySource {
        label: format!("{rev}:"),
        ..MemorySource::default()
    };
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |directory, entry| {
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        if name.starts_with('.') {
            return TreeWalkResult::Skip;
        }
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        let path = PathBuf::from(format!("{directory}{name}"));
        let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        let wanted = match &single_file {
            Some(file) => path == *file || name.ends_with(".csv"),
            None => is_yaml || name.ends_with(".csv"),
        };
        if !wanted {
            return TreeWalkResult::Ok;
        }
        match repo.find_blob(entry.id()) {
            Ok(blob) => {
                let text = String::from_utf8_lossy(blob.content()).into_owned();
                source.files.insert(path, text);
                TreeWalkResult::Ok
            }
            Err(error) => {
                failure = Some(error);
                TreeWalkResult::Abort
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    Ok(source)
}

/// The HEAD commit of the repository holding `config_path`, or `None` outside a repository.
pub fn commit_info(config_path: &Path) -> Result<Option<CommitInfo>, GitError> {
    let Ok(Located { repo, relative }) = locate(config_path) else {
        return Ok(None);
    };
    let Ok(head) = repo.head() else {
        return Ok(None); // a repository with no commits yet
    };
    let commit = head.peel_to_commit()?;
    let author = commit.author();
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if !relative.as_os_str().is_empty() {
        options.pathspec(relative.to_string_lossy().as_ref());
    }
    let dirty = !repo.statuses(Some(&mut options))?.is_empty();
    Ok(Some(CommitInfo {
        id: commit.id().to_string(),
        author: format!(
            "{} <{}>",
            author.name().unwrap_or("unknown"),
            author.email().unwrap_or("unknown")
        ),
        summary: commit.summary().ok().flatten().unwrap_or_default().to_string(),
        dirty,
    }))
}

/// The full id of the commit `rev` names in the repository holding `config_path`.
///
/// # Errors
/// Not in a repository, or no such revision.
pub fn commit_id(config_path: &Path, rev: &str) -> Result<String, GitError> {
    let Located { repo, .. } = locate(config_path)?;
    Ok(named_commit(&repo, rev)?.id().to_string())
}

/// The commit `rev` names in `repo`.
fn named_commit<'r>(repo: &'r git2::Repository, rev: &str) -> Result<git2::Commit<'r>, GitError> {
    repo.revparse_single(rev)
        .and_then(|object| object.peel_to_commit())
        .map_err(|error| GitError::UnknownRevision {
            rev: rev.to_string(),
            message: error.message().to_string(),
        })
}

/// When the commit `rev` names was committed: seconds since the Unix epoch, UTC.
///
/// # Errors
/// Not in a repository, or no such revision.
pub fn commit_time(config_path: &Path, rev: &str) -> Result<i64, GitError> {
    let Located { repo, .. } = locate(config_path)?;
    Ok(named_commit(&repo, rev)?.time().seconds())
}

/// Who last wrote a line of a committed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAuthor {
    pub name: String,
    pub email: String,
    /// Full hex id of the commit.
    pub commit: String,
    /// When the commit was authored: seconds since the Unix epoch, UTC.
    pub time: i64,
}

/// The author of each line (1-based) of `file` as HEAD has it, and whether the file
/// differs from HEAD in the working tree (then line numbers may not match).
///
/// # Errors
/// Not in a repository, or the file is not in HEAD.
pub fn blame(file: &Path) -> Result<(std::collections::BTreeMap<u32, LineAuthor>, bool), GitError> {
    let Located { repo, relative } = locate(file)?;
    let mut status = StatusOptions::new();
    status
        .include_untracked(true)
        .pathspec(relative.to_string_lossy().as_ref());
    let dirty = !repo.statuses(Some(&mut status))?.is_empty();
    let blame = repo.blame_file(&relative, None)?;
    let mut lines = std::collections::BTreeMap::new();
    for hunk in blame.iter() {
        let commit = repo.find_commit(hunk.final_commit_id())?;
        let signature = commit.author();
        let author = LineAuthor {
            name: signature.name().unwrap_or("unknown").to_string(),
            email: signature.email().unwrap_or("unknown").to_string(),
            commit: hunk.final_commit_id().to_string(),
            time: commit.author().when().seconds(),
        };
        let start = u32::try_from(hunk.final_start_line()).unwrap_or(u32::MAX);
        let count = u32::try_from(hunk.lines_in_hunk()).unwrap_or(0);
        for line in start..start.saturating_add(count) {
            lines.insert(line, author.clone());
        }
    }
    Ok((lines, dirty))
}

/// The working tree root of the repository holding `path`, canonical; `None` outside one.
pub fn workdir(path: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(path).ok()?;
    let repo = Repository::discover(&absolute).ok()?;
    std::fs::canonicalize(repo.workdir()?).ok()
}
