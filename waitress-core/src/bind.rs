//! Binding the listening sockets (T-04, section 12 `unix_socket`,
//! `sockets`, systemd activation) and the K-05 `Serving on` URLs.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::adjustments::Adjustments;
use crate::error::ConfigError;

/// A listening socket. Sockets bound here are in blocking mode; adopted ones
/// keep the mode they were inherited with. The server makes them non-blocking.
#[derive(Debug)]
pub enum BoundListener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

/// The address a listener serves on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenerAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl BoundListener {
    /// The address this listener serves on.
    pub fn local_addr(&self) -> io::Result<ListenerAddr> {
        match self {
            BoundListener::Tcp(l) => l.local_addr().map(ListenerAddr::Tcp),
            BoundListener::Unix(_, path) => Ok(ListenerAddr::Unix(path.clone())),
        }
    }
}

/// Binds every listener: the `unix_socket`, else the inherited `sockets`,
/// else every `listen` address. Listeners get `backlog`, `SO_REUSEADDR`
/// (TCP) and `IPV6_V6ONLY` (v6); a Unix socket gets `unix_socket_perms`
/// after a stale socket file at its path is removed. All or nothing: on an
/// error the listeners bound so far are closed.
pub fn bind_listeners(adj: &Adjustments) -> Result<Vec<BoundListener>, ConfigError> {
    if let Some(path) = &adj.unix_socket {
        return bind_unix(path, adj).map(|l| vec![l]);
    }
    if !adj.sockets.is_empty() {
        return adj
            .sockets
            .iter()
            .map(|&fd| adopt(fd, adj.backlog))
            .collect();
    }
    adj.listen
        .iter()
        .map(|addr| bind_tcp(*addr, adj.backlog, false))
        .collect()
}

/// One set of listeners for each of `workers` worker processes. On Linux
/// every TCP `listen` address gets a socket per worker (`SO_REUSEPORT`, the
/// later ones bound to the port the first one got): the kernel spreads new
/// connections over them by address hash. Processes sharing one socket
/// race for each connection instead, and one of them can take a whole
/// burst: wrk's 50 keep-alive connections (or a proxy's pool of upstream
/// connections) all ended up in one of two processes in some runs, which
/// then served alone. A `unix_socket`, inherited `sockets` and other
/// platforms get one set that every worker shares.
///
/// With `SO_REUSEPORT` a program of the same user that holds the port with
/// that option too is joined instead of refused; one that holds it without
/// it still makes the bind fail.
pub fn bind_listener_groups(
    adj: &Adjustments,
    workers: usize,
) -> Result<Vec<Vec<BoundListener>>, ConfigError> {
    if workers <= 1
        || !cfg!(target_os = "linux")
        || adj.unix_socket.is_some()
        || !adj.sockets.is_empty()
    {
        return Ok(vec![bind_listeners(adj)?]);
    }
    let mut groups: Vec<Vec<BoundListener>> = (0..workers).map(|_| Vec::new()).collect();
    for addr in &adj.listen {
        let first = bind_tcp(*addr, adj.backlog, true)?;
        // Port 0: the others join the port the first one was given.
        let port = match first.local_addr() {
            Ok(ListenerAddr::Tcp(bound)) => bound,
            Ok(ListenerAddr::Unix(_)) => *addr,
            Err(e) => return Err(bind_error(&addr.to_string(), &e)),
        };
        let mut sockets = vec![first];
        for _ in 1..workers {
            sockets.push(bind_tcp(port, adj.backlog, true)?);
        }
        for (group, socket) in groups.iter_mut().zip(sockets) {
            group.push(socket);
        }
    }
    Ok(groups)
}

fn bind_error(what: &str, e: &io::Error) -> ConfigError {
    ConfigError::bind(format!("cannot listen on {what}: {e}"))
}

fn bind_tcp(
    addr: SocketAddr,
    backlog: i32,
    reuse_port: bool,
) -> Result<BoundListener, ConfigError> {
    let what = addr.to_string();
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| bind_error(&what, &e))?;
    let setup = || -> io::Result<()> {
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_reuse_address(true)?;
        #[cfg(target_os = "linux")]
        if reuse_port {
            socket.set_reuse_port(true)?;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = reuse_port;
        socket.bind(&SockAddr::from(addr))?;
        socket.listen(backlog)
    };
    setup().map_err(|e| bind_error(&what, &e))?;
    Ok(BoundListener::Tcp(socket.into()))
}

