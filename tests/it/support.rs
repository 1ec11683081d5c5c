//! Helpers shared by the end-to-end tests: running the binary, a `serve` on port 0, the
//! reconcile [`Setup`] (one config on `sqlite:` or a real server), copies of the shipped
//! examples with transcripts of commands on them for snapshots, and git commits.

use std::path::{Path, PathBuf};
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
    /// Environment variables for the server.
    pub env: Vec<(String, String)>,
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
        command.envs(options.env.iter().map(|(name, value)| (name, value)));
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

// The reconcile setup: one config run against `sqlite:` or a real server, same scenarios on both.

impl Setup {
    pub fn new(kind: Kind) -> Self {
        Self::with_server(kind, ServerOptions::with_admin())
    }

    pub fn with_server(kind: Kind, options: ServerOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (target, token, server) = match kind {
            Kind::Sqlite => (
                format!("sqlite:{}", dir.path().join("live.db").display()),
                None,
                None,
            ),
            Kind::Http => {
                let server = ServerGuard::start(options);
                (server.base.clone(), server.token.clone(), Some(server))
            }
        };
        let setup = Self {
            dir,
            target,
            token,
            server,
        };
        setup.write_config(CONFIG);
        setup
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn write_config(&self, text: &str) {
        let dir = self.config_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("portalctl.yaml"), text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.dir.path(), args)
    }

    /// [`Setup::run`] with `cwd` as the working directory.
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portalctl"));
        command
            .args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env("PORTALCTL_TODAY", "2026-11-26")
            .env("PORTALCTL_TARGET", &self.target)
            .env_remove("PORTALCTL_TOKEN")
            .stdin(std::process::Stdio::null());
        if let Some(token) = &self.token {
            command.env("PORTALCTL_TOKEN", token);
        }
        command.output().unwrap()
    }

    /// Runs and asserts the exit code, showing the output when it differs.
    pub fn expect(&self, args: &[&str], code: i32) -> (String, String) {
        let output = self.run(args);
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(
            output.status.code(),
            Some(code),
            "`{}` exited {:?}\nstdout:\n{out}\nstderr:\n{err}",
            args.join(" "),
            output.status.code()
        );
        assert!(
            !out.contains(SECRET) && !err.contains(SECRET),
            "a sensitive value leaked:\n{out}\n{err}"
        );
        if let Some(token) = &self.token {
            assert!(
                !out.contains(token.as_str()) && !err.contains(token.as_str()),
                "the token leaked"
            );
        }
        (out, err)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A config dir plus a target; every command runs with colour off and today pinned.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub target: String,
    pub token: Option<String>,
    pub server: Option<ServerGuard>,
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Sqlite,
    Http,
}

pub const SECRET: &str = "K-SECRET-9931";

pub const CONFIG: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
attributes:
  tenant_id: { type: string }
  contract_ref: { type: string, sensitive: true }
partner_orgs:
  globex:
    domains: [globex.com]
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - email: alice@globex.com
        role: viewer
        org: globex
        attributes: { tenant_id: t-1, contract_ref: K-SECRET-9931 }
      - email: bob@globex.com
        role: editor
        org: globex
groups:
  finance:
    members: [alice@globex.com]
folders:
  /Partners/Finance:
    shares:
      - group: finance
        access: view
  /Partners/Enablement:
    shares:
      - portal: globex
        access: view
";

pub fn both(test: impl Fn(Kind)) {
    test(Kind::Sqlite);
    test(Kind::Http);
}

pub fn assert_no_secret(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        !text.contains(SECRET),
        "{} holds a sensitive value",
        path.display()
    );
}

// Running the binary on a copy of a shipped example, for snapshots of what a user reads:
// relative paths and a fixed day, so nothing in the output depends on the machine.

/// A copy of `examples/NAME` in a fresh temp dir, as `config/`.
pub(crate) fn example(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name),
        &dir.path().join("config"),
    );
    dir
}

