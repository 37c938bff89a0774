//! Daemon mode (`daemon` in `global`, or `-D`), as HAProxy 2.6 runs it without a master:
//! once every socket is bound the pid file is created, then the process forks once. The
//! foreground process writes the background pid into the pid file and exits 0; the
//! background process drops its privileges (errors still reach the terminal, as in 2.6),
//! starts a new session and serves with stdin, stdout and stderr on `/dev/null`.
//!
//! fork() copies only the calling thread, so it must happen before any thread exists:
//! [`fork`] refuses when the process has more than one.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why the process cannot go to the background.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot fork to the background: {0} threads already run")]
    Threads(usize),
    #[error("cannot fork to the background: {0}")]
    Fork(io::Error),
    #[error("cannot detach from the terminal: {0}")]
    Detach(io::Error),
}

/// The pid file, created before the fork and written by the foreground process.
#[derive(Debug)]
pub struct PidFile(File);

impl PidFile {
    /// Replaces any existing file (a stale one may belong to another user).
    pub fn create(path: &Path) -> io::Result<PidFile> {
        let _ = std::fs::remove_file(path);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(path)
            .map(PidFile)
    }

    pub fn write_pid(mut self, pid: i32) -> io::Result<()> {
        self.0.write_all(format!("{pid}\n").as_bytes())
    }
}

/// Which side of the fork this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The foreground process; the background one has this pid.
    Parent(i32),
    Child,
}

/// Threads of this process, from `/proc/self/task` (1 when it cannot be read).
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count())
}

fn single_threaded() -> Result<(), DaemonError> {
    match thread_count() {
        0 | 1 => Ok(()),
        n => Err(DaemonError::Threads(n)),
    }
}

/// Forks once, refusing while other threads run (their locks would be held forever in
/// the child).
pub fn fork() -> Result<Side, DaemonError> {
    single_threaded()?;
    // SAFETY: the process is single-threaded (checked above), so the child gets a
    // consistent copy of every lock and allocator state.
    match unsafe { libc::fork() } {
        -1 => Err(DaemonError::Fork(io::Error::last_os_error())),
        0 => Ok(Side::Child),
        pid => Ok(Side::Parent(pid)),
    }
}

/// In the background process: a new session without a controlling terminal, and the
/// standard streams on `devnull` (opened before any chroot).
pub fn detach(devnull: &File) -> Result<(), DaemonError> {
    // SAFETY: setsid takes no arguments; in a forked child it cannot fail (the child is
    // never a process group leader), but the result is checked anyway.
    if unsafe { libc::setsid() } == -1 {
        return Err(DaemonError::Detach(io::Error::last_os_error()));
    }
    silence_stdio(devnull).map_err(DaemonError::Detach)
}

/// Puts stdin, stdout and stderr on `devnull` (daemon and quiet modes).
pub fn silence_stdio(devnull: &File) -> io::Result<()> {
    for fd in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors with a valid open fd; Rust's
        // stdin/stdout/stderr handles keep working, now on /dev/null.
        if unsafe { libc::dup2(devnull.as_raw_fd(), fd) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `/dev/null` for reading and writing.
pub fn open_devnull() -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threaded_process_is_not_forked() {
        // The test harness runs this test on a thread of its own: at least two.
        let other = std::thread::spawn(std::thread::park);
        assert!(
            matches!(single_threaded(), Err(DaemonError::Threads(n)) if n >= 2),
            "{:?}",
            single_threaded()
        );
        other.thread().unpark();
        let _ = other.join();
    }

    #[test]
    fn pid_file_replaces_and_holds_one_line() {
        let dir = std::env::temp_dir().join(format!("haproxyrs-pidfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.pid");
        std::fs::write(&path, "999999 stale and longer\n").unwrap();
        PidFile::create(&path).unwrap().write_pid(1234).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1234\n");
        assert!(PidFile::create(&dir.join("no/such/dir.pid")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
