//! The reconcile loop through the real binary, against a real `portalctl serve` on port 0
//! and against the embedded `sqlite:` target: the same scenarios on both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{ServerGuard, ServerOptions, stderr, stdout};

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

fn both(test: impl Fn(Kind)) {
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

#[test]
fn plan_apply_then_no_op_plan() {
    both(|kind| {
        let setup = Setup::new(kind);
        let (out, _) = setup.expect(&["plan", "config"], 2);
        assert!(
            out.contains(&format!("Target: {}", setup.target)),
            "{kind:?}: {out}"
        );
        assert!(
            out.contains("+ member alice@globex.com in portal globex"),
            "{out}"
        );
        assert!(out.contains("attributes.contract_ref = (sensitive)"), "{out}");
        let (_, err) = setup.expect(&["apply", "config"], 1);
        assert!(
            err.contains("stdin is not a terminal") && err.contains("--auto-approve"),
            "{err}"
        );
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
        assert!(err.contains("now at revision 1"), "{err}");
        let (out, _) = setup.expect(&["plan", "config"], 0);
        assert!(out.contains("No changes."), "{out}");
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
        assert!(err.contains("nothing to do"), "{err}");
    });
}

#[test]
fn saved_plan_is_applied_and_holds_no_secret() {
    both(|kind| {
        let setup = Setup::new(kind);
        let (_, err) = setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        let config = std::fs::canonicalize(setup.config_dir()).unwrap();
        assert!(
            err.contains("apply it with `portalctl apply plan.json` (it holds only digests of its 1 sensitive value: `apply` reads them back from")
                && err.contains(&config.display().to_string()),
            "{err}"
        );
        assert_no_secret(&setup.path("plan.json"));
        // Regression (issue 21): a plan that writes a sensitive value needed `apply FILE
        // --config DIR`. It holds only the value's digest and names the config it was made
        // from, which `apply FILE` reads the value back from, from any directory.
        let elsewhere = tempfile::tempdir().unwrap();
        let plan = setup.path("plan.json");
        let output = setup.run_in(elsewhere.path(), &["apply", plan.to_str().unwrap()]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{kind:?}: {err}");
        assert!(err.contains("applied") && !err.contains(SECRET), "{err}");
        setup.expect(&["plan", "config"], 0);
        // The sensitive value reached the live side, restored from the config.
        let (out, _) = setup.expect(&["plan", "config", "--format", "json"], 0);
        assert!(!out.contains(SECRET));
    });
}

#[test]
fn a_saved_plan_is_refused_when_its_sensitive_value_changed_or_its_config_is_gone() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        // The config changed the value after the plan: refused, naming what, not the values.
        setup.write_config(&CONFIG.replace(SECRET, "K-OTHER-1"));
        let (_, err) = setup.expect(&["apply", "plan.json"], 1);
        assert!(
            err.contains(
                "the config's value of sensitive attribute `contract_ref` of member alice@globex.com in portal globex is not the one planned"
            ) && err.contains("the config changed since the plan was made; nothing was changed")
                && err.contains("run `portalctl plan --out …` again"),
            "{kind:?}: {err}"
        );
        assert!(!err.contains(SECRET) && !err.contains("K-OTHER-1"), "{err}");
        // Nothing was applied.
        setup.expect(&["plan", "config"], 2);
        // `--config` names another copy of the config the plan was made from.
        std::fs::create_dir_all(setup.path("original")).unwrap();
        std::fs::write(setup.path("original/portalctl.yaml"), CONFIG).unwrap();
        // Without the config the plan names, `apply FILE` says so.
        std::fs::rename(setup.config_dir(), setup.path("moved")).unwrap();
        let (_, err) = setup.expect(&["apply", "plan.json"], 1);
        assert!(
            err.contains("which does not exist here; nothing was changed")
                && err.contains("`portalctl apply plan.json --config DIR`"),
            "{kind:?}: {err}"
        );
        let (_, err) = setup.expect(&["apply", "plan.json", "--config", "original"], 0);
        assert!(err.contains("applied"), "{err}");
        setup.expect(&["plan", "original"], 0);
    });
}

#[test]
fn stale_saved_plan_is_refused_and_nothing_changes() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        // Someone applies something else first.
        let other = CONFIG.replace(
            "      - email: bob@globex.com\n        role: editor\n        org: globex\n",
            "",
        );
        std::fs::create_dir_all(setup.path("other")).unwrap();
        std::fs::write(setup.path("other/portalctl.yaml"), other).unwrap();
        setup.expect(&["apply", "other", "--auto-approve"], 0);
        let (_, err) = setup.expect(&["apply", "plan.json"], 1);
        assert!(
            err.contains("plan is stale") && err.contains("run `portalctl plan"),
            "{err}"
        );
        // Live is still what `other` made it.
        setup.expect(&["plan", "other"], 0);
    });
}

