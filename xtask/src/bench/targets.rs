//! Issue 7's targets, judged on the one-process figures of this run.

use super::peers::{Config, Server};
use std::fmt::Write as _;

use super::stats::{Results, median};
use super::workloads::Workload;

/// sleep: at least this share of the ideal threads / 10 ms.
const SLEEP_IDEAL_SHARE: f64 = 0.95;

/// (workload, peer, minimum median ours/peer ratio).
const RATIO_TARGETS: &[(Workload, Server, f64)] = &[
    (Workload::Hello, Server::Bjoern, 1.0),
    (Workload::Hello, Server::Granian, 1.5),
    (Workload::Flask, Server::Granian, 2.0),
    (Workload::Flask, Server::Waitress, 4.0),
    (Workload::Large, Server::Granian, 1.0),
    (Workload::File, Server::Granian, 1.0),
    (Workload::Echo, Server::Granian, 1.0),
    (Workload::Stream, Server::Granian, 1.0),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    NotMeasured,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotMeasured => "NOT MEASURED",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetLine {
    pub verdict: Verdict,
    pub text: String,
}

fn line(verdict: Verdict, text: String) -> TargetLine {
    TargetLine { verdict, text }
}

/// Every target, in issue order.
pub fn evaluate(results: &Results) -> Vec<TargetLine> {
    let one = Config::OneProcess;
    let mut out = Vec::new();
    for &(workload, peer, min) in RATIO_TARGETS {
        let what = format!(
            "{}: >= {min:.1}x {} (median of per-round ratios)",
            workload.name(),
            peer.name()
        );
        let ratios: Vec<f64> = results
            .ratios(one, workload, peer)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        out.push(match median(&ratios) {
            Some(r) => line(
                if r >= min {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
                format!("{what}: {r:.2}x"),
            ),
            None => line(
                Verdict::NotMeasured,
                format!("{what}: {}", why_missing(results, workload, peer)),
            ),
        });
    }

    let ideal = Workload::Sleep.ideal_rps(Server::Ours.threads());
    let what = format!("sleep: >= {:.0}% of ideal", SLEEP_IDEAL_SHARE * 100.0);
    out.push(
        match (
            results.summary(one, Workload::Sleep, Server::Ours).rps,
            ideal,
        ) {
            (Some(rps), Some(ideal)) => line(
                if rps >= SLEEP_IDEAL_SHARE * ideal {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
                format!(
                    "{what} ({ideal:.0} req/s): {rps:.0} req/s = {:.1}%",
                    100.0 * rps / ideal
                ),
            ),
            _ => line(
                Verdict::NotMeasured,
                format!(
                    "{what}: {}",
                    why_missing(results, Workload::Sleep, Server::Ours)
                ),
            ),
        },
    );

    out.push(rss_target(results));
    out.push(errors_target(results));
    out
}

fn why_missing(results: &Results, workload: Workload, peer: Server) -> String {
    for server in [Server::Ours, peer] {
        if let Some(reason) = results.not_installed.get(&server) {
            return format!("{} not installed ({})", server.name(), first_line(reason));
        }
        let runs = results.runs_of(Config::OneProcess, workload, server);
        if runs.is_empty() {
            return format!("{} on {} not in this run", server.name(), workload.name());
        }
        if let Some((round, Err(e))) = runs.iter().find(|(_, r)| r.is_err()) {
            return format!(
                "{} failed (round {round}: {})",
                server.name(),
                first_line(e)
            );
        }
    }
    "no round with both measured".into()
}

/// Peak RSS of ours <= waitress's on every workload both ran.
fn rss_target(results: &Results) -> TargetLine {
    let what = "peak RSS <= waitress's on every workload";
    let mut compared = Vec::new();
    let mut worse = Vec::new();
    for workload in Workload::ALL {
        let ours = results.summary(Config::OneProcess, workload, Server::Ours);
        let theirs = results.summary(Config::OneProcess, workload, Server::Waitress);
        if let (Some(o), Some(w)) = (ours.peak_rss_kib, theirs.peak_rss_kib) {
            compared.push(workload.name());
            if o > w {
                let mut text = format!("{} {} vs {}", workload.name(), mib(o), mib(w));
                // Where the difference lies: code mapped from files, or
                // the processes' own memory.
                if let (Some(of), Some(wf)) = (ours.file_rss_kib, theirs.file_rss_kib) {
                    let _ = write!(
                        text,
                        " (file-backed {} vs {}, own memory {} vs {})",
                        mib(of),
                        mib(wf),
                        mib(o.saturating_sub(of)),
                        mib(w.saturating_sub(wf))
                    );
                }
                worse.push(text);
            }
        }
    }
    match (compared.is_empty(), worse.is_empty()) {
        (true, _) => line(
            Verdict::NotMeasured,
            format!("{what}: waitress not measured in this run"),
        ),
        (false, true) => line(Verdict::Pass, format!("{what} ({})", compared.join(", "))),
        (false, false) => line(
            Verdict::Fail,
            format!("{what}: higher on {}", worse.join("; ")),
        ),
    }
}

/// No error and no failed run of ours, on any workload and configuration.
fn errors_target(results: &Results) -> TargetLine {
    let what = "zero errors (waitress-rs, every workload)";
    let mut bad = Vec::new();
    let mut measured = 0;
    for ((config, workload, server), runs) in &results.runs {
        if *server != Server::Ours {
            continue;
        }
        for (round, outcome) in runs {
            match outcome {
                Ok(m) => {
                    measured += 1;
                    if m.errors > 0 {
                        bad.push(format!(
                            "{} round {round}: {} errors",
                            label(*config, *workload),
                            m.errors
                        ));
                    }
                }
                Err(e) => bad.push(format!(
                    "{} round {round} failed: {}",
                    label(*config, *workload),
                    first_line(e)
                )),
            }
        }
    }
    match (measured, bad.is_empty()) {
        (_, false) => line(Verdict::Fail, format!("{what}: {}", bad.join("; "))),
        (0, true) => line(Verdict::NotMeasured, format!("{what}: nothing measured")),
        (n, true) => line(Verdict::Pass, format!("{what}: 0 errors in {n} runs")),
    }
}

fn label(config: Config, workload: Workload) -> String {
    match config {
        Config::OneProcess => workload.name().to_string(),
        Config::AllCores(_) => format!("{} (all cores)", workload.name()),
    }
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::super::stats::tests::m;
    use super::*;

    fn find<'a>(lines: &'a [TargetLine], prefix: &str) -> &'a TargetLine {
        lines
            .iter()
            .find(|l| l.text.starts_with(prefix))
            .expect(prefix)
    }

    #[test]
    fn ratio_targets_pass_fail_and_not_measured() {
        let one = Config::OneProcess;
        let mut r = Results::default();
        r.record(one, Workload::Hello, Server::Ours, 1, Ok(m(150.0)));
        r.record(one, Workload::Hello, Server::Granian, 1, Ok(m(100.0)));
        r.record(one, Workload::Hello, Server::Bjoern, 1, Ok(m(100.0)));
        r.not_installed
            .insert(Server::Waitress, "pip failed\nmore".into());
        let lines = evaluate(&r);
        assert_eq!(find(&lines, "hello: >= 1.0x bjoern").verdict, Verdict::Pass);
        // 1.5x exactly meets ">= 1.5x".
        assert_eq!(
            find(&lines, "hello: >= 1.5x granian").verdict,
            Verdict::Pass
        );
        let flask = find(&lines, "flask: >= 4.0x waitress");
        assert_eq!(flask.verdict, Verdict::NotMeasured);
        assert!(
            flask.text.ends_with("waitress-rs on flask not in this run"),
            "{}",
            flask.text
        );
        r.record(one, Workload::Hello, Server::Granian, 2, Ok(m(200.0)));
        r.record(one, Workload::Hello, Server::Ours, 2, Ok(m(200.0)));
        // Ratios 1.5 and 1.0: median 1.25 < 1.5.
        let lines = evaluate(&r);
        let hello = find(&lines, "hello: >= 1.5x granian");
        assert_eq!(hello.verdict, Verdict::Fail);
        assert!(hello.text.ends_with("1.25x"));
    }

    #[test]
    fn an_rss_failure_says_where_the_difference_lies() {
        let one = Config::OneProcess;
        let mut r = Results::default();
        let with = |peak_mib: u64, file_mib: u64| {
            let mut x = m(100.0);
            x.peak_rss_kib = peak_mib * 1024;
            x.file_rss_kib = file_mib * 1024;
            x
        };
        r.record(one, Workload::Flask, Server::Ours, 1, Ok(with(34, 13)));
        r.record(one, Workload::Flask, Server::Waitress, 1, Ok(with(32, 11)));
        let lines = evaluate(&r);
        let rss = find(&lines, "peak RSS");
        assert_eq!(rss.verdict, Verdict::Fail);
        assert!(
            rss.text.ends_with(
                "higher on flask 34.0 MiB vs 32.0 MiB \
                 (file-backed 13.0 MiB vs 11.0 MiB, own memory 21.0 MiB vs 21.0 MiB)"
            ),
            "{}",
            rss.text
        );
    }

    #[test]
    fn sleep_rss_and_error_targets() {
        let one = Config::OneProcess;
        let mut r = Results::default();
        r.record(one, Workload::Sleep, Server::Ours, 1, Ok(m(390.0)));
        r.record(one, Workload::Sleep, Server::Waitress, 1, Ok(m(380.0)));
        let lines = evaluate(&r);
        assert_eq!(find(&lines, "sleep").verdict, Verdict::Pass);
        // m() makes RSS follow rps: ours 390 KiB > waitress 380 KiB.
        assert_eq!(find(&lines, "peak RSS").verdict, Verdict::Fail);
        assert_eq!(find(&lines, "zero errors").verdict, Verdict::Pass);

        let mut bad = m(372.0);
        bad.errors = 3;
        r.record(one, Workload::Sleep, Server::Ours, 2, Ok(bad));
        r.record(
            Config::AllCores(2),
            Workload::Hello,
            Server::Ours,
            1,
            Err("crashed\nlog".into()),
        );
        let lines = evaluate(&r);
        // Median of 390 and 372 = 381 req/s, over 95% of 400: still a pass.
        assert_eq!(find(&lines, "sleep").verdict, Verdict::Pass);
        let errors = find(&lines, "zero errors");
        assert_eq!(errors.verdict, Verdict::Fail);
        assert!(errors.text.contains("sleep round 2: 3 errors"));
        assert!(
            errors
                .text
                .contains("hello (all cores) round 1 failed: crashed")
        );
    }
}
