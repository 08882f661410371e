//! `cargo xtask bench`: waitress-rs against the other WSGI servers, side by
//! side on this machine (issue 7).
//!
//! Each server runs in a comparable configuration on its own 127.0.0.1
//! port; wrk loads it for a bounded time; rounds interleave the servers
//! (A B C A B C ...) so that drift on this noisy 2-core machine hits all of
//! them alike, and the ours/peer ratio within a round is the figure to
//! quote. The report goes to target/bench/report.md.
//!
//! - `options`: flags; `workloads` / `peers`: what runs and how;
//! - `install`: wrk, libev-dev, the peers' venv, our release binary;
//! - `process`: bounded children, server process groups;
//! - `probe`: the correctness check before each measurement;
//! - `wrk`, `rss`: the measurements; `stats`, `targets`, `report`: figures.

mod install;
mod measure;
mod options;
mod peers;
mod probe;
mod process;
mod report;
mod rss;
mod stats;
mod targets;
mod workloads;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use self::measure::{WARMUP, config_tag, measure, progress};
use self::options::Options;
use self::peers::{Config, Context, Server};
use self::process::run_bounded;
use self::report::{Meta, Plan};
use self::stats::Results;
use self::workloads::{CONNECTIONS, FILE_BYTES, Workload};
use crate::python::build_python;
use crate::{target_dir, workspace_root};

pub fn run(args: &[String]) -> Result<(), String> {
    let opts = Options::parse(args)?;
    let started = Instant::now();
    let bench_dir = target_dir().join("bench");
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    let mut results = Results::default();
    let setup = prepare(&opts, &bench_dir, &logs, &mut results)?;
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let plan = plan(&opts, nproc);

    let load_before = loadavg();
    let measuring = Instant::now();
    for round in 1..=opts.rounds {
        run_round(round, &plan, &setup, &opts, &logs, &mut results);
    }

    let targets = targets::evaluate(&results);
    let meta = Meta {
        date: command_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])),
        machine: machine(nproc),
        python: install::python_version(&setup.python),
        wrk: wrk::version().unwrap_or_else(|| "unknown".into()),
        versions: setup.versions.clone(),
        load: format!(
            "wrk -t{} -c{CONNECTIONS} -d{}s --latency --timeout={}s after a {}s warm-up; \
             echo POSTs 64 KiB (bench/wrk/post.lua); apps in bench/apps",
            wrk::WRK_THREADS,
            opts.duration.as_secs(),
            wrk::WRK_REQUEST_TIMEOUT_SECS,
            WARMUP.as_secs()
        ),
        loadavg: (load_before, loadavg()),
        rounds: opts.rounds,
        command: std::iter::once("cargo xtask bench".to_string())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
    };
    let text = report::render(&meta, &plan, &results, &targets);
    let path = bench_dir.join("report.md");
    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{text}");
    eprintln!(
        "xtask bench: report written to {} (measuring {:.0?}, total {:.0?})",
        path.display(),
        measuring.elapsed(),
        started.elapsed()
    );
    Ok(())
}

/// What the runs need, once installed and built.
#[derive(Debug)]
struct Setup {
    python: PathBuf,
    ctx: Context,
    /// (name, version or why it is missing), for the report.
    versions: Vec<(String, String)>,
    /// Set when Flask could not be installed: every `flask` run fails with it.
    flask_error: Option<String>,
}

