//! Sending through SMTP with lettre's blocking transport (rustls on ring).
//!
//! The server is named by a URL whose scheme says how the connection is protected:
//!
//! | URL | connection | default port |
//! |---|---|---|
//! | `smtp://host:port` | plain SMTP (a relay on the same host or network) | 25 |
//! | `smtp+starttls://host:port` | SMTP upgraded with STARTTLS, which is required | 587 |
//! | `smtps://host:port` | TLS from the first byte ("implicit TLS") | 465 |
//!
//! The user and password never come in the URL (a URL is printed, logged and seen in
//! process lists): they come from `PORTALCTL_SMTP_USER` and `PORTALCTL_SMTP_PASSWORD`,
//! read by the CLI and handed over as [`SmtpSettings::credentials`].
//!
//! **Architecture invariant:** the password is a `Sensitive<String>`; only the transport
//! reads it, and [`SendError`]'s message has it scrubbed.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};
use portalctl_core::model::Sensitive;

use crate::Composed;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP, no TLS.
    None,
    /// STARTTLS, required: a server that does not offer it is refused.
    StartTls,
    /// Implicit TLS.
    Tls,
}

/// Where mail goes: `smtp://`, `smtp+starttls://` or `smtps://` `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub security: Security,
    pub host: String,
    pub port: u16,
}

/// Why an SMTP URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpUrlError {
    #[error(
        "`{0}` is not an SMTP URL: use `smtp://host:port`, `smtp+starttls://host:port` or `smtps://host:port`"
    )]
    Scheme(String),
    #[error(
        "an SMTP URL does not carry a user or password: set `PORTALCTL_SMTP_USER` and `PORTALCTL_SMTP_PASSWORD`"
    )]
    Credentials,
    #[error("the SMTP URL names no host")]
    NoHost,
    #[error("`{0}` is not a port number (1-65535)")]
    Port(String),
    #[error("the SMTP URL has `{0}` after the host and port; nothing may follow them")]
    Trailing(String),
}

impl FromStr for SmtpUrl {
    type Err = SmtpUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| SmtpUrlError::Scheme(scheme_of(text)))?;
        let (security, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => (Security::None, 25),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            _ => return Err(SmtpUrlError::Scheme(format!("{scheme}://"))),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, trailing) = rest.split_at(end);
        if !trailing.is_empty() && trailing != "/" {
            return Err(SmtpUrlError::Trailing(trailing.to_string()));
        }
        if authority.contains('@') {
            return Err(SmtpUrlError::Credentials);
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or(SmtpUrlError::NoHost)?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(SmtpUrlError::NoHost);
        }
        let port = match port {
            None => default_port,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| SmtpUrlError::Port(port.to_string()))?,
        };
        Ok(Self {
            security,
            host: host.to_string(),
            port,
        })
    }
}

fn scheme_of(text: &str) -> String {
    text.chars().take(40).collect()
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::None => "smtp",
            Security::StartTls => "smtp+starttls",
            Security::Tls => "smtps",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Everything the sender needs to reach the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub url: SmtpUrl,
    /// User and password, both or neither.
    pub credentials: Option<(String, Sensitive<String>)>,
    /// The sender's address (`From:`); the display name is the portal's name.
    pub from: String,
    /// The name the sender gives in `EHLO` (the public URL's host).
    pub hello_name: String,
    /// PEM certificates trusted besides the system's (a private relay's CA).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// How long one SMTP exchange may take.
    pub timeout: Duration,
}

/// Why the SMTP settings cannot work.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSettingsError {
    #[error("`{0}` is not an email address to send from")]
    From(String),
    #[error("`{0}` is not a host name to greet the SMTP server with")]
    HelloName(String),
    #[error("the extra CA certificates are not PEM: {0}")]
    Roots(String),
    #[error("cannot set up TLS to `{host}`: {message}")]
    Tls { host: String, message: String },
}

