//! `cargo xtask test`: the one test command (CI runs exactly this).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::python::{build_python, prepare_test_venv};
use crate::summary::{Totals, parse_result_line};
use crate::{run_command, target_dir, workspace_root};

pub fn run(extra: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let python = build_python()?;
    eprintln!("xtask: building against {}", python.display());
    let venv = target_dir().join("test-venv");

    run_command(
        Command::new("cargo")
            .current_dir(&root)
            .args(["fmt", "--all", "--check"]),
    )?;
    prepare_test_venv(&python, &venv)?;

    let cargo = |args: &[&str]| {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&root)
            .args(args)
            .env("PYO3_PYTHON", &python)
            .env("WAITRESS_TEST_VENV", &venv)
            .env_remove("VIRTUAL_ENV");
        cmd
    };
    run_command(&mut cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    // The integration tests run the binary, which is not a dependency of the
    // tests crate: build it explicitly. `--tests` makes the features the same
    // as `cargo test`'s, so nothing is compiled twice.
    run_command(&mut cargo(&["build", "--workspace", "--bins", "--tests"]))?;

    let mut args = vec!["test", "--workspace", "--no-fail-fast"];
    args.extend(extra.iter().map(String::as_str));
    let mut cmd = cargo(&args);
    eprintln!("xtask: running {cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let mut totals = Totals::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
            if let Some(t) = parse_result_line(&line) {
                totals.add(t);
            }
            println!("{line}");
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    println!();
    println!("xtask test summary:");
    println!(
        "{} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    if !status.success() || totals.failed > 0 {
        return Err(format!("cargo test failed ({status})"));
    }
    if totals.passed == 0 {
        return Err("cargo test ran no test".into());
    }
    Ok(())
}
