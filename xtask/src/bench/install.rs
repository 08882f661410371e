//! Getting everything the bench runs: wrk and libev-dev from Debian, the
//! peers from PyPI into `target/bench-venv`, our release binary. Every step
//! is idempotent (marker files) and bounded in time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::peers::Server;
use super::process::{run_bounded, run_visible};
use crate::workspace_root;

/// apt-get update / install limit.
const APT_LIMIT: Duration = Duration::from_secs(900);
/// pip limit per package (uWSGI compiles from source).
const PIP_LIMIT: Duration = Duration::from_secs(1200);
/// Our release build (fat LTO on two shared cores).
const BUILD_LIMIT: Duration = Duration::from_secs(3600);
/// Short queries (versions, --help).
const QUERY_LIMIT: Duration = Duration::from_secs(60);
/// Flask, for the `flask` workload (every server imports it from the venv).
pub const FLASK_REQUIREMENT: &str = "flask>=3,<4";
/// The header bjoern compiles against (Debian's libev-dev).
const LIBEV_HEADER: &str = "/usr/include/ev.h";

/// Debian packages: installs `package` with apt-get (as root) when `present`
/// says it is missing.
pub fn ensure_debian_package(
    package: &str,
    present: bool,
    updated: &mut bool,
) -> Result<(), String> {
    if present {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "{package} is missing and xtask is not root: run `apt-get install -y {package}`"
        ));
    }
    if !*updated {
        apt(&["update"])?;
        *updated = true;
    }
    apt(&["install", "-y", package])
}

fn apt(args: &[&str]) -> Result<(), String> {
    let status = run_visible(
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        APT_LIMIT,
    )?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("apt-get {} failed ({status})", args.join(" ")))
    }
}

fn is_root() -> bool {
    run_bounded(Command::new("id").arg("-u"), QUERY_LIMIT)
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

pub fn wrk_present() -> bool {
    run_bounded(Command::new("wrk").arg("-v"), QUERY_LIMIT).is_ok()
}

pub fn libev_present() -> bool {
    Path::new(LIBEV_HEADER).exists()
}

/// Creates the bench virtualenv with `python` (recreated if it was made by
/// another interpreter).
pub fn ensure_venv(python: &Path, venv: &Path) -> Result<(), String> {
    let marker = venv.join(".waitress-bench-python");
    let wanted = python.display().to_string();
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    if venv.exists() {
        std::fs::remove_dir_all(venv)
            .map_err(|e| format!("cannot remove old {}: {e}", venv.display()))?;
    }
    eprintln!("xtask bench: creating {}", venv.display());
    let out = run_bounded(
        Command::new(python).args(["-m", "venv"]).arg(venv),
        PIP_LIMIT,
    )?;
    if !out.status.success() {
        return Err(format!(
            "{} -m venv failed: {}",
            python.display(),
            last_lines(&out.stderr, 5)
        ));
    }
    std::fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))
}

/// `pip install requirement` into the venv once (marker per requirement);
/// pip's output goes to `log`.
pub fn pip_install(venv: &Path, requirement: &str, log: &Path) -> Result<(), String> {
    let marker = venv.join(format!(
        ".waitress-bench-installed-{}",
        sanitize(requirement)
    ));
    if marker.exists() {
        return Ok(());
    }
    eprintln!(
        "xtask bench: pip install {requirement} (log: {})",
        log.display()
    );
    if requirement == "uwsgi" {
        eprintln!("xtask bench: (uWSGI compiles from source: a few minutes)");
    }
    let out = run_bounded(
        Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--disable-pip-version-check",
            requirement,
        ]),
        PIP_LIMIT,
    )?;
    let mut text = out.stdout.clone();
    text.extend_from_slice(&out.stderr);
    std::fs::write(log, &text).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    if !out.status.success() {
        return Err(format!(
            "pip install {requirement} failed ({}; full log {}): {}",
            out.status,
            log.display(),
            last_lines(&out.stderr, 3)
        ));
    }
    std::fs::write(&marker, requirement)
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))
}

