//! Email redaction for outputs that more people can read than the partner list should
//! reach (`--redact-emails`): `alice@globex.com` becomes `a***@globex.com#3f2a`, the
//! first letter, the domain and a short stable hash so two partners stay distinguishable.
//!
//! **Architecture invariant:** pure and deterministic: the same email always gives the
//! same text, on every machine, with no key or salt to configure.

use sha2::{Digest, Sha256};

/// `a***@globex.com#3f2a`: the first character, `***`, the domain, and the first two
/// bytes (hex) of the SHA-256 of the normalised email.
pub fn redact_email(email: &str) -> String {
    let email = crate::model::normalize_email(email);
    let digest = Sha256::digest(email.as_bytes());
    let hash: String = digest.iter().take(2).map(|byte| format!("{byte:02x}")).collect();
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}#{hash}")
        }
        None => format!("***#{hash}"),
    }
}

fn is_local(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"._%+-'".contains(&byte)
}

fn is_domain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-'
}

/// A writer that redacts every email of what passes through it ([`redact_text`]), a line
/// at a time: a report written in pieces (millions of access changes) is redacted as its
/// whole text would be, since no email spans two lines. [`RedactingWriter::finish`]
/// writes the last line.
pub struct RedactingWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn write_redacted(&mut self, lines: &[u8]) -> std::io::Result<()> {
        let text = std::str::from_utf8(lines)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
        self.inner.write_all(redact_text(text).as_bytes())
    }

    /// Writes what is left after the last line end, and flushes.
    ///
    /// # Errors
    /// The inner writer's.
    pub fn finish(mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.pending);
        self.write_redacted(&rest)?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|byte| *byte == b'\n') {
            let rest = self.pending.split_off(end + 1);
            let lines = std::mem::replace(&mut self.pending, rest);
            self.write_redacted(&lines)?;
        }
        Ok(buf.len())
    }

    /// Flushes the lines written so far; a line not ended waits for its end (or
    /// [`RedactingWriter::finish`]), since an email in it may not be whole yet.
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `text` with every email in it redacted by [`redact_email`]. Already redacted emails
/// are left alone (their local part is `*`, which no email starts with here).
pub fn redact_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) = text[at..].find('@') {
        let sign = at + offset;
        let mut start = sign;
        while start > copied && is_local(bytes[start - 1]) {
            start -= 1;
        }
        if start > 0 && bytes[start - 1] == b'\\' && start < sign {
            // An escape like JSON's `\n` or `\u0001` is not part of the email.
            start += 1;
        }
        let mut end = sign + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        while end > sign + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &text[sign + 1..end];
        if start < sign && domain.contains('.') {
            out.push_str(&text[copied..start]);
            out.push_str(&redact_email(&text[start..end]));
            copied = end;
        }
        at = end.max(sign + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// The text as shown: redacted when asked.
pub(super) fn shown(text: &str, redact: bool) -> String {
    if redact {
        redact_text(text)
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Written in any pieces, a text comes out as `redact_text` gives it whole.
        #[test]
        fn the_redacting_writer_redacts_as_the_whole_text_would(
            words in proptest::collection::vec(
                proptest::sample::select(vec!["alice@globex.com", "b.o@x-y.co", "\n", " ", "@", "plain", "\"", "é", "a@b"]),
                0..40,
            ),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            use std::io::Write as _;
            let text: String = words.concat();
            let mut cuts: Vec<usize> = cuts
                .into_iter()
                .map(|cut| cut.min(text.len()))
                .filter(|cut| text.is_char_boundary(*cut))
                .collect();
            cuts.sort_unstable();
            let mut out = Vec::new();
            let mut writer = RedactingWriter::new(&mut out);
            let mut from = 0;
            for cut in cuts.into_iter().chain([text.len()]) {
                writer.write_all(&text.as_bytes()[from..cut]).unwrap();
                from = cut;
            }
            writer.finish().unwrap();
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), redact_text(&text));
        }
    }

    #[test]
    fn keeps_the_first_letter_the_domain_and_a_stable_hash() {
        let alice = redact_email("alice@globex.com");
        assert!(alice.starts_with("a***@globex.com#"), "{alice}");
        assert_eq!(alice.len(), "a***@globex.com#".len() + 4);
        assert_eq!(alice, redact_email("Alice@Globex.com "));
        assert_ne!(alice, redact_email("anna@globex.com"));
    }

    #[test]
    fn redacts_every_email_in_a_text_once() {
        let text = "member ana@globex.com in portal globex, user:ben.b+x@mail.globex.com.";
        let redacted = redact_text(text);
        assert!(
            !redacted.contains("ana@") && !redacted.contains("ben.b+x@"),
            "{redacted}"
        );
        assert!(redacted.starts_with("member a***@globex.com#"), "{redacted}");
        assert!(
            redacted.contains(" in portal globex, user:b***@mail.globex.com#"),
            "{redacted}"
        );
        assert!(redacted.ends_with('.'));
        assert_eq!(redact_text(&redacted), redacted);
        assert_eq!(redact_text("no email @ here, a@b"), "no email @ here, a@b");
        assert!(redact_text(r"x\nana@b.com").starts_with(r"x\na***@b.com#"));
    }
}
