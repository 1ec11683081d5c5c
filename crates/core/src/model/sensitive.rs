//! `Sensitive<T>`: a value of a sensitive attribute, which masks itself.
//!
//! `Display`, `Debug` and `Serialize` all print [`MASK`], so a renderer, a log line or a
//! JSON document that is handed one cannot show the value by mistake; only
//! [`Sensitive::expose`], a call a reviewer can search for, reaches it.

use std::fmt;

use serde::{Serialize, Serializer};

/// What every format shows instead of a sensitive value.
pub const MASK: &str = "(sensitive)";

/// A value that must not be shown. There is deliberately no `Deserialize`: a sensitive
/// value enters from the config or the store as a plain value and is wrapped where it
/// is known to be sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself. Never pass it to output: this is the one way to reach it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_masks_the_value() {
        let secret = Sensitive::new(serde_json::json!("C-12345"));
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{:#?}", Some(&secret)),
            serde_json::to_string(&secret).unwrap(),
            serde_json::to_string(&[Some(secret.clone())]).unwrap(),
        ] {
            assert!(!shown.contains("C-12345"), "{shown}");
            assert!(shown.contains(MASK), "{shown}");
        }
        assert_eq!(secret.expose(), "C-12345");
    }
}
