//! Editing config files in place, line by line, so that the user's comments, order and
//! layout survive: `review close` removes the list items (a share, a group member, a
//! roster entry) and CSV rows that grant what was revoked. Nothing is re-serialised.

use std::collections::BTreeSet;

/// Why a line cannot be removed by editing lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EditError {
    pub line: u32,
    pub message: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// `text` without the block-sequence items starting on `lines` (1-based): each item is
/// its `- ` line and the lines indented deeper below it. A list left empty becomes `[]`
/// on its key's line, so the file keeps its meaning.
///
/// # Errors
/// A line that is not a block-sequence item (`- …`), such as an entry of a flow list
/// `[a, b]`: such files are left for the user to edit.
pub fn remove_yaml_items(text: &str, lines: &BTreeSet<u32>) -> Result<String, EditError> {
    let mut all: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut removed = vec![false; all.len()];
    let mut parents = BTreeSet::new();
    for &number in lines {
        let index = (number as usize)
            .checked_sub(1)
            .filter(|index| *index < all.len())
            .ok_or_else(|| EditError {
                line: number,
                message: "past the end of the file".into(),
            })?;
        let line = all[index].trim_end_matches(['\n', '\r']);
        let dash = indent(line);
        if !(line[dash..].starts_with("- ") || &line[dash..] == "-") {
            return Err(EditError {
                line: number,
                message: "not an item of a block list (`- …`); edit flow lists (`[a, b]`) by hand".into(),
            });
        }
        removed[index] = true;
        let mut next = index + 1;
        while next < all.len() {
            let following = all[next].trim_end_matches(['\n', '\r']);
            if following.trim().is_empty() || indent(following) <= dash {
                break;
            }
            removed[next] = true;
            next += 1;
        }
        // The key owning the list: the nearest line above with a smaller indent, or the
        // same indent for a list written flush with its key.
        if let Some(parent) = (0..index).rev().find(|&above| {
            let above_line = all[above].trim_end_matches(['\n', '\r']);
            !is_blank_or_comment(above_line)
                && !removed[above]
                && (indent(above_line) < dash
                    || (indent(above_line) == dash && !above_line[dash..].starts_with('-')))
        }) {
            parents.insert(parent);
        }
    }
    for parent in parents {
        let has_items = (parent + 1..all.len())
            .filter(|&i| !removed[i])
            .map(|i| all[i].trim_end_matches(['\n', '\r']))
            .find(|line| !is_blank_or_comment(line))
            .is_some_and(|line| {
                let own = indent(all[parent].trim_end_matches(['\n', '\r']));
                indent(line) > own || (indent(line) == own && line[own..].starts_with('-'))
            });
        let line = all[parent].clone();
        let body = line.trim_end_matches(['\n', '\r']);
        if !has_items && body.trim_end().ends_with(':') {
            let ending = &line[body.len()..];
            all[parent] = format!("{} []{ending}", body.trim_end());
        }
    }
    Ok(all
        .into_iter()
        .zip(removed)
        .filter_map(|(line, gone)| (!gone).then_some(line))
        .collect())
}

/// `text` without the list entries at `places` (1-based line and column of the entry,
/// or of its `- `): an item of a block list goes with its `- ` line and the lines indented
/// deeper below it; an entry of a one-line flow list (`[a, b]`) goes with its comma.
/// A list left empty becomes `[]`, so the file keeps its meaning.
///
/// # Errors
/// A place that is neither: such files are left for the user to edit.
pub fn remove_yaml_entries(text: &str, places: &BTreeSet<(u32, u32)>) -> Result<String, EditError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut block = BTreeSet::new();
    let mut flow: std::collections::BTreeMap<u32, Vec<u32>> = std::collections::BTreeMap::new();
    for &(line, column) in places {
        let own = lines
            .get((line as usize).wrapping_sub(1))
            .ok_or_else(|| EditError {
                line,
                message: "past the end of the file".into(),
            })?;
        let before: String = own.chars().take((column as usize).saturating_sub(1)).collect();
        if before.trim().chars().all(|c| c == '-') {
            block.insert(line);
        } else if before.contains('[') {
            flow.entry(line).or_default().push(column);
        } else {
            return Err(EditError {
                line,
                message: "not an entry of a list".into(),
            });
        }
    }
    let mut all: Vec<String> = lines.iter().map(|line| (*line).to_string()).collect();
    for (line, mut columns) in flow {
        columns.sort_unstable_by(|a, b| b.cmp(a)); // right to left keeps columns valid
        let index = line as usize - 1;
        for column in columns {
            all[index] = remove_flow_entry(&all[index], column).ok_or_else(|| EditError {
                line,
                message: "cannot find the end of the flow list entry; edit it by hand".into(),
            })?;
        }
    }
    remove_yaml_items(&all.concat(), &block)
}

