use std::process::ExitCode;

fn main() -> ExitCode {
    portalctl::run(std::env::args_os())
}
