//! The one settings schema: every setting's name, cast, default and help.
//!
//! The TOML keys, the CLI flags (kebab-case), the string form
//! (`adjustments_from_strings`) and the `--help` text are all derived from
//! [`SETTINGS`], so a setting cannot exist in one of them and not the others.

/// Most worker threads a server may be configured with.
pub const MAX_THREADS: i128 = 1024;
/// Most simultaneous client connections a server may be configured with.
pub const MAX_CONNECTION_LIMIT: i128 = 1_000_000;
/// Longest duration (seconds) any timeout or interval may be set to
/// (about 31 years): keeps `Instant + Duration` arithmetic from overflowing.
pub const MAX_SECONDS: i128 = 1_000_000_000;
/// Largest byte count any size setting may hold.
pub const MAX_BYTES: i128 = i64::MAX as i128;
/// Largest `listen()` backlog (the kernel clamps it further).
pub const MAX_BACKLOG: i128 = i32::MAX as i128;
/// Largest value of the small count settings (`recv_bytes`, lookahead, ...).
pub const MAX_COUNT: i128 = i32::MAX as i128;
/// Highest permission bits `unix_socket_perms` may carry.
pub const MAX_PERMS: i128 = 0o7777;
/// Most worker processes (`workers`) a server may be configured with.
pub const MAX_WORKERS: i128 = 1024;

/// An inclusive range an integer setting must fall in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IntRange {
    pub min: i128,
    pub max: i128,
}

/// No range check here: `port` is checked when the listen spec resolves,
/// exactly like waitress (`Invalid host/port specified.`).
const ANY: IntRange = IntRange {
    min: i128::MIN,
    max: i128::MAX,
};
const BYTES: IntRange = IntRange {
    min: 0,
    max: MAX_BYTES,
};
const POSITIVE_BYTES: IntRange = IntRange {
    min: 1,
    max: MAX_BYTES,
};
const SECONDS: IntRange = IntRange {
    min: 0,
    max: MAX_SECONDS,
};
const POSITIVE_SECONDS: IntRange = IntRange {
    min: 1,
    max: MAX_SECONDS,
};
const COUNT: IntRange = IntRange {
    min: 0,
    max: MAX_COUNT,
};

/// How a setting's value is cast (section 12's casting functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `str`
    Str,
    /// `str_iftruthy`: empty means unset.
    StrIfTruthy,
    /// Python `int()`, then a range check.
    Int(IntRange),
    /// `asbool`
    Bool,
    /// `aslist`
    List,
    /// `asset`, lowercased (trusted_proxy_headers)
    Set,
    /// `asoctal` (`int(s, 8)`), 0..=0o7777
    Octal,
    /// `slash_fixed_str`
    SlashFixed,
    /// A filesystem path; empty means unset.
    Path,
    /// One of the log level names.
    LogLevel,
    /// Whitespace-separated file descriptor numbers (`sockets`).
    FdList,
}

/// Where a setting lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// An adjustment: TOML, flags and `adjustments_from_strings`.
    Adjustment,
    /// A serve option (`app`, `call`, ...): TOML and flags only.
    Serve,
}

/// The `--help` section a flag is listed in (waitress's two groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Standard,
    Tuning,
}

/// One setting of the schema.
#[derive(Debug)]
pub(crate) struct Setting {
    /// waitress's name (TOML key; the flag is this in kebab-case).
    pub name: &'static str,
    pub kind: Kind,
    pub scope: Scope,
    pub group: Group,
    /// The placeholder in `--name=METAVAR` (unused for booleans).
    pub metavar: &'static str,
    /// The default, as shown by `--help`.
    pub default: &'static str,
    /// One line of help.
    pub help: &'static str,
}

macro_rules! setting {
    ($name:literal, $kind:expr, $scope:ident, $group:ident, $metavar:literal, $default:literal, $help:literal) => {
        Setting {
            name: $name,
            kind: $kind,
            scope: Scope::$scope,
            group: Group::$group,
            metavar: $metavar,
            default: $default,
            help: $help,
        }
    };
}

