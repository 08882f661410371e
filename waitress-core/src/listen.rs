//! Listen specs (section 12 `listen`): `host:port`, `[v6]:port`, `*:port`,
//! bare `host`, service-name ports; resolved with getaddrinfo and
//! deduplicated exactly as waitress does.

use std::net::{IpAddr, SocketAddr};

use crate::error::ConfigError;
use crate::system::{Family, System};

/// waitress's message for every listen spec that does not resolve.
pub const INVALID_HOST_PORT: &str = "Invalid host/port specified.";
/// Highest TCP port. glibc silently wraps larger numeric ports (70000 ->
/// 4464); we refuse them instead.
const MAX_PORT: u64 = 65535;

/// Splits one listen item into (host, port) as waitress does: at the last
/// `:` unless that would cut a `[v6]` address, `[...]` unwrapped, `*` = any.
pub(crate) fn split_item<'a>(item: &'a str, default_port: &'a str) -> (Option<&'a str>, &'a str) {
    let (host, port) = match item.rsplit_once(':') {
        Some((_, port)) if port.contains(']') => (item, default_port),
        Some((host, port)) => (host, port),
        None => (item, default_port),
    };
    let host = if host.contains('[') && host.contains(']') {
        host.trim_matches('[').trim_end_matches(']')
    } else {
        host
    };
    ((host != "*").then_some(host), port)
}

/// Whether a numeric port (as glibc reads it: leading blanks, an optional
/// `+`, digits) is above 65535. Service names are left to getaddrinfo.
fn numeric_port_too_large(port: &str) -> bool {
    let digits = port
        .trim_start()
        .strip_prefix('+')
        .unwrap_or(port.trim_start());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let significant = digits.trim_start_matches('0');
    // More than 5 significant digits is over 65535 whatever they are.
    significant.len() > 5 || significant.parse::<u64>().is_ok_and(|p| p > MAX_PORT)
}

/// Resolves every listen item; duplicates (address without zone, port) are
/// dropped except for port 0.
pub(crate) fn resolve(
    items: &[String],
    default_port: &str,
    family: Family,
    system: &dyn System,
) -> Result<Vec<SocketAddr>, ConfigError> {
    let mut wanted: Vec<SocketAddr> = Vec::new();
    for item in items {
        let (host, port) = split_item(item, default_port);
        let invalid =
            |reason: &str| ConfigError::config(format!("{INVALID_HOST_PORT} ({item}: {reason})"));
        if numeric_port_too_large(port) {
            return Err(invalid("port out of range"));
        }
        for addr in system
            .resolve(host, port, family)
            .map_err(|e| invalid(&e))?
        {
            let duplicate = addr.port() != 0 && wanted.iter().any(|w| same_endpoint(w, &addr));
            if !duplicate {
                wanted.push(addr);
            }
        }
    }
    Ok(wanted)
}

