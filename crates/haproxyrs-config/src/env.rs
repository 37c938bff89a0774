//! The environment the config is checked against: environment variables, files
//! (configs, certificates, error files, maps), name resolution and user/group look-ups.
//!
//! Everything `-c` checks outside the text goes through [`Environment`], so tests can
//! fake it and the rest of the crate stays pure.

use std::io;
use std::net::IpAddr;
use std::path::Path;

/// What the config loader may ask of the outside world.
pub trait Environment {
    /// An environment variable, for `${VAR}` expansion and `defined()`.
    fn var(&self, name: &str) -> Option<String>;
    /// A whole file (config files, error files, pattern files).
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Whether a path exists (certificates, CA files): `Ok(())` or the `stat` error.
    fn stat(&self, path: &Path) -> io::Result<()>;
    /// The sorted `*.cfg` file names of a directory given with `-f DIR`, or `None` when the
    /// path is not a directory.
    fn config_dir(&self, path: &Path) -> Option<io::Result<Vec<String>>>;
    /// Resolve a host name (as `init-addr last,libc` does at start). `None`: unresolvable.
    fn resolve(&self, host: &str) -> Option<Vec<IpAddr>>;
    fn user_exists(&self, name: &str) -> bool;
    fn group_exists(&self, name: &str) -> bool;
    /// The machine's host name (the default local peer name of `peers` sections);
    /// `None` when unknown, which skips the checks that need it.
    fn hostname(&self) -> Option<String> {
        None
    }
    /// Why an inherited file descriptor (`bind fd@N`) cannot be used as a listening socket,
    /// in strerror's words (`Bad file descriptor`, `Socket operation on non-socket`);
    /// `None` when it can, or when the environment cannot tell.
    fn fd_error(&self, _fd: i32) -> Option<String> {
        None
    }
}

/// The real environment of this process.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemEnv;

impl Environment for SystemEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn stat(&self, path: &Path) -> io::Result<()> {
        std::fs::metadata(path).map(|_| ())
    }

    fn config_dir(&self, path: &Path) -> Option<io::Result<Vec<String>>> {
        if !path.is_dir() {
            return None;
        }
        Some(std::fs::read_dir(path).map(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && n.ends_with(".cfg"))
                .collect();
            names.sort();
            names
        }))
    }

    fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
        use std::net::ToSocketAddrs;
        let addrs: Vec<IpAddr> = (host, 0u16)
            .to_socket_addrs()
            .ok()?
            .map(|sa| sa.ip())
            .collect();
        (!addrs.is_empty()).then_some(addrs)
    }

    fn user_exists(&self, name: &str) -> bool {
        passwd_has(Path::new("/etc/passwd"), name)
    }

    fn group_exists(&self, name: &str) -> bool {
        passwd_has(Path::new("/etc/group"), name)
    }

    fn fd_error(&self, fd: i32) -> Option<String> {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata(format!("/proc/self/fd/{fd}")) {
            Ok(m) if m.file_type().is_socket() => None,
            Ok(_) => Some("Socket operation on non-socket".to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Some("Bad file descriptor".to_string())
            }
            Err(_) => None,
        }
    }

    fn hostname(&self) -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
    }
}

/// Whether `/etc/passwd`-shaped file has an entry named `name` (or a numeric id).
fn passwd_has(file: &Path, name: &str) -> bool {
    if name.parse::<u32>().is_ok() {
        return true;
    }
    std::fs::read_to_string(file)
        .map(|text| text.lines().any(|l| l.split(':').next() == Some(name)))
        .unwrap_or(false)
}

mod memory;
pub use memory::MemoryEnv;
