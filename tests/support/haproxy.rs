//! Is Debian's HAProxy installed? Differential tests need it; without it they skip loudly,
//! except under `CI=true` where a skip would hide a broken install step, so it panics.

use std::path::PathBuf;

/// The path of the reference `haproxy` binary: `/usr/sbin/haproxy`, else `haproxy` on PATH.
pub fn haproxy_path() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/sbin/haproxy");
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// True when running under CI (`CI=true` or `CI=1`): skips become failures.
pub fn under_ci() -> bool {
    matches!(
        std::env::var("CI").as_deref(),
        Ok("true") | Ok("1") | Ok("TRUE") | Ok("yes")
    )
}

/// Whether haproxy is there. When it is not: prints
/// `SKIPPED: <test>: haproxy not installed (apt-get install haproxy)` and returns false,
/// or panics with the same text under `CI=true`.
pub fn haproxy_available(test: &str) -> bool {
    if haproxy_path().is_some() {
        return true;
    }
    skip(test, "haproxy not installed (apt-get install haproxy)");
    false
}

/// Report a skipped test loudly on stderr; under CI a skip is a failure.
pub fn skip(test: &str, why: &str) {
    let msg = format!("SKIPPED: {test}: {why}");
    if under_ci() {
        panic!("{msg} (CI=true: a skip is a failure)");
    }
    eprintln!("\n*** {msg} ***\n");
}

/// Call at the top of a differential test: `require_haproxy!("name");` returns early
/// (after a loud SKIPPED line) when haproxy is missing.
#[macro_export]
macro_rules! require_haproxy {
    ($name:expr) => {
        if !$crate::support::haproxy::haproxy_available($name) {
            return;
        }
    };
}
