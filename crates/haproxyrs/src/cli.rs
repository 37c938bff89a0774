//! HAProxy 2.6's command line: what each flag means, parsed into [`Options`].
//!
//! Parsing follows HAProxy: flags are read left to right; `-v…` prints the version at
//! once; a flag that takes a value takes the next argument; `-sf`/`-st` take the pids
//! that follow up to the next `-…` argument; `--` makes every later argument a config
//! file; anything else is a usage error.

use std::ffi::OsString;

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `-v` (`build = false`) or `-vv`.
    Version { build: bool },
    /// `-cc EXPR`: evaluate a condition (the rest of the options still apply).
    Condition(String, Options),
    /// `-c` or a normal start.
    Load(Options),
}

/// Everything the flags set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-f` paths and the paths after `--`, in command-line order.
    pub files: Vec<String>,
    /// `-c`.
    pub check: bool,
    /// `-q`; `-V` undoes it.
    pub quiet: bool,
    /// `-V`: verbose, which also overrides the global `quiet` keyword.
    pub verbose: bool,
    /// `-d`: debug (foreground, verbose).
    pub debug: bool,
    /// `-db`: stay in the foreground despite the `daemon` keyword (not despite `-D`).
    pub foreground: bool,
    /// `-D`: go to the background.
    pub daemon: bool,
    /// `-dW`: any warning is fatal.
    pub zero_warning: bool,
    /// `-dD`: diagnostic mode, shows `.diag` messages.
    pub diag_mode: bool,
    /// `-dS`: never use splice(2).
    pub no_splice: bool,
    /// `-dr`: a server name that does not resolve disables the server instead of failing.
    pub ignore_resolve_errors: bool,
    /// `-n N`: global maxconn override.
    pub maxconn: Option<u32>,
    /// `-m MEGS`: memory limit.
    pub mem_limit_mb: Option<u64>,
    /// `-L NAME`: local peer name.
    pub local_peer: Option<String>,
    /// `-C DIR`: change directory before loading the files.
    pub chdir: Option<String>,
    /// `-p FILE`.
    pub pidfile: Option<String>,
    /// `-S BIND[,OPTS]` (master CLI), repeatable.
    pub master_cli: Vec<String>,
    /// Flags accepted as HAProxy accepts them but whose behaviour haproxyrs does not
    /// implement yet: a start (not `-c`) refuses them, naming each.
    pub unimplemented: Vec<String>,
}

/// Why the command line is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// Print the usage text, exit 1.
    #[error("usage")]
    Usage,
    /// An ALERT line (without context), exit 1.
    #[error("{0}")]
    Alert(String),
}

/// `-dM[<byte>|feature,...]` values HAProxy 2.6 knows.
const DM_FEATURES: &[&str] = &[
    "help",
    "fail",
    "no-fail",
    "merge",
    "no-merge",
    "cold-first",
    "hot-first",
    "tag",
    "no-tag",
    "poison",
    "no-poison",
    "integrity",
    "no-integrity",
    "global",
    "no-global",
    "cache",
    "no-cache",
    "caller",
    "no-caller",
    "all",
    "none",
];

fn parse_dm(value: &str) -> Result<(), CliError> {
    if value.is_empty() {
        return Ok(());
    }
    for item in value.split(',') {
        let is_byte = item.strip_prefix("0x").map_or_else(
            || item.parse::<u8>().is_ok(),
            |h| u8::from_str_radix(h, 16).is_ok(),
        );
        if !is_byte && !DM_FEATURES.contains(&item) {
            return Err(CliError::Alert(format!(
                "-dM: unknown pool debugging feature <{item}>"
            )));
        }
    }
    Ok(())
}

/// HAProxy reads numbers with `atol`: leading digits, 0 when there are none.
fn atol(s: &str) -> u64 {
    let digits: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap_or(0)
}

