//! Writes a synthetic config for benchmarks: `cargo run --release --example gen-config --
//! --partners 100000 --seed 1 --out /tmp/portalctl-100k [--shape classic|realistic|wide]`.
//! `--assertions` also writes `assertions.yaml`: five assertions of every form that hold
//! on the generated config (`portalctl_testdata::assertions`). See `portalctl_testdata`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut partners = 10_000;
    let mut seed = 1;
    let mut dashboards = 0;
    let mut layout = portalctl_testdata::Layout::Classic;
    let mut out = PathBuf::from("generated-config");
    let mut with_assertions = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--assertions" {
            with_assertions = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--partners" => partners = value.parse()?,
            "--seed" => seed = value.parse()?,
            "--dashboards" => dashboards = value.parse()?,
            "--out" => out = PathBuf::from(value),
            "--shape" => {
                layout = portalctl_testdata::Layout::from_name(&value)
                    .ok_or_else(|| format!("unknown shape {value}: use classic, realistic or wide"))?;
            }
            other => {
                return Err(format!(
                    "unknown flag {other}: use --partners N --seed S --dashboards D --shape NAME --out DIR --assertions"
                )
                .into());
            }
        }
    }
    let mut files = portalctl_testdata::generate(portalctl_testdata::Shape {
        partners,
        seed,
        dashboards,
        layout,
    });
    if with_assertions {
        let assertions = portalctl_testdata::assertions(&files);
        files.insert("assertions.yaml".to_string(), assertions);
    }
    for (path, text) in &files {
        let path = out.join(path);
        std::fs::create_dir_all(path.parent().ok_or("a file path has a parent")?)?;
        std::fs::write(path, text)?;
    }
    eprintln!(
        "wrote {} files for {partners} partners ({} shape) to {}",
        files.len(),
        layout.name(),
        out.display()
    );
    Ok(())
}
