//! Report folders, addressed by slash-separated paths.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A folder path such as `/Partners/Finance`; parents exist implicitly.
pub type FolderPath = String;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Folder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Whether `path` is a well-formed folder path: a leading `/`, non-empty segments,
/// no trailing `/`, no `.`/`..` segments, no `\` (a path separator elsewhere) and no
/// control characters.
pub fn is_valid_folder_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    !rest.is_empty()
        && rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.trim() == segment
                && !segment.chars().any(|c| c == '\\' || c.is_control())
        })
}

/// `path` and each of its ancestors, nearest first: `/a/b` → `/a/b`, `/a`.
pub fn self_and_ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.rfind('/') {
            Some(0) | None => None,
            Some(at) => Some(&current[..at]),
        };
        Some(current)
    })
}

impl super::ResourceApi for Folder {
    const ITEM_PATH: &'static str = "/v1/folders/{*path}";
    const NOUN: &'static str = "folder";
    const DESCRIPTION: &'static str = "Report folders.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::FolderPath];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_ancestors_nearest_first() {
        let walked: Vec<&str> = self_and_ancestors("/Partners/Finance/Q3").collect();
        assert_eq!(walked, ["/Partners/Finance/Q3", "/Partners/Finance", "/Partners"]);
    }

    #[test]
    fn validates_paths() {
        assert!(is_valid_folder_path("/Partners/Finance"));
        for bad in [
            "Partners",
            "/",
            "/a//b",
            "/a/",
            "/a/../b",
            "/ a",
            "/Partners\\..\\x",
            "/a\\b",
            "/a/\u{7}",
        ] {
            assert!(!is_valid_folder_path(bad), "{bad}");
        }
    }
}
