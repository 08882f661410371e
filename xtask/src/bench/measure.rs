//! One measurement: start a server, check it, warm it up, load it with
//! wrk while sampling its memory, stop its whole process tree.

use std::path::Path;
use std::time::{Duration, Instant};

use super::peers::{Config, Context, Server};
use super::probe::{self, ProbeInfo};
use super::process::{ServerProcess, free_port};
use super::report;
use super::rss;
use super::stats::Measurement;
use super::targets;
use super::workloads::{CONNECTIONS, Workload};
use super::wrk::{WrkJob, WrkResult};
use crate::workspace_root;

/// How long a server may take to listen (Python start-up, app import).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);
/// Unmeasured load before each measurement (connections, caches, threads).
pub const WARMUP: Duration = Duration::from_secs(1);
/// Below this share of the connections in service at once, the report says
/// that the server left connections waiting.
const STARVED_SHARE: f64 = 0.5;

/// Starts the server, checks it answers correctly, warms it up, measures,
/// and stops its whole process tree.
pub fn measure(
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
        job(WARMUP).run(None)?;
        proc.check_alive()?;
        let measured = job(duration).run(Some(&log.with_extension("wrk.txt")))?;
        proc.check_alive()?;
        usable(&measured, duration)?;
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
    // The log's path goes on the first line: the report shows only that.
    let (w, info) = result.map_err(|e: String| match e.split_once('\n') {
        Some((first, rest)) => format!("{first} (log: {})\n{rest}", log.display()),
        None => format!("{e} (log: {})", log.display()),
    })?;
    let notes = notes(&w, &info);
    Ok(Measurement {
        rps: w.rps,
        p50_us: w.p50_us,
        p99_us: w.p99_us,
        requests: w.requests,
        errors: w.errors(),
        peak_rss_kib: peak.rss_kib,
        file_rss_kib: peak.file_kib,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

/// A run whose figures mean nothing is a failed run, with the reason.
fn usable(w: &WrkResult, duration: Duration) -> Result<(), String> {
    if w.requests == 0 {
        return Err(format!(
            "wrk completed no request in {}s ({} errors): the server never finished a \
             response on a keep-alive connection",
            duration.as_secs(),
            w.errors()
        ));
    }
    // e.g. uWSGI on `stream`: an unframed response on a keep-alive
    // connection ends only when its socket timeout closes the connection,
    // which wrk counts both as a response and as a read error.
    if w.errors() >= w.requests {
        return Err(format!(
            "{} errors for {} completed responses in {}s (every response ended in a \
             connection error)",
            w.errors(),
            w.requests,
            duration.as_secs()
        ));
    }
    Ok(())
}

/// What the reader must know about a run beyond its numbers.
fn notes(w: &WrkResult, info: &ProbeInfo) -> Vec<String> {
    let mut notes = Vec::new();
    if info.file_wrapper.as_deref() == Some("fallback") {
        notes.push("no wsgi.file_wrapper: file read in Python".to_string());
    }
    // Little's law: connections in service = throughput x mean latency. A
    // server that serves one keep-alive connection per thread leaves the
    // others waiting in the backlog, which wrk counts neither in latency
    // nor as errors. (Constant text: one note per server, not per round.)
    let served = w.rps * w.mean_us / 1e6;
    if served < STARVED_SHARE * f64::from(CONNECTIONS) {
        notes.push(format!(
            "fewer than half of the {CONNECTIONS} connections in service at a time, the rest waited"
        ));
    }
    notes
}

pub fn progress(
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

pub fn config_tag(config: Config) -> String {
    match config {
        Config::OneProcess => "1p".into(),
        Config::AllCores(n) => format!("{n}w"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(requests: u64, rps: f64, mean_us: f64, socket_errors: u64) -> WrkResult {
        WrkResult {
            requests,
            rps,
            mean_us,
            p50_us: mean_us,
            p99_us: mean_us,
            socket_errors,
            bad_status: 0,
        }
    }

    #[test]
    fn runs_without_meaningful_figures_fail() {
        let five = Duration::from_secs(5);
        assert!(usable(&w(100, 20.0, 2_000_000.0, 3), five).is_ok());
        assert!(
            usable(&w(0, 0.0, 0.0, 0), five)
                .unwrap_err()
                .contains("no request")
        );
        // uWSGI on `stream` (captured): 4 requests, read 4.
        let err = usable(&w(4, 0.8, 4_010_000.0, 4), five).unwrap_err();
        assert!(
            err.starts_with("4 errors for 4 completed responses in 5s"),
            "{err}"
        );
        assert!(usable(&w(5, 1.0, 4_000_000.0, 4), five).is_ok());
    }

    #[test]
    fn notes_flag_waiting_connections_and_missing_file_wrapper() {
        let fallback = ProbeInfo {
            file_wrapper: Some("fallback".into()),
        };
        // 26,000 req/s x 111 us = ~3 connections in service of 50.
        let starved = notes(&w(130_000, 26_000.0, 111.0, 0), &ProbeInfo::default());
        assert_eq!(starved.len(), 1);
        assert!(starved[0].starts_with("fewer than half of the 50"));
        // 21,000 req/s x 2.3 ms = ~48 in service.
        assert!(notes(&w(100_000, 21_000.0, 2300.0, 0), &ProbeInfo::default()).is_empty());
        assert_eq!(
            notes(&w(500, 100.0, 450_000.0, 0), &fallback),
            vec!["no wsgi.file_wrapper: file read in Python".to_string()]
        );
    }
}