/// Regression (issue 21, defect 6): a saved plan recorded `config_path: "."`, so applied
/// from another directory it found no YAML, and from a parent it loaded every YAML below.
#[test]
fn a_saved_plan_applies_from_any_directory_without_its_config() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.write_config(
            &CONFIG
                .replace("K-SECRET-9931", "")
                .replace(", contract_ref:  }", " }"),
        );
        setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        let plan = std::fs::read_to_string(setup.path("plan.json")).unwrap();
        assert!(!plan.contains("config_path"), "{plan}");
        // Elsewhere: a directory with no config, under a parent with another project's
        // (invalid) YAML.
        let elsewhere = setup.path("elsewhere/deep");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(setup.path("elsewhere/broken.yaml"), "portals: [not: valid").unwrap();
        // The config changing after the plan was made does not matter: the plan is applied
        // as it was reviewed.
        setup.write_config("workspace: { name: Other }\n");
        let plan_path = setup.path("plan.json");
        let output = setup.run_in(&elsewhere, &["apply", plan_path.to_str().unwrap()]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{err}");
        assert!(err.contains("applied"), "{err}");
        assert!(!err.contains("YAML"), "{err}");
        setup.write_config(
            &CONFIG
                .replace("K-SECRET-9931", "")
                .replace(", contract_ref:  }", " }"),
        );
        setup.expect(&["plan", "config"], 0);
        // Applied again, it is stale.
        let output = setup.run_in(&elsewhere, &["apply", plan_path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("plan is stale"), "{}", stderr(&output));
    });
}

#[test]
fn protected_portals_are_not_deleted() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.write_config(&CONFIG.replace(
            "    logout_url: https://acme.io/bye\n",
            "    logout_url: https://acme.io/bye\n    protect: true\n",
        ));
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let without_portal = "workspace:\n  name: Acme\n  owner_domains: [acme.io]\n";
        setup.write_config(without_portal);
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve", "--allow-mass-removal"], 1);
        assert!(err.contains("globex") && err.contains("protect"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        let (out, _) = setup.expect(&["plan", "config", "--allow-mass-removal"], 1);
        assert!(out.contains("- portal globex"), "{out}");
    });
}

#[test]
fn mass_removals_are_refused_unless_allowed() {
    both(|kind| {
        let setup = Setup::new(kind);
        let mut members = String::new();
        for i in 0..20 {
            members.push_str(&format!("      - email: p{i}@globex.com\n        role: viewer\n"));
        }
        let big = CONFIG.replace("    members:\n", &format!("    members:\n{members}"));
        setup.write_config(&big);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        setup.write_config(CONFIG);
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 1);
        assert!(
            err.contains("20") && err.contains("--allow-mass-removal"),
            "{err}"
        );
        setup.expect(&["plan", "config", "--max-removals", "20"], 2);
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve", "--max-removals", "20"], 0);
        assert!(err.contains("applied 20 changes"), "{err}");
    });
}

#[test]
fn a_burst_of_503_is_survived_by_retries() {
    let options = ServerOptions {
        extra_args: vec!["--inject-503".into(), "3".into()],
        ..ServerOptions::with_admin()
    };
    let setup = Setup::with_server(Kind::Http, options);
    let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert!(err.contains("retrying in"), "{err}");
    assert!(err.contains("now at revision 1"), "{err}");
}

#[test]
fn a_wrong_token_fails_fast_with_the_servers_message() {
    let setup = Setup::new(Kind::Http);
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["plan", "config", "--target", &setup.target])
        .current_dir(setup.dir.path())
        .env("PORTALCTL_TOKEN", "wrong-token")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("refused the token"), "{err}");
    assert!(!err.contains("wrong-token"), "{err}");
}

#[test]
fn an_unreachable_target_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["plan", ".", "--target", "ftp://nowhere"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("is not a target"), "{}", stderr(&output));
}

