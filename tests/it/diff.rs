//! `portalctl diff`: snapshots of its text and markdown between two commits of the shipped
//! example in a real git repository, and between a commit and the working tree.

use std::path::Path;

use crate::outputs::{edit_config, example, transcript};

/// Stages everything under `dir` and commits it on top of `HEAD` (if any).
fn commit_all(dir: &Path, message: &str) {
    let repo = git2::Repository::open(dir).unwrap_or_else(|_| git2::Repository::init(dir).unwrap());
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Rita Reviewer", "rita@acme.io").unwrap();
    let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)
        .unwrap();
}

/// The acme example committed, then a second commit in which chen joins
/// `contoso-finance` and fay leaves the globex roster; the working tree then also turns
/// eli into a viewer.
fn repository() -> tempfile::TempDir {
    let dir = example("acme");
    commit_all(dir.path(), "acme");
    edit_config(
        dir.path(),
        "access.yaml",
        "members: [ana@contoso.com]",
        "members: [ana@contoso.com, chen@fabrikam.com]",
    );
    edit_config(
        dir.path(),
        "rosters/globex.csv",
        "fay@globex.com,,t-042,amer,2\n",
        "",
    );
    commit_all(dir.path(), "chen joins contoso-finance; fay leaves");
    edit_config(
        dir.path(),
        "rosters/globex.csv",
        "eli@globex.com,editor,",
        "eli@globex.com,viewer,",
    );
    dir
}

#[test]
fn diffs_two_commits_in_text_and_markdown() {
    let dir = repository();
    for format in ["text", "markdown"] {
        insta::assert_snapshot!(
            format!("commits_{format}"),
            transcript(
                dir.path(),
                &[&[
                    "diff", "config", "--base", "HEAD~1", "--head", "HEAD", "--format", format
                ]]
            )
        );
    }
}

#[test]
fn diffs_a_commit_and_the_working_tree() {
    let dir = repository();
    insta::assert_snapshot!(
        "working_tree",
        transcript(
            dir.path(),
            &[
                &["diff", "config", "--base", "HEAD"],
                &["diff", "config", "--base", "HEAD", "--head", "HEAD"],
            ]
        )
    );
}
