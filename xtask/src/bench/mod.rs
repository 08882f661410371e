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

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use self::options::Options;
use self::peers::{Config, Context, Server};
use self::process::{ServerProcess, free_port, run_bounded};
use self::report::{Meta, Plan};
use self::stats::{Measurement, Results};
use self::workloads::{CONNECTIONS, FILE_BYTES, Workload};
use self::wrk::WrkJob;
use crate::python::build_python;
use crate::{target_dir, workspace_root};

/// How long a server may take to listen (Python start-up, app import).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);
/// Unmeasured load before each measurement (connections, caches, threads).
const WARMUP: Duration = Duration::from_secs(1);
/// Below this share of the connections in service at once, the report says
/// that the server left connections waiting.
const STARVED_SHARE: f64 = 0.5;

pub fn run(args: &[String]) -> Result<(), String> {
    let opts = Options::parse(args)?;
    let started = Instant::now();
    let target = target_dir();
    let bench_dir = target.join("bench");
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    // Tools, binaries and peers (idempotent; not part of the timed runs).
    let python = build_python()?;
    let mut apt_updated = false;
    install::ensure_debian_package("wrk", install::wrk_present(), &mut apt_updated)?;
    let ours_bin = install::build_ours(&python, &target)?;
    let venv = target.join("bench-venv");
    install::ensure_venv(&python, &venv)?;
    let mut results = Results::default();
    let mut versions = vec![(Server::Ours.name().to_string(), install::ours_version())];
    for &server in opts.servers.iter().filter(|s| **s != Server::Ours) {
        match install::install_peer(server, &venv, &logs, &mut apt_updated) {
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
        venv: venv.clone(),
        ours_has_workers: install::ours_has_workers(&ours_bin),
        ours_bin,
        file_path,
    };

    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
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
    let plan = Plan {
        configs,
        servers: opts.servers.clone(),
    };

    let measuring = Instant::now();
    for round in 1..=opts.rounds {
        for (config, workloads) in &plan.configs {
            for &workload in workloads {
                for &server in &plan.servers {
                    if results.not_installed.contains_key(&server) {
                        continue;
                    }
                    let outcome = match server.command(&ctx, workload, 0, *config) {
                        Err(reason) => {
                            results.unavailable.insert((*config, server), reason);
                            continue;
                        }
                        Ok(_) if workload == Workload::Flask && flask_error.is_some() => {
                            Err(flask_error.clone().unwrap_or_default())
                        }
                        Ok(_) => {
                            let log = logs.join(format!(
                                "{}-{}-{}-r{round}.log",
                                server.name(),
                                workload.name(),
                                config_tag(*config)
                            ));
                            measure(server, &ctx, workload, *config, opts.duration, &log)
                        }
                    };
                    progress(round, *config, workload, server, &outcome);
                    results.record(*config, workload, server, round, outcome);
                }
            }
        }
    }

    let targets = targets::evaluate(&results);
    let meta = Meta {
        date: command_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])),
        machine: machine(nproc),
        python: install::python_version(&python),
        wrk: wrk::version().unwrap_or_else(|| "unknown".into()),
        versions,
        load: format!(
            "wrk -t{} -c{CONNECTIONS} -d{}s --latency --timeout={}s after a {}s warm-up; \
             echo POSTs 64 KiB (bench/wrk/post.lua); apps in bench/apps",
            wrk::WRK_THREADS,
            opts.duration.as_secs(),
            wrk::WRK_REQUEST_TIMEOUT_SECS,
            WARMUP.as_secs()
        ),
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

/// Starts the server, checks it answers correctly, warms it up, measures,
/// and stops its whole process tree.
fn measure(
    server: Server,
    ctx: &Context,
    workload: Workload,
    config: Config,
    duration: Duration,
    log: &Path,
) -> Result<Measurement, String> {
    let port = free_port()?;
    let mut cmd = server.command(ctx, workload, port, config)?;
    let mut proc = ServerProcess::spawn(server.name(), &mut cmd, log)?;
    let sampler = rss::Sampler::start(proc.pid());
    let script = workload
        .lua_script()
        .map(|s| workspace_root().join("bench").join("wrk").join(s));
    let job = |duration| WrkJob {
        url: format!("http://127.0.0.1:{port}/"),
        connections: CONNECTIONS,
        duration,
        script: script.clone(),
    };
    let launched = Instant::now();
    let mut ready_after = None;
    let result = (|| {
        proc.wait_listening(port, STARTUP_LIMIT)?;
        let info = probe::probe(port, workload).map_err(|e| format!("{e}\n{}", proc.log_tail()))?;
        ready_after = Some(launched.elapsed());
        job(WARMUP).run()?;
        proc.check_alive()?;
        let measured = job(duration).run()?;
        proc.check_alive()?;
        if measured.requests == 0 {
            return Err(format!(
                "wrk completed no request in {}s ({} errors): the server never finished a \
                 response on a keep-alive connection",
                duration.as_secs(),
                measured.errors()
            ));
        }
        Ok((measured, info))
    })();
    let peak = sampler.finish();
    let stopping = Instant::now();
    proc.stop();
    if let Some(ready) = ready_after {
        eprintln!(
            "xtask bench:   {} answered {:.1}s after start, stopped in {:.1}s",
            server.name(),
            ready.as_secs_f64(),
            stopping.elapsed().as_secs_f64()
        );
    }
    let (w, info) =
        result.map_err(|e: String| format!("{e}\n    (server log: {})", log.display()))?;
    let mut notes = Vec::new();
    if info.file_wrapper.as_deref() == Some("fallback") {
        notes.push("no wsgi.file_wrapper: file read in Python".to_string());
    }
    // Little's law: connections in service = throughput x mean latency. A
    // server that serves one keep-alive connection per thread leaves the
    // others waiting in the backlog, which wrk does not count as errors.
    let served = w.rps * w.mean_us / 1e6;
    if served < STARVED_SHARE * f64::from(CONNECTIONS) {
        notes.push(format!(
            "only ~{served:.0} of {CONNECTIONS} connections served at a time"
        ));
    }
    Ok(Measurement {
        rps: w.rps,
        p50_us: w.p50_us,
        p99_us: w.p99_us,
        requests: w.requests,
        errors: w.errors(),
        peak_rss_kib: peak,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

fn progress(
    round: u32,
    config: Config,
    workload: Workload,
    server: Server,
    outcome: &Result<Measurement, String>,
) {
    let tag = format!(
        "[round {round} {} {} {}]",
        config_tag(config),
        workload.name(),
        server.name()
    );
    match outcome {
        Ok(m) => eprintln!(
            "xtask bench: {tag} {} req/s, p50 {}, p99 {}, {} errors, peak RSS {}",
            report::thousands(m.rps),
            report::latency(m.p50_us),
            report::latency(m.p99_us),
            m.errors,
            targets::mib(m.peak_rss_kib)
        ),
        Err(e) => eprintln!("xtask bench: {tag} FAILED: {e}"),
    }
}

fn config_tag(config: Config) -> String {
    match config {
        Config::OneProcess => "1p".into(),
        Config::AllCores(n) => format!("{n}w"),
    }
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