#[test]
fn drift_is_found_classified_and_attributed() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let (out, _) = setup.expect(&["drift", "config"], 0);
        assert!(out.contains("No drift"), "{out}");
        // Out of band: a different config adds a member, removes a share and recolours.
        let changed = CONFIG
            .replace("    color: \"#0F62FE\"", "    color: \"#000000\"")
            .replace(
                "      - email: bob@globex.com\n",
                "      - email: eve@globex.com\n        role: viewer\n      - email: bob@globex.com\n",
            )
            .replace(
                "    shares:\n      - portal: globex\n        access: view\n",
                "    description: nothing shared\n",
            );
        std::fs::create_dir_all(setup.path("elsewhere")).unwrap();
        std::fs::write(setup.path("elsewhere/portalctl.yaml"), changed).unwrap();
        setup.expect(&["apply", "elsewhere", "--auto-approve"], 0);
        let (out, _) = setup.expect(&["drift", "config"], 2);
        let added = out
            .find("Added outside git (grants access):")
            .expect("added section");
        let eve = out.find("+ member eve@globex.com in portal globex").expect("eve");
        let removed = out.find("Removed outside git:").expect("removed section");
        let share = out
            .find("- share /Partners/Enablement with portal:globex")
            .expect("share");
        let changed = out.find("Changed outside git:").expect("changed section");
        let color = out
            .find("color: \"#0F62FE\" (git) → \"#000000\" (live)")
            .expect("colour");
        assert!(
            added < eve && eve < removed && removed < share && share < changed && changed < color,
            "{out}"
        );
        assert!(out.contains("last written: revision 2 by `"), "{out}");
        assert!(out.contains("not from a git commit"), "{out}");
        assert!(
            out.contains("Drift: 4 differences (1 added, 1 removed, 2 changed outside git)."),
            "{out}"
        );
        let (json, _) = setup.expect(&["drift", "config", "--format", "json"], 2);
        let document: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(document["drift"], true);
        assert_eq!(document["items"][0]["class"], "added_outside_git");
        assert_eq!(document["items"][0]["grants_access"], true);
        assert_eq!(document["items"][0]["last_write"]["revision"], 2);
        let (markdown, _) = setup.expect(&["drift", "config", "--format", "markdown"], 2);
        assert!(
            markdown.contains("| + **grants access** | `member eve@globex.com in portal globex` |"),
            "{markdown}"
        );
    });
}

#[test]
fn drift_notifies_a_webhook_only_when_there_is_drift() {
    use std::io::{BufRead as _, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = std::sync::Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1) {
            let mut stream = stream.unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            sink.lock().unwrap().push(String::from_utf8(body).unwrap());
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .unwrap();
        }
    });
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["drift", "config", "--notify", &url], 0);
    assert!(received.lock().unwrap().is_empty(), "no drift, no post");
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (_, err) = setup.expect(&["drift", "config", "--notify", &url], 2);
    assert!(err.contains("posted the drift notice"), "{err}");
    let posted = received.lock().unwrap().clone();
    assert_eq!(posted.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&posted[0]).unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("drift: 1 difference"),
        "{body}"
    );
    assert_eq!(body["drift"], true);
}

#[test]
fn import_round_trips_to_a_no_op_plan() {
    both(|kind| {
        let setup = Setup::new(kind);
        let mut members = String::new();
        for i in 0..60 {
            members.push_str(&format!("      - email: p{i}@globex.com\n        role: viewer\n        attributes: {{ contract_ref: K-SECRET-9931 }}\n"));
        }
        let config = CONFIG.replace("    members:\n", &format!("    members:\n{members}"));
        setup.write_config(&config);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let (_, err) = setup.expect(&["import", "--out", "imported"], 0);
        assert!(err.contains("hold sensitive attribute values"), "{err}");
        assert!(
            setup.path("imported/rosters/globex.csv").exists(),
            "a 62-member portal gets a CSV roster"
        );
        setup.expect(&["validate", "imported"], 0);
        let (out, _) = setup.expect(&["plan", "imported"], 0);
        assert!(out.contains("No changes."), "{out}");
        // A second import into the same directory is refused.
        setup.expect(&["import", "--out", "imported"], 1);
        let (_, err) = setup.expect(&["import", "--out", "redacted", "--redact-sensitive"], 0);
        assert!(err.contains("fill them in"), "{err}");
        let roster = std::fs::read_to_string(setup.path("redacted/rosters/globex.csv")).unwrap();
        assert!(
            !roster.contains(SECRET) && roster.contains("FILL-IN-SENSITIVE-VALUE"),
            "{roster}"
        );
    });
}

#[test]
fn no_secret_reaches_the_service_log_audit_or_history() {
    let setup = Setup::new(Kind::Http);
    setup.expect(&["plan", "config", "--out", "plan.json", "--format", "json"], 2);
    setup.expect(&["apply", "plan.json", "--config", "config"], 0);
    setup.expect(&["history", "--format", "json"], 0);
    setup.expect(&["drift", "config", "--format", "json"], 0);
    setup.expect(&["explain", "alice@globex.com", "--live", "--format", "json"], 0);
    let server = setup.server.as_ref().expect("an HTTP setup has a server");
    let log = server.stderr();
    assert!(log.contains("/v1/changes"), "the request log is there: {log}");
    assert!(!log.contains(SECRET), "a sensitive value reached the service log");
    assert!(
        !log.contains(setup.token.as_deref().unwrap()),
        "the token reached the service log"
    );
    let audit = crate::support::client()
        .get(server.url("/v1/audit?after=0"))
        .bearer_auth(setup.token.as_deref().unwrap())
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        audit.contains("(sensitive)") && !audit.contains(SECRET),
        "{audit}"
    );
}
