//! Email addresses: partners are identified by their email, compared case-insensitively.

/// The canonical form of an email: trimmed and lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// The part after the `@`, or `None` when there is none.
pub fn email_domain(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, domain)| domain)
}

/// A pragmatic check: one `@`, a non-empty local part of printable characters without
/// spaces, and a domain of at least two DNS labels.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_graphic() && !"()<>[]:;,\\\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for good in ["alice@globex.com", "a.b+tag@mail.example.co.uk", "x@a-b.io"] {
            assert!(is_valid_email(good), "{good}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "alice",
            "@globex.com",
            "alice@",
            "alice@globex",
            "a b@x.com",
            "a@b@c.com",
            "a@-x.com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn normalizes_case() {
        assert_eq!(normalize_email(" Alice@Globex.COM "), "alice@globex.com");
        assert_eq!(email_domain("alice@globex.com"), Some("globex.com"));
    }
}
