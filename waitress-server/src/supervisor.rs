//! The supervisor of worker processes (`workers`, `max_requests`).
//!
//! waitress is one process with one GIL. Here the main process binds the
//! listeners (on Linux a TCP socket per worker, see `bind_listener_groups`),
//! starts N copies of itself that inherit them (each with its own
//! interpreter), and watches them: a worker that dies is restarted, one that
//! reached `max_requests` is replaced while it drains, and SIGINT/SIGTERM
//! are passed on so every worker shuts down gracefully (D-18).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use waitress_core::{BoundListener, ServeConfig};

use crate::logging::LOGGER;
use crate::process_role::{
    ENV_LISTEN_FDS, ENV_STATUS_FD, ENV_WORKER, STATUS_READY, STATUS_RECYCLING,
};
use crate::server::{RunError, Stopped};
use crate::signals::{Signal, Signals};

/// A worker that dies this soon after it started is crash-looping: wait
/// before starting it again.
const MIN_LIFETIME: Duration = Duration::from_secs(1);
/// Extra time beyond `shutdown_timeout` before workers are killed.
const KILL_MARGIN: Duration = Duration::from_secs(5);

/// What the per-worker watcher tasks report.
enum Event {
    Ready {
        id: u64,
    },
    Recycling {
        id: u64,
    },
    Exited {
        id: u64,
        status: std::io::Result<ExitStatus>,
    },
}

struct Worker {
    id: u64,
    index: usize,
    pid: u32,
    started: Instant,
    ready: bool,
    retiring: bool,
}

struct Supervisor {
    exe: std::path::PathBuf,
    args: Vec<std::ffi::OsString>,
    /// The listeners of each worker index (one set shared by all where the
    /// platform or the configuration gives one).
    inherited: Vec<Vec<RawFd>>,
    events: mpsc::UnboundedSender<Event>,
    workers: Vec<Worker>,
    next_id: u64,
    any_ready: bool,
}

fn raw_fd(listener: &BoundListener) -> RawFd {
    match listener {
        BoundListener::Tcp(l) => l.as_raw_fd(),
        BoundListener::Unix(l, _) => l.as_raw_fd(),
    }
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both descriptors on success; we own them after.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: freshly created, owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn send_signal(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) on a child we started; a stale pid at worst gets
        // ESRCH because we reap children only through their watcher.
        unsafe { libc::kill(pid, signal) };
    }
}

impl Supervisor {
    /// Starts worker `index`, inheriting the listeners and a status pipe.
    fn spawn(&mut self, index: usize) -> Result<(), RunError> {
        let (status_read, status_write) =
            pipe().map_err(|e| RunError::startup(format!("cannot create a status pipe: {e}")))?;
        let listeners = &self.inherited[index % self.inherited.len()];
        let mut inherit = listeners.clone();
        inherit.push(status_write.as_raw_fd());
        let fds = listeners
            .iter()
            .map(|fd| fd.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.args(&self.args)
            .env(ENV_WORKER, index.to_string())
            .env(ENV_LISTEN_FDS, fds)
            .env(ENV_STATUS_FD, status_write.as_raw_fd().to_string())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(false);
        // SAFETY: only async-signal-safe calls run between fork and exec.
        // The listeners and the status pipe stay open across exec. The worker
        // gets its own process group, so a terminal's Ctrl-C reaches only the
        // supervisor, which passes it on once (a second signal would make the
        // worker exit at once). On Linux a worker whose supervisor dies is
        // told to stop instead of serving on as an orphan.
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &inherit {
                    if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                if libc::setpgid(0, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| RunError::startup(format!("cannot start a worker process: {e}")))?;
        drop(status_write);
        let pid = child.id().unwrap_or(0);
        let id = self.next_id;
        self.next_id += 1;
        tracing::info!(target: LOGGER, "Booting worker process {index} (pid {pid})");
        let events = self.events.clone();
        tokio::spawn(async move {
            // Status messages until the worker closes its end (it exits).
            if let Ok(mut status) = tokio::net::unix::pipe::Receiver::from_owned_fd(status_read) {
                let mut byte = [0u8; 1];
                while let Ok(1) = status.read(&mut byte).await {
                    let event = match byte[0] {
                        STATUS_READY => Event::Ready { id },
                        STATUS_RECYCLING => Event::Recycling { id },
                        _ => continue,
                    };
                    let _ = events.send(event);
                }
            }
            let status = child.wait().await;
            let _ = events.send(Event::Exited { id, status });
        });
        self.workers.push(Worker {
            id,
            index,
            pid,
            started: Instant::now(),
            ready: false,
            retiring: false,
        });
        Ok(())
    }

    fn find(&mut self, id: u64) -> Option<&mut Worker> {
        self.workers.iter_mut().find(|w| w.id == id)
    }

    fn signal_all(&self, signal: i32) {
        for w in &self.workers {
            send_signal(w.pid, signal);
        }
    }
}

fn describe(status: &std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => s.to_string(),
        Err(e) => format!("unknown status ({e})"),
    }
}

/// Binds, starts `count` workers and supervises them until a signal.
pub fn run(config: &ServeConfig, count: usize) -> Result<Stopped, RunError> {
    let adj = &config.adjustments;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::startup(format!("cannot start the supervisor runtime: {e}")))?;
    let signals = runtime
        .block_on(async { Signals::register() })
        .map_err(|e| RunError::startup(format!("cannot install signal handlers: {e}")))?;
    let groups = waitress_core::bind_listener_groups(adj, count).map_err(RunError::from_config)?;
    let exe = std::env::current_exe().map_err(|e| {
        RunError::startup(format!("cannot find this program to start workers: {e}"))
    })?;
    let (tx, rx) = mpsc::unbounded_channel();
    let mut sup = Supervisor {
        exe,
        args: std::env::args_os().skip(1).collect(),
        inherited: groups
            .iter()
            .map(|group| group.iter().map(raw_fd).collect())
            .collect(),
        events: tx,
        workers: Vec::new(),
        next_id: 0,
        any_ready: false,
    };
    for url in waitress_core::serving_urls(&groups[0]) {
        tracing::info!(target: LOGGER, "Serving on {url}");
    }
    let grace = Duration::from_secs(adj.shutdown_timeout);
    let result = runtime.block_on(async {
        for index in 0..count {
            sup.spawn(index)?;
        }
        supervise(&mut sup, rx, signals, grace).await
    });
    // The listeners stay bound until every worker is gone (a worker being
    // replaced finds the connections that queued on its sockets meanwhile).
    drop(groups);
    if let Err(e) = waitress_core::cleanup_unix_sockets(adj) {
        tracing::warn!(target: LOGGER, "cannot remove the unix socket file: {e}");
    }
    result
}

