//! From canonical pointers (`/members/globex/alice@globex.com/role`) to the place in a
//! file that defined the value, so rule violations name `file:line:col`.
//!
//! YAML values are recorded one by one. A CSV roster row is recorded once, with the
//! column of each of its cells, so 100k-row rosters cost one entry per row, not per cell.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Location;
use crate::model::Pointer;

#[derive(Debug, Clone)]
enum Place {
    At {
        file: u32,
        line: u32,
        column: u32,
    },
    /// A CSV row: `columns[i]` is the column where the cell under `header[i]` starts.
    Row {
        file: u32,
        line: u32,
        header: Arc<[String]>,
        columns: Box<[u32]>,
    },
}

/// Pointers are recorded for every resource and for the fields worth pointing at; a
/// lookup falls back to the nearest recorded ancestor.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<String>,
    /// FxHash: keys come from the user's own files, so hash-flooding is no concern, and
    /// SipHash over 100k long pointers showed up in profiles.
    places: FxHashMap<String, Place>,
}

impl SourceMap {
    /// Registers a file and returns its id.
    pub fn add_file(&mut self, display: String) -> u32 {
        self.files.push(display);
        u32::try_from(self.files.len() - 1).expect("fewer than 4 billion files")
    }

    /// Makes room for `additional` more records (e.g. the rows of a roster about to be read).
    pub fn reserve(&mut self, additional: usize) {
        self.places.reserve(additional);
    }

    pub fn file_name(&self, file: u32) -> &str {
        &self.files[file as usize]
    }

    /// Records where a value stands; the first record of a pointer wins.
    pub fn record(&mut self, pointer: &Pointer, file: u32, line: u32, column: u32) {
        self.places
            .entry(pointer.as_str().to_string())
            .or_insert(Place::At { file, line, column });
    }

    /// Records a CSV row for a resource: its fields resolve to their cells.
    pub fn record_row(
        &mut self,
        pointer: Pointer,
        file: u32,
        line: u32,
        header: Arc<[String]>,
        columns: Box<[u32]>,
    ) {
        self.places.entry(pointer.into_string()).or_insert(Place::Row {
            file,
            line,
            header,
            columns,
        });
    }

    pub fn contains(&self, pointer: &Pointer) -> bool {
        self.places.contains_key(pointer.as_str())
    }

    /// A place in a registered file.
    pub fn file_location(&self, file: u32, line: u32, column: u32) -> Location {
        Location {
            file: self.files[file as usize].clone(),
            line,
            column,
        }
    }

    /// The exact place recorded for a pointer (for a CSV row, its first cell).
    pub fn exact(&self, pointer: &Pointer) -> Option<Location> {
        self.resolve(pointer.as_str(), &[])
    }

    /// The place of a pointer or of its nearest recorded ancestor. Below a CSV row, the
    /// remaining segments name a column (`role`, `attributes/region` → `attributes.region`).
    pub fn locate(&self, pointer: &Pointer) -> Option<Location> {
        let text = pointer.as_str();
        let mut end = text.len();
        loop {
            let rest: Vec<String> = Pointer::parse(&text[end..]).segments();
            if let Some(location) = self.resolve(&text[..end], &rest) {
                return Some(location);
            }
            end = text[..end].rfind('/')?;
        }
    }

    fn resolve(&self, pointer: &str, rest: &[String]) -> Option<Location> {
        match self.places.get(pointer)? {
            Place::At { file, line, column } => Some(self.file_location(*file, *line, *column)),
            Place::Row {
                file,
                line,
                header,
                columns,
            } => {
                let wanted = rest.join(".");
                let column = header
                    .iter()
                    .position(|name| !wanted.is_empty() && *name == wanted)
                    .or_else(|| header.iter().position(|name| name == "email"))
                    .and_then(|index| columns.get(index).copied())
                    .unwrap_or(1);
                Some(self.file_location(*file, *line, column))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_resolve_to_their_cells() {
        let mut map = SourceMap::default();
        let file = map.add_file("r.csv".into());
        let header: Arc<[String]> =
            vec!["email".to_string(), "role".into(), "attributes.region".into()].into();
        let member = Pointer::root().join("members").join("p").join("a@x.com");
        map.record_row(member.clone(), file, 3, header, vec![1, 9, 16].into_boxed_slice());
        let at = |pointer: &Pointer| map.locate(pointer).map(|l| (l.line, l.column));
        assert_eq!(at(&member.join("role")), Some((3, 9)));
        assert_eq!(at(&member.join("attributes").join("region")), Some((3, 16)));
        assert_eq!(at(&member.join("org")), Some((3, 1)));
        assert_eq!(at(&member), Some((3, 1)));
        assert_eq!(at(&Pointer::root().join("nothing")), None);
    }
}
