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

/// Another source with some of its files replaced, by their displayed path: the config as
/// it would be after edits that are not written yet (`review close` checks its edits
/// this way before writing any of them).
pub struct Overlay<'a> {
    pub inner: &'a dyn ConfigSource,
    /// New texts, keyed as `inner` displays the file (e.g. `config/portalctl.yaml`).
    pub replaced: std::collections::BTreeMap<String, String>,
}

impl ConfigSource for Overlay<'_> {
    fn yaml_files(&self) -> io::Result<Vec<PathBuf>> {
        self.inner.yaml_files()
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        match self.replaced.get(&self.inner.display(path)) {
            Some(text) => Ok(text.clone()),
            None => self.inner.read(path),
        }
    }

    fn display(&self, path: &Path) -> String {
        self.inner.display(path)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_replaces_files_by_their_displayed_path() {
        let inner = MemorySource {
            label: "HEAD:".into(),
            ..MemorySource::default()
        }
        .with("a.yaml", "a: 1")
        .with("b.yaml", "b: 1");
        let overlay = Overlay {
            inner: &inner,
            replaced: [("HEAD:b.yaml".to_string(), "b: 2".to_string())].into(),
        };
        assert_eq!(overlay.yaml_files().unwrap(), inner.yaml_files().unwrap());
        assert_eq!(overlay.read(Path::new("a.yaml")).unwrap(), "a: 1");
        assert_eq!(overlay.read(Path::new("b.yaml")).unwrap(), "b: 2");
        assert_eq!(overlay.display(Path::new("b.yaml")), "HEAD:b.yaml");
    }
}
