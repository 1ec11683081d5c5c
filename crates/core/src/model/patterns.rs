//! The patterns of the single-resource rules, as JSON Schema `pattern`s: one definition
//! for the model types' schemas (the service's OpenAPI document) and the config schema.
//! Each is written in the subset of regex syntax that ECMA 262, Python's `re` and Rust's
//! `regex` read alike (no `\s`, `\d`, `.` or lookaround: whitespace and control characters
//! are spelt out as Rust's `char::is_whitespace` and `char::is_control` see them), and each
//! matches exactly what its rule accepts (tests hold them to the rules).

/// Unicode `White_Space` (what `str::trim` and `char::is_whitespace` see), for a class.
macro_rules! white_space {
    () => {
        "\t-\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}"
    };
}
/// `char::is_control` (Cc), for a class.
macro_rules! control {
    () => {
        "\u{0}-\u{1f}\u{7f}-\u{9f}"
    };
}
/// A DNS label (`is_dns_label`), unanchored.
macro_rules! dns_label {
    () => {
        "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    };
}
/// An email as `is_valid_email` accepts it, unanchored: a local part of printable ASCII
/// but `()<>[]:;,\"@`, and two or more DNS labels of either case.
macro_rules! email {
    () => {
        r"[!#-'*+\-./0-9=?A-Z^_`a-z{|}~]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
    };
}
/// One folder path segment (`is_valid_folder_path`): no `/`, `\` or control character,
/// no surrounding white space, not `.` or `..`.
macro_rules! folder_segment {
    () => {
        concat!(
            r"([^/\\.",
            control!(),
            white_space!(),
            r"]([^/\\",
            control!(),
            r"]*[^/\\",
            control!(),
            white_space!(),
            r"])?",
            r"|\.([^/\\",
            control!(),
            r"]+[^/\\",
            control!(),
            white_space!(),
            r"]|[^/\\.",
            control!(),
            white_space!(),
            r"]))"
        )
    };
}

/// `#RRGGBB` (`is_hex_color`).
pub const COLOR_PATTERN: &str = "^#[0-9A-Fa-f]{6}$";
/// An absolute https URL with a host and no white space or control character
/// (`is_https_url`).
pub const HTTPS_URL_PATTERN: &str = concat!(
    "^https://[^/?#",
    white_space!(),
    control!(),
    "]+([/?#][^",
    white_space!(),
    control!(),
    "]*)?$"
);
/// Not blank: some character that is not white space (`name.trim().is_empty()` refuses).
pub const NOT_BLANK_PATTERN: &str = concat!("[^", white_space!(), "]");
/// A DNS label (`is_dns_label`): portal technical names.
pub const DNS_LABEL_PATTERN: &str = concat!("^", dns_label!(), "$");
/// A domain name (the rules' `is_domain`): two or more lowercase DNS labels.
pub const DOMAIN_PATTERN: &str = concat!("^", dns_label!(), r"(\.", dns_label!(), ")+$");
/// An entry of a portal's `self_registration.allowed_domains`: a domain, admitting exactly
/// that domain, or `*.` and a domain, admitting its subdomains (`is_allowed_domain`).
pub const ALLOWED_DOMAIN_PATTERN: &str = concat!(r"^(\*\.)?", dns_label!(), r"(\.", dns_label!(), ")+$");
/// An email exactly as `is_valid_email` accepts it (in its canonical form: the service
/// trims and lowercases emails first, and the pattern takes either case).
pub const EMAIL_PATTERN: &str = concat!("^", email!(), "$");
/// An entry of a console role's list: a staff email, or `group:NAME` naming a group of
/// `console.groups`.
pub const STAFF_ENTRY_PATTERN: &str = concat!("^(group:.+|", email!(), ")$");
/// A folder path (`is_valid_folder_path`): `/` and a segment, one or more times.
pub const FOLDER_PATH_PATTERN: &str = concat!("^(/", folder_segment!(), ")+$");
/// A folder path without its leading `/`, as the paths of `/v1/folders/{path}` hold it.
pub const FOLDER_TAIL_PATTERN: &str = concat!("^", folder_segment!(), "(/", folder_segment!(), ")*$");
/// A principal as the service's paths hold it: `group:NAME`, `org:NAME` (names without
/// `/`), `portal:DNS-LABEL` or `user:EMAIL`.
pub const PRINCIPAL_PATTERN: &str = concat!(
    "^(group:[^/]+|org:[^/]+|portal:",
    dns_label!(),
    "|user:",
    email!(),
    ")$"
);
/// A `session_ttl` as [`super::SessionTtl`] parses it: `Nh`, `Nm` or `NhMm` with M < 60,
/// numbers without leading zeros (the 5m..24h range is the rules').
pub const SESSION_TTL_PATTERN: &str = "^((0|[1-9][0-9]*)h((0|[1-5]?[0-9])m)?|(0|[1-9][0-9]*)m)$";
/// A `session_ttl` within 5m..24h: what the rules accept.
pub const SESSION_TTL_IN_RANGE_PATTERN: &str = concat!(
    "^(([1-9]|1[0-9]|2[0-4])h",
    "|([5-9]|[1-9][0-9]|[1-9][0-9]{2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)m",
    "|0h([5-9]|[1-5][0-9])m",
    "|([1-9]|1[0-9]|2[0-3])h([0-9]|[1-5][0-9])m",
    "|24h0m)$"
);
/// `YYYY-MM-DD` (`CalendarDate` checks the day exists).
pub const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        SessionTtl, is_allowed_domain, is_dns_label, is_hex_color, is_https_url, is_valid_email,
        is_valid_folder_path,
    };

    fn matches(pattern: &str, text: &str) -> bool {
        jsonschema::is_valid(
            &serde_json::json!({ "pattern": pattern }),
            &serde_json::json!(text),
        )
    }

    fn is_domain(domain: &str) -> bool {
        is_valid_email(&format!("x@{domain}")) && domain == domain.to_ascii_lowercase()
    }

    fn ttl_in_range(text: &str) -> bool {
        text.parse::<SessionTtl>().is_ok_and(SessionTtl::in_range)
    }

    /// Each pattern says yes exactly when its rule does.
    fn agree(pattern: &str, rule: impl Fn(&str) -> bool, text: &str) -> Result<(), String> {
        if matches(pattern, text) == rule(text) {
            Ok(())
        } else {
            Err(format!("{pattern} and its rule disagree on {text:?}"))
        }
    }

    /// A pattern, its rule, and strings near the rule's boundary.
    type Case<'a> = (&'a str, &'a dyn Fn(&str) -> bool, &'a [&'a str]);

    #[test]
    fn patterns_are_their_rules_on_boundary_cases() {
        let cases: &[Case<'_>] = &[
            (
                COLOR_PATTERN,
                &is_hex_color,
                &["#0f62FE", "#0f62F", "0f62FE0", "#0g62FE", "#0f62FE\n"],
            ),
            (
                HTTPS_URL_PATTERN,
                &is_https_url,
                &[
                    "https://a",
                    "https://",
                    "https://a b",
                    "https://a/ b",
                    "http://a",
                    "https:///x",
                    "https://a?x",
                    "https://a\u{85}",
                    "https://a\u{feff}",
                    "https://\u{a0}x",
                ],
            ),
            (
                NOT_BLANK_PATTERN,
                &|text: &str| !text.trim().is_empty(),
                &["", " ", "\u{3000}", "\u{85}", "\u{feff}", "a", " a ", "\u{200b}"],
            ),
            (
                DNS_LABEL_PATTERN,
                &is_dns_label,
                &[
                    "a",
                    "-a",
                    "a-",
                    "A",
                    "a_b",
                    "a.b",
                    &"a".repeat(63),
                    &"a".repeat(64),
                ],
            ),
            (
                DOMAIN_PATTERN,
                &is_domain,
                &[
                    "a.b",
                    "a",
                    "A.b",
                    "a..b",
                    "-a.b",
                    "a.b-",
                    "a.b.",
                    &format!("{}.b", "a".repeat(64)),
                    "x@a.b",
                ],
            ),
            (
                EMAIL_PATTERN,
                &is_valid_email,
                &[
                    "a@b.c",
                    "A@B.C",
                    "a@b",
                    "a b@c.d",
                    "a@@b.c",
                    "(a)@b.c",
                    "a@-b.c",
                    &format!("{}@b.c", "a".repeat(65)),
                    "é@b.c",
                ],
            ),
            (
                FOLDER_PATH_PATTERN,
                &is_valid_folder_path,
                &[
                    "/a",
                    "/",
                    "a",
                    "/a/",
                    "/a//b",
                    "/.",
                    "/..",
                    "/...",
                    "/.a",
                    "/..a",
                    "/a.",
                    "/ a",
                    "/a ",
                    "/a b",
                    "/a\\b",
                    "/a\u{7}",
                    "/a\u{85}b",
                    "/a\u{9f}",
                    "/\u{a0}",
                    "/\u{feff}",
                ],
            ),
            (
                SESSION_TTL_IN_RANGE_PATTERN,
                &ttl_in_range,
                &[
                    "4m", "5m", "1440m", "1441m", "24h", "25h", "24h0m", "24h1m", "0h5m", "0h4m", "1h59m",
                    "1h60m", "23h59m", "05m", "1h", "0h", "90m", "1m1m",
                ],
            ),
        ];
        for (pattern, rule, texts) in cases {
            for text in *texts {
                agree(pattern, rule, text).unwrap();
            }
        }
        for tail in ["a", "a/b", ".a", "a/.", "a/..", "a//b", " a"] {
            assert_eq!(
                matches(FOLDER_TAIL_PATTERN, tail),
                is_valid_folder_path(&format!("/{tail}")),
                "{tail}"
            );
        }
    }

    /// Every duration in 0..=2000 minutes, as it is written and as `Nm`.
    #[test]
    fn the_session_ttl_pattern_is_the_range() {
        for minutes in 0..=2000_u32 {
            let ttl = SessionTtl::from_minutes(minutes);
            for text in [
                ttl.to_string(),
                format!("{minutes}m"),
                format!("{}h{}m", minutes / 60, minutes % 60),
            ] {
                agree(SESSION_TTL_IN_RANGE_PATTERN, ttl_in_range, &text).unwrap();
                assert_eq!(
                    text.parse::<SessionTtl>().map(SessionTtl::minutes),
                    Ok(minutes),
                    "{text}"
                );
                assert!(matches(SESSION_TTL_PATTERN, &text), "{text}");
            }
        }
    }

    proptest::proptest! {
        /// Strings near each rule's boundary: the pattern and the rule agree.
        #[test]
        fn patterns_agree_with_their_rules(
            folder in "(/[a-zA-Z. \\\\\u{7}\u{85}\u{a0}]{0,4}){0,4}",
            email in "[a-zA-Z0-9.+@(é -]{0,6}@[a-zA-Z0-9.@-]{0,10}",
            label in "(\\*\\.)?[a-zA-Z0-9_.*-]{0,9}",
            color in "#?[0-9a-gA-G]{5,7}",
            url in "(https?://)?[a-z./?# \u{85}\u{0}\u{7f}]{0,10}",
            ttl in "[0-9]{0,4}h?[0-9]{0,3}m?",
            name in "[ a\u{3000}\u{85}\u{feff}]{0,3}",
        ) {
            for (pattern, rule, text) in [
                (FOLDER_PATH_PATTERN, &is_valid_folder_path as &dyn Fn(&str) -> bool, &folder),
                (EMAIL_PATTERN, &is_valid_email, &email),
                (DNS_LABEL_PATTERN, &is_dns_label, &label),
                (DOMAIN_PATTERN, &is_domain, &label),
                (ALLOWED_DOMAIN_PATTERN, &is_allowed_domain, &label),
                (COLOR_PATTERN, &is_hex_color, &color),
                (HTTPS_URL_PATTERN, &is_https_url, &url),
                (SESSION_TTL_IN_RANGE_PATTERN, &ttl_in_range, &ttl),
                (NOT_BLANK_PATTERN, &|text: &str| !text.trim().is_empty(), &name),
            ] {
                proptest::prop_assert!(agree(pattern, rule, text).is_ok(), "{}", agree(pattern, rule, text).unwrap_err());
            }
        }
    }
}
