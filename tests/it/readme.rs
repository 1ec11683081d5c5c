//! The README's examples, run (issue 21, acceptance 3): the `validate` counts of
//! `examples/acme` and its report of a broken copy, the review example (`diff` of a change to acme, in a real git
//! repository) and `explain alice@globex.com`. Each README block must be the command's
//! real output; `UPDATE_DOCS=1 cargo test --test it readme` rewrites the blocks.

use std::path::Path;

use crate::support::{acme_copy, portalctl, stderr, stdout};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

/// Checks (or with `UPDATE_DOCS=1` rewrites) the lines after `command` in the README's
/// console block that starts with it, up to the block's end or the next `$ ` line.
fn check_block(command: &str, output: &str) {
    let readme = std::fs::read_to_string(README).unwrap();
    let start = readme
        .find(&format!("$ {command}\n"))
        .unwrap_or_else(|| panic!("the README shows `$ {command}`"))
        + command.len()
        + 3;
    let rest = &readme[start..];
    let end = ["\n$ ", "\n```"]
        .iter()
        .filter_map(|marker| rest.find(marker))
        .min()
        .expect("the block ends")
        + 1;
    let shown = &rest[..end];
    // A blank line separates the output from the next command.
    let separator = if shown.ends_with("\n\n") { "\n" } else { "" };
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!(
            "{}{}\n{separator}{}",
            &readme[..start],
            output.trim_end(),
            &rest[end..]
        );
        std::fs::write(README, updated).unwrap();
        return;
    }
    assert_eq!(
        shown.trim_end(),
        output.trim_end(),
        "the README's `$ {command}` block is stale: run `UPDATE_DOCS=1 cargo test --test it readme`"
    );
}

fn run(dir: &Path, args: &[&str]) -> (String, String) {
    let output = portalctl(dir, args);
    (stdout(&output), stderr(&output))
}

#[test]
fn the_readme_counts_acme_as_validate_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, err) = run(dir, &["validate", "examples/acme"]);
    check_block("portalctl validate examples/acme", &err);
}

/// The README's broken example: acme with a role typo in a contoso member and a CSV row
/// with a cell too many. Every problem is reported, each at its place.
#[test]
fn the_readme_reports_a_broken_acme_as_validate_does() {
    let parent = tempfile::tempdir().unwrap();
    let acme = acme_copy();
    let broken = parent.path().join("broken");
    std::process::Command::new("cp")
        .args(["-r", acme.path().to_str().unwrap(), broken.to_str().unwrap()])
        .status()
        .unwrap();
    edit(
        &broken.join("portals/contoso.yaml"),
        "      - email: bob@initech.com\n        role: viewer\n",
        "      - email: bob@initech.com\n        role: viwer\n",
    );
    edit(
        &broken.join("rosters/globex.csv"),
        "eli@globex.com,editor,t-042,emea,\n",
        "eli@globex.com,editor,t-042,emea,,extra\n",
    );
    let (_, err) = run(parent.path(), &["validate", "broken/"]);
    check_block("portalctl validate broken/", &err);
}

#[test]
fn the_readme_explains_alice_as_explain_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (out, err) = run(dir, &["explain", "alice@globex.com", "examples/acme"]);
    assert!(err.is_empty(), "{err}");
    check_block("portalctl explain alice@globex.com examples/acme", &out);
}

