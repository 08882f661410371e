//! Finding the Python to build against and preparing the test virtualenv.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run_command;

/// Packages the integration tests import from the test virtualenv.
/// Bump the list (and so the marker) to rebuild the venv.
pub const TEST_REQUIREMENTS: &[&str] = &["flask>=3,<4", "django>=4.2,<6"];

/// The interpreter to build and test with: `PYO3_PYTHON` if set, else the
/// `python3` on PATH, resolved to its real executable so that builds are
/// reproducible (DESIGN.md, "Linking").
pub fn build_python() -> Result<PathBuf, String> {
    let candidate = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&candidate)
        .args([
            "-c",
            "import sys, sysconfig; print(sys.executable); \
             print('%d.%d' % sys.version_info[:2]); \
             print(sysconfig.get_config_var('Py_ENABLE_SHARED') or 0)",
        ])
        .output()
        .map_err(|e| {
            format!("cannot run {candidate}: {e}; install CPython 3.9+ with its shared library")
        })?;
    if !out.status.success() {
        return Err(format!(
            "{candidate} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let exe = lines.next().unwrap_or_default().to_string();
    let version = lines.next().unwrap_or_default().to_string();
    let shared = lines.next().unwrap_or_default().trim().to_string();
    let minor: u32 = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !version.starts_with("3.") || minor < 9 {
        return Err(format!(
            "{exe} is Python {version}; waitress-rs needs CPython 3.9 or newer"
        ));
    }
    if shared != "1" {
        return Err(format!(
            "{exe} was built without a shared libpython (Py_ENABLE_SHARED=0); \
             install one that has it (e.g. Debian's python3-dev, or pyenv with \
             PYTHON_CONFIGURE_OPTS=--enable-shared)"
        ));
    }
    Ok(PathBuf::from(exe))
}

/// Creates (once) the virtualenv with the test requirements.
pub fn prepare_test_venv(python: &Path, venv: &Path) -> Result<(), String> {
    let marker = venv.join(".waitress-test-requirements");
    let wanted = format!("{}\n{}\n", python.display(), TEST_REQUIREMENTS.join("\n"));
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    if venv.exists() {
        std::fs::remove_dir_all(venv)
            .map_err(|e| format!("cannot remove old {}: {e}", venv.display()))?;
    }
    run_command(Command::new(python).args(["-m", "venv"]).arg(venv))?;
    let pip = venv.join("bin").join("pip");
    run_command(
        Command::new(&pip)
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(TEST_REQUIREMENTS),
    )?;
    std::fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))
}
