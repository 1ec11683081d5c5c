//! Store work yields the CPU to access decisions.
//!
//! Access checks are answered on the runtime's worker threads from the published snapshot,
//! on every page view of every portal. Commits, audit pages and whole-state renders run on
//! the blocking pool. On a small machine a storm of writes keeps both cores busy, and a
//! check that arrives then waits for a scheduler slice behind a commit: its p99 is that
//! wait, not its own cost. Raising the nice value of the blocking pool's threads lets the
//! scheduler run a woken check first; writes still get every idle cycle, and they take
//! the same time on an idle machine.

/// How much lower than the process's priority store work runs (a nice increment).
const BACKGROUND_NICE: i32 = 10;

thread_local! {
    static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Lowers the calling thread's scheduling priority once; later calls cost a thread-local
/// read. Does nothing where threads cannot be reniced one by one. A failure (a sandbox
/// that forbids `setpriority`) is ignored: priorities are a latency aid, not a guarantee.
pub fn lower_current_thread() {
    LOWERED.with(|lowered| {
        if !lowered.replace(true) {
            renice_current_thread(BACKGROUND_NICE);
        }
    });
}

#[cfg(target_os = "linux")]
fn renice_current_thread(increment: i32) {
    use rustix::process::{getpriority_process, setpriority_process};
    // On Linux `PRIO_PROCESS` with a thread id applies to that one thread.
    let thread = Some(rustix::thread::gettid());
    if let Ok(current) = getpriority_process(thread) {
        let _ = setpriority_process(thread, current.saturating_add(increment));
    }
}

#[cfg(not(target_os = "linux"))]
fn renice_current_thread(_increment: i32) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_calling_thread_and_only_once() {
        let own = rustix::process::getpriority_process(None).unwrap();
        let worker = std::thread::spawn(|| {
            let thread = Some(rustix::thread::gettid());
            let before = rustix::process::getpriority_process(thread).unwrap();
            lower_current_thread();
            lower_current_thread();
            let after = rustix::process::getpriority_process(thread).unwrap();
            (before, after)
        });
        let (before, after) = worker.join().unwrap();
        assert_eq!(after, (before + BACKGROUND_NICE).min(19), "once, not twice");
        let main_thread = Some(rustix::thread::gettid());
        assert_eq!(
            rustix::process::getpriority_process(main_thread).unwrap(),
            own,
            "other threads keep their priority"
        );
    }
}