/// Parse the arguments after the program name.
pub fn parse(args: &[OsString]) -> Result<Command, CliError> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut o = Options::default();
    let mut condition = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if !arg.starts_with('-') {
            return Err(CliError::Usage);
        }
        // The flags that take the next argument.
        let mut value = || -> Result<String, CliError> {
            let v = args.get(i).cloned().ok_or(CliError::Usage)?;
            i += 1;
            Ok(v)
        };
        match arg {
            "--" => {
                o.files.extend(args[i..].iter().cloned());
                break;
            }
            a if a.starts_with("-v") => {
                return Ok(Command::Version {
                    build: a.starts_with("-vv"),
                })
            }
            "-c" => o.check = true,
            "-cc" => condition = Some(value()?),
            "-q" => {
                o.quiet = true;
                o.verbose = false;
            }
            "-V" => {
                o.quiet = false;
                o.verbose = true;
            }
            "-d" => o.debug = true,
            "-db" => o.foreground = true,
            "-dW" => o.zero_warning = true,
            "-dD" => o.diag_mode = true,
            "-dS" => o.no_splice = true,
            "-dr" => o.ignore_resolve_errors = true,
            // No server-side TLS yet, so there is nothing to verify: nothing changes.
            "-dV" => {}
            a if a.starts_with("-dM") => {
                parse_dm(&a[3..])?;
                o.unimplemented.push(a.to_string());
            }
            a if a.starts_with("-dK") => o.unimplemented.push(a.to_string()),
            // Other debug switches: disable a poller, splice, getaddrinfo, SO_REUSEPORT,
            // ignore resolution errors, dump libraries... (HAProxy also ignores unknown ones.)
            a if a.starts_with("-d") => o.unimplemented.push(a.to_string()),
            "-D" => o.daemon = true,
            "-W" | "-Ws" => o.unimplemented.push(arg.to_string()),
            "-f" => o.files.push(value()?),
            "-C" => o.chdir = Some(value()?),
            "-p" => o.pidfile = Some(value()?),
            "-L" => o.local_peer = Some(value()?),
            "-n" => o.maxconn = Some(u32::try_from(atol(&value()?)).unwrap_or(u32::MAX)),
            "-m" => o.mem_limit_mb = Some(atol(&value()?)),
            "-N" => {
                let v = value()?;
                o.unimplemented.push(format!("-N {v}"));
            }
            "-S" => {
                let v = value()?;
                o.master_cli.push(v.clone());
                o.unimplemented.push(format!("-S {v}"));
            }
            "-x" => {
                let v = value()?;
                o.unimplemented.push(format!("-x {v}"));
            }
            "-sf" | "-st" => {
                let mut pids = Vec::new();
                while let Some(p) = args.get(i).filter(|a| !a.starts_with('-')) {
                    i += 1;
                    match p.parse::<i64>() {
                        Ok(n) if n > 0 => pids.push(p.clone()),
                        Ok(_) => return Err(CliError::Usage),
                        Err(_) => {
                            return Err(CliError::Alert(format!(
                                "{arg} option: some bytes unconsumed in PID list {{{p}}}"
                            )))
                        }
                    }
                }
                if !pids.is_empty() {
                    o.unimplemented.push(format!("{arg} {}", pids.join(" ")));
                }
            }
            _ => return Err(CliError::Usage),
        }
    }
    match condition {
        Some(c) => Ok(Command::Condition(c, o)),
        None if o.files.is_empty() => Err(CliError::Usage),
        None => Ok(Command::Load(o)),
    }
}

