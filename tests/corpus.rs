//! Corpus parity (issue 3, point 7): `haproxyrs -c -f NNN.cfg`, run from inside
//! `../shared/haproxy-corpus/cfg/` exactly as HAProxy 2.6's verdicts in `MANIFEST.tsv` were
//! taken, must give the same exit code; for `config` failures an ALERT citing one of the same
//! lines; for `env-*` failures an ALERT of the same kind (unresolvable address, missing file,
//! unknown user or group…) on one of the same lines. Prints `N/M agree`; fails on a
//! disagreement not listed in `tests/corpus-known-differences.tsv` (each with its reason,
//! mirrored in `docs/compatibility.md`) and on a listed file that now agrees.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::haproxy::{haproxy_path, skip};

/// One row of MANIFEST.tsv.
struct Verdict {
    file: String,
    exit: i32,
    alert_lines: Vec<u32>,
    cause: String,
    first_message: String,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<repo>/../shared/haproxy-corpus` (a worktree may sit one level deeper).
fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HAPROXYRS_SHARED") {
        return Some(PathBuf::from(dir).join("haproxy-corpus"));
    }
    let root = repo_root();
    ["../shared", "../../shared"]
        .iter()
        .map(|p| root.join(p).join("haproxy-corpus"))
        .find(|p| p.join("MANIFEST.tsv").is_file())
}

fn read_manifest(dir: &Path) -> Vec<Verdict> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Verdict {
                file: f[0].to_string(),
                exit: f[4].parse().expect("exit code"),
                alert_lines: f[5].split(',').filter_map(|n| n.parse().ok()).collect(),
                cause: f[6].to_string(),
                first_message: f.get(7).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// The known differences: file → reason.
fn known_differences() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo_root().join("tests/corpus-known-differences.tsv"))
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (f, r) = l.split_once('\t').unwrap_or((l, ""));
            (f.to_string(), r.to_string())
        })
        .collect()
}

/// Run `haproxyrs -c -f file` inside `cfg`, bounded; (exit code, stderr).
fn run_check(cfg: &Path, file: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_haproxyrs"))
        .args(["-c", "-f", file])
        .current_dir(cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn haproxyrs");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st.code().unwrap_or(-1);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break -2;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (code, reader.join().unwrap_or_default())
}

/// The line numbers cited as `[file:LINE]` by `[ALERT]` lines, with each line's text.
fn alerts(stderr: &str, file: &str) -> Vec<(u32, String)> {
    let pat = format!("[{file}:");
    stderr
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .filter_map(|l| {
            let at = l.find(&pat)? + pat.len();
            let digits: String = l[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
            Some((digits.parse().ok()?, l.to_string()))
        })
        .collect()
}

/// What kind of environment failure a message is about.
const ENV_KINDS: &[&str] = &[
    "could not resolve address",
    "invalid address",
    "unable to stat SSL certificate",
    "failed to open pattern file",
    "error in Lua file",
    "Could not open configuration file",
    "error opening file",
    "cannot find user id",
    "cannot find group id",
    "expects an integer argument",
    "unable to load",
];

/// Whether our run agrees with the verdict; `Err` says how it does not.
fn judge(v: &Verdict, code: i32, stderr: &str) -> Result<(), String> {
    if code != v.exit {
        return Err(format!("exit {code}, HAProxy {}", v.exit));
    }
    if v.exit != 1 || v.alert_lines.is_empty() {
        return Ok(());
    }
    let ours = alerts(stderr, &v.file);
    let on_line: Vec<&(u32, String)> = ours
        .iter()
        .filter(|(l, _)| v.alert_lines.contains(l))
        .collect();
    if on_line.is_empty() {
        let lines: Vec<u32> = ours.iter().map(|(l, _)| *l).collect();
        return Err(format!(
            "ALERT lines {lines:?}, HAProxy {:?}",
            v.alert_lines
        ));
    }
    if v.cause.starts_with("env-") {
        if let Some(kind) = ENV_KINDS.iter().find(|k| v.first_message.contains(*k)) {
            if !on_line.iter().any(|(_, text)| text.contains(kind)) {
                return Err(format!("no ALERT '{kind}' on lines {:?}", v.alert_lines));
            }
        }
    }
    Ok(())
}

#[test]
fn corpus_parity() {
    let Some(dir) = corpus_dir() else {
        skip(
            "corpus_parity",
            "../shared/haproxy-corpus not found (set HAPROXYRS_SHARED)",
        );
        return;
    };
    if haproxy_path().is_none() {
        // The verdicts assume Debian's package (its `haproxy` user, /etc/haproxy/errors).
        skip(
            "corpus_parity",
            "Debian's haproxy package is not installed; the verdicts assume it",
        );
        return;
    }
    let cfg = dir.join("cfg");
    let verdicts = read_manifest(&dir);
    let known = known_differences();
    // Two workers: the machine has two cores, and most of the time goes to name lookups.
    let chunks: Vec<Vec<&Verdict>> = (0..2)
        .map(|i| verdicts.iter().skip(i).step_by(2).collect())
        .collect();
    let results: Vec<(String, Result<(), String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let cfg = cfg.clone();
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|v| {
                            let (code, stderr) = run_check(&cfg, &v.file);
                            (v.file.clone(), judge(v, code, &stderr))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let agree = results.iter().filter(|(_, r)| r.is_ok()).count();
    println!("corpus parity: {agree}/{} agree", results.len());
    let mut failures = Vec::new();
    for (file, r) in &results {
        match (r, known.get(file)) {
            (Err(why), None) => failures.push(format!("{file}: {why}")),
            (Err(why), Some(reason)) => println!("known difference {file}: {why} ({reason})"),
            (Ok(()), Some(_)) => failures.push(format!(
                "{file} now agrees: remove it from tests/corpus-known-differences.tsv"
            )),
            (Ok(()), None) => {}
        }
    }
    for file in known.keys() {
        if !results.iter().any(|(f, _)| f == file) {
            failures.push(format!(
                "{file} is listed as a known difference but not in the corpus"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{agree}/{} agree; unexpected:\n{}",
        results.len(),
        failures.join("\n")
    );
}

#[test]
fn judge_compares_exit_code_and_lines() {
    let v = Verdict {
        file: "x.cfg".into(),
        exit: 1,
        alert_lines: vec![12, 13],
        cause: "env-dns".into(),
        first_message: "[x.cfg:12] : 'server b/s' : could not resolve address 'w'.".into(),
    };
    let good =
        "[ALERT]    (1) : config : [x.cfg:13] : 'server b/t' : could not resolve address 'w'.\n";
    assert!(judge(&v, 1, good).is_ok());
    assert!(judge(&v, 0, good).is_err());
    let wrong_line =
        "[ALERT]    (1) : config : [x.cfg:14] : 'server b/t' : could not resolve address 'w'.\n";
    assert!(judge(&v, 1, wrong_line).is_err());
    let wrong_kind =
        "[ALERT]    (1) : config : parsing [x.cfg:12] : unknown keyword 'w' in 'backend' section\n";
    assert!(judge(&v, 1, wrong_kind).is_err());
}

/// The `[WARNING]` lines of a `-c` run, without the pid, sorted.
fn warnings(program: &Path, cfg: &Path, file: &str) -> Vec<String> {
    let out = Command::new(program)
        .args(["-c", "-f", file])
        .current_dir(cfg)
        .stdin(Stdio::null())
        .output()
        .expect("run -c");
    let mut w: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("[WARNING]"))
        .map(|l| match l.find(") : ") {
            Some(i) => l[i + 4..].to_string(),
            None => l.to_string(),
        })
        .collect();
    w.sort();
    w
}

/// On the corpus files HAProxy accepts, haproxyrs prints the same WARNINGs (live haproxy).
#[test]
fn corpus_warnings_match_haproxy() {
    let Some(dir) = corpus_dir() else {
        skip(
            "corpus_warnings_match_haproxy",
            "../shared/haproxy-corpus not found (set HAPROXYRS_SHARED)",
        );
        return;
    };
    let Some(haproxy) = haproxy_path() else {
        skip(
            "corpus_warnings_match_haproxy",
            "haproxy not installed (apt-get install haproxy)",
        );
        return;
    };
    let cfg = dir.join("cfg");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_haproxyrs"));
    let mut failures = Vec::new();
    for v in read_manifest(&dir).iter().filter(|v| v.exit == 0) {
        let (theirs, mine) = (
            warnings(&haproxy, &cfg, &v.file),
            warnings(&ours, &cfg, &v.file),
        );
        if theirs != mine {
            failures.push(format!(
                "{}:\n  haproxy:   {theirs:#?}\n  haproxyrs: {mine:#?}",
                v.file
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
