//! `portalctl report`: snapshots of the head of its CSV from git and from live on the
//! shipped example (times replaced by `<time>`), and of the whole CSV of one portal.

use crate::support::{apply_to_live, example, transcript};

/// The first `count` lines of `text`.
fn head(text: &str, count: usize) -> String {
    text.lines().take(count).map(|line| format!("{line}\n")).collect()
}

#[test]
fn reports_the_acme_example_from_git_and_from_live() {
    let dir = example("acme");
    apply_to_live(dir.path());
    let git = transcript(dir.path(), &[&["report", "config"]]);
    let live = transcript(
        dir.path(),
        &[&["report", "config", "--live", "--target", "sqlite:live.db"]],
    );
    insta::assert_snapshot!("git_head", head(&git, 16));
    insta::assert_snapshot!("live_head", head(&live, 16));
}

#[test]
fn reports_one_portal_in_full() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "portal_contoso",
        transcript(dir.path(), &[&["report", "config", "--scope", "portal:contoso"]])
    );
}
