//! The markdown report (target/bench/report.md).

use std::fmt::Write as _;

use super::peers::{Config, Server};
use super::stats::{Results, Summary, median};
use super::targets::{TargetLine, first_line, mib};
use super::workloads::Workload;

/// What the report says about the run itself.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub date: String,
    pub machine: String,
    pub python: String,
    pub wrk: String,
    /// (server, version or why it is missing).
    pub versions: Vec<(String, String)>,
    pub load: String,
    /// 1-minute load average before and after measuring (other work on
    /// the machine shows here).
    pub loadavg: (String, String),
    pub rounds: u32,
    pub command: String,
}

/// What was run: configurations, each with its workloads, and the servers.
#[derive(Debug, Clone)]
pub struct Plan {
    pub configs: Vec<(Config, Vec<Workload>)>,
    pub servers: Vec<Server>,
}

pub fn render(meta: &Meta, plan: &Plan, results: &Results, targets: &[TargetLine]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# waitress-rs benchmark\n");
    let _ = writeln!(
        out,
        "`{}` on {}, {}.\n",
        meta.command, meta.date, meta.machine
    );
    let _ = writeln!(out, "- Python: {}", meta.python);
    let _ = writeln!(out, "- load: {}", meta.load);
    let _ = writeln!(
        out,
        "- machine's 1-minute load average: {} before measuring, {} after",
        meta.loadavg.0, meta.loadavg.1
    );
    let _ = writeln!(
        out,
        "- {} interleaved round(s) (every server once per workload per round); medians over rounds; \
         ratios are ours/peer req/s within the same round (the figures to quote on a noisy machine)",
        meta.rounds
    );
    let _ = writeln!(
        out,
        "- peak RSS: the server's whole process tree (sum of VmHWM); in brackets the part of it \
         that is pages of files (RssFile: the code of the executable and shared libraries, \
         mapped from the page cache), the rest being the processes' own memory"
    );
    for (server, version) in &meta.versions {
        let _ = writeln!(out, "- {server}: {version}");
    }
    let _ = writeln!(out, "- wrk: {}", meta.wrk);

    render_ratio_matrix(&mut out, plan, results);
    let _ = writeln!(out, "\n## Targets (issue 7, one process)\n");
    for t in targets {
        let _ = writeln!(out, "- {} {}", t.verdict.label(), t.text);
    }
    for (config, workloads) in &plan.configs {
        let _ = writeln!(out, "\n## {}", config.title());
        for &workload in workloads {
            render_section(&mut out, *config, workload, plan, results);
        }
        if let Config::AllCores(n) = config {
            let _ = writeln!(out, "\n{}", flask_scaling(*n, results));
        }
    }
    out
}

/// Workloads x peers: the median per-round ratio, the headline figures.
fn render_ratio_matrix(out: &mut String, plan: &Plan, results: &Results) {
    let peers: Vec<Server> = plan
        .servers
        .iter()
        .copied()
        .filter(|s| *s != Server::Ours)
        .collect();
    let Some((config, workloads)) = plan.configs.first() else {
        return;
    };
    if peers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## waitress-rs / peer ({}), median of per-round ratios\n",
        config.title()
    );
    let names: Vec<&str> = peers.iter().map(|p| p.name()).collect();
    let _ = writeln!(out, "| workload | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "--:|".repeat(peers.len()));
    for &w in workloads {
        let cells: Vec<String> = peers
            .iter()
            .map(|&p| ratio_cell(&results.ratios(*config, w, p)).1)
            .collect();
        let _ = writeln!(out, "| {} | {} |", w.name(), cells.join(" | "));
    }
}

/// (per-round list, median) of ratios, as table cells.
fn ratio_cell(ratios: &[(u32, f64)]) -> (String, String) {
    let values: Vec<f64> = ratios.iter().map(|(_, r)| *r).collect();
    match median(&values) {
        None => ("-".into(), "-".into()),
        Some(m) => (
            values
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(", "),
            format!("{m:.2}x"),
        ),
    }
}

