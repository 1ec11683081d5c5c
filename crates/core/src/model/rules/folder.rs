//! The rules of folders: a well-formed path, not inside a dashboard.

use super::{Checker, RuleId, Violation};
use crate::model::{Pointer, is_valid_folder_path};

impl Checker<'_> {
    pub(super) fn folder(&mut self, path: &str) {
        let at = Pointer::root().join("folders").join(path);
        if !is_valid_folder_path(path) {
            self.push(
                Violation::error(
                    RuleId::FolderPathInvalid,
                    at.clone(),
                    format!("`{path}` is not a folder path"),
                )
                .with_hint(Some("folder paths look like `/Partners/Finance`".into())),
            );
        }
        self.inside_dashboard("folder", path, at);
    }
}
