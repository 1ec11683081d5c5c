//! Tidy checks (rust-analyzer's `xtask/src/tidy.rs` is the model): what the crate graph
//! cannot forbid, a scan of the source text does.
//!
//! `portalctl-core` must not touch the outside world: no clock, no file system, no
//! environment, no network, no processes, and no threads outside the one named place
//! ([`THREADS_ALLOWED_IN`]). Its `[dependencies]` must not name an I/O crate. Test-only
//! code (a file declared under `#[cfg(test)]`, or what follows `#[cfg(test)]` in a file,
//! where this code base keeps its test modules) is not scanned: tests may read files.

use std::fmt;
use std::path::{Path, PathBuf};

/// The one file of the core allowed to spawn threads.
const THREADS_ALLOWED_IN: &str = "config/parallel.rs";

/// What the core must not do, and the source text that does it.
const FORBIDDEN: &[(Concern, &str)] = &[
    (Concern::Clock, "SystemTime"),
    (Concern::Clock, "Instant::now"),
    (Concern::Clock, "OffsetDateTime::now"),
    (Concern::Clock, "PrimitiveDateTime::now"),
    (Concern::Clock, "UtcDateTime::now"),
    (Concern::Clock, "Date::today"),
    (Concern::Clock, "Utc::now"),
    (Concern::Clock, "Local::now"),
    (Concern::FileSystem, "std::fs"),
    (Concern::FileSystem, "File::open"),
    (Concern::FileSystem, "File::create"),
    (Concern::FileSystem, "read_dir("),
    (Concern::FileSystem, "read_to_string("),
    (Concern::FileSystem, "OpenOptions"),
    (Concern::FileSystem, "canonicalize("),
    (Concern::Environment, "std::env"),
    // `env!` is read by the compiler, not at run time: allowed.
    (Concern::Network, "std::net"),
    (Concern::Network, "TcpStream"),
    (Concern::Network, "UdpSocket"),
    (Concern::Process, "std::process"),
    (Concern::Process, "Command::new"),
    (Concern::Threads, "thread::spawn"),
    (Concern::Threads, "thread::scope"),
    (Concern::Threads, "thread::Builder"),
    (Concern::Threads, "rayon"),
];

/// Crates that do I/O, which the core's `[dependencies]` must not name.
const DENIED_DEPENDENCIES: &[&str] = &[
    "tokio",
    "async-std",
    "reqwest",
    "ureq",
    "hyper",
    "axum",
    "tower",
    "tower-http",
    "rusqlite",
    "sqlx",
    "tokio-postgres",
    "postgres",
    "git2",
    "gix",
    "rayon",
    "walkdir",
    "tempfile",
    "chrono",
    "tracing-subscriber",
    "notify",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Concern {
    Clock,
    FileSystem,
    Environment,
    Network,
    Process,
    Threads,
}

impl fmt::Display for Concern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Concern::Clock => "reads the clock",
            Concern::FileSystem => "touches the file system",
            Concern::Environment => "reads the environment",
            Concern::Network => "uses the network",
            Concern::Process => "runs or ends processes",
            Concern::Threads => "spawns threads",
        })
    }
}

/// One forbidden use found: where, what it does, and the text that does it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offence {
    file: String,
    line: usize,
    concern: Concern,
    text: &'static str,
}

impl fmt::Display for Offence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: core code {} (`{}`)",
            self.file, self.line, self.concern, self.text
        )
    }
}

/// The offences in one file's text; `file` is its path below `src/`, with `/`.
fn scan(file: &str, text: &str) -> Vec<Offence> {
    let threads_allowed = file == THREADS_ALLOWED_IN;
    let mut offences = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        // Text after a line comment is prose, not code.
        let code = code.split_once("//").map_or(code, |(before, _)| before);
        for &(concern, text) in FORBIDDEN {
            if concern == Concern::Threads && threads_allowed {
                continue;
            }
            if code.contains(text) {
                offences.push(Offence {
                    file: file.to_string(),
                    line: index + 1,
                    concern,
                    text,
                });
            }
        }
    }
    offences
}

