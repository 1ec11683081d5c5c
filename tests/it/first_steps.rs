//! The small things a new admin trips over (issue 21, item 10), each pinned by a test:
//! `history` names what changed and filters by partner, `explain` suggests a near email,
//! an unreachable target hints at starting `serve`.

use reqwest::Method;
use serde_json::json;

use crate::live_owned::acme_copy;
use crate::support::{ServerGuard, ServerOptions, cli_against, json, portalctl, stderr};

#[test]
fn history_names_the_resources_changed_and_filters_by_email() {
    let dir = acme_copy();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "gus@globex.com"}),
    ));
    assert_eq!(status, 201, "{body}");
    let out = cli_against(&server, dir.path(), &["history", "--email", "gus@globex.com"], 0);
    assert!(
        out.contains("      + member gus@globex.com in portal globex")
            && out.contains("      ~ group finance-partners"),
        "{out}"
    );
    assert_eq!(
        out.matches("revision ").count(),
        1,
        "only the registration: {out}"
    );
    // Without the filter, a large batch lists its first changes and says how many more.
    let out = cli_against(&server, dir.path(), &["history"], 0);
    assert!(
        out.contains("… and ") && out.contains(" more (`--format json` lists them)"),
        "{out}"
    );
    let out = cli_against(
        &server,
        dir.path(),
        &["history", "--email", "nobody@globex.com"],
        0,
    );
    assert!(!out.contains("revision "), "{out}");
}

#[test]
fn explain_suggests_the_nearest_partner() {
    let dir = acme_copy();
    let output = portalctl(dir.path(), &["explain", "alise@globex.com", "."]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("`alise@globex.com` is not a partner")
            && err.contains("hint: did you mean `alice@globex.com`?"),
        "{err}"
    );
}

#[test]
fn an_unreachable_target_hints_at_starting_serve() {
    let dir = acme_copy();
    let output = portalctl(
        dir.path(),
        &["plan", ".", "--target", "http://127.0.0.1:1", "--retry-for", "0s"],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("hint: is `portalctl serve` running at http://127.0.0.1:1?"),
        "{err}"
    );
}
