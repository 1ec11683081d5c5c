//! Config files under a directory on disk, or one file. The one walk of a config
//! directory: the files it finds are kept, so asking again (the CLI's "no YAML files"
//! check, then the loader) reads the directory once, with one set of rules: names
//! starting with `.` (`.git`, editor files, dot-directories) are skipped at every depth.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use portalctl_core::config::{ConfigSource, is_yaml};

/// Files under a directory on disk (or a single file).
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
    single_file: bool,
    /// The YAML files found by the one walk, once it has run (an error is kept as its
    /// kind and message, since `io::Error` is not `Clone`).
    listing: OnceLock<Result<Vec<PathBuf>, (io::ErrorKind, String)>>,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let single_file = root.is_file();
        Self {
            root,
            single_file,
            listing: OnceLock::new(),
        }
    }

    /// Whether the source is a directory holding no YAML file (dot-files aside).
    ///
    /// # Errors
    /// The directory cannot be read.
    pub fn is_empty_dir(&self) -> io::Result<bool> {
        Ok(!self.single_file && self.yaml_files()?.is_empty())
    }

    fn walk(&self) -> io::Result<Vec<PathBuf>> {
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
        self.listing
            .get_or_init(|| self.walk().map_err(|error| (error.kind(), error.to_string())))
            .clone()
            .map_err(|(kind, message)| io::Error::new(kind, message))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_once_skipping_dot_names_at_every_depth() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("portals/.drafts")).unwrap();
        std::fs::create_dir_all(root.join(".github")).unwrap();
        std::fs::write(root.join("workspace.yaml"), "a: 1").unwrap();
        std::fs::write(root.join("portals/globex.yml"), "a: 1").unwrap();
        std::fs::write(root.join("portals/.drafts/x.yaml"), "a: 1").unwrap();
        std::fs::write(root.join(".github/ci.yaml"), "a: 1").unwrap();
        std::fs::write(root.join(".hidden.yaml"), "a: 1").unwrap();
        std::fs::write(root.join("notes.txt"), "").unwrap();
        let source = DirSource::new(root);
        let expected = [
            PathBuf::from("portals/globex.yml"),
            PathBuf::from("workspace.yaml"),
        ];
        assert_eq!(source.yaml_files().unwrap(), expected);
        assert!(!source.is_empty_dir().unwrap());
        std::fs::write(root.join("late.yaml"), "a: 1").unwrap();
        assert_eq!(source.yaml_files().unwrap(), expected, "the walk ran once");

        let only_dot_files = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(only_dot_files.path().join(".git")).unwrap();
        std::fs::write(only_dot_files.path().join(".git/x.yaml"), "a: 1").unwrap();
        assert!(DirSource::new(only_dot_files.path()).is_empty_dir().unwrap());
        let missing = DirSource::new(root.join("nowhere"));
        assert_eq!(missing.yaml_files().unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
