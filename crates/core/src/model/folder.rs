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

/// Whether `path` is `root` or lies below it: `/a/b` is within `/a`, `/ab` is not.
pub fn is_within(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The entries of `map` strictly below `path` (`/A` → `/A/B`, `/A/B/C`, not `/AB`), in
/// order: one seek, then only the entries below.
pub fn paths_below<'a, V>(
    map: &'a std::collections::BTreeMap<FolderPath, V>,
    path: &str,
) -> impl Iterator<Item = (&'a FolderPath, &'a V)> {
    use std::ops::Bound::{Included, Unbounded};
    // They are contiguous from `path/` on, while siblings such as `/A B` or `/A-x` sort
    // between `/A` and `/A/`: the range starts at the prefix rather than at `path`.
    let prefix = format!("{path}/");
    map.range::<str, _>((Included(prefix.as_str()), Unbounded))
        .take_while(move |(key, _)| key.starts_with(&prefix))
}

/// Whether `declared` holds `path` or a path below it.
///
/// # Guarantees
/// Two seeks in the map, whatever its size (an access check asks this of every request).
pub fn declares_within<V>(declared: &std::collections::BTreeMap<FolderPath, V>, path: &str) -> bool {
    declared.contains_key(path) || paths_below(declared, path).next().is_some()
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
    use std::collections::BTreeMap;

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

    #[test]
    fn within_is_the_path_or_below_it_never_a_sibling_sharing_its_start() {
        assert!(is_within("/a", "/a"));
        assert!(is_within("/a/b/c", "/a"));
        assert!(!is_within("/ab", "/a"));
        assert!(!is_within("/a-x/b", "/a"));
        assert!(!is_within("/a", "/a/b"));
    }

    #[test]
    fn declared_within_finds_descendants_past_siblings_that_sort_between() {
        let declared: BTreeMap<String, ()> = ["/a-1", "/a-2", "/a.x", "/a/b/c", "/b"]
            .into_iter()
            .map(|path| (path.to_string(), ()))
            .collect();
        assert!(declares_within(&declared, "/a"));
        assert!(declares_within(&declared, "/a/b"));
        assert!(declares_within(&declared, "/a/b/c"));
        assert!(declares_within(&declared, "/a-1"));
        assert!(!declares_within(&declared, "/a/c"));
        assert!(!declares_within(&declared, "/a-"));
        assert!(!declares_within(&declared, "/c"));
        let only_siblings: BTreeMap<String, ()> = [("/a-1".to_string(), ()), ("/ab".to_string(), ())]
            .into_iter()
            .collect();
        assert!(!declares_within(&only_siblings, "/a"));
    }
}
