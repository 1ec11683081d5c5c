//! Config files under a directory on disk, or one file.

use std::io;
use std::path::{Path, PathBuf};

use portalctl_core::config::{ConfigSource, is_yaml};

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