/// wrk, our binary, the venv with the peers and Flask, the bench file. A
/// peer that cannot be installed is recorded in `results`, not fatal.
fn prepare(
    opts: &Options,
    bench_dir: &Path,
    logs: &Path,
    results: &mut Results,
) -> Result<Setup, String> {
    let python = build_python()?;
    let target = target_dir();
    let mut apt_updated = false;
    install::ensure_debian_package("wrk", install::wrk_present(), &mut apt_updated)?;
    let ours_bin = install::build_ours(&python, &target)?;
    let venv = target.join("bench-venv");
    install::ensure_venv(&python, &venv)?;
    let mut versions = vec![(Server::Ours.name().to_string(), install::ours_version())];
    for &server in opts.servers.iter().filter(|s| **s != Server::Ours) {
        match install::install_peer(server, &venv, logs, &mut apt_updated) {
            Ok(v) => versions.push((server.name().to_string(), v)),
            Err(e) => {
                eprintln!("xtask bench: {} is not available: {e}", server.name());
                versions.push((server.name().to_string(), format!("NOT INSTALLED: {e}")));
                results.not_installed.insert(server, e);
            }
        }
    }
    let mut flask_error = None;
    if opts.workloads.contains(&Workload::Flask) {
        let flask = install::pip_install(
            &venv,
            install::FLASK_REQUIREMENT,
            &logs.join("install-flask.log"),
        )
        .and_then(|()| install::dist_version(&venv, "flask"));
        match flask {
            Ok(v) => versions.push(("flask".into(), v)),
            Err(e) => {
                versions.push(("flask".into(), format!("NOT INSTALLED: {e}")));
                flask_error = Some(format!("flask is not installed: {e}"));
            }
        }
    }
    let file_path = bench_dir.join("file-10MiB.bin");
    if opts.workloads.contains(&Workload::File) {
        install::ensure_bench_file(&file_path, FILE_BYTES)?;
    }
    let root = workspace_root();
    let ctx = Context {
        apps_dir: root.join("bench").join("apps"),
        runners_dir: root.join("bench").join("runners"),
        venv,
        ours_has_workers: install::ours_has_workers(&ours_bin),
        ours_bin,
        file_path,
    };
    Ok(Setup {
        python,
        ctx,
        versions,
        flask_error,
    })
}

/// One process for every workload; then all cores for the CPU-bound ones.
fn plan(opts: &Options, nproc: u32) -> Plan {
    let mut configs = vec![(Config::OneProcess, opts.workloads.clone())];
    let all_cores: Vec<Workload> = opts
        .workloads
        .iter()
        .copied()
        .filter(|w| w.in_all_cores())
        .collect();
    if opts.all_cores && !all_cores.is_empty() {
        configs.push((Config::AllCores(nproc), all_cores));
    }
    Plan {
        configs,
        servers: opts.servers.clone(),
    }
}

/// Every server once per workload and configuration, in plan order (the
/// interleaving: A B C, then the next round A B C again).
fn run_round(
    round: u32,
    plan: &Plan,
    setup: &Setup,
    opts: &Options,
    logs: &Path,
    results: &mut Results,
) {
    for (config, workloads) in &plan.configs {
        for &workload in workloads {
            for &server in &plan.servers {
                if results.not_installed.contains_key(&server) {
                    continue;
                }
                // Port 0 only asks whether the configuration exists.
                if let Err(reason) = server.command(&setup.ctx, workload, 0, *config) {
                    results.unavailable.insert((*config, server), reason);
                    continue;
                }
                let outcome = match &setup.flask_error {
                    Some(e) if workload == Workload::Flask => Err(e.clone()),
                    _ => {
                        let log = logs.join(format!(
                            "{}-{}-{}-r{round}.log",
                            server.name(),
                            workload.name(),
                            config_tag(*config)
                        ));
                        measure(server, &setup.ctx, workload, *config, opts.duration, &log)
                    }
                };
                progress(round, *config, workload, server, &outcome);
                results.record(*config, workload, server, round, outcome);
            }
        }
    }
}

/// The 1-minute load average from /proc/loadavg.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn command_line(cmd: &mut Command) -> String {
    run_bounded(cmd, Duration::from_secs(10))
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// "2 cores (model), Linux x.y" for the report.
fn machine(nproc: u32) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = command_line(Command::new("uname").arg("-r"));
    format!("{nproc} cores ({model}), Linux {kernel}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_adds_all_cores_for_cpu_bound_workloads_only() {
        let opts = Options::parse(&[]).unwrap();
        let p = plan(&opts, 2);
        assert_eq!(p.configs.len(), 2);
        assert_eq!(p.configs[0], (Config::OneProcess, Workload::ALL.to_vec()));
        assert_eq!(
            p.configs[1],
            (Config::AllCores(2), vec![Workload::Hello, Workload::Flask])
        );
        let quick = Options::parse(&["--quick".to_string()]).unwrap();
        assert_eq!(plan(&quick, 2).configs.len(), 1);
        let sleep_only = Options::parse(&["--workloads=sleep".to_string()]).unwrap();
        assert_eq!(plan(&sleep_only, 2).configs.len(), 1);
    }
}
