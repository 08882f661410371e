//! `cargo xtask <command>`: the project's own tooling.
//!
//! - `test`  : fmt check, clippy -D warnings, every unit and integration test
//!   (the one test command; prepares the test virtualenv itself).
//! - `fuzz`  : runs every cargo-fuzz target for a bounded time (nightly).
//! - `bench` : waitress-rs against the other WSGI servers (issue 7).

mod bench;
mod fuzz;
mod python;
mod summary;
mod test;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
           test [-- <cargo test args>]   fmt, clippy and all tests (the CI command)\n  \
           fuzz [--seconds N] [TARGET]   run the cargo-fuzz targets, N seconds each (default 60)\n  \
           bench [--quick] [--help]      benchmark against the other WSGI servers (target/bench/report.md)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        return usage();
    };
    let result = match command.as_str() {
        "test" => test::run(rest),
        "fuzz" => fuzz::run(rest),
        "bench" => bench::run(rest),
        "-h" | "--help" | "help" => return usage(),
        other => {
            eprintln!("xtask: unknown command `{other}`");
            return usage();
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command, echoing it; fails with its status.
pub fn run_command(cmd: &mut std::process::Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed with {status}", cmd.get_program()))
    }
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The cargo target directory.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}
