//! Running wrk (bounded in time) and reading its `--latency` report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::run_bounded;

/// wrk threads: one, so the load generator takes one of the two cores.
pub const WRK_THREADS: u32 = 1;
/// wrk's per-request timeout. Large bodies at c=50 on a slow server can take
/// seconds each; only a real stall should count as an error.
pub const WRK_REQUEST_TIMEOUT_SECS: u32 = 10;
/// Extra time wrk may take beyond `-d` (start-up, draining) before it is killed.
const WRK_GRACE: Duration = Duration::from_secs(30);

/// One wrk invocation.
#[derive(Debug, Clone)]
pub struct WrkJob {
    pub url: String,
    pub connections: u32,
    pub duration: Duration,
    /// A lua script shaping the requests (the `echo` POST).
    pub script: Option<PathBuf>,
}

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkResult {
    pub requests: u64,
    pub rps: f64,
    /// Mean latency ("Thread Stats" Latency Avg).
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// connect + read + write + timeout.
    pub socket_errors: u64,
    /// Responses with a status >= 400 ("Non-2xx or 3xx responses").
    pub bad_status: u64,
}

impl WrkResult {
    pub fn errors(&self) -> u64 {
        self.socket_errors + self.bad_status
    }
}

impl WrkJob {
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("wrk");
        cmd.arg(format!("-t{WRK_THREADS}"))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.duration.as_secs().max(1)))
            .arg(format!("--timeout={WRK_REQUEST_TIMEOUT_SECS}s"))
            .arg("--latency");
        if let Some(script) = &self.script {
            cmd.arg("-s").arg(script);
        }
        cmd.arg(&self.url);
        cmd
    }

    /// Runs wrk and parses its report; `save_to` keeps wrk's own text.
    pub fn run(&self, save_to: Option<&Path>) -> Result<WrkResult, String> {
        let out = run_bounded(&mut self.command(), self.duration + WRK_GRACE)?;
        if let Some(path) = save_to {
            std::fs::write(path, &out.stdout)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        if !out.status.success() {
            // wrk reports "unable to connect" on stdout.
            return Err(format!(
                "wrk exited with {}: {} {}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        parse(&String::from_utf8_lossy(&out.stdout))
    }
}

/// wrk's version line (`wrk 4.1.0 [epoll] ...`), for the report.
pub fn version() -> Option<String> {
    // `wrk -v` prints its banner and exits with a non-zero status.
    let out = run_bounded(Command::new("wrk").arg("-v"), Duration::from_secs(10)).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned()
        + String::from_utf8_lossy(&out.stderr).as_ref();
    text.lines()
        .find(|l| l.starts_with("wrk "))
        .map(|l| l.split(" Copyright").next().unwrap_or(l).trim().to_string())
}

/// Parses the text wrk prints with `--latency`.
pub fn parse(output: &str) -> Result<WrkResult, String> {
    let mut requests = None;
    let mut rps = None;
    let mut mean = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut socket_errors = 0;
    let mut bad_status = 0;
    // wrk prints "Transfer/sec:" last: without it the output was cut short.
    let mut complete = false;
    for line in output.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        let second = words.next().unwrap_or("");
        if let Some(value) = line.strip_prefix("Requests/sec:") {
            rps = Some(parse_number(value.trim(), "Requests/sec")?);
        } else if second == "requests" && line.contains(" requests in ") {
            requests = Some(parse_count(first, "requests")?);
        } else if first == "Latency" && second != "Distribution" {
            // "Latency   612.25us  231.84us   8.37ms   89.47%": avg first.
            mean = Some(parse_latency_us(second)?);
        } else if first == "50%" {
            p50 = Some(parse_latency_us(second)?);
        } else if first == "99%" {
            p99 = Some(parse_latency_us(second)?);
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 12, write 0, timeout 3"
            for part in rest.split(',') {
                let count = part.split_whitespace().nth(1).unwrap_or("");
                socket_errors += parse_count(count, "socket errors")?;
            }
        } else if line.starts_with("Transfer/sec:") {
            complete = true;
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            bad_status = parse_count(rest.trim(), "Non-2xx or 3xx responses")?;
        }
    }
    let missing = |what: &str| format!("wrk output has no {what} line:\n{output}");
    if !complete {
        return Err(missing("final Transfer/sec"));
    }
    Ok(WrkResult {
        requests: requests.ok_or_else(|| missing("`N requests in`"))?,
        rps: rps.ok_or_else(|| missing("Requests/sec"))?,
        mean_us: mean.ok_or_else(|| missing("Thread Stats Latency"))?,
        p50_us: p50.ok_or_else(|| missing("50% latency (was --latency given?)"))?,
        p99_us: p99.ok_or_else(|| missing("99% latency (was --latency given?)"))?,
        socket_errors,
        bad_status,
    })
}

fn parse_number(text: &str, what: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("wrk {what}: `{text}` is not a number"))
}

fn parse_count(text: &str, what: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("wrk {what}: `{text}` is not a count"))
}