fn bind_unix(path: &Path, adj: &Adjustments) -> Result<BoundListener, ConfigError> {
    let what = path.display().to_string();
    remove_stale_socket(path).map_err(|e| ConfigError::bind(format!("unix_socket: {e}")))?;
    let socket =
        Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| bind_error(&what, &e))?;
    let address = SockAddr::unix(path).map_err(|e| bind_error(&what, &e))?;
    socket.bind(&address).map_err(|e| bind_error(&what, &e))?;
    let finish = || -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(adj.unix_socket_perms))?;
        socket.listen(adj.backlog)
    };
    if let Err(e) = finish() {
        // Do not leave a socket file behind that nobody serves.
        let _ = std::fs::remove_file(path);
        return Err(bind_error(&what, &e));
    }
    let listener = std::os::unix::net::UnixListener::from(OwnedFd::from(socket));
    Ok(BoundListener::Unix(listener, path.to_owned()))
}

/// An existing *socket* file at `path` is removed; any other kind of file
/// is an error (waitress's `cleanup_unix_socket`, checked without following
/// symlinks).
fn remove_stale_socket(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| format!("cannot remove stale socket {}: {e}", path.display())),
        Ok(_) => Err(format!("{} exists and is not a socket", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot inspect {}: {e}", path.display())),
    }
}

/// Removes the Unix socket file this configuration bound, if it is still a
/// socket (for a clean exit; inherited sockets are never touched).
pub fn cleanup_unix_sockets(adj: &Adjustments) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Some(path) = &adj.unix_socket else {
        return Ok(());
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Adopts an inherited listening socket: a close-on-exec duplicate of `fd`
/// (so adopting twice never double-closes), listening.
///
/// Its blocking mode is left alone: O_NONBLOCK belongs to the open file
/// description, which an inherited socket shares with other processes
/// (worker processes serving one listener): making it blocking here would
/// make their accept() calls block.
fn adopt(fd: i32, backlog: i32) -> Result<BoundListener, ConfigError> {
    let what = format!("inherited socket {fd}");
    let owned = duplicate(fd).map_err(|e| bind_error(&what, &e))?;
    let socket = Socket::from(owned);
    let setup = || -> io::Result<SockAddr> {
        socket.listen(backlog)?;
        socket.local_addr()
    };
    let local = setup().map_err(|e| bind_error(&what, &e))?;
    if local.is_unix() {
        let path = local
            .as_pathname()
            .map(Path::to_owned)
            .or_else(|| local.as_abstract_namespace().map(abstract_name))
            .unwrap_or_default();
        let listener = std::os::unix::net::UnixListener::from(OwnedFd::from(socket));
        return Ok(BoundListener::Unix(listener, path));
    }
    Ok(BoundListener::Tcp(socket.into()))
}

/// `@name` for a Linux abstract socket.
fn abstract_name(name: &[u8]) -> PathBuf {
    PathBuf::from(format!("@{}", String::from_utf8_lossy(name)))
}

/// `fcntl(fd, F_DUPFD_CLOEXEC)`: a new descriptor we own; the inherited one
/// is only marked close-on-exec so the application's children don't get it.
fn duplicate(fd: i32) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: `fd` is non-negative; fcntl on a closed descriptor fails with
    // EBADF. The borrow lives only for this call.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    set_cloexec(borrowed)?;
    borrowed.try_clone_to_owned()
}

fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: plain fcntl calls on a descriptor we borrow; no memory involved.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// K-05: the `Serving on` URL of each listener (`http://host:port`, IPv6
/// hosts bracketed only when there are several listeners, as waitress does;
/// `http://unix:/path` for Unix sockets).
pub fn serving_urls(listeners: &[BoundListener]) -> Vec<String> {
    let addrs: Vec<ListenerAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    serving_urls_for(&addrs)
}

/// [`serving_urls`] from addresses (for listeners already handed to the
/// runtime).
pub fn serving_urls_for(addrs: &[ListenerAddr]) -> Vec<String> {
    let several = addrs.len() > 1;
    addrs
        .iter()
        .map(|addr| match addr {
            ListenerAddr::Tcp(SocketAddr::V4(v4)) => format!("http://{}:{}", v4.ip(), v4.port()),
            ListenerAddr::Tcp(SocketAddr::V6(v6)) => {
                let host = match v6.scope_id() {
                    0 => v6.ip().to_string(),
                    scope => format!("{}%{scope}", v6.ip()),
                };
                if several {
                    format!("http://[{host}]:{}", v6.port())
                } else {
                    format!("http://{host}:{}", v6.port())
                }
            }
            ListenerAddr::Unix(path) => format!("http://unix:{}", path.display()),
        })
        .collect()
}

/// T-04: the socket options applied to every accepted TCP connection
/// (waitress's `socket_options`: `TCP_NODELAY`).
pub fn configure_accepted(sock: &TcpStream) -> io::Result<()> {
    configure_accepted_fd(sock)
}

/// [`configure_accepted`] for any socket type (e.g. a tokio `TcpStream`).
pub fn configure_accepted_fd<S: AsFd>(sock: &S) -> io::Result<()> {
    SockRef::from(sock).set_tcp_nodelay(true)
}

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