/// Stages everything under `dir` and commits it, with `origin/main` at that commit (as a
/// CI clone of a pull request has it).
fn commit_all(dir: &Path) {
    let repo = git2::Repository::init(dir).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Rita Reviewer", "rita@acme.io").unwrap();
    let commit = repo
        .commit(Some("HEAD"), &signature, &signature, "acme", &tree, &[])
        .unwrap();
    repo.reference("refs/remotes/origin/main", commit, false, "the PR's base")
        .unwrap();
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} holds `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The review example: chen joins `contoso-finance`, ben leaves the contoso portal (and
/// his dashboard share with him), and the globex portal's view share on
/// `/Partners/Enablement` becomes an edit share for `finance-partners` (on `Drafts` too).
#[test]
fn the_readme_review_example_is_what_diff_prints() {
    let repo = tempfile::tempdir().unwrap();
    let acme = acme_copy();
    let access = repo.path().join("access");
    std::fs::rename(acme.path(), &access)
        .or_else(|_| {
            std::process::Command::new("cp")
                .args(["-r", acme.path().to_str().unwrap(), access.to_str().unwrap()])
                .status()
                .map(|_| ())
        })
        .unwrap();
    commit_all(repo.path());
    let yaml = access.join("access.yaml");
    edit(
        &yaml,
        "members: [ana@contoso.com]",
        "members: [ana@contoso.com, chen@fabrikam.com]",
    );
    edit(
        &yaml,
        "      - portal: globex\n        access: view\n      - portal: contoso",
        "      - group: finance-partners\n        access: edit\n      - portal: contoso",
    );
    edit(
        &yaml,
        "      - user: ana@contoso.com\n        access: edit\n",
        "      - user: ana@contoso.com\n        access: edit\n      - group: finance-partners\n        access: edit\n",
    );
    edit(
        &yaml,
        "    description: Quarterly revenue by partner\n    shares:\n      - user: ben@contoso.co.uk\n        access: view\n",
        "    description: Quarterly revenue by partner\n",
    );
    edit(
        &access.join("portals/contoso.yaml"),
        "      - email: ben@contoso.co.uk\n        role: viewer\n        org: contoso\n        attributes: { region: emea }\n        expires: 2027-06-30\n",
        "",
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["diff", "--base", "origin/main", "access/"])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TODAY", "2026-12-07")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    check_block("portalctl diff --base origin/main access/", &stdout(&output));
}

/// The assertion example: acme's `finance-partners` group added to the shares of
/// `/Partners/Contoso` lets alice (Globex) in, which breaks `only Contoso sees its room`.
#[test]
fn the_readme_assertion_example_is_what_validate_prints() {
    let dir = tempfile::tempdir().unwrap();
    let acme = acme_copy();
    let access = dir.path().join("access");
    std::fs::rename(acme.path(), &access)
        .or_else(|_| {
            std::process::Command::new("cp")
                .args(["-r", acme.path().to_str().unwrap(), access.to_str().unwrap()])
                .status()
                .map(|_| ())
        })
        .unwrap();
    edit(
        &access.join("access.yaml"),
        "      - org: contoso\n        access: view\n",
        "      - org: contoso\n        access: view\n      - group: finance-partners\n        access: view\n",
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["validate", "access/"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TODAY", "2026-12-07")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("assertion `only Contoso sees its room` is broken: alice@globex.com"),
        "{err}"
    );
    check_block("portalctl validate access/", &err);
}

/// The quickstart, followed into the console: `apply` to `sqlite:portalctl.db`, `serve`
/// on that file with no token prints the console's URL, and the admin the example declares
/// gets in with the link `portalctl outbox` shows (no `--smtp`), up to the TOTP enrolment.
#[test]
fn the_quickstart_leads_into_the_console() {
    use crate::support::{ServerGuard, ServerOptions};
    let dir = crate::support::example("quickstart");
    let (_, err) = run(dir.path(), &["apply", "--auto-approve"]);
    assert!(err.contains("applied 10 changes to sqlite:portalctl.db"), "{err}");
    let server = ServerGuard::start(ServerOptions {
        db: Some(dir.path().join("portalctl.db").display().to_string()),
        ..ServerOptions::default()
    });
    let printed = format!("staff console: {}/console ", server.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.stderr().contains(&printed) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(server.stderr().contains(&printed), "{}", server.stderr());

    // The README's steps: ask for a link as you@acme.io, read it with `portalctl outbox`.
    let mut staff = crate::console::Browser::new(&server);
    assert_eq!(staff.get("/console/sign-in").0, 200);
    assert_eq!(staff.post("/console/sign-in", &[("email", "you@acme.io")]).0, 200);
    let outbox = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
            .args(["outbox", "--to", "you@acme.io"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("PORTALCTL_TARGET", &server.base)
            .env_remove("PORTALCTL_TOKEN")
            .output()
            .unwrap()
    };
    let mut shown = String::new();
    for _ in 0..200 {
        let output = outbox();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        shown = stdout(&output);
        if shown.contains("/console/link?token=") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let at = shown
        .find("/console/link?token=")
        .unwrap_or_else(|| panic!("{shown}"));
    let token: String = shown[at + 20..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    assert_eq!(staff.get(&format!("/console/link?token={token}")).0, 200);
    assert_eq!(
        staff.post("/console/link", &[("token", &token)]),
        (303, "/console/2fa".to_string())
    );
    let (status, enrol) = staff.get("/console/2fa/enrol");
    assert_eq!(status, 200, "{enrol}");
    assert!(enrol.contains("otpauth://"), "{enrol}");
}