/// Why one message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The server refused this message for good (a 5xx to the recipient or the data, or an
    /// address it cannot take): sending it again will not help.
    pub permanent: bool,
    /// What went wrong, without any secret.
    pub message: String,
}

/// One message to send.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    /// The `From:` display name (the portal's name).
    pub from_name: &'a str,
    /// The `Message-ID` without angle brackets: the same for every attempt, so a message
    /// delivered twice (sending is at least once) can be recognised.
    pub message_id: &'a str,
    pub composed: &'a Composed,
}

/// An SMTP client. Each sender thread opens a [`Connection`] of its own and keeps it
/// across messages.
///
/// lettre's pooled transport was the first version: its pool sends a `NOOP` before every
/// reuse, one round trip in five per message, and round trips are what a sender waits on
/// (profiled: its threads spent 90% of their time in `recvfrom`, see docs/PERFORMANCE.md).
pub struct Mailer {
    from: Address,
    hello: ClientId,
    tls: Tls,
    credentials: Option<Credentials>,
    timeout: Duration,
    /// Scrubbed out of error messages.
    password: Option<Sensitive<String>>,
    url: SmtpUrl,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("url", &self.url.to_string())
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// A connection is reopened rather than reused after this long idle: servers close idle
/// connections (RFC 5321 asks for at least 5 minutes; many relays close sooner).
const IDLE_REOPEN: Duration = Duration::from_secs(20);

impl Mailer {
    /// A client for `settings`; no connection is made yet.
    ///
    /// # Errors
    /// A `from` address or hello name that is not one; extra roots that are not PEM.
    pub fn new(settings: &SmtpSettings) -> Result<Self, SmtpSettingsError> {
        // lettre builds its TLS configuration on the process's default provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let from: Address = settings
            .from
            .parse()
            .map_err(|_| SmtpSettingsError::From(settings.from.clone()))?;
        if settings.hello_name.is_empty() || settings.hello_name.contains(char::is_whitespace) {
            return Err(SmtpSettingsError::HelloName(settings.hello_name.clone()));
        }
        let url = &settings.url;
        let tls_error = |error: lettre::transport::smtp::Error| SmtpSettingsError::Tls {
            host: url.host.clone(),
            message: error.to_string(),
        };
        let tls = if url.security == Security::None {
            Tls::None
        } else {
            let mut builder = TlsParameters::builder(url.host.clone());
            if let Some(pem) = &settings.extra_roots_pem {
                for block in pem_blocks(pem) {
                    let certificate = Certificate::from_pem(block.as_bytes())
                        .map_err(|error| SmtpSettingsError::Roots(error.to_string()))?;
                    builder = builder.add_root_certificate(certificate);
                }
            }
            let parameters = builder.build().map_err(tls_error)?;
            if url.security == Security::StartTls {
                Tls::Required(parameters)
            } else {
                Tls::Wrapper(parameters)
            }
        };
        Ok(Self {
            from,
            hello: ClientId::Domain(settings.hello_name.clone()),
            tls,
            credentials: settings
                .credentials
                .as_ref()
                .map(|(user, password)| Credentials::new(user.clone(), password.expose().clone())),
            timeout: settings.timeout,
            password: settings
                .credentials
                .as_ref()
                .map(|(_, password)| password.clone()),
            url: url.clone(),
        })
    }

    /// The server this mailer sends to.
    pub fn url(&self) -> &SmtpUrl {
        &self.url
    }

    /// A connection of one's own, opened at the first message and kept across messages.
    pub fn connection(&self) -> Connection<'_> {
        Connection {
            mailer: self,
            open: None,
        }
    }

    /// Sends one message on a connection of its own, closed after it.
    ///
    /// # Errors
    /// [`SendError`], permanent when retrying cannot help.
    pub fn send(&self, outgoing: &Outgoing<'_>) -> Result<(), SendError> {
        let mut connection = self.connection();
        let sent = connection.send(outgoing);
        connection.close();
        sent
    }