fn render_section(
    out: &mut String,
    config: Config,
    workload: Workload,
    plan: &Plan,
    results: &Results,
) {
    let _ = writeln!(
        out,
        "\n### {}: {}\n",
        workload.name(),
        workload.description()
    );
    let ideal = workload.ideal_rps(1).is_some();
    let _ = write!(out, "| server | configuration | req/s |");
    if ideal {
        let _ = write!(out, " % of ideal |");
    }
    let _ = writeln!(
        out,
        " p50 | p99 | errors | peak RSS | ours/peer by round | ours/peer |"
    );
    let _ = writeln!(
        out,
        "|---|---|--:|{}--:|--:|--:|--:|---|--:|",
        if ideal { "--:|" } else { "" }
    );
    let mut footnotes = Vec::new();
    for &server in &plan.servers {
        let name = if server == Server::Ours {
            format!("**{}**", server.name())
        } else {
            server.name().to_string()
        };
        // A row with only a name and a message: the other cells empty.
        let blank = " |".repeat(if ideal { 8 } else { 7 });
        if let Some(reason) = results.not_installed.get(&server) {
            let _ = writeln!(
                out,
                "| {name} | not installed: {} |{blank}",
                cell(first_line(reason))
            );
            continue;
        }
        if let Some(reason) = results.unavailable.get(&(config, server)) {
            let _ = writeln!(out, "| {name} | {} |{blank}", cell(reason));
            continue;
        }
        let s = results.summary(config, workload, server);
        for (round, e) in &s.failures {
            footnotes.push(format!(
                "{} round {round}: {}",
                server.name(),
                first_line(e)
            ));
        }
        let mut configuration = server.describe(config);
        for note in &s.notes {
            configuration.push_str("; ");
            configuration.push_str(note);
        }
        let (by_round, ratio) = if server == Server::Ours {
            (String::new(), String::new())
        } else {
            let (list, m) = ratio_cell(&results.ratios(config, workload, server));
            let m = if m == "-" { m } else { format!("**{m}**") };
            (list, m)
        };
        let _ = write!(
            out,
            "| {name} | {} | {} |",
            cell(&configuration),
            rps_cell(&s)
        );
        if ideal {
            let _ = write!(out, " {} |", ideal_cell(&s, workload, server));
        }
        let _ = writeln!(
            out,
            " {} | {} | {} | {} | {by_round} | {ratio} |",
            opt(s.p50_us, latency),
            opt(s.p99_us, latency),
            if s.measured > 0 {
                s.errors.to_string()
            } else {
                "-".into()
            },
            rss_cell(&s),
        );
    }
    if ideal {
        footnotes.push(
            "ideal = threads / 10 ms (400 req/s with 4 threads; bjoern has one thread: 100 req/s)"
                .into(),
        );
    }
    if !footnotes.is_empty() {
        let _ = writeln!(out);
        for f in footnotes {
            let _ = writeln!(out, "- {}", cell(&f));
        }
    }
}

/// Peak RSS with its file-backed part: `33.4 MiB (12.8 MiB file)`.
fn rss_cell(s: &Summary) -> String {
    match (s.peak_rss_kib, s.file_rss_kib) {
        (Some(peak), Some(file)) => format!("{} ({} file)", mib(peak), mib(file)),
        (Some(peak), None) => mib(peak),
        _ => "-".into(),
    }
}

fn rps_cell(s: &Summary) -> String {
    match (s.rps, s.failures.is_empty()) {
        (Some(rps), true) => thousands(rps),
        (Some(rps), false) => format!("{} ({} failed run(s))", thousands(rps), s.failures.len()),
        (None, false) => "failed".into(),
        (None, true) => "-".into(),
    }
}

fn ideal_cell(s: &Summary, workload: Workload, server: Server) -> String {
    match (s.rps, workload.ideal_rps(server.threads())) {
        (Some(rps), Some(ideal)) if ideal > 0.0 => format!("{:.1}%", 100.0 * rps / ideal),
        _ => "-".into(),
    }
}

fn flask_scaling(workers: u32, results: &Results) -> String {
    let one = results
        .summary(Config::OneProcess, Workload::Flask, Server::Ours)
        .rps;
    let all = results
        .summary(Config::AllCores(workers), Workload::Flask, Server::Ours)
        .rps;
    match (
        one,
        all,
        results
            .unavailable
            .get(&(Config::AllCores(workers), Server::Ours)),
    ) {
        (_, _, Some(reason)) => {
            format!("flask scaling of waitress-rs from 1 to {workers} workers: {reason}.")
        }
        (Some(one), Some(all), None) if one > 0.0 => format!(
            "flask scaling of waitress-rs: 1 worker {} req/s -> {workers} workers {} req/s ({:.2}x).",
            thousands(one),
            thousands(all),
            all / one
        ),
        _ => format!(
            "flask scaling of waitress-rs from 1 to {workers} workers: not measured in this run."
        ),
    }
}

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "-".into())
}

/// Microseconds as wrk would show them.
pub fn latency(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} us")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

