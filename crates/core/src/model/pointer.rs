//! Canonical pointers: JSON-pointer paths into a `State` (`/portals/globex/color`,
//! `/members/globex/alice@globex.com/role`). Rules report problems at a pointer; the
//! config loader maps pointers to `file:line:col`, the service reports them as `field`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A pointer from already-escaped segments.
    pub fn from_segments<'a>(segments: impl IntoIterator<Item = &'a str>) -> Self {
        let mut pointer = Self::root();
        for segment in segments {
            pointer = pointer.join(segment);
        }
        pointer
    }

    /// Appends one segment, escaping `~` and `/` as RFC 6901 says.
    #[must_use]
    pub fn join(&self, segment: &str) -> Self {
        let mut text = String::with_capacity(self.0.len() + segment.len() + 1);
        text.push_str(&self.0);
        push_segment(&mut text, segment);
        Self(text)
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// `/members/PORTAL/EMAIL` in one allocation: built once per roster row.
    pub fn member(portal: &str, email: &str) -> Self {
        let mut text = String::with_capacity(10 + portal.len() + email.len());
        text.push_str("/members");
        push_segment(&mut text, portal);
        push_segment(&mut text, email);
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unescaped segments.
    pub fn segments(&self) -> Vec<String> {
        if self.0.is_empty() {
            return Vec::new();
        }
        self.0[1..]
            .split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .collect()
    }

    /// The pointer one level up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        self.0.rfind('/').map(|at| Self(self.0[..at].to_string()))
    }

    /// Parses an RFC 6901 pointer string (as produced by `as_str`).
    pub fn parse(text: &str) -> Self {
        Self(text.to_string())
    }
}

/// Appends `/segment`, escaping `~` and `/` as RFC 6901 says.
fn push_segment(text: &mut String, segment: &str) {
    text.push('/');
    for c in segment.chars() {
        match c {
            '~' => text.push_str("~0"),
            '/' => text.push_str("~1"),
            c => text.push(c),
        }
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_unescapes_segments() {
        let pointer = Pointer::root()
            .join("folders")
            .join("/Partners/Finance")
            .join("a~b");
        assert_eq!(pointer.as_str(), "/folders/~1Partners~1Finance/a~0b");
        assert_eq!(pointer.segments(), vec!["folders", "/Partners/Finance", "a~b"]);
        assert_eq!(
            pointer.parent().unwrap().segments(),
            vec!["folders", "/Partners/Finance"]
        );
    }
}