/// `line` without the flow-list entry starting at `column` (1-based, in characters).
fn remove_flow_entry(line: &str, column: u32) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    let start = (column as usize).checked_sub(1)?;
    let mut end = start;
    let mut quote = None;
    while end < chars.len() {
        match (quote, chars[end]) {
            (None, '"' | '\'') => quote = Some(chars[end]),
            (Some(q), c) if c == q => quote = None,
            (None, ',' | ']') => break,
            _ => {}
        }
        end += 1;
    }
    if end >= chars.len() {
        return None;
    }
    let (from, to) = if chars[end] == ',' {
        // `a, b` → drop `a, `.
        let mut to = end + 1;
        while to < chars.len() && chars[to] == ' ' {
            to += 1;
        }
        (start, to)
    } else {
        // The last entry: drop the comma and spaces before it, if any.
        let mut from = start;
        while from > 0 && chars[from - 1] == ' ' {
            from -= 1;
        }
        if from > 0 && chars[from - 1] == ',' {
            from -= 1;
        } else {
            from = start;
        }
        // Trailing spaces before `]` go too.
        let mut to = end;
        while to > start && chars[to - 1] == ' ' {
            to -= 1;
        }
        (from, to.max(start))
    };
    let trimmed_end = if chars[end] == ']' && from == start {
        end
    } else {
        to
    };
    let mut out: String = chars[..from].iter().collect();
    out.extend(&chars[trimmed_end..]);
    Some(out)
}

/// The line of the block-sequence item holding the value at `line`:`column` (1-based):
/// that line when a `- ` stands before the value on it, else the nearest line above,
/// indented less than the value, that starts an item.
pub fn item_line(text: &str, line: u32, column: u32) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    let index = (line as usize).checked_sub(1)?;
    let own = lines.get(index)?;
    let before: String = own.chars().take((column as usize).saturating_sub(1)).collect();
    if before.trim_start().starts_with('-') {
        return Some(line);
    }
    let value_indent = (column as usize).saturating_sub(1);
    (0..index).rev().find_map(|above| {
        let candidate = lines[above];
        let dash = indent(candidate);
        (dash < value_indent && candidate[dash..].starts_with('-'))
            .then(|| u32::try_from(above + 1).unwrap_or(u32::MAX))
    })
}

/// `text` without the CSV lines `lines` (1-based; line 1 is the header, never removed).
///
/// # Errors
/// Line 1, or a line past the end.
pub fn remove_csv_rows(text: &str, lines: &BTreeSet<u32>) -> Result<String, EditError> {
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    for &number in lines {
        if number < 2 || number as usize > all.len() {
            return Err(EditError {
                line: number,
                message: "not a data row of the roster".into(),
            });
        }
    }
    Ok(all
        .into_iter()
        .enumerate()
        .filter(|(index, _)| !lines.contains(&u32::try_from(index + 1).unwrap_or(u32::MAX)))
        .map(|(_, line)| line)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, lines: &[u32], expected: &str) {
        let lines: BTreeSet<u32> = lines.iter().copied().collect();
        assert_eq!(remove_yaml_items(text, &lines).unwrap(), expected);
    }

    #[test]
    fn removes_an_item_with_its_fields_and_keeps_comments() {
        check(
            "folders:\n  /F:\n    # who sees F\n    shares:\n      - group: a   # keep me\n        access: view\n      - user: x@y.com\n        access: edit\n        expires: 2027-01-01\n    description: F\n",
            &[7],
            "folders:\n  /F:\n    # who sees F\n    shares:\n      - group: a   # keep me\n        access: view\n    description: F\n",
        );
    }

    #[test]
    fn an_emptied_list_becomes_an_empty_flow_list() {
        check(
            "groups:\n  g:\n    members:\n      - a@x.com\n    description: d\n",
            &[4],
            "groups:\n  g:\n    members: []\n    description: d\n",
        );
        check(
            "g:\n  members:\n  - a@x.com\n  - b@x.com\nz: 1\n",
            &[3, 4],
            "g:\n  members: []\nz: 1\n",
        );
    }

    #[test]
    fn keeps_crlf_line_endings() {
        check("m:\r\n  - a\r\n  - b\r\n", &[2], "m:\r\n  - b\r\n");
    }

    #[test]
    fn finds_the_item_of_a_value() {
        let text = "members:\n  - email: a@x.com\n    role: viewer\n  - role: editor\n    email: b@x.com\n";
        assert_eq!(item_line(text, 2, 12), Some(2));
        assert_eq!(item_line(text, 5, 12), Some(4));
    }

    #[test]
    fn refuses_flow_lists_as_block_items() {
        let error = remove_yaml_items("members: [a@x.com, b@x.com]\n", &BTreeSet::from([1])).unwrap_err();
        assert_eq!(error.line, 1);
    }

    #[test]
    fn removes_flow_list_entries_with_their_commas() {
        let check = |places: &[(u32, u32)], expected: &str| {
            let text = "members: [a@x.com, b@x.com, c@x.com] # who\n";
            let places: BTreeSet<(u32, u32)> = places.iter().copied().collect();
            assert_eq!(remove_yaml_entries(text, &places).unwrap(), expected);
        };
        check(&[(1, 11)], "members: [b@x.com, c@x.com] # who\n");
        check(&[(1, 20)], "members: [a@x.com, c@x.com] # who\n");
        check(&[(1, 29)], "members: [a@x.com, b@x.com] # who\n");
        check(&[(1, 11), (1, 20), (1, 29)], "members: [] # who\n");
        let text = "shares:\n  - group: a\n    access: view\n";
        assert_eq!(
            remove_yaml_entries(text, &BTreeSet::from([(2, 3)])).unwrap(),
            "shares: []\n"
        );
    }

    #[test]
    fn removes_csv_rows_but_never_the_header() {
        let text = "email,role\na@x.com,viewer\nb@x.com,viewer\n";
        assert_eq!(
            remove_csv_rows(text, &BTreeSet::from([2])).unwrap(),
            "email,role\nb@x.com,viewer\n"
        );
        assert!(remove_csv_rows(text, &BTreeSet::from([1])).is_err());
    }
}