/// The modules a file declares under `#[cfg(test)]`: `#[cfg(test)]\nmod name;`.
fn test_only_modules(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == "#[cfg(test)]")
        .filter_map(|pair| {
            let declaration = pair[1].strip_prefix("mod ")?.strip_suffix(';')?;
            Some(declaration.trim().to_string())
        })
        .collect()
}

/// The dependency names in the `[dependencies]` table of a `Cargo.toml`.
fn dependency_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once(['=', '.']) {
            names.push(name.trim().trim_matches('"').to_string());
        }
    }
    names
}

fn denied_dependencies(manifest: &str) -> Vec<String> {
    dependency_names(manifest)
        .into_iter()
        .filter(|name| DENIED_DEPENDENCIES.contains(&name.as_str()))
        .collect()
}

/// Every `.rs` file below `dir` that is not test-only, as paths relative to `root`.
fn production_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the core's source directory is readable")
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    let mut test_only = Vec::new();
    for path in &entries {
        if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(path).expect("source files are UTF-8");
            test_only.extend(test_only_modules(&text));
        }
    }
    for path in entries {
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default()
            .to_string();
        if test_only.contains(&stem) {
            continue;
        }
        if path.is_dir() {
            production_files(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path.strip_prefix(root).expect("below the root").to_path_buf());
        }
    }
}

#[test]
fn core_does_no_io_and_spawns_threads_in_one_place() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    production_files(&src, &src, &mut files);
    assert!(
        files.len() > 20,
        "the scan found only {} files: is the walk broken?",
        files.len()
    );
    assert!(
        files.iter().any(|file| file.ends_with(THREADS_ALLOWED_IN)),
        "{THREADS_ALLOWED_IN} no longer exists: name the new place for threads"
    );
    let offences: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let name = file.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(src.join(file)).expect("source files are UTF-8");
            scan(&name, &text)
        })
        .map(|offence| offence.to_string())
        .collect();
    assert!(
        offences.is_empty(),
        "portalctl-core must not touch the outside world; pass values in from the edge:\n{}",
        offences.join("\n")
    );
}

/// Renderers show values; a sensitive one must stay wrapped in `Sensitive`, whose only
/// way out is `expose`.
#[test]
fn renderers_never_expose_a_sensitive_value() {
    let render = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/render");
    let mut files = Vec::new();
    production_files(&render, &render, &mut files);
    assert!(!files.is_empty(), "no renderer found: is the walk broken?");
    let exposing: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(render.join(file)).expect("source files are UTF-8");
            text.contains(".expose(")
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        exposing.is_empty(),
        "renderers call `Sensitive::expose`: {exposing:?}"
    );
}

#[test]
fn core_depends_on_no_io_crate() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("the core's Cargo.toml is readable");
    assert!(
        dependency_names(&manifest).contains(&"serde".to_string()),
        "the manifest parse found no `serde`: is it broken?"
    );
    let denied = denied_dependencies(&manifest);
    assert!(
        denied.is_empty(),
        "portalctl-core depends on I/O crates: {denied:?}"
    );
}

#[test]
fn the_scanner_reports_each_concern_with_its_file_and_line() {
    let text = "//! A module.\n\
                use std::fs;\n\
                fn now() { let _ = std::time::SystemTime::now(); }\n\
                // std::env in a comment is fine\n\
                fn home() { std::env::var(\"HOME\"); }\n\
                fn run() { std::thread::spawn(|| ()); }\n\
                #[cfg(test)]\n\
                mod tests { fn read() { std::fs::read(\"x\"); } }\n";
    let found: Vec<(usize, Concern)> = scan("model/state.rs", text)
        .into_iter()
        .map(|offence| (offence.line, offence.concern))
        .collect();
    assert_eq!(
        found,
        [
            (2, Concern::FileSystem),
            (3, Concern::Clock),
            (5, Concern::Environment),
            (6, Concern::Threads),
        ]
    );
    let offence = &scan("model/state.rs", text)[0];
    assert_eq!(
        offence.to_string(),
        "model/state.rs:2: core code touches the file system (`std::fs`)"
    );
}

