//! Accept loops: one per listening socket, sharing the connection limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use crate::connection::serve_connection;
use crate::logging::LOGGER;
use crate::request::ConnInfo;
use crate::server::ServerShared;

/// Pause after a failed accept (e.g. out of file descriptors) so the loop
/// does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// A listening socket in tokio form.
pub enum Listener {
    Tcp(tokio::net::TcpListener),
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, String),
}

impl Listener {
    /// Converts a bound std listener; the socket is switched to non-blocking.
    pub fn from_bound(bound: waitress_core::BoundListener) -> std::io::Result<Self> {
        match bound {
            waitress_core::BoundListener::Tcp(l) => {
                l.set_nonblocking(true)?;
                Ok(Self::Tcp(tokio::net::TcpListener::from_std(l)?))
            }
            #[cfg(unix)]
            waitress_core::BoundListener::Unix(l, path) => {
                l.set_nonblocking(true)?;
                Ok(Self::Unix(
                    tokio::net::UnixListener::from_std(l)?,
                    path.to_string_lossy().into_owned(),
                ))
            }
        }
    }
}

/// `connection_limit` (T-03 with D-17): client connections only; accepting
/// stops at the limit and resumes below it, each logged once.
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    at_limit: AtomicBool,
}

impl ConnectionLimit {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS))),
            at_limit: AtomicBool::new(false),
        }
    }

    async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Some(permit);
        }
        if !self.at_limit.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                target: LOGGER,
                "total open connections reached the connection limit, no longer accepting new connections"
            );
        }
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        if self.at_limit.swap(false, Ordering::AcqRel) {
            tracing::info!(
                target: LOGGER,
                "total open connections dropped below the connection limit, listening again"
            );
        }
        Some(permit)
    }
}

/// Accepts until shutdown, spawning one tracked task per connection.
pub async fn accept_loop(
    listener: Listener,
    shared: Arc<ServerShared>,
    limit: Arc<ConnectionLimit>,
    tracker: TaskTracker,
) {
    loop {
        let permit = tokio::select! {
            p = limit.acquire() => match p { Some(p) => p, None => return },
            () = shared.shutdown.cancelled() => return,
        };
        let accepted = tokio::select! {
            r = accept(&listener) => r,
            () = shared.shutdown.cancelled() => return,
        };
        match accepted {
            Ok(Accepted::Tcp(stream, conn)) => {
                let shared = Arc::clone(&shared);
                tracker.spawn(async move {
                    serve_connection(stream, conn, shared).await;
                    drop(permit);
                });
            }
            #[cfg(unix)]
            Ok(Accepted::Unix(stream, conn)) => {
                let shared = Arc::clone(&shared);
                tracker.spawn(async move {
                    serve_connection(stream, conn, shared).await;
                    drop(permit);
                });
            }
            Err(e) => {
                drop(permit);
                if shared.log_socket_errors {
                    tracing::warn!(target: LOGGER, "server accept() threw an exception\n{e}");
                }
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
            }
        }
    }
}

enum Accepted {
    Tcp(tokio::net::TcpStream, ConnInfo),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream, ConnInfo),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(l) => {
            let (stream, peer) = l.accept().await?;
            // T-04: accepted TCP sockets get TCP_NODELAY.
            stream.set_nodelay(true)?;
            let local = stream.local_addr()?;
            let conn = ConnInfo {
                remote_addr: peer.ip().to_string().into(),
                remote_port: peer.port().to_string().into(),
                server_port: local.port().to_string().into(),
            };
            Ok(Accepted::Tcp(stream, conn))
        }
        #[cfg(unix)]
        Listener::Unix(l, path) => {
            let (stream, _) = l.accept().await?;
            let conn = ConnInfo {
                remote_addr: "localhost".into(),
                remote_port: "None".into(),
                server_port: path.as_str().into(),
            };
            Ok(Accepted::Unix(stream, conn))
        }
    }
}
