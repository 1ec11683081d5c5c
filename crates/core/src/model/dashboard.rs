//! Dashboards: content inside a declared folder, addressed by `<folder path>/<name>`.
//!
//! A dashboard inherits the shares of its folder and the folder's ancestors (its path is
//! below theirs, so the ancestor walk of [`super::self_and_ancestors`] finds them) and may
//! add shares of its own: a share's path names a folder or a dashboard.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A dashboard path such as `/Partners/Finance/Q3 Revenue`: a folder path whose parent
/// (the path without its last segment) is a declared folder.
pub type DashboardPath = String;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The folder a dashboard lies in: `path` without its last segment (`None` for a path
/// with one segment, which has no folder).
pub fn dashboard_folder(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) | None => None,
        Some(at) => Some(&path[..at]),
    }
}

impl super::ResourceApi for Dashboard {
    const ITEM_PATH: &'static str = "/v1/dashboards/{*path}";
    const NOUN: &'static str = "dashboard";
    const DESCRIPTION: &'static str =
        "Dashboards inside folders: they inherit their folder's shares and may add their own.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::FolderPath];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dashboard_lies_in_the_folder_above_it() {
        assert_eq!(
            dashboard_folder("/Partners/Finance/Q3 Revenue"),
            Some("/Partners/Finance")
        );
        assert_eq!(dashboard_folder("/Top"), None);
        assert_eq!(dashboard_folder("Top"), None);
    }
}
