//! `Adjustments`: every setting of section 12, typed, and the validation
//! that turns given settings into it (conflict rules first, then casts,
//! then the IPv4/IPv6, listen, trusted-proxy and sockets rules).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::ConfigError;
use crate::listen;
use crate::raw::{self, Raw, Settings};
use crate::schema::{self, Kind, Scope, Setting};
use crate::system::{Family, SocketKind, System};

/// The listen address used when nothing else is configured.
pub const DEFAULT_HOST: &str = "0.0.0.0";
/// The port used when nothing else is configured, and for bare hosts.
pub const DEFAULT_PORT: u16 = 8080;

/// Every proxy header `trusted_proxy_headers` may name.
pub const KNOWN_PROXY_HEADERS: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-by",
];

/// Deprecation warning for `send_bytes` (waitress's text).
pub const SEND_BYTES_WARNING: &str = "send_bytes will be removed in a future release";
/// Deprecation warning when `trusted_proxy` is set without headers (P-11).
pub const IMPLICIT_PROTO_WARNING: &str = "No proxy headers were marked as trusted, but trusted_proxy was set. \
     Implicitly trusting X-Forwarded-Proto for backwards compatibility. \
     This will be removed in future versions of waitress.";

/// Every adjustment of section 12 (plus `shutdown_timeout`), typed, with
/// waitress's names. `Default` gives waitress's defaults, already validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustments {
    /// Resolved, deduplicated addresses (port 0 kept), from `listen` or
    /// `host`/`port`. Empty when `unix_socket` or `sockets` is used.
    pub listen: Vec<SocketAddr>,
    /// The `host` setting (folded into `listen`).
    pub host: String,
    /// The `port` setting, as given (folded into `listen`; may be a number
    /// only, service names go through `listen`).
    pub port: i64,
    pub threads: usize,
    pub trusted_proxy: Option<String>,
    /// 1 unless configured (P-11).
    pub trusted_proxy_count: Option<usize>,
    /// Lowercased, validated, sorted; `["x-forwarded-proto"]` when
    /// `trusted_proxy` is set without it (P-11).
    pub trusted_proxy_headers: Vec<String>,
    pub log_untrusted_proxy_headers: bool,
    pub clear_untrusted_proxy_headers: bool,
    pub url_scheme: String,
    /// Normalized by `slash_fixed_str` (U-07).
    pub url_prefix: String,
    /// `None`: send no `Server` header.
    pub ident: Option<String>,
    pub backlog: i32,
    pub recv_bytes: usize,
    /// Deprecated, no effect (D-20).
    pub send_bytes: usize,
    pub outbuf_overflow: usize,
    pub outbuf_high_watermark: usize,
    pub inbuf_overflow: usize,
    pub connection_limit: usize,
    pub cleanup_interval: u64,
    pub channel_timeout: u64,
    pub log_socket_errors: bool,
    pub max_request_header_size: usize,
    pub max_request_body_size: u64,
    pub expose_tracebacks: bool,
    /// Validated, no effect (D-20).
    pub asyncore_loop_timeout: u64,
    /// Validated, no effect (D-20).
    pub asyncore_use_poll: bool,
    /// When set, only this Unix socket is served.
    pub unix_socket: Option<PathBuf>,
    pub unix_socket_perms: u32,
    /// Inherited listening sockets (the `sockets` setting as descriptor
    /// numbers, or systemd's `LISTEN_FDS`). When non-empty only these are
    /// served.
    pub sockets: Vec<i32>,
    pub channel_request_lookahead: usize,
    pub server_name: String,
    pub ipv4: bool,
    pub ipv6: bool,
    /// Grace period (seconds) for in-flight requests at shutdown (D-18).
    pub shutdown_timeout: u64,
    /// Worker processes (0: one per core); not a waitress setting.
    pub workers: usize,
    /// Requests after which a worker process is recycled (0: never).
    pub max_requests: u64,
    /// Random extra requests (0..=jitter) added per worker to `max_requests`.
    pub max_requests_jitter: u64,
}

