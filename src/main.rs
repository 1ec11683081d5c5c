//! The `portalctl` binary: parses nothing itself, runs [`portalctl::run`], and exits
//! without freeing what the command loaded (the OS reclaims it faster).

/// mimalloc instead of glibc's malloc: commands build millions of small strings and map
/// nodes on two threads, where glibc's per-thread arenas kept freed memory (peak RSS well
/// above the live heap) and a quarter of a large plan's profile was in malloc and free.
/// Built without transparent huge pages (the `no_thp` feature, Cargo.toml): mimalloc
/// otherwise asks for them on its arenas, and a million-partner `validate` spent a third
/// of its time in the kernel clearing 2 MB pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    portalctl::run(std::env::args_os()).exit()
}