    /// Opens a connection: TLS as the URL says, then AUTH when credentials are set (what
    /// lettre's transport does for each pooled connection).
    fn open(&self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = match &self.tls {
            Tls::Wrapper(parameters) => Some(parameters),
            _ => None,
        };
        let mut connection = SmtpConnection::connect::<(&str, u16)>(
            (self.url.host.as_str(), self.url.port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )?;
        if let Tls::Required(parameters) = &self.tls {
            connection.starttls(parameters, &self.hello)?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials)?;
        }
        Ok(connection)
    }

    /// The message as SMTP sends it: a multipart/alternative of its text and HTML parts.
    fn build(&self, outgoing: &Outgoing<'_>) -> Result<Message, SendError> {
        let to: Address = outgoing.to.parse().map_err(|_| SendError {
            permanent: true,
            message: format!("`{}` is not an address SMTP can deliver to", outgoing.to),
        })?;
        Message::builder()
            .from(Mailbox::new(
                Some(outgoing.from_name.to_string()),
                self.from.clone(),
            ))
            .to(Mailbox::new(None, to))
            .subject(outgoing.composed.subject.clone())
            .message_id(Some(format!("<{}>", outgoing.message_id)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(outgoing.composed.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(outgoing.composed.html.clone()),
                    ),
            )
            .map_err(|error| SendError {
                permanent: true,
                message: format!("cannot build the message: {error}"),
            })
    }

    fn send_error(&self, error: &lettre::transport::smtp::Error) -> SendError {
        // Only a refusal of this message is permanent; a refused login or a broken
        // connection is the server's or the configuration's state, which can change.
        let permanent = error.is_permanent()
            && error
                .status()
                .is_some_and(|code| matches!(u16::from(code), 550..=554));
        SendError {
            permanent,
            message: self.scrub(format!("SMTP {}: {error}", self.url)),
        }
    }

    fn scrub(&self, message: String) -> String {
        match &self.password {
            Some(password) if !password.expose().is_empty() => {
                message.replace(password.expose().as_str(), portalctl_core::model::SENSITIVE_MASK)
            }
            _ => message,
        }
    }
}

/// One SMTP connection kept open across messages (one per sender thread): each message
/// costs `MAIL`, `RCPT`, `DATA` and the message, and nothing else.
///
/// # Guarantees
/// - A message is sent on a connection at most once per [`Connection::send`]; a send that
///   fails on a reused connection without an answer from the server (the server closed it
///   while idle) is tried once more on a fresh connection.
/// - After any error the connection is dropped (the SMTP session may be mid-transaction),
///   and the next message opens a new one.
pub struct Connection<'a> {
    mailer: &'a Mailer,
    /// The open connection and when it was last used.
    open: Option<(SmtpConnection, Instant)>,
}

impl Connection<'_> {
    /// Sends one message.
    ///
    /// # Errors
    /// [`SendError`], permanent when retrying cannot help.
    pub fn send(&mut self, outgoing: &Outgoing<'_>) -> Result<(), SendError> {
        let message = self.mailer.build(outgoing)?;
        let bytes = message.formatted();
        let envelope = message.envelope();
        if self
            .open
            .as_ref()
            .is_some_and(|(_, used)| used.elapsed() > IDLE_REOPEN)
        {
            self.close();
        }
        let reused = self.open.is_some();
        match self.try_send(envelope, &bytes) {
            // No answer from the server on a connection opened earlier: it was closed
            // meanwhile. A fresh connection decides.
            Err(error) if reused && !error.is_response() => self
                .try_send(envelope, &bytes)
                .map_err(|error| self.mailer.send_error(&error)),
            sent => sent.map_err(|error| self.mailer.send_error(&error)),
        }
    }

    fn try_send(
        &mut self,
        envelope: &lettre::address::Envelope,
        bytes: &[u8],
    ) -> Result<(), lettre::transport::smtp::Error> {
        let (mut connection, _) = match self.open.take() {
            Some(open) => open,
            None => (self.mailer.open()?, Instant::now()),
        };
        match send_in_few_writes(&mut connection, envelope, bytes) {
            Ok(_) if !connection.has_broken() => {
                self.open = Some((connection, Instant::now()));
                Ok(())
            }
            Ok(_) => {
                connection.abort();
                Ok(())
            }
            Err(error) => {
                connection.abort();
                Err(error)
            }
        }
    }

    /// Says `QUIT` and closes the connection, if one is open.
    pub fn close(&mut self) {
        if let Some((mut connection, _)) = self.open.take()
            && connection.quit().is_err()
        {
            connection.abort();
        }
    }
}