impl Default for Adjustments {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT))],
            host: DEFAULT_HOST.to_owned(),
            port: i64::from(DEFAULT_PORT),
            threads: 4,
            trusted_proxy: None,
            trusted_proxy_count: Some(1),
            trusted_proxy_headers: Vec::new(),
            log_untrusted_proxy_headers: false,
            clear_untrusted_proxy_headers: true,
            url_scheme: "http".to_owned(),
            url_prefix: String::new(),
            ident: Some("waitress".to_owned()),
            backlog: 1024,
            recv_bytes: 8192,
            send_bytes: 1,
            outbuf_overflow: 1_048_576,
            outbuf_high_watermark: 16_777_216,
            inbuf_overflow: 524_288,
            connection_limit: 100,
            cleanup_interval: 30,
            channel_timeout: 120,
            log_socket_errors: true,
            max_request_header_size: 262_144,
            max_request_body_size: 1_073_741_824,
            expose_tracebacks: false,
            asyncore_loop_timeout: 1,
            asyncore_use_poll: false,
            unix_socket: None,
            unix_socket_perms: 0o600,
            sockets: Vec::new(),
            channel_request_lookahead: 0,
            server_name: "waitress.invalid".to_owned(),
            ipv4: true,
            ipv6: true,
            shutdown_timeout: 30,
            workers: 1,
            max_requests: 0,
            max_requests_jitter: 0,
        }
    }
}

/// Section 12's conflict rules, in order, on the presence of keys.
const CONFLICTS: [(&[&str], &[&str], &str); 6] = [
    (
        &["listen"],
        &["host", "port"],
        "host or port may not be set if listen is set.",
    ),
    (
        &["listen"],
        &["sockets"],
        "socket may not be set if listen is set.",
    ),
    (
        &["sockets"],
        &["host", "port"],
        "host or port may not be set if sockets is set.",
    ),
    (
        &["sockets"],
        &["unix_socket"],
        "unix_socket may not be set if sockets is set",
    ),
    (
        &["unix_socket"],
        &["host", "port"],
        "unix_socket may not be set if host or port is set",
    ),
    (
        &["unix_socket"],
        &["listen"],
        "unix_socket may not be set if listen is set",
    ),
];

/// The first conflict rule the given keys break, if any.
pub(crate) fn check_conflicts(settings: &Settings) -> Result<(), ConfigError> {
    for (left, right, message) in CONFLICTS {
        let any = |names: &[&str]| names.iter().any(|n| settings.has(n));
        if any(left) && any(right) {
            return Err(ConfigError::config(message));
        }
    }
    Ok(())
}

/// Whether two keys may not be given together (used to let flags replace
/// conflicting keys of the config file).
pub(crate) fn conflicting(a: &str, b: &str) -> bool {
    CONFLICTS.iter().any(|(left, right, _)| {
        (left.contains(&a) && right.contains(&b)) || (left.contains(&b) && right.contains(&a))
    })
}

/// Where validation may take inherited sockets from when none are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activation {
    /// Look at systemd's `LISTEN_FDS`/`LISTEN_PID` (the CLI).
    Systemd,
    /// Only the `sockets` setting (string/API use).
    Off,
}

/// Validates `settings` (adjustment keys only) into `Adjustments`, plus the
/// warnings to log.
pub(crate) fn build(
    settings: &Settings,
    system: &dyn System,
    activation: Activation,
) -> Result<(Adjustments, Vec<String>), ConfigError> {
    check_conflicts(settings)?;
    let mut warnings = Vec::new();
    if settings.has("send_bytes") {
        warnings.push(SEND_BYTES_WARNING.to_owned());
    }
    let mut adj = Adjustments::default();
    let mut listen_items: Vec<String> = vec![format!("{DEFAULT_HOST}:{DEFAULT_PORT}")];
    let mut trusted_proxy_count_given = false;
    let mut headers_given: Vec<String> = Vec::new();
    for setting in schema::SETTINGS
        .iter()
        .filter(|s| s.scope == Scope::Adjustment)
    {
        if let Some(value) = settings.get(setting.name) {
            apply(
                &mut adj,
                setting,
                value,
                &mut listen_items,
                &mut headers_given,
            )?;
            trusted_proxy_count_given |= setting.name == "trusted_proxy_count";
        }
    }
    // Setting host or port, even to its default, replaces listen.
    if settings.has("host") || settings.has("port") {
        listen_items = vec![format!("{}:{}", adj.host, adj.port)];
    }
    if !adj.ipv4 && !system.ipv6_available() {
        return Err(ConfigError::config(
            "IPv4 is disabled but IPv6 is not available. Cowardly refusing to start.",
        ));
    }
    // As waitress: both switched off means no family filter at all.
    let family = match (adj.ipv4, adj.ipv6) {
        (true, false) => Family::V4,
        (false, true) => Family::V6,
        _ => Family::Any,
    };
    if let Some(fds) = activation_fds(settings, system, activation)? {
        adj.sockets = fds;
    }
    adj.listen = if adj.unix_socket.is_some() || !adj.sockets.is_empty() {
        Vec::new()
    } else {
        let resolved = listen::resolve(&listen_items, &adj.port.to_string(), family, system)?;
        if resolved.is_empty() {
            return Err(ConfigError::config("listen: no address to listen on"));
        }
        resolved
    };
    apply_proxy_rules(
        &mut adj,
        trusted_proxy_count_given,
        headers_given,
        &mut warnings,
    )?;
    check_sockets(&adj.sockets, system)?;
    Ok((adj, warnings))
}

