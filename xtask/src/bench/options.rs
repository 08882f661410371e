//! `cargo xtask bench` flags.

use std::time::Duration;

use super::peers::{self, Server};
use super::workloads::{self, Workload};

/// Default measured seconds per run.
const DEFAULT_DURATION_SECS: u64 = 5;
const MAX_DURATION_SECS: u64 = 300;
const DEFAULT_ROUNDS: u32 = 3;
const MAX_ROUNDS: u32 = 20;

pub const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--workloads a,b] [--servers x,y]
                         [--duration SECS] [--rounds N] [--no-all-cores]

  --quick           hello and flask, 1 round, waitress-rs vs granian, no all-cores
  --workloads LIST  hello,flask,echo,large,file,sleep,stream (default: all)
  --servers LIST    waitress,gunicorn,granian,bjoern,uwsgi (waitress-rs always runs)
  --duration SECS   measured seconds per run (default 5; plus a 1 s warm-up)
  --rounds N        interleaved rounds (default 3)
  --no-all-cores    skip the all-cores (workers = nproc) configuration
The report goes to target/bench/report.md.";

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub workloads: Vec<Workload>,
    pub servers: Vec<Server>,
    pub duration: Duration,
    pub rounds: u32,
    pub all_cores: bool,
}

impl Options {
    /// Parses the flags; `--quick` sets defaults that the other flags may
    /// still override, wherever it appears.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut opts = if quick {
            Options {
                workloads: vec![Workload::Hello, Workload::Flask],
                servers: vec![Server::Ours, Server::Granian],
                duration: Duration::from_secs(DEFAULT_DURATION_SECS),
                rounds: 1,
                all_cores: false,
            }
        } else {
            Options {
                workloads: Workload::ALL.to_vec(),
                servers: Server::ALL.to_vec(),
                duration: Duration::from_secs(DEFAULT_DURATION_SECS),
                rounds: DEFAULT_ROUNDS,
                all_cores: true,
            }
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f, Some(v.to_string())),
                None => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match flag {
                "--quick" => {}
                "--no-all-cores" => opts.all_cores = false,
                "--workloads" => opts.workloads = workloads::parse_list(&value()?)?,
                "--servers" => opts.servers = peers::parse_list(&value()?)?,
                "--duration" => {
                    let secs = bounded(&value()?, "--duration", 1, MAX_DURATION_SECS)?;
                    opts.duration = Duration::from_secs(secs);
                }
                "--rounds" => {
                    opts.rounds =
                        u32::try_from(bounded(&value()?, "--rounds", 1, u64::from(MAX_ROUNDS))?)
                            .unwrap_or(MAX_ROUNDS);
                }
                "-h" | "--help" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown bench option `{other}`\n{USAGE}")),
            }
        }
        Ok(opts)
    }
}

fn bounded(text: &str, flag: &str, min: u64, max: u64) -> Result<u64, String> {
    text.parse::<u64>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| format!("{flag} must be a whole number from {min} to {max}, not `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_run_everything() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.workloads, Workload::ALL.to_vec());
        assert_eq!(o.servers, Server::ALL.to_vec());
        assert_eq!((o.rounds, o.duration.as_secs(), o.all_cores), (3, 5, true));
    }

    #[test]
    fn quick_is_hello_and_flask_one_round_against_granian() {
        let o = parse(&["--quick"]).unwrap();
        assert_eq!(o.workloads, vec![Workload::Hello, Workload::Flask]);
        assert_eq!(o.servers, vec![Server::Ours, Server::Granian]);
        assert_eq!((o.rounds, o.all_cores), (1, false));
        // Other flags refine --quick wherever it is written.
        let o = parse(&["--rounds=2", "--quick", "--servers", "bjoern"]).unwrap();
        assert_eq!(
            (o.rounds, o.servers),
            (2, vec![Server::Ours, Server::Bjoern])
        );
    }

    #[test]
    fn values_are_bounded() {
        assert_eq!(parse(&["--duration", "2"]).unwrap().duration.as_secs(), 2);
        assert!(parse(&["--duration", "0"]).is_err());
        assert!(parse(&["--duration=301"]).is_err());
        assert!(parse(&["--rounds", "x"]).is_err());
        assert!(parse(&["--rounds"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--fast"])
                .unwrap_err()
                .contains("unknown bench option `--fast`")
        );
        assert!(!parse(&["--no-all-cores"]).unwrap().all_cores);
        assert_eq!(
            parse(&["--workloads", "sleep,echo"]).unwrap().workloads,
            vec![Workload::Sleep, Workload::Echo]
        );
    }
}