/// Every setting, in `--help` order within each group. Casting and
/// validation also walk this order.
pub(crate) static SETTINGS: &[Setting] = &[
    setting!(
        "app",
        Kind::Str,
        Serve,
        Standard,
        "MODULE:OBJECT",
        "none",
        "The WSGI application to serve (or give it as the positional argument)."
    ),
    setting!(
        "call",
        Kind::Bool,
        Serve,
        Standard,
        "",
        "off",
        "Call the named object to get the WSGI application (an app factory)."
    ),
    setting!(
        "virtualenv",
        Kind::Path,
        Serve,
        Standard,
        "PATH",
        "$VIRTUAL_ENV if set, else none",
        "Virtual environment whose site-packages the application uses."
    ),
    setting!(
        "log_level",
        Kind::LogLevel,
        Serve,
        Standard,
        "LEVEL",
        "info",
        "Lowest level logged: debug, info, warning, error or critical."
    ),
    setting!(
        "host",
        Kind::Str,
        Adjustment,
        Standard,
        "ADDR",
        "0.0.0.0",
        "Host name or IP address to listen on (not with --listen)."
    ),
    setting!(
        "port",
        Kind::Int(ANY),
        Adjustment,
        Standard,
        "PORT",
        "8080",
        "TCP port to listen on (not with --listen; service names go in --listen)."
    ),
    setting!(
        "listen",
        Kind::List,
        Adjustment,
        Standard,
        "HOST:PORT",
        "0.0.0.0:8080",
        "Address to listen on: host:port, [v6]:port, *:port or host; repeatable."
    ),
    setting!(
        "sockets",
        Kind::FdList,
        Adjustment,
        Standard,
        "FD",
        "none",
        "Inherited listening socket file descriptors to serve on (space separated)."
    ),
    setting!(
        "server_name",
        Kind::Str,
        Adjustment,
        Standard,
        "NAME",
        "waitress.invalid",
        "SERVER_NAME of every request (only trusted proxy headers change it)."
    ),
    setting!(
        "ipv4",
        Kind::Bool,
        Adjustment,
        Standard,
        "",
        "on",
        "Use IPv4 addresses when resolving listen addresses."
    ),
    setting!(
        "ipv6",
        Kind::Bool,
        Adjustment,
        Standard,
        "",
        "on",
        "Use IPv6 addresses when resolving listen addresses."
    ),
    setting!(
        "unix_socket",
        Kind::Path,
        Adjustment,
        Standard,
        "PATH",
        "none",
        "Serve on this Unix socket instead of TCP (not with --listen/--host/--port)."
    ),
    setting!(
        "unix_socket_perms",
        Kind::Octal,
        Adjustment,
        Standard,
        "PERMS",
        "600",
        "Octal permissions of the Unix socket file."
    ),
    setting!(
        "url_scheme",
        Kind::Str,
        Adjustment,
        Standard,
        "STR",
        "http",
        "Default wsgi.url_scheme."
    ),
    setting!(
        "url_prefix",
        Kind::SlashFixed,
        Adjustment,
        Standard,
        "STR",
        "''",
        "SCRIPT_NAME of the application; stripped from matching PATH_INFO."
    ),
    setting!(
        "ident",
        Kind::StrIfTruthy,
        Adjustment,
        Standard,
        "STR",
        "waitress",
        "Server header value; empty sends no Server header."
    ),
    setting!(
        "trusted_proxy",
        Kind::StrIfTruthy,
        Adjustment,
        Standard,
        "IP",
        "none",
        "Peer allowed to set proxy headers: an address, CIDR list, localhost or '*'."
    ),
    setting!(
        "trusted_proxy_count",
        Kind::Int(IntRange {
            min: 1,
            max: MAX_COUNT
        }),
        Adjustment,
        Standard,
        "INT",
        "1",
        "How many proxies in a chain are trusted (needs --trusted-proxy)."
    ),
    setting!(
        "trusted_proxy_headers",
        Kind::Set,
        Adjustment,
        Standard,
        "LIST",
        "x-forwarded-proto with --trusted-proxy",
        "Proxy headers to trust: forwarded, or x-forwarded-{for,host,proto,port,by}."
    ),
    setting!(
        "log_untrusted_proxy_headers",
        Kind::Bool,
        Adjustment,
        Standard,
        "",
        "off",
        "Log a warning when untrusted proxy headers are removed."
    ),
    setting!(
        "clear_untrusted_proxy_headers",
        Kind::Bool,
        Adjustment,
        Standard,
        "",
        "on",
        "Remove proxy headers that are not trusted before the app sees them."
    ),
    setting!(
        "threads",
        Kind::Int(IntRange {
            min: 1,
            max: MAX_THREADS
        }),
        Adjustment,
        Tuning,
        "INT",
        "4",
        "Number of worker threads running the application."
    ),
    setting!(
        "backlog",
        Kind::Int(IntRange {
            min: 0,
            max: MAX_BACKLOG
        }),
        Adjustment,
        Tuning,
        "INT",
        "1024",
        "listen() backlog of each listening socket."
    ),
    setting!(
        "recv_bytes",
        Kind::Int(IntRange {
            min: 1,
            max: MAX_COUNT
        }),
        Adjustment,
        Tuning,
        "INT",
        "8192",
        "Bytes requested per socket read."
    ),
    setting!(
        "send_bytes",
        Kind::Int(BYTES),
        Adjustment,
        Tuning,
        "INT",
        "1",
        "Deprecated, has no effect (kept for compatibility)."
    ),
    setting!(
        "outbuf_overflow",
        Kind::Int(BYTES),
        Adjustment,
        Tuning,
        "INT",
        "1048576",
        "Pending response bytes past which output spills to a temporary file."
    ),
    setting!(
        "outbuf_high_watermark",
        Kind::Int(BYTES),
        Adjustment,
        Tuning,
        "INT",
        "16777216",
        "Pending response bytes past which the application is paused."
    ),
    setting!(
        "inbuf_overflow",
        Kind::Int(BYTES),
        Adjustment,
        Tuning,
        "INT",
        "524288",
        "Request body bytes past which the body spills to a temporary file."
    ),
    setting!(
        "connection_limit",
        Kind::Int(IntRange {
            min: 1,
            max: MAX_CONNECTION_LIMIT
        }),
        Adjustment,
        Tuning,
        "INT",
        "100",
        "Most client connections served at once; more wait in the backlog."
    ),
    setting!(
        "cleanup_interval",
        Kind::Int(POSITIVE_SECONDS),
        Adjustment,
        Tuning,
        "INT",
        "30",
        "Seconds between checks for idle connections."
    ),
    setting!(
        "channel_timeout",
        Kind::Int(SECONDS),
        Adjustment,
        Tuning,
        "INT",
        "120",
        "Seconds an idle connection is kept open."
    ),
    setting!(
        "channel_request_lookahead",
        Kind::Int(COUNT),
        Adjustment,
        Tuning,
        "INT",
        "0",
        "Requests read ahead per connection while one is being served."
    ),
    setting!(
        "log_socket_errors",
        Kind::Bool,
        Adjustment,
        Tuning,
        "",
        "on",
        "Log socket errors such as premature client disconnects."
    ),
    setting!(
        "max_request_header_size",
        Kind::Int(POSITIVE_BYTES),
        Adjustment,
        Tuning,
        "INT",
        "262144",
        "Largest request head in bytes."
    ),
    setting!(
        "max_request_body_size",
        Kind::Int(BYTES),
        Adjustment,
        Tuning,
        "INT",
        "1073741824",
        "Largest request body in bytes."
    ),
    setting!(
        "expose_tracebacks",
        Kind::Bool,
        Adjustment,
        Tuning,
        "",
        "off",
        "Send application tracebacks to the client in 500 responses."
    ),
    setting!(
        "asyncore_loop_timeout",
        Kind::Int(SECONDS),
        Adjustment,
        Tuning,
        "INT",
        "1",
        "Accepted for compatibility; has no effect."
    ),
    setting!(
        "asyncore_use_poll",
        Kind::Bool,
        Adjustment,
        Tuning,
        "",
        "off",
        "Accepted for compatibility; has no effect."
    ),
    setting!(
        "shutdown_timeout",
        Kind::Int(SECONDS),
        Adjustment,
        Tuning,
        "INT",
        "30",
        "Seconds in-flight requests get to finish on SIGINT/SIGTERM."
    ),
    setting!(
        "workers",
        Kind::Int(IntRange {
            min: 0,
            max: MAX_WORKERS
        }),
        Adjustment,
        Tuning,
        "INT",
        "1",
        "Worker processes, each with its own interpreter; 0 means one per core."
    ),
    setting!(
        "max_requests",
        Kind::Int(COUNT),
        Adjustment,
        Tuning,
        "INT",
        "0",
        "Recycle a worker process after this many requests (0: never)."
    ),
    setting!(
        "max_requests_jitter",
        Kind::Int(COUNT),
        Adjustment,
        Tuning,
        "INT",
        "0",
        "Add up to this many requests at random to each worker's max_requests."
    ),
];