/// systemd socket activation. An address configured as well is an error:
/// serving on something else than the unit's sockets would be a surprise.
fn activation_fds(
    settings: &Settings,
    system: &dyn System,
    activation: Activation,
) -> Result<Option<Vec<i32>>, ConfigError> {
    if activation == Activation::Off {
        return Ok(None);
    }
    let fds = match system.activation_fds().map_err(ConfigError::config)? {
        Some(fds) if !fds.is_empty() => fds,
        _ => return Ok(None),
    };
    if let Some(name) = ["listen", "host", "port", "unix_socket", "sockets"]
        .into_iter()
        .find(|n| settings.has(n))
    {
        return Err(ConfigError::config(format!(
            "{name} may not be set when systemd socket activation passes sockets (LISTEN_FDS)"
        )));
    }
    Ok(Some(fds))
}

/// Casts one given value into its field.
fn apply(
    adj: &mut Adjustments,
    setting: &'static Setting,
    value: &Raw,
    listen_items: &mut Vec<String>,
    headers: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let name = setting.name;
    match setting.kind {
        Kind::Int(range) => {
            let v = raw::int(setting, value, range)?;
            set_int(adj, setting, v)?;
        }
        Kind::Octal => {
            let v = raw::octal(
                setting,
                value,
                crate::schema::IntRange {
                    min: 0,
                    max: schema::MAX_PERMS,
                },
            )?;
            adj.unix_socket_perms = narrow(setting, v)?;
        }
        Kind::Bool => {
            let v = raw::boolean(setting, value)?;
            match name {
                "ipv4" => adj.ipv4 = v,
                "ipv6" => adj.ipv6 = v,
                "log_untrusted_proxy_headers" => adj.log_untrusted_proxy_headers = v,
                "clear_untrusted_proxy_headers" => adj.clear_untrusted_proxy_headers = v,
                "log_socket_errors" => adj.log_socket_errors = v,
                "expose_tracebacks" => adj.expose_tracebacks = v,
                "asyncore_use_poll" => adj.asyncore_use_poll = v,
                _ => return Err(unhandled(name)),
            }
        }
        Kind::Str => {
            let v = raw::text(setting, value)?;
            match name {
                "host" => adj.host = v,
                "url_scheme" => adj.url_scheme = v,
                "server_name" => adj.server_name = v,
                _ => return Err(unhandled(name)),
            }
        }
        Kind::StrIfTruthy => {
            let v = Some(raw::text(setting, value)?).filter(|s| !s.is_empty());
            match name {
                "trusted_proxy" => adj.trusted_proxy = v,
                "ident" => adj.ident = v,
                _ => return Err(unhandled(name)),
            }
        }
        Kind::SlashFixed => adj.url_prefix = crate::cast::slash_fixed(&raw::text(setting, value)?),
        Kind::Path => {
            // waitress tests `if adj.unix_socket`: empty means unset.
            let v = raw::text(setting, value)?;
            adj.unix_socket = (!v.is_empty()).then(|| PathBuf::from(v));
        }
        Kind::List => *listen_items = raw::list(setting, value)?,
        Kind::Set => {
            let mut v: Vec<String> = raw::list(setting, value)?
                .iter()
                .map(|h| h.to_lowercase())
                .collect();
            v.sort();
            v.dedup();
            *headers = v;
        }
        Kind::FdList => {
            let range = crate::schema::IntRange {
                min: 0,
                max: i128::from(i32::MAX),
            };
            let mut fds = Vec::new();
            for item in raw::list(setting, value)? {
                let fd = raw::int(setting, &Raw::Text(item), range)?;
                fds.push(narrow(setting, fd)?);
            }
            adj.sockets = fds;
        }
        Kind::LogLevel => return Err(unhandled(name)),
    }
    Ok(())
}

