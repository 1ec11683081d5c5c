//! From canonical pointers (`/members/globex/alice@globex.com/role`) to the place in a
//! file that defined the value, so rule violations name `file:line:col`.

use std::collections::HashMap;

use super::Location;
use crate::model::Pointer;

/// Pointers are recorded for every resource and for the fields worth pointing at; a
/// lookup falls back to the nearest recorded ancestor (a field of a CSV row resolves to
/// its row).
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<String>,
    places: HashMap<String, (u32, u32, u32)>,
}

impl SourceMap {
    /// Registers a file and returns its id.
    pub fn add_file(&mut self, display: String) -> u32 {
        self.files.push(display);
        u32::try_from(self.files.len() - 1).expect("fewer than 4 billion files")
    }

    pub fn record(&mut self, pointer: &Pointer, file: u32, line: u32, column: u32) {
        self.places
            .entry(pointer.as_str().to_string())
            .or_insert((file, line, column));
    }

    /// A place in a registered file.
    pub fn file_location(&self, file: u32, line: u32, column: u32) -> Location {
        Location {
            file: self.files[file as usize].clone(),
            line,
            column,
        }
    }

    /// The exact place recorded for a pointer.
    pub fn exact(&self, pointer: &Pointer) -> Option<Location> {
        self.places
            .get(pointer.as_str())
            .map(|&(file, line, column)| Location {
                file: self.files[file as usize].clone(),
                line,
                column,
            })
    }

    /// The place of a pointer or of its nearest recorded ancestor.
    pub fn locate(&self, pointer: &Pointer) -> Option<Location> {
        let mut current = Some(pointer.clone());
        while let Some(pointer) = current {
            if let Some(location) = self.exact(&pointer) {
                return Some(location);
            }
            current = pointer.parent();
        }
        None
    }
}
