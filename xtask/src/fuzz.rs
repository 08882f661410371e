//! `cargo xtask fuzz [--seconds N] [TARGET]`: every cargo-fuzz target of the
//! workspace (`*/fuzz`), each for a bounded time, on the nightly toolchain.

use std::path::PathBuf;
use std::process::Command;

use crate::{run_command, workspace_root};

/// Default time per target.
const DEFAULT_SECONDS: u64 = 60;

fn fuzz_dirs() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("fuzz"))
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

fn targets(dir: &PathBuf) -> Result<Vec<String>, String> {
    let out = Command::new("cargo")
        .current_dir(dir)
        .args(["+nightly", "fuzz", "list"])
        .output()
        .map_err(|e| {
            format!("cannot run cargo fuzz: {e} (install with `cargo install cargo-fuzz`)")
        })?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if let Some(v) = arg.strip_prefix("--seconds=") {
            seconds = v
                .parse()
                .map_err(|_| format!("--seconds: not a number: {v}"))?;
        } else if arg == "--seconds" {
            let v = it.next().ok_or("--seconds needs a value")?;
            seconds = v
                .parse()
                .map_err(|_| format!("--seconds: not a number: {v}"))?;
        } else if arg.starts_with('-') {
            return Err(format!("fuzz: unknown option {arg}"));
        } else {
            only = Some(arg.clone());
        }
    }
    let mut ran = 0;
    for dir in fuzz_dirs() {
        for target in targets(&dir)? {
            if only.as_ref().is_some_and(|o| o != &target) {
                continue;
            }
            // New inputs go to a scratch corpus under target/; the committed
            // seeds are read only, so a run never dirties the checkout.
            let seeds = dir.join("corpus").join(&target);
            let scratch = crate::target_dir().join("fuzz-corpus").join(&target);
            for d in [&seeds, &scratch] {
                std::fs::create_dir_all(d)
                    .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
            }
            run_command(
                Command::new("cargo")
                    .current_dir(&dir)
                    .args(["+nightly", "fuzz", "run", &target])
                    .arg(&scratch)
                    .arg(&seeds)
                    .arg("--")
                    .arg(format!("-max_total_time={seconds}")),
            )?;
            ran += 1;
        }
    }
    if ran == 0 {
        return Err("no fuzz target matched".into());
    }
    eprintln!("xtask: {ran} fuzz target(s) ran {seconds}s each without a finding");
    Ok(())
}