impl Drop for Connection<'_> {
    fn drop(&mut self) {
        self.close();
    }
}

/// Sends one message on `connection` as lettre's `SmtpConnection::send` does (`MAIL`,
/// `RCPT`, `DATA`, the message), except that the message and the `.` line that ends it
/// leave in **one** write.
///
/// lettre writes them in two and does not set `TCP_NODELAY`, so Nagle's algorithm holds
/// the five-byte terminator until the server acknowledges the message, which a Linux
/// server delays by up to 40 ms: profiled, every message waited 45-50 ms for its `250`,
/// which capped a sender thread at about 20 messages a second. A message that is not
/// ASCII (8BITMIME) or an address that is not (SMTPUTF8) takes lettre's own path.
fn send_in_few_writes(
    connection: &mut SmtpConnection,
    envelope: &lettre::address::Envelope,
    bytes: &[u8],
) -> Result<(), lettre::transport::smtp::Error> {
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
    let ascii = |address: &Address| AsRef::<str>::as_ref(address).is_ascii();
    let ascii_addresses = envelope.from().is_none_or(ascii) && envelope.to().iter().all(ascii);
    let Some(text) = std::str::from_utf8(bytes)
        .ok()
        .filter(|text| text.is_ascii() && ascii_addresses)
    else {
        return connection.send(envelope, bytes).map(drop);
    };
    connection.command(Mail::new(envelope.from().cloned(), Vec::new()))?;
    for to in envelope.to() {
        connection.command(Rcpt::new(to.clone(), Vec::new()))?;
    }
    connection.command(Data)?;
    connection.command(DataWithEnd(text)).map(drop)
}

/// A message's content as `DATA` sends it: every line that starts with `.` gets another
/// (RFC 5321 §4.5.2, as lettre's codec does), then `CRLF . CRLF`.
struct DataWithEnd<'a>(&'a str);

impl fmt::Display for DataWithEnd<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&dot_stuffed(self.0))?;
        f.write_str("\r\n.\r\n")
    }
}

/// `text` with a `.` added before every line that starts with one.
fn dot_stuffed(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut line_start = true;
    let mut after_cr = false;
    for character in text.chars() {
        if character == '.' && line_start {
            out.push('.');
        }
        out.push(character);
        // A line starts after CRLF, as lettre's codec counts lines.
        line_start = after_cr && character == '\n';
        after_cr = character == '\r';
    }
    out
}