/// Applies the config in `dir` to `sqlite:live.db`, asserting it succeeds.
pub(crate) fn apply_to_live(dir: &Path) {
    let (code, _, err) = run(
        dir,
        &["apply", "config", "--target", "sqlite:live.db", "--auto-approve"],
    );
    assert_eq!(code, 0, "{err}");
}

/// Replaces the first `from` in the config file `file` of `dir` with `to`; `from` must be there.
pub(crate) fn edit_config(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join("config").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} holds {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The acme example applied to `sqlite:live.db`, then its config changed behind live's
/// back: live now holds what git no longer says.
pub(crate) fn acme_behind_live() -> tempfile::TempDir {
    let dir = example("acme");
    apply_to_live(dir.path());
    let edit = |file: &str, from: &str, to: &str| edit_config(dir.path(), file, from, to);
    edit("rosters/globex.csv", "fay@globex.com,,t-042,amer,2\n", "");
    edit(
        "rosters/globex.csv",
        "eli@globex.com,editor,",
        "eli@globex.com,viewer,",
    );
    edit(
        "portals/contoso.yaml",
        "      - email: bob@initech.com",
        "      - email: cy@contoso.com\n        role: viewer\n        org: contoso\n      - email: bob@initech.com",
    );
    edit(
        "access.yaml",
        "      - group: contoso-finance\n        access: view\n",
        "",
    );
    dir
}

/// Runs the binary in `dir` on a fixed day and returns (exit code, stdout, stderr).
pub(crate) fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_on(dir, "2027-01-04", args)
}

/// [`run`] on `today`.
pub(crate) fn run_on(dir: &Path, today: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TODAY", today)
        .env_remove("PORTALCTL_TARGET")
        .env_remove("PORTALCTL_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the portalctl binary runs");
    (
        output.status.code().unwrap_or(-1),
        stdout(&output),
        stderr(&output),
    )
}

/// `2026-12-07T05:10:00Z`-like stamps (and any fraction or offset after them) as `<time>`.
pub(crate) fn without_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut index = 0;
    let shape = "dddd-dd-ddTdd:dd:dd";
    while index < chars.len() {
        let fits = chars.len() - index >= shape.len()
            && shape.chars().zip(&chars[index..]).all(|(want, have)| match want {
                'd' => have.is_ascii_digit(),
                other => other == *have,
            });
        if fits {
            out.push_str("<time>");
            index += shape.len();
            while index < chars.len() && (chars[index].is_ascii_digit() || ".+-:Z".contains(chars[index])) {
                index += 1;
            }
        } else {
            out.push(chars[index]);
            index += 1;
        }
    }
    out
}

/// Runs each command in `dir` on `today`, as a transcript: the command line and exit
/// code, stdout, then stderr (if any) under `[stderr]`; times replaced by `<time>`.
pub(crate) fn transcript_on(dir: &Path, today: &str, steps: &[&[&str]]) -> String {
    let mut transcript = String::new();
    for args in steps {
        let (code, out, err) = run_on(dir, today, args);
        transcript.push_str(&format!(
            "$ portalctl {}   # exit {code}\n{out}{}{err}\n",
            args.join(" "),
            if err.is_empty() { "" } else { "[stderr]\n" }
        ));
    }
    without_times(&transcript)
}

/// [`transcript_on`] on the fixed day of [`run`].
pub(crate) fn transcript(dir: &Path, steps: &[&[&str]]) -> String {
    transcript_on(dir, "2027-01-04", steps)
}

#[test]
fn times_are_filtered_and_nothing_else() {
    assert_eq!(
        without_times("at 2026-12-07T05:10:00.123Z by ci, 2026-12-07 stays"),
        "at <time> by ci, 2026-12-07 stays"
    );
}