async fn supervise(
    sup: &mut Supervisor,
    mut rx: mpsc::UnboundedReceiver<Event>,
    mut signals: Signals,
    grace: Duration,
) -> Result<Stopped, RunError> {
    let mut stopping: Option<Signal> = None;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        if stopping.is_some() && sup.workers.is_empty() {
            tracing::info!(target: LOGGER, "All worker processes exited; shutting down");
            return Ok(Stopped::Drained);
        }
        let kill_at =
            deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            signal = signals.next() => {
                if let Some(first) = stopping {
                    tracing::warn!(
                        target: LOGGER,
                        "Received {signal} again after {first}: stopping {} worker process(es) at once",
                        sup.workers.len()
                    );
                    sup.signal_all(libc::SIGINT);
                    return Ok(Stopped::Forced);
                }
                tracing::info!(
                    target: LOGGER,
                    "Received {signal}: stopping {} worker process(es) gracefully",
                    sup.workers.len()
                );
                stopping = Some(signal);
                deadline = Some(tokio::time::Instant::now() + grace + KILL_MARGIN);
                sup.signal_all(libc::SIGTERM);
            }
            () = tokio::time::sleep_until(kill_at), if deadline.is_some() => {
                tracing::warn!(
                    target: LOGGER,
                    "{} worker process(es) still running after shutdown_timeout; killing them",
                    sup.workers.len()
                );
                sup.signal_all(libc::SIGKILL);
                deadline = None;
            }
            event = rx.recv() => {
                let Some(event) = event else { return Ok(Stopped::Drained) };
                handle(sup, event, stopping.is_some()).await?;
            }
        }
    }
}

async fn handle(sup: &mut Supervisor, event: Event, stopping: bool) -> Result<(), RunError> {
    match event {
        Event::Ready { id } => {
            sup.any_ready = true;
            if let Some(w) = sup.find(id) {
                w.ready = true;
            }
        }
        Event::Recycling { id } => {
            let Some(w) = sup.find(id) else { return Ok(()) };
            w.retiring = true;
            let (index, pid) = (w.index, w.pid);
            if !stopping {
                tracing::info!(
                    target: LOGGER,
                    "Worker process {index} (pid {pid}) reached max_requests; starting its replacement"
                );
                sup.spawn(index)?;
            }
        }
        Event::Exited { id, status } => {
            let Some(pos) = sup.workers.iter().position(|w| w.id == id) else {
                return Ok(());
            };
            let w = sup.workers.remove(pos);
            if stopping || w.retiring {
                return Ok(());
            }
            if !w.ready && !sup.any_ready {
                // Failed before any worker ever served (an import error,
                // a bad virtualenv): report it instead of restarting forever.
                sup.signal_all(libc::SIGTERM);
                let code = status.as_ref().ok().and_then(ExitStatus::code).unwrap_or(1);
                return Err(RunError {
                    message: format!(
                        "worker process {} exited with {} before serving",
                        w.index,
                        describe(&status)
                    ),
                    exit_code: if code == 0 { 1 } else { code },
                });
            }
            tracing::warn!(
                target: LOGGER,
                "Worker process {} (pid {}) exited unexpectedly with {}; restarting it",
                w.index,
                w.pid,
                describe(&status)
            );
            if w.started.elapsed() < MIN_LIFETIME {
                tokio::time::sleep(MIN_LIFETIME).await;
            }
            sup.spawn(w.index)?;
        }
    }
    Ok(())
}
