//! Where config files come from: a directory on disk, a git tree, or memory (tests).
//! The loader only sees this trait, so it works the same on all of them.

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

/// Files under a directory on disk (or a single file).
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
    single_file: bool,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let single_file = root.is_file();
        Self { root, single_file }
    }

    fn full(&self, path: &Path) -> PathBuf {
        if self.single_file {
            self.root.parent().unwrap_or(Path::new("")).join(path)
        } else {
            self.root.join(path)
        }
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

impl ConfigSource for DirSource {
    fn yaml_files(&self) -> io::Result<Vec<PathBuf>> {
        if self.single_file {
            let name = self.root.file_name().map(PathBuf::from).unwrap_or_default();
            return Ok(vec![name]);
        }
        if !self.root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{}` is neither a directory nor a file", self.root.display()),
            ));
        }
        let mut found = Vec::new();
        let mut pending = vec![PathBuf::new()];
        while let Some(relative) = pending.pop() {
            let mut entries: Vec<_> =
                std::fs::read_dir(self.root.join(&relative))?.collect::<Result<_, _>>()?;
            entries.sort_by_key(std::fs::DirEntry::file_name);
            for entry in entries {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue; // .git, editor files
                }
                let path = relative.join(&name);
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push(path);
                } else if is_yaml(&path) {
                    found.push(path);
                }
            }
        }
        found.sort();
        Ok(found)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        let full = self.full(path);
        let bytes = std::fs::read(&full)?;
        String::from_utf8(bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text"))
    }

    fn display(&self, path: &Path) -> String {
        let full = self.full(path);
        let shown = full.strip_prefix("./").unwrap_or(&full);
        shown.display().to_string()
    }
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
