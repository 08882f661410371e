//! The measurements of a whole bench run and the figures drawn from them:
//! medians over rounds and ours/peer ratios within each round.

use std::collections::{BTreeMap, BTreeSet};

use super::peers::{Config, Server};
use super::workloads::Workload;

/// One measured run (one server, one workload, one round).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub requests: u64,
    /// Socket errors + responses with status >= 400.
    pub errors: u64,
    pub peak_rss_kib: u64,
    /// Of it, pages of files (code of the executable and libraries).
    pub file_rss_kib: u64,
    /// Something the reader must know (e.g. "no wsgi.file_wrapper").
    pub note: Option<String>,
}

/// A run's result, or why it has none.
pub type RunOutcome = Result<Measurement, String>;

/// Everything a bench run produced.
#[derive(Debug, Default)]
pub struct Results {
    /// (config, workload, server) -> (round, outcome), in run order.
    pub runs: BTreeMap<(Config, Workload, Server), Vec<(u32, RunOutcome)>>,
    /// Servers whose installation failed, with the reason.
    pub not_installed: BTreeMap<Server, String>,
    /// Configurations a server does not have (e.g. waitress with workers).
    pub unavailable: BTreeMap<(Config, Server), String>,
}

impl Results {
    pub fn record(
        &mut self,
        config: Config,
        workload: Workload,
        server: Server,
        round: u32,
        outcome: RunOutcome,
    ) {
        self.runs
            .entry((config, workload, server))
            .or_default()
            .push((round, outcome));
    }

    pub fn runs_of(
        &self,
        config: Config,
        workload: Workload,
        server: Server,
    ) -> &[(u32, RunOutcome)] {
        self.runs
            .get(&(config, workload, server))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn summary(&self, config: Config, workload: Workload, server: Server) -> Summary {
        summarize(self.runs_of(config, workload, server))
    }

    /// ours/peer requests per second within each round where both ran.
    pub fn ratios(&self, config: Config, workload: Workload, peer: Server) -> Vec<(u32, f64)> {
        round_ratios(
            self.runs_of(config, workload, Server::Ours),
            self.runs_of(config, workload, peer),
        )
    }
}

/// Medians and totals over the rounds of one server and workload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub measured: usize,
    pub rps: Option<f64>,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    /// Total over all measured rounds.
    pub errors: u64,
    /// The largest peak over all rounds.
    pub peak_rss_kib: Option<u64>,
    /// The file-backed part of the round with the largest peak.
    pub file_rss_kib: Option<u64>,
    /// (round, reason) of the runs that failed.
    pub failures: Vec<(u32, String)>,
    pub notes: BTreeSet<String>,
}

pub fn summarize(runs: &[(u32, RunOutcome)]) -> Summary {
    let ok: Vec<&Measurement> = runs.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    let column = |f: fn(&Measurement) -> f64| median(&ok.iter().map(|m| f(m)).collect::<Vec<_>>());
    let largest = ok.iter().max_by_key(|m| m.peak_rss_kib);
    Summary {
        measured: ok.len(),
        rps: column(|m| m.rps),
        p50_us: column(|m| m.p50_us),
        p99_us: column(|m| m.p99_us),
        errors: ok.iter().map(|m| m.errors).sum(),
        peak_rss_kib: largest.map(|m| m.peak_rss_kib),
        file_rss_kib: largest.map(|m| m.file_rss_kib),
        failures: runs
            .iter()
            .filter_map(|(round, r)| r.as_ref().err().map(|e| (*round, e.clone())))
            .collect(),
        notes: ok.iter().filter_map(|m| m.note.clone()).collect(),
    }
}

/// The median (mean of the two middle values for an even count); None
/// for no values. NaN never occurs (wrk figures are parsed as finite).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0),
    }
}

/// ours/peer per round, for the rounds where both were measured and the
/// peer served something.
pub fn round_ratios(ours: &[(u32, RunOutcome)], peer: &[(u32, RunOutcome)]) -> Vec<(u32, f64)> {
    ours.iter()
        .filter_map(|(round, o)| {
            let o = o.as_ref().ok()?;
            let p = peer
                .iter()
                .find(|(r, _)| r == round)
                .and_then(|(_, p)| p.as_ref().ok())?;
            (p.rps > 0.0).then(|| (*round, o.rps / p.rps))
        })
        .collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn m(rps: f64) -> Measurement {
        Measurement {
            rps,
            p50_us: rps / 100.0,
            p99_us: rps / 10.0,
            requests: (rps * 5.0) as u64,
            errors: 0,
            peak_rss_kib: rps as u64,
            file_rss_kib: rps as u64 / 4,
            note: None,
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn ratios_pair_rounds_and_skip_failures() {
        let ours = vec![
            (1, Ok(m(100.0))),
            (2, Ok(m(120.0))),
            (3, Err("crash".into())),
        ];
        let peer = vec![(1, Ok(m(50.0))), (2, Err("no".into())), (3, Ok(m(10.0)))];
        assert_eq!(round_ratios(&ours, &peer), vec![(1, 2.0)]);
        // A peer with zero throughput gives no ratio, not infinity.
        assert_eq!(round_ratios(&ours, &[(1, Ok(m(0.0)))]), vec![]);
    }

    #[test]
    fn ratio_is_within_the_same_round() {
        // Round 2 of the peer is fast, round 1 slow: each ours run is
        // compared only with the peer run of its own round.
        let ours = vec![(1, Ok(m(100.0))), (2, Ok(m(300.0)))];
        let peer = vec![(2, Ok(m(150.0))), (1, Ok(m(25.0)))];
        assert_eq!(round_ratios(&ours, &peer), vec![(1, 4.0), (2, 2.0)]);
    }

    #[test]
    fn summary_takes_medians_totals_and_peaks() {
        let mut a = m(100.0);
        a.errors = 2;
        a.note = Some("n".into());
        let mut b = m(300.0);
        b.errors = 1;
        b.file_rss_kib = 10;
        let runs = vec![
            (1, Ok(a)),
            (2, Ok(b)),
            (3, Ok(m(200.0))),
            (4, Err("boom".into())),
        ];
        let s = summarize(&runs);
        assert_eq!(s.measured, 3);
        assert_eq!(s.rps, Some(200.0));
        assert_eq!(s.p50_us, Some(2.0));
        assert_eq!(s.errors, 3);
        assert_eq!(s.peak_rss_kib, Some(300));
        // The file-backed part of that same round, not the largest one.
        assert_eq!(s.file_rss_kib, Some(10));
        assert_eq!(s.failures, vec![(4, "boom".to_string())]);
        assert_eq!(
            s.notes.into_iter().collect::<Vec<_>>(),
            vec!["n".to_string()]
        );
        assert_eq!(summarize(&[]), Summary::default());
    }
}
