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
