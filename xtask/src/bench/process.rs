//! Child processes of the bench: bounded commands, and servers run in their
//! own process group so that the whole tree (arbiters, workers) can be
//! stopped.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::rss;

/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(20);
/// Time between SIGTERM to the server's group and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How much of a failed server's log goes into the error message.
const LOG_TAIL_LINES: usize = 15;

/// Runs `cmd` to completion with captured output, killing it after `limit`.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<Output, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    // Drain both pipes on their own threads so a chatty child never blocks.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                // A read error only truncates the captured text.
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_with_deadline(&mut child, Instant::now() + limit)?;
    let Some(status) = status else {
        // Kill failures mean it already exited; either way, reap it.
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{program} did not finish within {limit:?}; killed"));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Runs `cmd` with its output on the terminal (long installs and builds
/// show their progress), killing it after `limit`.
pub fn run_visible(cmd: &mut Command, limit: Duration) -> Result<ExitStatus, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    eprintln!("xtask bench: running {cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    match wait_with_deadline(&mut child, Instant::now() + limit)? {
        Some(status) => Ok(status),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("{program} did not finish within {limit:?}; killed"))
        }
    }
}

/// Polls `child` until it exits (Some) or the deadline passes (None).
fn wait_with_deadline(child: &mut Child, deadline: Instant) -> Result<Option<ExitStatus>, String> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) if Instant::now() >= deadline => return Ok(None),
            Ok(None) => thread::sleep(POLL),
            Err(e) => return Err(format!("waiting for child {}: {e}", child.id())),
        }
    }
}

/// A free port on 127.0.0.1 (the OS picks it; it is released at once, so
/// another process could take it first: then the server fails to start and
/// that is reported).
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// A server under test, leader of its own process group.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    log: PathBuf,
    name: String,
}

impl ServerProcess {
    /// Starts `cmd` in a new process group with stdout and stderr in `log`.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Self, String> {
        let file =
            File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let file2 = file
            .try_clone()
            .map_err(|e| format!("cannot reopen {}: {e}", log.display()))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({:?}): {e}", cmd.get_program()))?;
        Ok(ServerProcess {
            child,
            log: log.to_path_buf(),
            name: name.to_string(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `port` accepts a connection, failing early if the server
    /// exits, and after `limit`.
    pub fn wait_listening(&mut self, port: u16, limit: Duration) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited with {status} before listening on {addr}\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&addr, POLL * 10).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} did not listen on {addr} within {limit:?}\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Fails if the server has exited (it must stay up through a run).
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited with {status} during the run\n{}",
                self.name,
                self.log_tail()
            )),
            Err(e) => Err(format!("cannot wait for {}: {e}", self.name)),
        }
    }

    /// The last lines of the server's log, indented, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        let tail: Vec<String> = lines
            .iter()
            .skip(start)
            .map(|l| format!("    | {l}"))
            .collect();
        format!("    log {}:\n{}", self.log.display(), tail.join("\n"))
    }

    /// SIGTERM to the whole group, then SIGKILL to the group and to any
    /// descendant that left it, after a grace period.
    pub fn stop(mut self) {
        let pid = self.pid();
        let tree = rss::process_tree(pid);
        signal_group(pid, "TERM");
        let exited = matches!(
            wait_with_deadline(&mut self.child, Instant::now() + STOP_GRACE),
            Ok(Some(_))
        );
        let leftovers: Vec<u32> = tree
            .into_iter()
            .filter(|p| *p != pid && Path::new(&format!("/proc/{p}")).exists())
            .collect();
        if !exited || !leftovers.is_empty() {
            signal_group(pid, "KILL");
            for p in leftovers {
                signal(&p.to_string(), "KILL");
            }
        }
        // Reap the leader (already reaped if it exited above).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Only reached when `stop` was not called (an early `?`): never
        // leave a server running behind the bench.
        if let Ok(None) = self.child.try_wait() {
            signal_group(self.child.id(), "KILL");
            let _ = self.child.wait();
        }
    }
}

fn signal_group(pgid: u32, sig: &str) {
    signal(&format!("-{pgid}"), sig);
}

/// `kill -SIG -- TARGET` (procps kill: a negative target is a group). xtask
/// has no libc dependency; a missing process is not an error here.
fn signal(target: &str, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_bounded_captures_output_and_status() {
        let out = run_bounded(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn run_bounded_kills_at_the_limit() {
        let start = Instant::now();
        let err =
            run_bounded(Command::new("sleep").arg("30"), Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("killed"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn stop_kills_the_whole_group() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A parent that ignores SIGTERM, with a child that ignores it too.
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "trap '' TERM; sh -c \"trap '' TERM; sleep 60\" & sleep 60",
        ]);
        let server = ServerProcess::spawn("test", &mut cmd, &dir.join("log")).unwrap();
        let pid = server.pid();
        let deadline = Instant::now() + Duration::from_secs(5);
        while rss::process_tree(pid).len() < 3 && Instant::now() < deadline {
            thread::sleep(POLL);
        }
        let tree = rss::process_tree(pid);
        assert!(tree.len() >= 3, "{tree:?}");
        server.stop();
        for p in tree {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // Gone, or a zombie waiting for init.
            assert!(
                stat.is_empty() || rss::parse_stat(&stat).is_some_and(|s| s.state == 'Z'),
                "{p}: {stat}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
