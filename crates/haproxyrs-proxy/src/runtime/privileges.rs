//! Dropping privileges once every listener is bound, as HAProxy does before it serves:
//! `chroot` first, then `group`/`gid` (supplementary groups cleared) and `user`/`uid`.
//! Names are resolved before the chroot, while `/etc/passwd` and `/etc/group` are visible.

use std::ffi::CString;
use std::io;
use std::path::Path;

use haproxyrs_config::ir::Global;

/// Apply the global section's `chroot`, `group` and `user`. An error stops the start.
pub fn drop_privileges(g: &Global) -> Result<(), String> {
    let gid = g.group.as_deref().map(group_id).transpose()?;
    let uid = g.user.as_deref().map(user_id).transpose()?;
    if let Some(dir) = &g.chroot {
        chroot(dir).map_err(|e| format!("Cannot chroot({}) : {e}", dir.display()))?;
    }
    if let Some(gid) = gid {
        // SAFETY: plain syscalls with valid arguments (an empty group list).
        unsafe {
            if libc::getgroups(0, std::ptr::null_mut()) > 0
                && libc::setgroups(0, std::ptr::null()) == -1
            {
                log::warn!(
                    "cannot clear the supplementary groups: {}",
                    io::Error::last_os_error()
                );
            }
            if libc::setgid(gid) == -1 {
                return Err(format!(
                    "Cannot set gid {gid} : {}",
                    io::Error::last_os_error()
                ));
            }
        }
    }
    if let Some(uid) = uid {
        // SAFETY: plain syscall; glibc applies it to every thread of the process.
        if unsafe { libc::setuid(uid) } == -1 {
            return Err(format!(
                "Cannot set uid {uid} : {}",
                io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

fn chroot(dir: &Path) -> io::Result<()> {
    std::os::unix::fs::chroot(dir)?;
    std::env::set_current_dir("/")
}

/// A user name or a numeric uid (`uid N` is lowered to its number).
fn user_id(name: &str) -> Result<u32, String> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    let c = CString::new(name).map_err(|_| format!("cannot find user id for '{name}'"))?;
    // SAFETY: getpwnam returns a pointer into static storage or null; read at once, and
    // only this start-up thread calls it.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return Err(format!("cannot find user id for '{name}'"));
    }
    Ok(unsafe { (*pw).pw_uid })
}

/// A group name or a numeric gid.
fn group_id(name: &str) -> Result<u32, String> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    let c = CString::new(name).map_err(|_| format!("cannot find group id for '{name}'"))?;
    // SAFETY: as for getpwnam above.
    let gr = unsafe { libc::getgrnam(c.as_ptr()) };
    if gr.is_null() {
        return Err(format!("cannot find group id for '{name}'"));
    }
    Ok(unsafe { (*gr).gr_gid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_by_number_and_name() {
        assert_eq!(user_id("123").unwrap(), 123);
        assert_eq!(user_id("root").unwrap(), 0);
        assert_eq!(group_id("root").unwrap(), 0);
        assert!(user_id("no-such-user-haproxyrs").is_err());
        assert!(group_id("no-such-group-haproxyrs").is_err());
    }
}
