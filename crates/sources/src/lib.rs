//! Where configs are read from: a directory on disk ([`DirSource`]) or a tree in a git
//! repository ([`git`]), both behind the core's `ConfigSource` trait, plus the commit
//! metadata `apply` records.
//!
//! **Architecture invariant:** read-only; never writes to the file system or a
//! repository, never touches the network (git2 is built without it).

mod dir;
pub mod git;

pub use dir::DirSource;
