//! The servers under test and the exact command line each one runs with.
//!
//! One process: 4 threads where the server has threads (waitress
//! threads=4, gunicorn gthread 1 worker x 4 threads, granian 1 worker with 4
//! blocking threads, uWSGI 1 process x 4 threads; bjoern is single-threaded
//! by design). All cores: the same per process, `workers = nproc` processes.

use std::path::PathBuf;
use std::process::Command;

use super::workloads::Workload;

/// Threads per process for every server that has threads.
pub const THREADS: u32 = 4;
/// Environment variable naming the `file` workload's file (bench/apps/file.py).
pub const BENCH_FILE_ENV: &str = "WAITRESS_BENCH_FILE";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Server {
    Ours,
    Waitress,
    Gunicorn,
    Granian,
    Bjoern,
    Uwsgi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Config {
    /// One process (the comparison the targets are about).
    OneProcess,
    /// `workers` processes, one per core.
    AllCores(u32),
}

impl Config {
    pub fn title(self) -> String {
        match self {
            Config::OneProcess => format!("one process, {THREADS} threads"),
            Config::AllCores(n) => format!("all cores: {n} worker processes x {THREADS} threads"),
        }
    }
}

/// Where everything a command line needs lives.
#[derive(Debug, Clone)]
pub struct Context {
    /// `bench/apps`: the working directory of every server.
    pub apps_dir: PathBuf,
    /// `bench/runners`.
    pub runners_dir: PathBuf,
    pub venv: PathBuf,
    pub ours_bin: PathBuf,
    /// Whether our binary has a `--workers` option yet.
    pub ours_has_workers: bool,
    pub file_path: PathBuf,
}

impl Server {
    pub const ALL: [Server; 6] = [
        Server::Ours,
        Server::Waitress,
        Server::Gunicorn,
        Server::Granian,
        Server::Bjoern,
        Server::Uwsgi,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Server::Ours => "waitress-rs",
            Server::Waitress => "waitress",
            Server::Gunicorn => "gunicorn",
            Server::Granian => "granian",
            Server::Bjoern => "bjoern",
            Server::Uwsgi => "uwsgi",
        }
    }

    pub fn parse(name: &str) -> Option<Server> {
        if name == "ours" {
            return Some(Server::Ours);
        }
        Server::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The PyPI distribution (None: ours, built from this workspace).
    pub fn package(self) -> Option<&'static str> {
        match self {
            Server::Ours => None,
            Server::Waitress => Some("waitress"),
            Server::Gunicorn => Some("gunicorn"),
            Server::Granian => Some("granian"),
            Server::Bjoern => Some("bjoern"),
            Server::Uwsgi => Some("uwsgi"),
        }
    }

    /// Threads that can run the app at once in one process.
    pub fn threads(self) -> u32 {
        match self {
            Server::Bjoern => 1,
            _ => THREADS,
        }
    }

    /// The configuration in words, for the report.
    pub fn describe(self, config: Config) -> String {
        let procs = match config {
            Config::OneProcess => 1,
            Config::AllCores(n) => n,
        };
        match self {
            Server::Ours => match config {
                Config::OneProcess => format!("--threads={THREADS}"),
                Config::AllCores(n) => format!("--threads={THREADS} --workers={n}"),
            },
            Server::Waitress => format!("waitress-serve --threads={THREADS}"),
            Server::Gunicorn => format!("gthread, {procs} worker(s) x {THREADS} threads"),
            Server::Granian => {
                format!("wsgi, {procs} worker(s), {THREADS} blocking threads, HTTP/1")
            }
            Server::Bjoern => "bjoern.run (one thread)".to_string(),
            Server::Uwsgi => format!("http11-socket, {procs} process(es) x {THREADS} threads"),
        }
    }

    /// The command line serving `workload` on 127.0.0.1:`port`, or why this
    /// server has no such configuration.
    pub fn command(
        self,
        ctx: &Context,
        workload: Workload,
        port: u16,
        config: Config,
    ) -> Result<Command, String> {
        let bin = |name: &str| ctx.venv.join("bin").join(name);
        let app = workload.app();
        let threads = THREADS.to_string();
        let mut cmd = match (self, config) {
            (Server::Ours, config) => {
                let mut cmd = Command::new(&ctx.ours_bin);
                cmd.arg(format!("--listen=127.0.0.1:{port}"))
                    .arg(format!("--threads={THREADS}"))
                    .arg(format!("--virtualenv={}", ctx.venv.display()));
                if let Config::AllCores(n) = config {
                    if !ctx.ours_has_workers {
                        return Err(
                            "not yet available: waitress-cli has no --workers option".into()
                        );
                    }
                    cmd.arg(format!("--workers={n}"));
                }
                cmd.arg(app);
                cmd
            }
            (Server::Waitress, Config::OneProcess) => {
                let mut cmd = Command::new(bin("waitress-serve"));
                cmd.arg(format!("--listen=127.0.0.1:{port}"))
                    .arg(format!("--threads={THREADS}"))
                    .arg(app);
                cmd
            }
            (Server::Waitress, Config::AllCores(_)) => {
                return Err("n/a: waitress is one process by design".into());
            }
            (Server::Gunicorn, config) => {
                let mut cmd = Command::new(bin("gunicorn"));
                cmd.args(["--bind", &format!("127.0.0.1:{port}")])
                    .args(["--worker-class", "gthread"])
                    .args(["--workers", &processes(config).to_string()])
                    .args(["--threads", &threads])
                    .arg(app);
                cmd
            }
            (Server::Granian, config) => {
                let mut cmd = Command::new(bin("granian"));
                cmd.args(["--interface", "wsgi", "--http", "1"])
                    .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                    .args(["--workers", &processes(config).to_string()])
                    .args(["--blocking-threads", &threads])
                    .arg(app);
                cmd
            }
            (Server::Bjoern, Config::OneProcess) => {
                let mut cmd = Command::new(bin("python"));
                cmd.arg(ctx.runners_dir.join("bjoern_serve.py")).args([
                    app,
                    "127.0.0.1",
                    &port.to_string(),
                ]);
                cmd
            }
            (Server::Bjoern, Config::AllCores(_)) => {
                return Err("n/a: bjoern has no worker processes of its own".into());
            }
            (Server::Uwsgi, config) => {
                let mut cmd = Command::new(bin("uwsgi"));
                cmd.args(["--http11-socket", &format!("127.0.0.1:{port}")])
                    // uWSGI embeds libpython and does not find the venv by itself.
                    .arg("--virtualenv")
                    .arg(&ctx.venv)
                    .arg("--pythonpath")
                    .arg(&ctx.apps_dir)
                    .args(["--module", app])
                    .args(["--processes", &processes(config).to_string()])
                    .args(["--threads", &threads])
                    // Per-request log lines would be extra work the others skip.
                    .args(["--disable-logging", "--need-app", "--die-on-term"]);
                if let Config::AllCores(_) = config {
                    cmd.arg("--master");
                }
                cmd
            }
        };
        cmd.current_dir(&ctx.apps_dir)
            .env(BENCH_FILE_ENV, &ctx.file_path)
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONPATH")
            .env_remove("WEB_CONCURRENCY");
        Ok(cmd)
    }
}