/// A copy of `examples/acme` in a temp dir.
pub fn acme_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme"),
        dir.path(),
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of `examples/acme` applied to a fresh server, where `gus@globex.com` has then
/// registered himself in portal globex (which needs no approval).
pub fn acme_with_a_self_registration() -> (tempfile::TempDir, ServerGuard) {
    let dir = acme_copy();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, body) = json(server.send_json(
        reqwest::Method::POST,
        "/v1/portals/globex/self-register",
        &serde_json::json!({"email": "gus@globex.com"}),
    ));
    assert_eq!(status, 201, "{body}");
    (dir, server)
}

/// Stages everything under `dir` and commits it as `name <email>`; returns the commit id.
pub fn commit_signed(dir: &Path, name: &str, email: &str, message: &str) -> String {
    commit_signed_at(dir, name, email, message, None)
}

/// [`commit_signed`], dated `seconds` since the epoch (UTC) when given, else now.
pub fn commit_signed_at(dir: &Path, name: &str, email: &str, message: &str, seconds: Option<i64>) -> String {
    let repo = git2::Repository::open(dir).unwrap_or_else(|_| git2::Repository::init(dir).unwrap());
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"].iter(), None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = match seconds {
        Some(seconds) => git2::Signature::new(name, email, &git2::Time::new(seconds, 0)).unwrap(),
        None => git2::Signature::now(name, email).unwrap(),
    };
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)
        .unwrap()
        .to_string()
}

/// Stages everything under `dir` and commits it; returns the commit id.
pub fn commit_config(dir: &Path, message: &str) -> String {
    let repo = git2::Repository::open(dir).unwrap_or_else(|_| git2::Repository::init(dir).unwrap());
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"].iter(), None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Rita Reviewer", "rita@acme.io").unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)
        .unwrap()
        .to_string()
}

/// A repository whose `config/` holds CONFIG, committed once.
pub fn committed_setup() -> Setup {
    let setup = Setup::new(Kind::Sqlite);
    std::fs::write(setup.dir.path().join(".gitignore"), "*.db\n*.db-*\n*.json\n").unwrap();
    commit_config(setup.dir.path(), "initial access");
    setup
}

pub fn allowed(server: &ServerGuard, email: &str, folder: &str) -> bool {
    let (status, body) = json(server.get(&format!("/v1/access/{email}/check?folder={folder}")));
    assert_eq!(status, 200, "{body}");
    body["allowed"].as_bool().unwrap()
}

/// Runs the binary in `dir`, asserts its exit code and returns (stdout, stderr).
pub fn expect_exit(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let output = portalctl(dir, args);
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}\nstdout: {out}\nstderr: {err}"
    );
    (out, err)
}

/// The id of the newest message to `email` in the outbox (0 when there is none): what a
/// later link must come after.
pub fn newest_mail_id(server: &ServerGuard, email: &str) -> u64 {
    let body: serde_json::Value = server
        .get(&format!("/v1/outbox?recipient={email}&limit=1"))
        .json()
        .expect("an outbox page");
    body["messages"][0]["id"].as_u64().unwrap_or(0)
}

/// The token of the newest link mailed to `email` after message `after`. A sign-in link is
/// stored off the request's path (a member's answer takes no longer than anyone else's),
/// so it may land after the page answered: this waits for it, up to 10 s.
pub fn mailed_link_token(server: &ServerGuard, email: &str, after: u64) -> String {
    for _ in 0..200 {
        let body: serde_json::Value = server
            .get(&format!("/v1/outbox?recipient={email}&limit=5"))
            .json()
            .expect("an outbox page");
        let newest_link = body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .take_while(|message| message["id"].as_u64().is_some_and(|id| id > after))
            .filter_map(|message| message["text"].as_str())
            .find_map(|text| {
                text.find("token=")
                    .map(|at| text[at + 6..at + 6 + 43].to_string())
            });
        if let Some(token) = newest_link {
            return token;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no link mailed to {email} after message {after}");
}
