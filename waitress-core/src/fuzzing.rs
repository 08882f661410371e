//! Entry points for the fuzz targets and their corpus replay test: the
//! real parsers and validation with an offline system (numeric addresses
//! only, no files, no descriptors, no environment).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::adjustments::Activation;
use crate::system::{Family, SocketKind, System};

/// Resolves numeric hosts and ports only; never touches the network.
#[derive(Debug, Default)]
struct Offline;

impl System for Offline {
    fn resolve(
        &self,
        host: Option<&str>,
        service: &str,
        family: Family,
    ) -> Result<Vec<SocketAddr>, String> {
        let port: u16 = service.trim().parse().map_err(|_| "service".to_owned())?;
        let ips: Vec<IpAddr> = match host {
            None => vec![IpAddr::from([0u8; 4]), IpAddr::from([0u16; 8])],
            Some(h) => vec![h.parse().map_err(|_| "host".to_owned())?],
        };
        Ok(ips
            .into_iter()
            .filter(|ip| family.admits(ip))
            .map(|ip| SocketAddr::new(ip, port))
            .collect())
    }
    fn ipv6_available(&self) -> bool {
        true
    }
    fn socket_kind(&self, fd: i32) -> io::Result<SocketKind> {
        // Even descriptors play TCP sockets, odd ones Unix sockets.
        Ok(if fd % 2 == 0 {
            SocketKind::InetStream
        } else {
            SocketKind::UnixStream
        })
    }
    fn read_file(&self, _path: &Path) -> io::Result<String> {
        Ok("threads = 2\nlisten = \"127.0.0.1:0\"\n".to_owned())
    }
    fn activation_fds(&self) -> Result<Option<Vec<i32>>, String> {
        Ok(None)
    }
}

/// Splits fuzz input into arguments at NUL bytes (lossy UTF-8).
pub fn args_from_bytes(data: &[u8]) -> Vec<String> {
    data.split(|b| *b == 0)
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

/// `parse_command_line` offline. Must never panic; any input gives a
/// command or a one-line error.
pub fn command_line(args: &[String]) -> Result<crate::Command, crate::ConfigError> {
    crate::serve::parse_with(args, &Offline, Activation::Off)
}

/// A `--config` file's text, validated offline.
pub fn toml_text(text: &str) -> Result<crate::Adjustments, crate::ConfigError> {
    let mut settings = crate::toml_file::parse(text, "fuzz.toml")?;
    for name in ["app", "call", "virtualenv", "log_level"] {
        settings.remove(name);
    }
    crate::adjustments::build(&settings, &Offline, Activation::Off).map(|(adj, _)| adj)
}

/// String key/values (`key=value` lines), validated offline.
pub fn strings(text: &str) -> Result<crate::Adjustments, crate::ConfigError> {
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .map(|line| line.split_once('=').unwrap_or((line, "")))
        .collect();
    crate::serve::adjustments_from_strings_with(&pairs, &Offline).map(|(adj, _)| adj)
}

/// Checks the invariants every accepted configuration keeps.
pub fn check(result: &Result<crate::Adjustments, crate::ConfigError>) {
    match result {
        Ok(adj) => {
            assert!(adj.threads >= 1);
            assert!(adj.connection_limit >= 1);
            assert!(adj.unix_socket_perms <= 0o7777);
            assert!(!adj.listen.is_empty() || adj.unix_socket.is_some() || !adj.sockets.is_empty());
        }
        Err(e) => {
            assert!(!e.message().is_empty());
            assert!(!e.message().contains('\n'));
        }
    }
}

/// The `settings` fuzz target: byte 0 picks the input form (`% 3`: 0 a
/// command line with NUL-separated arguments, 1 a TOML file, 2 `key=value`
/// lines), the rest is the input. Panics only when an invariant breaks.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => match command_line(&args_from_bytes(rest)) {
            Ok(crate::Command::Serve(config)) => {
                assert!(!config.app.is_empty());
                check(&Ok(config.adjustments));
            }
            Ok(crate::Command::Help(text)) => assert!(text.contains("--threads=INT")),
            Ok(crate::Command::Version(text)) => assert!(text.starts_with(crate::PROGRAM)),
            Err(e) => check(&Err(e)),
        },
        1 => check(&toml_text(&String::from_utf8_lossy(rest))),
        _ => check(&strings(&String::from_utf8_lossy(rest))),
    }
}