/// The `-----BEGIN CERTIFICATE-----` blocks of a PEM file, each on its own.
fn pem_blocks(pem: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pem);
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            current.clear();
        }
        current.push_str(line);
        current.push('\n');
        if line.starts_with("-----END") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<(Security, &str, u16), SmtpUrlError>) {
        let parsed = text.parse::<SmtpUrl>();
        let expected = expected.map(|(security, host, port)| SmtpUrl {
            security,
            host: host.to_string(),
            port,
        });
        assert_eq!(parsed, expected, "{text}");
    }

    #[test]
    fn reads_smtp_urls() {
        check("smtp://127.0.0.1:2525", Ok((Security::None, "127.0.0.1", 2525)));
        check(
            "smtp://relay.internal",
            Ok((Security::None, "relay.internal", 25)),
        );
        check(
            "smtp://relay.internal/",
            Ok((Security::None, "relay.internal", 25)),
        );
        check(
            "smtp+starttls://mail.acme.io",
            Ok((Security::StartTls, "mail.acme.io", 587)),
        );
        check(
            "SMTPS://mail.acme.io:2465",
            Ok((Security::Tls, "mail.acme.io", 2465)),
        );
        check("smtps://[::1]:465", Ok((Security::Tls, "::1", 465)));
        check("smtps://[::1]", Ok((Security::Tls, "::1", 465)));
    }

    #[test]
    fn refuses_what_is_not_one() {
        check(
            "mail.acme.io:25",
            Err(SmtpUrlError::Scheme("mail.acme.io:25".into())),
        );
        check("http://mail.acme.io", Err(SmtpUrlError::Scheme("http://".into())));
        check("smtp://user:hunter2@mail.acme.io", Err(SmtpUrlError::Credentials));
        check("smtp://:25", Err(SmtpUrlError::NoHost));
        check("smtp://mail.acme.io:0", Err(SmtpUrlError::Port("0".into())));
        check("smtp://mail.acme.io:smtp", Err(SmtpUrlError::Port("smtp".into())));
        check(
            "smtp://mail.acme.io?tls=starttls",
            Err(SmtpUrlError::Trailing("?tls=starttls".into())),
        );
    }

    #[test]
    fn the_credentials_error_names_no_secret() {
        let error = "smtp://user:hunter2@mail.acme.io".parse::<SmtpUrl>().unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn prints_a_url_it_reads_back() {
        for text in [
            "smtp://relay:25",
            "smtp+starttls://mail.acme.io:587",
            "smtps://[::1]:465",
        ] {
            let url: SmtpUrl = text.parse().unwrap();
            assert_eq!(url.to_string(), text);
            assert_eq!(url.to_string().parse::<SmtpUrl>().unwrap(), url);
        }
    }

    #[test]
    fn a_mailer_never_shows_its_password() {
        let settings = SmtpSettings {
            url: "smtp://127.0.0.1:1".parse().unwrap(),
            credentials: Some(("mailer".into(), Sensitive::new("s3cret-pw".into()))),
            from: "no-reply@portals.acme.io".into(),
            hello_name: "portals.acme.io".into(),
            extra_roots_pem: None,
            timeout: Duration::from_secs(2),
        };
        assert!(!format!("{settings:?}").contains("s3cret-pw"));
        let mailer = Mailer::new(&settings).unwrap();
        assert!(!format!("{mailer:?}").contains("s3cret-pw"));
        assert_eq!(
            mailer.scrub("auth failed for s3cret-pw".into()),
            "auth failed for (sensitive)"
        );
    }

    #[test]
    fn stuffs_a_dot_before_every_line_that_starts_with_one() {
        assert_eq!(dot_stuffed(".a\r\nb.\r\n.\r\n..c"), "..a\r\nb.\r\n..\r\n...c");
        assert_eq!(dot_stuffed("a\n.b"), "a\n.b", "a bare LF does not start a line");
        assert_eq!(
            DataWithEnd("x\r\n.").to_string(),
            "x\r\n..\r\n.\r\n",
            "the message and its end in one piece"
        );
    }

    #[test]
    fn refuses_a_bad_sender_address() {
        let settings = SmtpSettings {
            url: "smtp://127.0.0.1:1".parse().unwrap(),
            credentials: None,
            from: "not an address".into(),
            hello_name: "localhost".into(),
            extra_roots_pem: None,
            timeout: Duration::from_secs(2),
        };
        assert!(matches!(Mailer::new(&settings), Err(SmtpSettingsError::From(_))));
    }
}
