//! Where config files come from: a directory on disk, a git tree, or memory (tests).
//! The loader only sees this trait, so it works the same on all of them. The sources that
//! read the file system or git live in `portalctl-sources`; this module holds the trait
//! and the in-memory source.

use std::io;
use std::path::{Path, PathBuf};

/// A set of config files addressed by relative paths with `/` separators.
pub trait ConfigSource: Sync {
    /// Every `*.yaml` / `*.yml` file, in sorted order.
    fn yaml_files(&self) -> io::Result<Vec<PathBuf>>;
    /// The contents of one file (YAML or a CSV roster).
    fn read(&self, path: &Path) -> io::Result<String>;
    /// How paths are shown to the user (e.g. prefixed with the directory given).
    fn display(&self, path: &Path) -> String;
}

/// Whether a path names a YAML config file (`*.yaml` or `*.yml`).
pub fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Files held in memory, for tests and for trees read from git.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    pub files: std::collections::BTreeMap<PathBuf, String>,
    /// Shown before each path, e.g. `HEAD~1:`.
    pub label: String,
}

impl MemorySource {
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }
}

impl ConfigSource for MemorySource {
    fn yaml_files(&self) -> io::Result<Vec<PathBuf>> {
        Ok(self.files.keys().filter(|path| is_yaml(path)).cloned().collect())
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        let normal: PathBuf = normalize(path);
        self.files
            .get(&normal)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn display(&self, path: &Path) -> String {
        format!("{}{}", self.label, path.display())
    }
}

/// Resolves `.` and `..` lexically (paths in a git tree have no symlinks to follow).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