/// Looks a setting up by its waitress name.
pub(crate) fn find(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// The closest of `candidates` to `wrong`, if any is reasonably close.
pub(crate) fn closest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    /// Below this Jaro-Winkler similarity a suggestion would only confuse.
    const MIN_SIMILARITY: f64 = 0.7;
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score >= MIN_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(
                s.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                "{}",
                s.name
            );
            assert!(
                SETTINGS[i + 1..].iter().all(|o| o.name != s.name),
                "duplicate {}",
                s.name
            );
            assert!(!s.help.is_empty() && !s.help.contains('\n'), "{}", s.name);
        }
    }

    #[test]
    fn every_section_12_adjustment_is_in_the_schema() {
        for name in [
            "host",
            "port",
            "ipv4",
            "ipv6",
            "listen",
            "threads",
            "trusted_proxy",
            "trusted_proxy_count",
            "trusted_proxy_headers",
            "log_untrusted_proxy_headers",
            "clear_untrusted_proxy_headers",
            "url_scheme",
            "url_prefix",
            "backlog",
            "recv_bytes",
            "send_bytes",
            "outbuf_overflow",
            "outbuf_high_watermark",
            "inbuf_overflow",
            "connection_limit",
            "cleanup_interval",
            "channel_timeout",
            "log_socket_errors",
            "max_request_header_size",
            "max_request_body_size",
            "expose_tracebacks",
            "ident",
            "asyncore_loop_timeout",
            "asyncore_use_poll",
            "unix_socket",
            "unix_socket_perms",
            "sockets",
            "channel_request_lookahead",
            "server_name",
        ] {
            let setting = find(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(setting.scope, Scope::Adjustment, "{name}");
        }
    }

    #[test]
    fn closest_name_suggestions() {
        let names = SETTINGS.iter().map(|s| s.name);
        assert_eq!(closest("thread", names.clone()), Some("threads"));
        assert_eq!(closest("url-prefix", names.clone()), Some("url_prefix"));
        assert_eq!(
            closest("chanel_timeout", names.clone()),
            Some("channel_timeout")
        );
        assert_eq!(closest("zzzzzzzzzz", names), None);
    }
}
