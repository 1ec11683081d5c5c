//! The `portalctl` binary: parses nothing itself, runs [`portalctl::run`], and exits
//! without freeing what the command loaded (the OS reclaims it faster).

fn main() {
    portalctl::run(std::env::args_os()).exit()
}