fn processes(config: Config) -> u32 {
    match config {
        Config::OneProcess => 1,
        Config::AllCores(n) => n,
    }
}

/// Parses `a,b,c` into servers in the order given, ours always included
/// first (every figure is a ratio to ours).
pub fn parse_list(list: &str) -> Result<Vec<Server>, String> {
    let mut out = vec![Server::Ours];
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let s = Server::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Server::ALL.iter().map(|s| s.name()).collect();
            format!(
                "unknown server `{name}` (known: ours, {})",
                known.join(", ")
            )
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(has_workers: bool) -> Context {
        Context {
            apps_dir: "/b/apps".into(),
            runners_dir: "/b/runners".into(),
            venv: "/v".into(),
            ours_bin: "/t/waitress-cli".into(),
            ours_has_workers: has_workers,
            file_path: "/t/file.bin".into(),
        }
    }

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn ours_one_process() {
        let cmd = Server::Ours
            .command(&ctx(false), Workload::Flask, 9000, Config::OneProcess)
            .unwrap();
        assert_eq!(cmd.get_program(), "/t/waitress-cli");
        assert_eq!(
            args(&cmd),
            [
                "--listen=127.0.0.1:9000",
                "--threads=4",
                "--virtualenv=/v",
                "flask_app:app"
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(std::path::Path::new("/b/apps")));
        let env: Vec<_> = cmd.get_envs().collect();
        assert!(env.contains(&(BENCH_FILE_ENV.as_ref(), Some("/t/file.bin".as_ref()))));
    }

    #[test]
    fn ours_all_cores_needs_workers() {
        let err = Server::Ours
            .command(&ctx(false), Workload::Hello, 9000, Config::AllCores(2))
            .unwrap_err();
        assert!(err.starts_with("not yet available"));
        let cmd = Server::Ours
            .command(&ctx(true), Workload::Hello, 9000, Config::AllCores(2))
            .unwrap();
        assert!(args(&cmd).contains(&"--workers=2".to_string()));
    }

    #[test]
    fn peers_are_configured_as_issue_7_says() {
        let c = ctx(false);
        let one = |s: Server| {
            args(
                &s.command(&c, Workload::Hello, 9000, Config::OneProcess)
                    .unwrap(),
            )
        };
        assert_eq!(
            one(Server::Waitress),
            ["--listen=127.0.0.1:9000", "--threads=4", "hello:app"]
        );
        assert_eq!(
            one(Server::Gunicorn),
            [
                "--bind",
                "127.0.0.1:9000",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "4",
                "hello:app"
            ]
        );
        let granian = one(Server::Granian);
        assert!(granian.windows(2).any(|w| w == ["--workers", "1"]));
        assert!(granian.windows(2).any(|w| w == ["--blocking-threads", "4"]));
        assert!(granian.windows(2).any(|w| w == ["--interface", "wsgi"]));
        assert_eq!(
            one(Server::Bjoern),
            [
                "/b/runners/bjoern_serve.py",
                "hello:app",
                "127.0.0.1",
                "9000"
            ]
        );
        let uwsgi = one(Server::Uwsgi);
        assert!(uwsgi.windows(2).any(|w| w == ["--processes", "1"]));
        assert!(uwsgi.windows(2).any(|w| w == ["--threads", "4"]));
        assert!(!uwsgi.contains(&"--master".to_string()));
    }

    #[test]
    fn all_cores_scales_processes_or_says_why_not() {
        let c = ctx(false);
        let all = |s: Server| s.command(&c, Workload::Hello, 9000, Config::AllCores(2));
        assert!(
            args(&all(Server::Gunicorn).unwrap())
                .windows(2)
                .any(|w| w == ["--workers", "2"])
        );
        assert!(
            args(&all(Server::Granian).unwrap())
                .windows(2)
                .any(|w| w == ["--workers", "2"])
        );
        assert!(
            args(&all(Server::Uwsgi).unwrap())
                .windows(2)
                .any(|w| w == ["--processes", "2"])
        );
        assert!(all(Server::Waitress).unwrap_err().starts_with("n/a"));
        assert!(all(Server::Bjoern).unwrap_err().starts_with("n/a"));
    }

    #[test]
    fn server_lists_always_start_with_ours() {
        assert_eq!(
            parse_list("granian").unwrap(),
            vec![Server::Ours, Server::Granian]
        );
        assert_eq!(
            parse_list("ours,bjoern,granian,bjoern").unwrap(),
            vec![Server::Ours, Server::Bjoern, Server::Granian]
        );
        assert!(parse_list("nginx").unwrap_err().contains("nginx"));
        for s in Server::ALL {
            assert_eq!(Server::parse(s.name()), Some(s));
        }
    }
}