/// An integer setting into its field (range already checked).
fn set_int(adj: &mut Adjustments, setting: &Setting, v: i128) -> Result<(), ConfigError> {
    match setting.name {
        "port" => adj.port = narrow(setting, v)?,
        "threads" => adj.threads = narrow(setting, v)?,
        "trusted_proxy_count" => adj.trusted_proxy_count = Some(narrow(setting, v)?),
        "backlog" => adj.backlog = narrow(setting, v)?,
        "recv_bytes" => adj.recv_bytes = narrow(setting, v)?,
        "send_bytes" => adj.send_bytes = narrow(setting, v)?,
        "outbuf_overflow" => adj.outbuf_overflow = narrow(setting, v)?,
        "outbuf_high_watermark" => adj.outbuf_high_watermark = narrow(setting, v)?,
        "inbuf_overflow" => adj.inbuf_overflow = narrow(setting, v)?,
        "connection_limit" => adj.connection_limit = narrow(setting, v)?,
        "cleanup_interval" => adj.cleanup_interval = narrow(setting, v)?,
        "channel_timeout" => adj.channel_timeout = narrow(setting, v)?,
        "max_request_header_size" => adj.max_request_header_size = narrow(setting, v)?,
        "max_request_body_size" => adj.max_request_body_size = narrow(setting, v)?,
        "asyncore_loop_timeout" => adj.asyncore_loop_timeout = narrow(setting, v)?,
        "channel_request_lookahead" => adj.channel_request_lookahead = narrow(setting, v)?,
        "shutdown_timeout" => adj.shutdown_timeout = narrow(setting, v)?,
        "workers" => adj.workers = narrow(setting, v)?,
        "max_requests" => adj.max_requests = narrow(setting, v)?,
        "max_requests_jitter" => adj.max_requests_jitter = narrow(setting, v)?,
        other => return Err(unhandled(other)),
    }
    Ok(())
}

/// Converts a range-checked value to its field type (only fails where the
/// platform's `usize` is narrower than the schema range).
fn narrow<T: TryFrom<i128>>(setting: &Setting, v: i128) -> Result<T, ConfigError> {
    T::try_from(v)
        .map_err(|_| ConfigError::config(format!("{}: {v} is out of range", setting.name)))
}

/// A schema entry this module does not know: a programming error reported
/// as an error, never a panic.
fn unhandled(name: &str) -> ConfigError {
    ConfigError::config(format!("internal error: setting {name} has no field"))
}

/// P-11 and section 12's trusted-proxy rules, in waitress's order.
fn apply_proxy_rules(
    adj: &mut Adjustments,
    count_given: bool,
    headers: Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    if count_given && adj.trusted_proxy.is_none() {
        return Err(ConfigError::config(
            "trusted_proxy_count has no meaning without setting trusted_proxy",
        ));
    }
    if !headers.is_empty() && adj.trusted_proxy.is_none() {
        return Err(ConfigError::config(
            "trusted_proxy_headers has no meaning without setting trusted_proxy",
        ));
    }
    if !headers.is_empty() {
        let unknown: Vec<&str> = headers
            .iter()
            .map(String::as_str)
            .filter(|h| !KNOWN_PROXY_HEADERS.contains(h))
            .collect();
        if !unknown.is_empty() {
            return Err(ConfigError::config(format!(
                "Received unknown trusted_proxy_headers value ({}) expected one of {}",
                unknown.join(", "),
                KNOWN_PROXY_HEADERS.join(", ")
            )));
        }
        if headers.iter().any(|h| h == "forwarded") && headers.len() > 1 {
            return Err(ConfigError::config(
                "The Forwarded proxy header and the X-Forwarded-{By,Host,Proto,Port,For} headers \
                 are mutually exclusive. Can't trust both!",
            ));
        }
        adj.trusted_proxy_headers = headers;
    } else if adj.trusted_proxy.is_some() {
        warnings.push(IMPLICIT_PROTO_WARNING.to_owned());
        adj.trusted_proxy_headers = vec!["x-forwarded-proto".to_owned()];
    }
    Ok(())
}

/// `check_sockets`: stream sockets only, inet and unix not mixed.
fn check_sockets(fds: &[i32], system: &dyn System) -> Result<(), ConfigError> {
    let (mut inet, mut unix, mut unsupported) = (false, false, false);
    for &fd in fds {
        match system.socket_kind(fd) {
            Ok(SocketKind::InetStream) => inet = true,
            Ok(SocketKind::UnixStream) => unix = true,
            Ok(SocketKind::Unsupported) => unsupported = true,
            Err(e) => {
                return Err(ConfigError::config(format!(
                    "sockets: file descriptor {fd} is not an open socket ({e})"
                )));
            }
        }
    }
    if inet && unix {
        return Err(ConfigError::config(
            "Internet and UNIX sockets may not be mixed.",
        ));
    }
    if unsupported {
        return Err(ConfigError::config(
            "Only Internet or UNIX stream sockets may be used.",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "adjustments_tests.rs"]
mod tests;
