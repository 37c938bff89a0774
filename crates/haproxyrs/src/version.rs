//! `-v` and `-vv`: haproxyrs's version, the HAProxy version whose behaviour it follows,
//! and (with `-vv`) the build features in HAProxy's `Feature list :` notation.

use haproxyrs_config::parse::cond::FEATURES;
use haproxyrs_config::HAPROXY_COMPAT_VERSION;

/// This program's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `Linux 6.1.0 #1 SMP x86_64`, as HAProxy's `Running on:` line.
fn running_on() -> String {
    // SAFETY: `uname` fills a zeroed struct of fixed-size NUL-terminated arrays.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "unknown".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.version),
        field(&u.machine)
    )
}

/// The `-v` text (stdout).
pub fn version() -> String {
    format!(
        "haproxyrs version {VERSION} - follows HAProxy version {HAPROXY_COMPAT_VERSION} (branch 2.6)\n\
         Status: a Rust load balancer that runs HAProxy 2.6 configurations; it is not HAProxy.\n\
         Running on: {}\n",
        running_on()
    )
}

/// The `-vv` text (stdout).
pub fn build_options() -> String {
    format!(
        "{}Build options :\n  TARGET  = {}-{}\n  RUSTC   = rustc\n\n\
         Feature list : {FEATURES}\n\n\
         Default settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n\n\
         Available polling systems :\n      epoll : pref=300,  test result OK\n\
         Total: 1 (1 usable), will use epoll.\n\n\
         Available multiplexer protocols :\n\
         (protocols marked as <default> cannot be specified using 'proto' keyword)\n\
         \x20 <default> : mode=HTTP  side=FE|BE  mux=H1    flags=\n\
         \x20 <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n\n\
         Available services : none\n\nAvailable filters : none\n",
        version(),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_versions() {
        let v = version();
        assert!(v.starts_with(&format!("haproxyrs version {VERSION} ")));
        assert!(v.contains("HAProxy version 2.6.12"));
        let vv = build_options();
        assert!(vv.contains("\nFeature list : -51DEGREES +ACCEPT4"));
    }
}
