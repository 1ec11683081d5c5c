//! The browser harness shared by the tests that drive a real Chromium: finding the tools
//! (Debian's `chromium`, `oathtool` and `sqlite3`, playwright-core and axe-core under
//! `.ci/node_modules`), running a flow of `tests/browser/*.mjs` (which import
//! `tests/browser/harness.mjs`) and reading its checks. Without the tools a test prints
//! "skipped" unless `PORTALCTL_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What the browser tests need.
pub struct Tools {
    node: PathBuf,
    chromium: PathBuf,
    modules: PathBuf,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// The tools, or `None` after saying which are missing (a failure under
/// `PORTALCTL_REQUIRE_TOOLS=1`).
pub fn tools() -> Option<Tools> {
    let modules = Path::new(ROOT).join(".ci/node_modules");
    let node = which("node");
    let chromium = which("chromium").or_else(|| which("chromium-browser"));
    let missing: Vec<&str> = [
        ("node", node.is_some()),
        ("chromium", chromium.is_some()),
        ("oathtool", which("oathtool").is_some()),
        // partner_pages.mjs ages a link and a session in the SQLite file of `serve`.
        ("sqlite3", which("sqlite3").is_some()),
        ("playwright-core", modules.join("playwright-core").is_dir()),
        ("axe-core", modules.join("axe-core").is_dir()),
    ]
    .into_iter()
    .filter(|(_, found)| !found)
    .map(|(name, _)| name)
    .collect();
    if missing.is_empty() {
        return Some(Tools {
            node: node?,
            chromium: chromium?,
            modules,
        });
    }
    assert!(
        std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "the browser tests need {missing:?} and PORTALCTL_REQUIRE_TOOLS=1"
    );
    println!("skipped: the browser tests need {missing:?} (.ci/run installs them)");
    None
}

/// The checks of one run, by name: whether each passed and the detail of a failure, plus
/// the values the flow reported (`{"value": NAME, "data": ...}` lines).
pub struct Checks {
    pub checks: HashMap<String, (bool, Value)>,
    pub values: HashMap<String, Value>,
}

impl Checks {
    /// Fails naming every expected check that did not run.
    pub fn assert_ran(&self, expected: &[&str]) {
        let missing: Vec<&&str> = expected
            .iter()
            .filter(|name| !self.checks.contains_key(**name))
            .collect();
        assert!(missing.is_empty(), "checks that did not run: {missing:?}");
    }
}

/// Runs `tests/browser/{script}` with `FLOW=flow`, screenshots under `target/{out}`;
/// fails on any failed check or when the script did not finish.
pub fn run_browser(tools: &Tools, script: &str, out: &str, flow: &str, env: &[(&str, String)]) -> Checks {
    let out_dir = Path::new(ROOT).join("target").join(out);
    let output = Command::new(&tools.node)
        .arg(Path::new(ROOT).join("tests/browser").join(script))
        .env("NODE_MODULES", &tools.modules)
        .env("CHROMIUM", &tools.chromium)
        .env("PORTALCTL_BIN", env!("CARGO_BIN_EXE_portalctl"))
        .env("OUT_DIR", &out_dir)
        .env("FLOW", flow)
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut checks = HashMap::new();
    let mut values = HashMap::new();
    let mut done = false;
    for line in stdout.lines() {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if value["done"] == Value::Bool(true) {
            done = true;
        } else if let Some(name) = value["value"].as_str() {
            values.insert(name.to_string(), value["data"].clone());
        } else if let Some(name) = value["check"].as_str() {
            let entry = checks.entry(name.to_string()).or_insert((true, Value::Null));
            entry.0 &= value["ok"] == Value::Bool(true);
            if value["ok"] != Value::Bool(true) {
                entry.1 = value["detail"].clone();
            }
        }
    }
    assert!(
        done,
        "the browser script did not finish\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let failed: Vec<String> = checks
        .iter()
        .filter(|(_, (ok, _))| !ok)
        .map(|(name, (_, detail))| format!("{name}: {detail}"))
        .collect();
    assert!(failed.is_empty(), "failed checks:\n{}", failed.join("\n"));
    Checks { checks, values }
}

/// `examples/acme` copied to `to`.
pub fn copy_example(to: &Path) {
    copy_dir(&Path::new(ROOT).join("examples/acme"), to);
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
