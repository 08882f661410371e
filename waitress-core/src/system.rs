//! What settings validation needs from the operating system, behind a trait
//! so validation is testable and fuzzable without DNS, files or sockets.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use dns_lookup::{AddrInfoHints, getaddrinfo};

/// systemd passes activated sockets from this descriptor on (`SD_LISTEN_FDS_START`).
pub const SD_LISTEN_FDS_START: i32 = 3;
/// Most descriptors accepted from `LISTEN_FDS`; more is a broken environment.
pub const MAX_LISTEN_FDS: i32 = 4096;

/// Which address families listen specs resolve to (section 12: ipv4/ipv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Any,
    V4,
    V6,
}

impl Family {
    /// Whether `ip` belongs to this family.
    pub(crate) fn admits(self, ip: &std::net::IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// What an inherited descriptor turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SocketKind {
    InetStream,
    UnixStream,
    /// A socket of another family or type.
    Unsupported,
}

/// The OS services settings validation uses.
pub(crate) trait System {
    /// `getaddrinfo(host, service, family, SOCK_STREAM, IPPROTO_TCP, AI_PASSIVE)`.
    fn resolve(
        &self,
        host: Option<&str>,
        service: &str,
        family: Family,
    ) -> Result<Vec<SocketAddr>, String>;
    /// Whether an IPv6 socket can be created at all.
    fn ipv6_available(&self) -> bool;
    /// The family/type of an open descriptor; an error if it is no socket.
    fn socket_kind(&self, fd: i32) -> io::Result<SocketKind>;
    /// Reads a configuration file.
    fn read_file(&self, path: &Path) -> io::Result<String>;
    /// systemd socket activation: `Ok(Some(fds))` when `LISTEN_PID` is this
    /// process and `LISTEN_FDS` is set.
    fn activation_fds(&self) -> Result<Option<Vec<i32>>, String>;
}

/// The real operating system.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Os;

impl System for Os {
    fn resolve(
        &self,
        host: Option<&str>,
        service: &str,
        family: Family,
    ) -> Result<Vec<SocketAddr>, String> {
        let hints = AddrInfoHints {
            flags: libc::AI_PASSIVE,
            address: match family {
                Family::Any => libc::AF_UNSPEC,
                Family::V4 => libc::AF_INET,
                Family::V6 => libc::AF_INET6,
            },
            socktype: libc::SOCK_STREAM,
            protocol: libc::IPPROTO_TCP,
        };
        let found = getaddrinfo(host, Some(service), Some(hints)).map_err(|e| {
            let err: io::Error = e.into();
            err.to_string()
        })?;
        found
            .map(|info| info.map(|i| i.sockaddr).map_err(|e| e.to_string()))
            .collect()
    }

    fn ipv6_available(&self) -> bool {
        socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).is_ok()
    }

    fn socket_kind(&self, fd: i32) -> io::Result<SocketKind> {
        let socket_type = getsockopt_int(fd, libc::SO_TYPE)?;
        let domain = getsockopt_int(fd, libc::SO_DOMAIN)?;
        Ok(match (domain, socket_type) {
            (libc::AF_INET | libc::AF_INET6, libc::SOCK_STREAM) => SocketKind::InetStream,
            (libc::AF_UNIX, libc::SOCK_STREAM) => SocketKind::UnixStream,
            _ => SocketKind::Unsupported,
        })
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn activation_fds(&self) -> Result<Option<Vec<i32>>, String> {
        let (Ok(pid), Ok(count)) = (std::env::var("LISTEN_PID"), std::env::var("LISTEN_FDS"))
        else {
            return Ok(None);
        };
        // The variables are meant for the process systemd started; a child
        // that inherited them must not take the sockets.
        if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
            return Ok(None);
        }
        parse_listen_fds(&count).map(Some)
    }
}

/// `LISTEN_FDS=n` -> descriptors 3..3+n.
pub(crate) fn parse_listen_fds(count: &str) -> Result<Vec<i32>, String> {
    match count.trim().parse::<i32>() {
        Ok(n) if (0..=MAX_LISTEN_FDS).contains(&n) => {
            Ok((SD_LISTEN_FDS_START..SD_LISTEN_FDS_START + n).collect())
        }
        _ => Err(format!(
            "LISTEN_FDS: invalid value {} for systemd socket activation",
            crate::cast::py_repr(count)
        )),
    }
}

/// `getsockopt(fd, SOL_SOCKET, option)` for an int option.
fn getsockopt_int(fd: i32, option: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>())
        .map_err(|_| io::Error::other("socklen overflow"))?;
    // SAFETY: `value`/`len` are valid for writes of one c_int; a closed or
    // non-socket descriptor only makes the call fail (EBADF/ENOTSOCK), it
    // never touches memory we do not own.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&raw mut value).cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_fds_start_at_3() {
        assert_eq!(parse_listen_fds("2"), Ok(vec![3, 4]));
        assert_eq!(parse_listen_fds("0"), Ok(vec![]));
        assert!(parse_listen_fds("x").is_err());
        assert!(parse_listen_fds("-1").is_err());
        assert!(parse_listen_fds("100000").is_err());
    }

    #[test]
    fn socket_kind_of_real_descriptors() {
        use std::os::fd::AsRawFd;
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        assert_eq!(
            Os.socket_kind(tcp.as_raw_fd()).ok(),
            Some(SocketKind::InetStream)
        );
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        assert_eq!(
            Os.socket_kind(udp.as_raw_fd()).ok(),
            Some(SocketKind::Unsupported)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let unix = std::os::unix::net::UnixListener::bind(dir.path().join("s")).expect("bind");
        assert_eq!(
            Os.socket_kind(unix.as_raw_fd()).ok(),
            Some(SocketKind::UnixStream)
        );
        let file = tempfile::tempfile().expect("tempfile");
        assert!(Os.socket_kind(file.as_raw_fd()).is_err());
        assert!(Os.socket_kind(-1).is_err());
    }

    #[test]
    fn resolve_numeric_and_wildcard() {
        assert_eq!(
            Os.resolve(Some("127.0.0.1"), "8080", Family::Any),
            Ok(vec!["127.0.0.1:8080".parse().expect("addr")])
        );
        let all = Os.resolve(None, "8080", Family::V4).expect("wildcard");
        assert_eq!(all, vec!["0.0.0.0:8080".parse().expect("addr")]);
        assert!(Os.resolve(Some("127.0.0.1"), "8080", Family::V6).is_err());
        assert!(Os.resolve(Some("not a host"), "8080", Family::Any).is_err());
    }
}