#[test]
fn threads_are_allowed_in_the_named_place_only() {
    let text = "fn f() { std::thread::scope(|_| ()); }\n";
    assert!(scan(THREADS_ALLOWED_IN, text).is_empty());
    assert_eq!(scan("plan/diff.rs", text).len(), 1);
    let clock = "fn f() { let _ = time::OffsetDateTime::now_utc(); }\n";
    assert_eq!(
        scan(THREADS_ALLOWED_IN, clock).len(),
        1,
        "only threads are allowed there"
    );
}

#[test]
fn test_modules_declared_under_cfg_test_are_found() {
    let text = "mod diff;\n#[cfg(test)]\nmod roundtrip_tests;\npub use diff::plan;\n";
    assert_eq!(test_only_modules(text), ["roundtrip_tests"]);
}

#[test]
fn the_dependency_check_names_io_crates() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nserde.workspace = true\ntokio = { version = \"1\" }\n\"git2\" = \"0.20\"\n\n[dev-dependencies]\ntempfile = \"3\"\n";
    assert_eq!(denied_dependencies(manifest), ["tokio", "git2"]);
}

/// The `### ` sections of ARCHITECTURE.md, as (heading line, text up to the next one).
fn sections(doc: &str) -> Vec<(&str, String)> {
    let mut sections: Vec<(&str, String)> = Vec::new();
    for line in doc.lines() {
        if line.starts_with("### ") {
            sections.push((line, String::new()));
        } else if let Some((_, text)) = sections.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    sections
}

/// The module files ARCHITECTURE.md does not mention. `files` are (crate directory as the
/// doc's heading names it, path from that crate's `src/`); a file is mentioned when its
/// path from `src/` (`model/rules/table.rs`) appears in the section whose heading names
/// the crate directory in backticks (`` ### `crates/core` ``, `` ### `src/` ``).
fn unmentioned(doc: &str, files: &[(String, String)]) -> Vec<String> {
    let sections = sections(doc);
    files
        .iter()
        .filter(|(krate, path)| {
            let heading = format!("`{krate}`");
            !sections
                .iter()
                .any(|(line, text)| line.contains(&heading) && text.contains(path.as_str()))
        })
        .map(|(krate, path)| {
            let full = if krate == "src/" {
                format!("src/{path}")
            } else {
                format!("{krate}/src/{path}")
            };
            format!("{full} (write `{path}` under the heading ### `{krate}`)")
        })
        .collect()
}

/// Every `.rs` file below `dir`, as paths from `dir` with `/` separators, sorted.
fn rust_files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a source directory is readable")
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() {
            rust_files(&path, &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".rs") {
            out.push(format!("{prefix}{name}"));
        }
    }
}

#[test]
fn architecture_md_mentions_every_module_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md is readable");
    let mut files = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ is readable")
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    crates.sort();
    let mut sources: Vec<(String, PathBuf)> = crates
        .iter()
        .filter(|dir| dir.join("src").is_dir())
        .map(|dir| {
            let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            (format!("crates/{name}"), dir.join("src"))
        })
        .collect();
    sources.push(("src/".to_string(), root.join("src")));
    for (krate, src) in sources {
        let mut paths = Vec::new();
        rust_files(&src, "", &mut paths);
        files.extend(paths.into_iter().map(|path| (krate.clone(), path)));
    }
    assert!(
        files.len() > 100,
        "found the workspace's module files ({})",
        files.len()
    );
    let missing = unmentioned(&doc, &files);
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not mention {} module file(s); say what each is for in its crate's section:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn the_architecture_check_names_the_missing_file_and_where_to_write_it() {
    let doc = "# A\n### `crates/core` (`portalctl-core`)\n`model/state.rs` holds State.\n### `src/` (the binary)\n`cli/plan.rs`\n";
    let files = [
        ("crates/core".to_string(), "model/state.rs".to_string()),
        ("crates/core".to_string(), "model/change.rs".to_string()),
        ("crates/core".to_string(), "cli/plan.rs".to_string()),
        ("src/".to_string(), "cli/plan.rs".to_string()),
    ];
    assert_eq!(
        unmentioned(doc, &files),
        [
            "crates/core/src/model/change.rs (write `model/change.rs` under the heading ### `crates/core`)",
            "crates/core/src/cli/plan.rs (write `cli/plan.rs` under the heading ### `crates/core`)",
        ],
        "a path mentioned under another crate's heading does not count"
    );
}
