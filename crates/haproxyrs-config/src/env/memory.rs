//! An in-memory [`Environment`]: variables, files, directories, host names, users and
//! groups given up front. Tests and the fuzz target use it so that loading a config never
//! touches the real machine.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::Environment;

/// A fake environment; build it with the `with_*` methods.
#[derive(Clone, Debug, Default)]
pub struct MemoryEnv {
    vars: HashMap<String, String>,
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
    hosts: HashMap<String, Vec<IpAddr>>,
    users: BTreeSet<String>,
    groups: BTreeSet<String>,
}

impl MemoryEnv {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    /// Add a file; its parent directories exist from then on.
    pub fn with_file(mut self, path: impl AsRef<Path>, content: impl Into<Vec<u8>>) -> Self {
        let path = path.as_ref().to_path_buf();
        let mut parent = path.parent();
        while let Some(p) = parent {
            if !p.as_os_str().is_empty() {
                self.dirs.insert(p.to_path_buf());
            }
            parent = p.parent();
        }
        self.files.insert(path, content.into());
        self
    }

    /// Add an (empty) directory.
    pub fn with_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.dirs.insert(path.as_ref().to_path_buf());
        self
    }

    pub fn with_host(mut self, name: &str, addrs: &[IpAddr]) -> Self {
        self.hosts.insert(name.to_string(), addrs.to_vec());
        self
    }

    pub fn with_user(mut self, name: &str) -> Self {
        self.users.insert(name.to_string());
        self
    }

    pub fn with_group(mut self, name: &str) -> Self {
        self.groups.insert(name.to_string());
        self
    }
}

/// Trailing slashes do not change which directory is meant (`-f dir/`).
fn normalize(path: &Path) -> PathBuf {
    path.components().collect()
}

impl Environment for MemoryEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        let path = normalize(path);
        if self.dirs.contains(&path) {
            return Err(io::Error::other("Is a directory"));
        }
        self.files
            .get(&path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn stat(&self, path: &Path) -> io::Result<()> {
        let path = normalize(path);
        if self.files.contains_key(&path) || self.dirs.contains(&path) {
            Ok(())
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
    }

    fn config_dir(&self, path: &Path) -> Option<io::Result<Vec<String>>> {
        let path = normalize(path);
        if !self.dirs.contains(&path) {
            return None;
        }
        // BTreeMap order is bytewise on the path, which for one directory's entries is
        // bytewise on the name, as HAProxy sorts them.
        let names = self
            .files
            .keys()
            .filter(|f| f.parent() == Some(path.as_path()))
            .filter_map(|f| f.file_name()?.to_str().map(str::to_string))
            .filter(|n| !n.starts_with('.') && n.ends_with(".cfg"))
            .collect();
        Some(Ok(names))
    }

    fn resolve(&self, host: &str) -> Option<Vec<IpAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(vec![ip]);
        }
        self.hosts.get(host).cloned()
    }

    fn user_exists(&self, name: &str) -> bool {
        name.parse::<u32>().is_ok() || self.users.contains(name)
    }

    fn group_exists(&self, name: &str) -> bool {
        name.parse::<u32>().is_ok() || self.groups.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_dirs_and_listing() {
        let env = MemoryEnv::new()
            .with_file("/etc/h/10-b.cfg", "b")
            .with_file("/etc/h/02-a.cfg", "a")
            .with_file("/etc/h/B.cfg", "B")
            .with_file("/etc/h/.hidden.cfg", "h")
            .with_file("/etc/h/x.conf", "x")
            .with_dir("/empty");
        assert_eq!(env.read_file(Path::new("/etc/h/02-a.cfg")).unwrap(), b"a");
        assert_eq!(
            env.read_file(Path::new("/nope")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let names = env.config_dir(Path::new("/etc/h/")).unwrap().unwrap();
        assert_eq!(names, ["02-a.cfg", "10-b.cfg", "B.cfg"]);
        assert!(env.config_dir(Path::new("/etc/h/02-a.cfg")).is_none());
        assert_eq!(
            env.config_dir(Path::new("/empty")).unwrap().unwrap().len(),
            0
        );
        assert!(env.stat(Path::new("/etc")).is_ok());
    }

    #[test]
    fn hosts_users_vars() {
        let env = MemoryEnv::new()
            .with_var("A", "1")
            .with_host("db", &["10.0.0.1".parse().unwrap()])
            .with_user("haproxy");
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert!(env.resolve("db").is_some());
        assert!(env.resolve("127.0.0.1").is_some());
        assert!(env.resolve("nosuchhost.invalid").is_none());
        assert!(env.user_exists("haproxy") && env.user_exists("0"));
        assert!(!env.group_exists("wheel"));
    }
}
