//! A real SMTP server for the mail tests: `tests/support/mail_sink.py`, an aiosmtpd server
//! that stores every message it accepts as JSON (envelope and decoded parts).
//!
//! aiosmtpd comes from PyPI into `.ci/.venv` (`.ci/run` installs it). The sink runs with
//! `PORTALCTL_TEST_PYTHON`, else `.ci/.venv/bin/python`, else `python3`, whichever imports
//! `aiosmtpd` first. Without one, [`SmtpSink::start`] prints "skipped" and returns `None`,
//! unless `PORTALCTL_REQUIRE_TOOLS=1` (CI), where it fails.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One message the sink accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// The user that logged in, when the sink asked for AUTH.
    pub login: Option<String>,
}

impl Mail {
    /// The first `http(s)://` link of the text part.
    pub fn text_link(&self) -> Option<String> {
        self.text.as_deref().and_then(|text| {
            text.split_whitespace()
                .find(|word| word.starts_with("http://") || word.starts_with("https://"))
                .map(|word| word.trim_end_matches(['.', ',', ')']).to_string())
        })
    }
}

/// A running sink, killed on drop.
pub struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    /// `smtp://127.0.0.1:PORT` (`smtp+starttls://` or `smtps://` with TLS)
    pub url: String,
    /// With TLS: the PEM of the test CA that signed the sink's certificate (for
    /// `--smtp-ca-file`), in a directory of its own.
    ca: Option<(tempfile::TempDir, PathBuf)>,
}

/// How a sink protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// STARTTLS offered and required before anything else (`smtp+starttls://`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// A test CA and a certificate it signs for `127.0.0.1` (an IP address SAN, what rustls
/// checks for an IP host), made with `openssl` in `dir`: `(ca.pem, cert.pem, key.pem)`.
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (Debian's `openssl`)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=portalctl test CA",
    ]);
    run(&ca);
    let mut request = vec!["req"];
    request.extend(ec);
    request.extend(["-keyout", "key.pem", "-out", "cert.csr", "-subj", "/CN=127.0.0.1"]);
    run(&request);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n",
    )
    .expect("the extensions file is written");
    run(&[
        "x509",
        "-req",
        "-in",
        "cert.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"))
}

/// A Python that can import aiosmtpd, or `None` (after saying so) when there is none and
/// CI does not require one.
pub fn python() -> Option<PathBuf> {
    let venv = Path::new(ROOT).join(".ci/.venv/bin/python");
    let candidates = std::env::var_os("PORTALCTL_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([venv, PathBuf::from("python3")]);
    for candidate in candidates {
        let imports = Command::new(&candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if imports {
            return Some(candidate);
        }
    }
    assert!(
        std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "no Python with aiosmtpd (.ci/.venv/bin/pip install aiosmtpd) and PORTALCTL_REQUIRE_TOOLS=1"
    );
    println!("skipped: install aiosmtpd into .ci/.venv (.ci/run does)");
    None
}

impl SmtpSink {
    /// A sink without AUTH.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// A sink that requires AUTH with `user` and `password` when given.
    pub fn start_with(credentials: Option<(&str, &str)>) -> Option<Self> {
        Self::start_with_tls(credentials, None)
    }

    /// A sink with TLS (`tls`) behind a certificate only [`SmtpSink::ca_file`] vouches
    /// for, requiring AUTH with `user` and `password` when given.
    pub fn start_with_tls(credentials: Option<(&str, &str)>, tls: Option<SinkTls>) -> Option<Self> {
        let python = python()?;
        let dir = tempfile::tempdir().expect("a temp dir");
        let ca = tls.map(|_| {
            let keys = tempfile::tempdir().expect("a temp dir");
            let files = test_certificates(keys.path());
            (keys, files)
        });
        let mut command = Command::new(python);
        command
            .arg(Path::new(ROOT).join("tests/support/mail_sink.py"))
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some((user, password)) = credentials {
            command.args(["--user", user, "--password", password]);
        }
        if let (Some(tls), Some((_, (_, cert, key)))) = (tls, &ca) {
            let mode = match tls {
                SinkTls::StartTls => "starttls",
                SinkTls::Implicit => "implicit",
            };
            command
                .args(["--tls", mode])
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(key);
        }
        let mut child = command.spawn().expect("the mail sink starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = sender.send(address.trim().to_string());
                }
            }
        });
        let Ok(address) = receiver.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("the mail sink did not start");
        };
        let scheme = match tls {
            None => "smtp",
            Some(SinkTls::StartTls) => "smtp+starttls",
            Some(SinkTls::Implicit) => "smtps",
        };
        Some(Self {
            child,
            dir,
            url: format!("{scheme}://{address}"),
            ca: ca.map(|(keys, (ca, _, _))| (keys, ca)),
        })
    }

    /// The PEM of the CA that signed a TLS sink's certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca.as_ref().expect("a sink with TLS").1
    }

    /// Every message accepted so far, in the order accepted.
    pub fn messages(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("the sink's directory")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("a stored message");
                serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
            })
            .collect()
    }

    /// Where the sink stores what it accepts (one `NNNNNN-PID.json` per message), for a
    /// browser script that reads the mail itself.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// How many messages were accepted so far.
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path()).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "json"))
                .count()
        })
    }

    /// Waits until at least `count` messages arrived (panics after `timeout`), then returns
    /// them all.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let started = Instant::now();
        while self.count() < count {
            assert!(
                started.elapsed() < timeout,
                "{} of {count} message(s) arrived in {timeout:?}",
                self.count()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.messages()
    }

    /// While on, every message is refused with a transient `451`.
    pub fn refuse(&self, on: bool) {
        let flag = self.dir.path().join("refuse");
        if on {
            std::fs::write(flag, "").expect("the refuse flag is written");
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