/// The usage text (stderr), shaped like HAProxy's.
pub fn usage(prog: &str) -> String {
    let lines = [
        format!(
            "Usage : {prog} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]"
        ),
        "        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]".into(),
        "        -v displays version ; -vv shows known build options.".into(),
        "        -d enters debug mode ; -db only disables background mode.".into(),
        "        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)".into(),
        "        -V enters verbose mode (disables quiet mode)".into(),
        "        -D goes daemon ; -C changes to <dir> before loading files.".into(),
        "        -W master-worker mode.".into(),
        "        -Ws master-worker mode with systemd notify support.".into(),
        "        -q quiet mode : don't display messages".into(),
        "        -c check mode : only check config files and exit".into(),
        "        -cc check condition : evaluate a condition and exit".into(),
        "        -n sets the maximum total # of connections (uses ulimit -n)".into(),
        "        -m limits the usable amount of memory (in MB)".into(),
        "        -N sets the default, per-proxy maximum # of connections (0)".into(),
        "        -L set local peer name (default to hostname)".into(),
        "        -p writes pids of all children to this file".into(),
        "        -de disables epoll() usage even when available".into(),
        "        -dp disables poll() usage even when available".into(),
        "        -dS disables splice usage (broken on old kernels)".into(),
        "        -dG disables getaddrinfo() usage".into(),
        "        -dR disables SO_REUSEPORT usage".into(),
        "        -dL dumps loaded object files after config checks".into(),
        "        -dK{class[,...]} dump registered keywords (use 'help' for list)".into(),
        "        -dr ignores server address resolution failures".into(),
        "        -dV disables SSL verify on servers side".into(),
        "        -dW fails if any warning is emitted".into(),
        "        -dD diagnostic mode : warn about suspicious configuration statements".into(),
        "        -sf/-st [pid ]* finishes/terminates old pids.".into(),
        "        -x <unix_socket> get listening sockets from a unix socket".into(),
        "        -S <bind>[,<bind options>...] new master CLI".into(),
        String::new(),
    ];
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, CliError> {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v)
    }

    fn load(args: &[&str]) -> Options {
        match p(args) {
            Ok(Command::Load(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn files_in_order() {
        let o = load(&["-f", "a.cfg", "-c", "-f", "d/", "--", "x.conf", "-q"]);
        assert_eq!(o.files, ["a.cfg", "d/", "x.conf", "-q"]);
        assert!(o.check && !o.quiet);
    }

    #[test]
    fn usage_errors() {
        assert_eq!(p(&[]), Err(CliError::Usage));
        assert_eq!(p(&["-c"]), Err(CliError::Usage));
        assert_eq!(p(&["-c", "a.cfg"]), Err(CliError::Usage));
        assert_eq!(p(&["-Z", "-f", "a"]), Err(CliError::Usage));
        assert_eq!(p(&["-c", "-f"]), Err(CliError::Usage));
        assert_eq!(p(&["-cc"]), Err(CliError::Usage));
        assert_eq!(p(&["-f", "a", "-sf", "0"]), Err(CliError::Usage));
    }

    #[test]
    fn version_and_condition() {
        assert_eq!(p(&["-v"]), Ok(Command::Version { build: false }));
        assert_eq!(p(&["-vv"]), Ok(Command::Version { build: true }));
        assert_eq!(
            p(&["-f", "x", "-vq"]),
            Ok(Command::Version { build: false })
        );
        assert!(matches!(p(&["-cc", "1"]), Ok(Command::Condition(c, _)) if c == "1"));
    }

    #[test]
    fn process_management_flags_accepted() {
        let o = load(&[
            "-Ws",
            "-f",
            "a",
            "-c",
            "-q",
            "-p",
            "/run/x.pid",
            "-D",
            "-W",
            "-C",
            "/",
            "-n",
            "10",
            "-N",
            "5",
            "-m",
            "100",
            "-L",
            "me",
            "-x",
            "/s",
            "-S",
            "/m,level,admin",
            "-sf",
            "12",
            "34",
            "-st",
            "-db",
            "-d",
            "-V",
            "-dW",
            "-dr",
            "-dV",
            "-dS",
            "-dD",
            "-dM",
        ]);
        assert_eq!(o.maxconn, Some(10));
        assert_eq!(o.mem_limit_mb, Some(100));
        assert_eq!(o.local_peer.as_deref(), Some("me"));
        assert!(o.zero_warning && o.diag_mode && o.foreground && o.debug && !o.quiet);
        assert!(o.unimplemented.contains(&"-sf 12 34".to_string()));
        assert!(o.unimplemented.contains(&"-Ws".to_string()));
        assert_eq!(load(&["-f", "a", "-n", "abc"]).maxconn, Some(0));
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            p(&["-f", "a", "-sf", "abc"]),
            Err(CliError::Alert(
                "-sf option: some bytes unconsumed in PID list {abc}".into()
            ))
        );
        assert_eq!(
            p(&["-f", "a", "-dMfoo"]),
            Err(CliError::Alert(
                "-dM: unknown pool debugging feature <foo>".into()
            ))
        );
        assert!(p(&["-f", "a", "-dM0x55,no-merge"]).is_ok());
    }
}
