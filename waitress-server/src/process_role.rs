//! Which part a process plays: the only server process, a supervisor of
//! worker processes (`workers`, `max_requests`), or one of those workers.
//!
//! A worker is the same binary started again with the same arguments plus
//! three environment variables: its index, the listening descriptors it
//! inherited from the supervisor, and a pipe to report its state on.

use std::fs::File;
use std::io::Write;

/// Environment variables of the supervisor-to-worker protocol.
pub const ENV_WORKER: &str = "WAITRESS_RS_WORKER";
pub const ENV_LISTEN_FDS: &str = "WAITRESS_RS_LISTEN_FDS";
pub const ENV_STATUS_FD: &str = "WAITRESS_RS_STATUS_FD";

/// Worker to supervisor: the worker serves.
pub const STATUS_READY: u8 = b'R';
/// Worker to supervisor: `max_requests` reached, the worker drains and
/// exits; start its replacement now.
pub const STATUS_RECYCLING: u8 = b'D';

#[derive(Debug)]
pub enum Role {
    /// One process does everything (`workers = 1`, no `max_requests`).
    Single,
    /// Binds, starts and watches `count` worker processes.
    Supervisor { count: usize },
    /// A worker started by a supervisor.
    Worker(WorkerRole),
}

#[derive(Debug)]
pub struct WorkerRole {
    pub index: usize,
    pub listen_fds: Vec<i32>,
    status: Option<File>,
}

impl WorkerRole {
    /// Tells the supervisor something; a supervisor that is gone is not an
    /// error for the worker.
    pub fn report(&mut self, status: u8) {
        if let Some(pipe) = self.status.as_mut() {
            let _ = pipe.write_all(&[status]);
        }
    }
}

fn parse_fds(text: &str, name: &str) -> Result<Vec<i32>, String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i32>()
                .ok()
                .filter(|fd| *fd >= 0)
                .ok_or_else(|| format!("{name}: not a file descriptor: {s:?}"))
        })
        .collect()
}

/// Reads (and removes) the worker variables, then decides the role.
pub fn detect(workers: usize, max_requests: u64) -> Result<Role, String> {
    let index = std::env::var(ENV_WORKER).ok();
    let fds = std::env::var(ENV_LISTEN_FDS).ok();
    let status = std::env::var(ENV_STATUS_FD).ok();
    for var in [ENV_WORKER, ENV_LISTEN_FDS, ENV_STATUS_FD] {
        // SAFETY: called once at start-up, before this process starts any
        // thread that reads the environment; the app must not see these.
        unsafe { std::env::remove_var(var) };
    }
    if let Some(index) = index {
        let index = index
            .parse()
            .map_err(|_| format!("{ENV_WORKER}: not a worker index: {index:?}"))?;
        let listen_fds = parse_fds(fds.as_deref().unwrap_or(""), ENV_LISTEN_FDS)?;
        if listen_fds.is_empty() {
            return Err(format!("{ENV_LISTEN_FDS}: no listening sockets inherited"));
        }
        let status = match status {
            Some(text) => {
                let fd = *parse_fds(&text, ENV_STATUS_FD)?
                    .first()
                    .ok_or_else(|| format!("{ENV_STATUS_FD}: empty"))?;
                Some(status_pipe(fd)?)
            }
            None => None,
        };
        return Ok(Role::Worker(WorkerRole {
            index,
            listen_fds,
            status,
        }));
    }
    let count = if workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        workers
    };
    if count == 1 && max_requests == 0 {
        Ok(Role::Single)
    } else if cfg!(unix) {
        Ok(Role::Supervisor { count })
    } else {
        Err("workers other than 1 and max_requests need a Unix platform".into())
    }
}

#[cfg(unix)]
fn status_pipe(fd: i32) -> Result<File, String> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: the supervisor created this descriptor for us and nothing
    // else in this process owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // Not inherited by anything the app starts.
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    Ok(File::from(owned))
}

#[cfg(not(unix))]
fn status_pipe(_fd: i32) -> Result<File, String> {
    Err(format!("{ENV_STATUS_FD} needs a Unix platform"))
}

/// This worker's request budget: `max_requests` plus 0..=jitter at random
/// (so workers do not all restart at once); None when unlimited.
pub fn request_budget(max_requests: u64, jitter: u64) -> Option<u64> {
    use std::hash::{BuildHasher, Hasher};
    if max_requests == 0 {
        return None;
    }
    let extra = if jitter == 0 {
        0
    } else {
        // RandomState is seeded per process from the OS: enough randomness
        // for spreading restarts, without a dependency.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish() % (jitter + 1)
    };
    Some(max_requests.saturating_add(extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_max_requests_plus_bounded_jitter() {
        assert_eq!(request_budget(0, 10), None);
        assert_eq!(request_budget(100, 0), Some(100));
        for _ in 0..50 {
            let b = request_budget(100, 7).unwrap();
            assert!((100..=107).contains(&b), "{b}");
        }
    }

    #[test]
    fn descriptor_lists() {
        assert_eq!(parse_fds("3,4,10", "X"), Ok(vec![3, 4, 10]));
        assert_eq!(parse_fds("", "X"), Ok(vec![]));
        assert!(parse_fds("3,x", "X").unwrap_err().contains("\"x\""));
        assert!(parse_fds("-1", "X").is_err());
    }
}
