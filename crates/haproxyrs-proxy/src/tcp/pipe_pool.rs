//! Per-worker pool of kernel pipes for `splice(2)`. A relay direction takes a pipe only
//! while bytes move and gives it back empty, so an idle connection holds none; pipes that
//! still hold data (an aborted transfer) are closed instead of pooled.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Pipes kept per worker for reuse.
const MAX_IDLE: usize = 256;
/// Requested pipe capacity: Linux's default `pipe-max-size`, so unprivileged processes get
/// it too (until the user's `pipe-user-pages-soft` budget is used up; then pipes stay
/// small, which costs more splice calls, nothing else).
const PIPE_SIZE: libc::c_int = 1024 * 1024;

thread_local! {
    static POOL: RefCell<Vec<(OwnedFd, OwnedFd)>> = const { RefCell::new(Vec::new()) };
}

/// A pipe borrowed from the pool.
#[derive(Debug)]
pub struct Pipe {
    fds: Option<(OwnedFd, OwnedFd)>,
    /// Bytes sitting in the pipe.
    pub pending: usize,
}

impl Pipe {
    pub fn get() -> io::Result<Pipe> {
        if let Some(fds) = POOL.with(|p| p.borrow_mut().pop()) {
            return Ok(Pipe {
                fds: Some(fds),
                pending: 0,
            });
        }
        let mut fds = [0 as RawFd; 2];
        // SAFETY: fds is a valid 2-int array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned by us.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // A larger pipe moves more per splice call (fewer syscalls per GiB). Pages are
        // only allocated for bytes in flight; best effort (limited by pipe-max-size).
        // SAFETY: plain fcntl on a pipe fd we own.
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE) };
        Ok(Pipe {
            fds: Some((r, w)),
            pending: 0,
        })
    }

    pub fn read_fd(&self) -> RawFd {
        self.fds.as_ref().map_or(-1, |f| f.0.as_raw_fd())
    }
    pub fn write_fd(&self) -> RawFd {
        self.fds.as_ref().map_or(-1, |f| f.1.as_raw_fd())
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if self.pending == 0 {
            if let Some(fds) = self.fds.take() {
                POOL.with(|p| {
                    let mut p = p.borrow_mut();
                    if p.len() < MAX_IDLE {
                        p.push(fds);
                    }
                });
            }
        }
    }
}

/// Number of idle pipes pooled on this thread (tests, stats).
pub fn idle_pipes() -> usize {
    POOL.with(|p| p.borrow().len())
}

/// `splice(2)` between two fds, non-blocking. Ok(0) means EOF on `from`.
pub fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: plain syscall on fds owned by live objects; null offsets for pipes/sockets.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_pipes_return_to_pool_dirty_ones_do_not() {
        let before = idle_pipes();
        let p = Pipe::get().unwrap();
        drop(p);
        assert_eq!(idle_pipes(), before.max(1));
        let mut p = Pipe::get().unwrap();
        p.pending = 3;
        let n = idle_pipes();
        drop(p);
        assert_eq!(idle_pipes(), n);
    }
}