/// 12345.6 -> "12,346".
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::super::stats::tests::m;
    use super::super::targets::evaluate;
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(latency(612.25), "612 us");
        assert_eq!(latency(1400.0), "1.40 ms");
        assert_eq!(latency(2_500_000.0), "2.50 s");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    fn sample() -> (Meta, Plan, Results) {
        let one = Config::OneProcess;
        let all = Config::AllCores(2);
        let mut r = Results::default();
        for (round, ours, granian) in [(1, 300.0, 100.0), (2, 330.0, 150.0), (3, 290.0, 100.0)] {
            r.record(one, Workload::Hello, Server::Ours, round, Ok(m(ours)));
            r.record(one, Workload::Hello, Server::Granian, round, Ok(m(granian)));
            r.record(one, Workload::Sleep, Server::Ours, round, Ok(m(396.0)));
            r.record(
                one,
                Workload::Sleep,
                Server::Granian,
                round,
                Err(format!("granian exited\nlog tail {round}")),
            );
        }
        r.record(all, Workload::Hello, Server::Granian, 1, Ok(m(180.0)));
        r.not_installed.insert(
            Server::Bjoern,
            "pip install bjoern failed: no ev.h\nmore".into(),
        );
        r.unavailable.insert(
            (all, Server::Ours),
            "not yet available: waitress-cli has no --workers option".into(),
        );
        r.unavailable.insert(
            (all, Server::Bjoern),
            "n/a: bjoern has no worker processes of its own".into(),
        );
        let plan = Plan {
            configs: vec![
                (one, vec![Workload::Hello, Workload::Sleep]),
                (all, vec![Workload::Hello]),
            ],
            servers: vec![Server::Ours, Server::Granian, Server::Bjoern],
        };
        let meta = Meta {
            date: "2026-01-01".into(),
            machine: "2 cores".into(),
            python: "Python 3.11.7".into(),
            wrk: "wrk 4.1.0".into(),
            versions: vec![("granian".into(), "2.8.7".into())],
            load: "wrk -t1 -c50 -d5s".into(),
            loadavg: ("0.50".into(), "2.10".into()),
            rounds: 3,
            command: "cargo xtask bench".into(),
        };
        (meta, plan, r)
    }

    #[test]
    fn renders_tables_ratios_failures_and_targets() {
        let (meta, plan, r) = sample();
        let text = render(&meta, &plan, &r, &evaluate(&r));
        // Ratios by round 3.00, 2.20, 2.90 -> median 2.90.
        assert!(
            text.contains("| granian | wsgi, 1 worker(s), 4 blocking threads, HTTP/1 | 100 | 1 us | 10 us | 0 | 0.1 MiB (0.0 MiB file) | 3.00, 2.20, 2.90 | **2.90x** |"),
            "{text}"
        );
        assert!(text.contains("| hello | 2.90x | - |"), "{text}");
        assert!(
            text.contains(
                "| **waitress-rs** | --threads=4 | 300 | 3 us | 30 us | 0 | 0.3 MiB (0.1 MiB file) |  |  |"
            ),
            "{text}"
        );
        // sleep has the % of ideal column; a failing peer says so.
        assert!(
            text.contains("| **waitress-rs** | --threads=4 | 396 | 99.0% |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| granian | wsgi, 1 worker(s), 4 blocking threads, HTTP/1 | failed | - |"
            ),
            "{text}"
        );
        assert!(
            text.contains("- granian round 2: granian exited\n"),
            "{text}"
        );
        assert!(
            text.contains("| bjoern | not installed: pip install bjoern failed: no ev.h |"),
            "{text}"
        );
        // The all-cores section: ours not yet available, and said so.
        assert!(text.contains("## all cores: 2 worker processes x 4 threads"));
        assert!(text.contains(
            "| **waitress-rs** | not yet available: waitress-cli has no --workers option |"
        ));
        assert!(
            text.contains("flask scaling of waitress-rs from 1 to 2 workers: not yet available")
        );
        assert!(text.contains("- PASS hello: >= 1.5x granian (median of per-round ratios): 2.90x"));
        assert!(text.contains("- NOT MEASURED hello: >= 1.0x bjoern"));
        assert!(text.contains("load average: 0.50 before measuring, 2.10 after"));
    }

    #[test]
    fn every_table_row_has_the_header_cell_count() {
        let (meta, plan, r) = sample();
        let text = render(&meta, &plan, &r, &evaluate(&r));
        let mut header_cells = None;
        for line in text.lines() {
            if !line.starts_with('|') {
                header_cells = None;
                continue;
            }
            let cells = line.replace("\\|", "").matches('|').count();
            match header_cells {
                None => header_cells = Some(cells),
                Some(n) => assert_eq!(cells, n, "{line}"),
            }
        }
    }
}
