//! Helpers shared by the end-to-end tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the real binary with `args` in `dir`, with colour off and no inherited target or token.
pub fn portalctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PORTALCTL_TARGET")
        .env_remove("PORTALCTL_TOKEN")
        .output()
        .expect("the portalctl binary runs")
}

/// Runs the real binary in `dir` against `server` with `token`, and asserts its exit code
/// and that the token shows in neither stdout nor stderr; returns stdout.
pub fn cli_with_token(server: &ServerGuard, dir: &Path, token: &str, args: &[&str], code: i32) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TARGET", &server.base)
        .env("PORTALCTL_TOKEN", token)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the portalctl binary runs");
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}\nstdout: {out}\nstderr: {err}"
    );
    assert!(
        token.is_empty() || (!out.contains(token) && !err.contains(token)),
        "{args:?} printed the token"
    );
    out
}

/// [`cli_with_token`] with the server's own admin token.
pub fn cli_against(server: &ServerGuard, dir: &Path, args: &[&str], code: i32) -> String {
    cli_with_token(
        server,
        dir,
        server.token.as_deref().unwrap_or_default(),
        args,
        code,
    )
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A running `portalctl serve` on a free loopback port with a temp database, killed on drop.
pub struct ServerGuard {
    child: Option<std::process::Child>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The admin token, when the server has one.
    pub token: Option<String>,
    /// Everything the server wrote on stderr so far.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    /// Holds the database; shared with restarts.
    pub dir: std::sync::Arc<tempfile::TempDir>,
}

/// How to start a server.
#[derive(Clone, Default)]
pub struct ServerOptions {
    pub token: Option<String>,
    /// Contents of a `--tokens` file.
    pub tokens_file: Option<String>,
    pub extra_args: Vec<String>,
    /// `--listen`; default `127.0.0.1:0`.
    pub listen: Option<String>,
    /// `--db`; default `portalctl.db` in the server's temp dir.
    pub db: Option<String>,
    /// A command that runs the binary, such as `["prlimit", "--nofile=256:256", "--"]`
    /// (it must `exec` the binary, keeping its process id).
    pub wrapper: Vec<String>,
}

impl ServerOptions {
    /// An admin token `test-admin-token`.
    pub fn with_admin() -> Self {
        Self {
            token: Some("test-admin-token".into()),
            ..Self::default()
        }
    }
}

impl ServerGuard {
    /// Starts a server with a fresh database.
    pub fn start(options: ServerOptions) -> Self {
        let dir = std::sync::Arc::new(tempfile::tempdir().expect("a temp dir"));
        Self::start_in(dir, options)
    }

    /// Starts a server on the database in `dir` (e.g. after [`ServerGuard::stop`]).
    pub fn start_in(dir: std::sync::Arc<tempfile::TempDir>, options: ServerOptions) -> Self {
        Self::try_start_in(dir, options)
            .unwrap_or_else(|stderr| panic!("the server did not start:\n{stderr}"))
    }

    /// Starts a server; `Err` holds its stderr when it exits before listening.
    pub fn try_start_in(
        dir: std::sync::Arc<tempfile::TempDir>,
        options: ServerOptions,
    ) -> Result<Self, String> {
        use std::io::BufRead;
        let mut command = match options.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(env!("CARGO_BIN_EXE_portalctl"));
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_portalctl")),
        };
        command
            .arg("serve")
            .arg("--db")
            .arg(
                options
                    .db
                    .clone()
                    .map_or_else(|| dir.path().join("portalctl.db").into_os_string(), Into::into),
            )
            .arg("--listen")
            .arg(options.listen.as_deref().unwrap_or("127.0.0.1:0"))
            .args(&options.extra_args)
            .env("NO_COLOR", "1")
            .env_remove("PORTALCTL_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        if let Some(token) = &options.token {
            command.env("PORTALCTL_TOKEN", token);
        }
        if let Some(tokens) = &options.tokens_file {
            let path = dir.path().join("tokens.yaml");
            std::fs::write(&path, tokens).expect("the tokens file is written");
            command.arg("--tokens").arg(path);
        }
        let mut child = command.spawn().expect("the portalctl binary starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (sender, receiver) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr is piped");
        let collected = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = sender.send(address.trim().to_string());
                }
                let mut text = collected.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        match receiver.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(base) => Ok(Self {
                child: Some(child),
                base,
                token: options.token,
                stderr,
                dir,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(std::time::Duration::from_millis(100));
                Err(stderr.lock().unwrap().clone())
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the admin token, if any.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        let request = client().request(method, self.url(path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .expect("the request is answered")
    }

    pub fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::blocking::Response {
        self.request(method, path)
            .json(body)
            .send()
            .expect("the request is answered")
    }

    pub fn post_changes(
        &self,
        expected: Option<u64>,
        changes: serde_json::Value,
    ) -> reqwest::blocking::Response {
        self.send_json(
            reqwest::Method::POST,
            "/v1/changes",
            &serde_json::json!({"expected_revision": expected, "changes": changes, "meta": {"tool_version": "test"}}),
        )
    }

    /// The current state and revision.
    pub fn state(&self) -> (serde_json::Value, u64) {
        let body: serde_json::Value = self.get("/v1/state").json().expect("the state is JSON");
        let revision = body["revision"].as_u64().expect("a revision");
        (body["state"].clone(), revision)
    }

    /// What the server has written on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Kills the server with SIGKILL (no chance to clean up) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server with SIGTERM and waits for it; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let status = child.wait().expect("the server exits");
        status.success()
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A blocking HTTP client with a generous timeout.
pub fn client() -> reqwest::blocking::Client {
    portalctl_client::http_client_builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

/// Reads a JSON body, panicking with the status and text when it is not JSON.
pub fn json(response: reqwest::blocking::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().expect("a body");
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("status {status}: not JSON: {text}"));
    (status, value)
}
