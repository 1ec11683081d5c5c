//! TOTP (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second steps, six digits — what
//! every authenticator app computes by default. Pure functions of a key and a time; the
//! tests check them against the RFC's vectors (and `tests/it` against `oathtool`).

use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;

/// Digits per code.
pub const DIGITS: u32 = 6;

/// Steps before and after the current one whose codes are accepted (clock drift).
pub const WINDOW: i64 = 1;

/// The HOTP value of `counter` under `key`, as `DIGITS` digits.
pub fn hotp(key: &[u8], counter: u64) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    format!("{:0width$}", binary % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// The step of Unix time `seconds`.
pub fn step_at(seconds: i64) -> i64 {
    seconds.div_euclid(STEP_SECONDS)
}

/// The step within [`WINDOW`] of `now_seconds` whose code is `code`, compared in constant
/// time; `None` when none matches.
pub fn matching_step(key: &[u8], code: &str, now_seconds: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let now = step_at(now_seconds);
    let mut found = None;
    // Every step of the window is computed, whichever matches.
    for step in now - WINDOW..=now + WINDOW {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        if bool::from(hotp(key, counter).as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// The key of a base32 secret.
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()
}

/// The `otpauth://` URI an authenticator app reads (from the QR code or a link).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(account)
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B (SHA-1), truncated to six digits.
    #[test]
    fn rfc_6238_vectors() {
        let key = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(hotp(key, u64::try_from(step_at(time)).unwrap()), code, "{time}");
        }
    }

    #[test]
    fn codes_match_within_the_window_only() {
        let key = b"12345678901234567890";
        assert_eq!(matching_step(key, "287082", 59), Some(1));
        assert_eq!(matching_step(key, "287082", 59 + 30), Some(1));
        assert_eq!(matching_step(key, "287082", 59 + 60), None);
        assert_eq!(matching_step(key, "28708", 59), None);
        assert_eq!(matching_step(key, "28708x", 59), None);
    }

    #[test]
    fn uris_encode_names() {
        assert_eq!(
            otpauth_uri("Globex Partners", "alice@globex.com", "JBSWY3DP"),
            "otpauth://totp/Globex%20Partners:alice%40globex.com?secret=JBSWY3DP&issuer=Globex%20Partners&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            decode_secret("JBSWY3DPEHPK3PXP").unwrap(),
            b"Hello!\xde\xad\xbe\xef"
        );
    }
}