/// The installed version of a distribution in the venv.
pub fn dist_version(venv: &Path, dist: &str) -> Result<String, String> {
    let out = run_bounded(
        Command::new(venv.join("bin").join("python")).args([
            "-c",
            "import sys, importlib.metadata as m; print(m.version(sys.argv[1]))",
            dist,
        ]),
        QUERY_LIMIT,
    )?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{dist} is not installed: {}",
            last_lines(&out.stderr, 1)
        ))
    }
}

/// `Python 3.11.7` of an interpreter.
pub fn python_version(python: &Path) -> String {
    run_bounded(Command::new(python).arg("--version"), QUERY_LIMIT)
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// Installs what a peer needs (libev-dev for bjoern, then the package).
pub fn install_peer(
    server: Server,
    venv: &Path,
    logs: &Path,
    apt_updated: &mut bool,
) -> Result<String, String> {
    let Some(package) = server.package() else {
        return Err(format!("{} is not a PyPI package", server.name()));
    };
    if server == Server::Bjoern {
        ensure_debian_package("libev-dev", libev_present(), apt_updated)?;
    }
    pip_install(venv, package, &logs.join(format!("install-{package}.log")))?;
    dist_version(venv, package)
}

/// Builds our release binary against `python`; returns its path.
pub fn build_ours(python: &Path, target: &Path) -> Result<PathBuf, String> {
    let status = run_visible(
        Command::new("cargo")
            .current_dir(workspace_root())
            .args(["build", "--release", "-p", "waitress-cli"])
            .env("PYO3_PYTHON", python),
        BUILD_LIMIT,
    )?;
    if !status.success() {
        return Err(format!(
            "cargo build --release -p waitress-cli failed ({status})"
        ));
    }
    Ok(target.join("release").join("waitress-cli"))
}

/// Our version for the report: crate version and the git commit.
pub fn ours_version() -> String {
    let commit = run_bounded(
        Command::new("git")
            .current_dir(workspace_root())
            .args(["describe", "--always", "--dirty"]),
        QUERY_LIMIT,
    )
    .ok()
    .filter(|o| o.status.success())
    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    .unwrap_or_else(|| "unknown commit".into());
    format!("{} ({commit})", env!("CARGO_PKG_VERSION"))
}

/// Whether our binary accepts `--workers` (the multi-process feature).
pub fn ours_has_workers(bin: &Path) -> bool {
    run_bounded(Command::new(bin).arg("--help"), QUERY_LIMIT)
        .map(|o| {
            let mut text = o.stdout;
            text.extend_from_slice(&o.stderr);
            String::from_utf8_lossy(&text).contains("--workers")
        })
        .unwrap_or(false)
}

/// Writes the `file` workload's file once (deterministic content).
pub fn ensure_bench_file(path: &Path, size: usize) -> Result<(), String> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == size as u64) {
        return Ok(());
    }
    let content: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The last `n` non-empty lines of some output, joined with " | ".
pub fn last_lines(text: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .skip(lines.len().saturating_sub(n))
        .copied()
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A requirement as a file-name fragment.
fn sanitize(requirement: &str) -> String {
    requirement
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_skips_blank_lines() {
        assert_eq!(last_lines(b"a\n\nb\n  c  \n\n", 2), "b | c");
        assert_eq!(last_lines(b"only\n", 5), "only");
        assert_eq!(last_lines(b"", 3), "");
    }

    #[test]
    fn requirement_markers_are_plain_file_names() {
        assert_eq!(sanitize("flask>=3,<4"), "flask__3__4");
        assert_eq!(sanitize("../x"), "___x");
    }

    #[test]
    fn bench_file_has_the_requested_size_and_is_kept() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        ensure_bench_file(&path, 1000).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1000);
        ensure_bench_file(&path, 10).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdefghij");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