/// wrk prints times with a unit suffix: `us`, `ms`, `s`, `m`, `h`.
pub fn parse_latency_us(text: &str) -> Result<f64, String> {
    const UNITS: [(&str, f64); 5] = [
        ("us", 1.0),
        ("ms", 1e3),
        ("s", 1e6),
        ("m", 60e6),
        ("h", 3600e6),
    ];
    // Longest suffix first: "ms" and "us" before "s" and "m".
    for (suffix, factor) in UNITS {
        if let Some(number) = text.strip_suffix(suffix) {
            return Ok(parse_number(number, "latency")? * factor);
        }
    }
    Err(format!("wrk latency `{text}` has no known unit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_units() {
        assert_eq!(parse_latency_us("612.25us").unwrap(), 612.25);
        assert_eq!(parse_latency_us("1.40ms").unwrap(), 1400.0);
        assert_eq!(parse_latency_us("2.00s").unwrap(), 2_000_000.0);
        assert_eq!(parse_latency_us("1.50m").unwrap(), 90_000_000.0);
        assert!(parse_latency_us("12").is_err());
        assert!(parse_latency_us("ms").is_err());
        assert!(parse_latency_us("-1.0ms").is_err());
    }

    // Real outputs of wrk 4.1.0 (Debian), captured on this machine.
    const WAITRESS_HELLO: &str = include_str!("testdata/wrk_waitress_hello.txt");
    const NOT_FOUND: &str = include_str!("testdata/wrk_404.txt");
    const SOCKET_ERRORS: &str = include_str!("testdata/wrk_socket_errors.txt");

    #[test]
    fn parses_a_clean_run() {
        let r = parse(WAITRESS_HELLO).unwrap();
        assert_eq!(
            r,
            WrkResult {
                requests: 5668,
                rps: 2704.62,
                mean_us: 22210.0,
                p50_us: 14270.0,
                p99_us: 118240.0,
                socket_errors: 0,
                bad_status: 0,
            }
        );
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn counts_bad_statuses_as_errors() {
        let r = parse(NOT_FOUND).unwrap();
        assert_eq!(r.requests, 1494);
        assert_eq!(r.bad_status, 1494);
        assert_eq!(r.errors(), 1494);
        assert_eq!(r.p99_us, 488180.0);
    }

    #[test]
    fn counts_socket_errors() {
        let r = parse(SOCKET_ERRORS).unwrap();
        assert_eq!(r.socket_errors, 6437);
        assert_eq!(r.bad_status, 0);
        assert_eq!(r.rps, 1575.10);
        assert_eq!(r.p50_us, 3810.0);
    }

    #[test]
    fn every_truncation_of_a_real_output_is_an_error_or_complete() {
        // A wrk killed mid-output must never yield numbers from a partial
        // line (e.g. "Requests/sec:   27" cut from "2704.62").
        let full = parse(WAITRESS_HELLO).unwrap();
        for cut in 0..WAITRESS_HELLO.len() {
            if let Ok(r) = parse(&WAITRESS_HELLO[..cut]) {
                assert!(cut > WAITRESS_HELLO.find("Transfer/sec:").unwrap());
                assert_eq!(r, full);
            }
        }
    }

    #[test]
    fn missing_latency_distribution_is_an_error() {
        let text = "    Latency   1.00ms  0.10ms  2.00ms  90.00%\n  Latency Distribution\n\
                    10 requests in 1.00s, 1.00KB read\nRequests/sec: 10.00\nTransfer/sec: 1KB";
        assert!(parse(text).unwrap_err().contains("50% latency"));
    }

    #[test]
    fn command_line_is_bounded() {
        let job = WrkJob {
            url: "http://127.0.0.1:1/".into(),
            connections: 50,
            duration: Duration::from_secs(5),
            script: Some("post.lua".into()),
        };
        let cmd = job.command();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            args,
            [
                "-t1",
                "-c50",
                "-d5s",
                "--timeout=10s",
                "--latency",
                "-s",
                "post.lua",
                "http://127.0.0.1:1/"
            ]
        );
    }
}