/// Same address and port, ignoring the IPv6 zone (scope id).
fn same_endpoint(a: &SocketAddr, b: &SocketAddr) -> bool {
    let ip = |s: &SocketAddr| -> IpAddr { s.ip() };
    ip(a) == ip(b) && a.port() == b.port()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::system::{Os, SocketKind};
    use std::io;
    use std::path::Path;

    /// A resolver answering numeric hosts, `*`, `localhost` and the service
    /// `http`, without DNS.
    #[derive(Debug, Default)]
    pub(crate) struct FakeSystem {
        pub no_ipv6: bool,
        pub files: Vec<(&'static str, String)>,
        pub activation: Option<Vec<i32>>,
        pub fds: Vec<(i32, SocketKind)>,
    }

    impl System for FakeSystem {
        fn resolve(
            &self,
            host: Option<&str>,
            service: &str,
            family: Family,
        ) -> Result<Vec<SocketAddr>, String> {
            let port: u16 = match service {
                "http" => 80,
                s => s
                    .trim()
                    .parse()
                    .map_err(|_| "Servname not supported".to_owned())?,
            };
            let candidates: Vec<IpAddr> = match host {
                None => vec![
                    "0.0.0.0".parse().map_err(|_| "x")?,
                    "::".parse().map_err(|_| "x")?,
                ],
                Some("localhost") => vec![
                    "127.0.0.1".parse().map_err(|_| "x")?,
                    "::1".parse().map_err(|_| "x")?,
                ],
                Some("dup") => vec!["127.0.0.1".parse().map_err(|_| "x")?; 2],
                Some(h) => vec![
                    h.parse()
                        .map_err(|_| "Name or service not known".to_owned())?,
                ],
            };
            let out: Vec<SocketAddr> = candidates
                .into_iter()
                .filter(|ip| family.admits(ip))
                .map(|ip| SocketAddr::new(ip, port))
                .collect();
            if out.is_empty() {
                Err("Address family for hostname not supported".into())
            } else {
                Ok(out)
            }
        }
        fn ipv6_available(&self) -> bool {
            !self.no_ipv6
        }
        fn socket_kind(&self, fd: i32) -> io::Result<SocketKind> {
            self.fds
                .iter()
                .find(|(f, _)| *f == fd)
                .map(|(_, k)| *k)
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))
        }
        fn read_file(&self, path: &Path) -> io::Result<String> {
            self.files
                .iter()
                .find(|(p, _)| Path::new(p) == path)
                .map(|(_, text)| text.clone())
                .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
        }
        fn activation_fds(&self) -> Result<Option<Vec<i32>>, String> {
            Ok(self.activation.clone())
        }
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().expect("addr")).collect()
    }

    fn items(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn split_forms() {
        assert_eq!(
            split_item("127.0.0.1:80", "8080"),
            (Some("127.0.0.1"), "80")
        );
        assert_eq!(split_item("[::1]:80", "8080"), (Some("::1"), "80"));
        assert_eq!(split_item("[::1]", "8080"), (Some("::1"), "8080"));
        assert_eq!(split_item("*:80", "8080"), (None, "80"));
        assert_eq!(
            split_item("example.com", "8080"),
            (Some("example.com"), "8080")
        );
        assert_eq!(
            split_item("localhost:http", "8080"),
            (Some("localhost"), "http")
        );
        // waitress splits a bare v6 address at its last colon, like this:
        assert_eq!(split_item("::1", "8080"), (Some(":"), "1"));
        assert_eq!(split_item("*", "9000"), (None, "9000"));
    }

    #[test]
    fn resolves_every_form() {
        let sys = FakeSystem::default();
        let r = |list: &[&str], fam| resolve(&items(list), "8080", fam, &sys);
        assert_eq!(
            r(&["127.0.0.1:81"], Family::Any),
            Ok(addrs(&["127.0.0.1:81"]))
        );
        assert_eq!(r(&["[::1]:81"], Family::Any), Ok(addrs(&["[::1]:81"])));
        assert_eq!(
            r(&["127.0.0.1"], Family::Any),
            Ok(addrs(&["127.0.0.1:8080"]))
        );
        assert_eq!(
            r(&["*:81"], Family::Any),
            Ok(addrs(&["0.0.0.0:81", "[::]:81"]))
        );
        assert_eq!(r(&["*:81"], Family::V4), Ok(addrs(&["0.0.0.0:81"])));
        assert_eq!(r(&["*:81"], Family::V6), Ok(addrs(&["[::]:81"])));
        assert_eq!(
            r(&["localhost:http"], Family::Any),
            Ok(addrs(&["127.0.0.1:80", "[::1]:80"]))
        );
    }

    #[test]
    fn duplicates_dropped_except_port_0() {
        let sys = FakeSystem::default();
        let r = |list: &[&str]| resolve(&items(list), "8080", Family::Any, &sys);
        assert_eq!(
            r(&["127.0.0.1:81", "127.0.0.1:81", "dup:82"]),
            Ok(addrs(&["127.0.0.1:81", "127.0.0.1:82"]))
        );
        assert_eq!(
            r(&["127.0.0.1:0", "127.0.0.1:0"]),
            Ok(addrs(&["127.0.0.1:0", "127.0.0.1:0"]))
        );
    }

    #[test]
    fn invalid_host_port() {
        let sys = FakeSystem::default();
        for bad in [
            "nohost:80",
            "127.0.0.1:nope",
            "::1",
            "127.0.0.1:70000",
            "127.0.0.1:99999999999999999999999",
        ] {
            let err = resolve(&items(&[bad]), "8080", Family::Any, &sys).expect_err(bad);
            assert!(err.message().starts_with(INVALID_HOST_PORT), "{bad}: {err}");
            assert!(err.message().contains(bad), "{bad}: {err}");
        }
        // a v4 address with only IPv6 enabled does not resolve
        assert!(resolve(&items(&["127.0.0.1:80"]), "8080", Family::V6, &sys).is_err());
    }

    #[test]
    fn real_getaddrinfo_service_names_and_wrap_guard() {
        let r = |item: &str| resolve(&items(&[item]), "8080", Family::Any, &Os);
        assert_eq!(r("127.0.0.1:http"), Ok(addrs(&["127.0.0.1:80"])));
        assert_eq!(r("127.0.0.1:65535"), Ok(addrs(&["127.0.0.1:65535"])));
        assert!(r("127.0.0.1:65536").is_err());
        assert!(r("127.0.0.1:+65536").is_err());
        assert_eq!(r("127.0.0.1:00080"), Ok(addrs(&["127.0.0.1:80"])));
        assert!(r("127.0.0.1:-1").is_err());
        assert!(r("127.0.0.1:no-such-service").is_err());
        assert!(r(":8080").is_err());
    }
}
