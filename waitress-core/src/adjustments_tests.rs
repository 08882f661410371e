//! Section 12: every setting's default, a valid value and an invalid value
//! with its message; every conflict rule; the listen, proxy and sockets
//! rules.

use super::*;
use crate::listen::tests::FakeSystem;
use crate::serve::adjustments_from_strings_with;

fn build_strings(kv: &[(&str, &str)]) -> Result<Adjustments, String> {
    adjustments_from_strings_with(kv, &FakeSystem::default())
        .map(|(adj, _)| adj)
        .map_err(|e| e.to_string())
}

fn ok(kv: &[(&str, &str)]) -> Adjustments {
    build_strings(kv).unwrap_or_else(|e| panic!("{kv:?}: {e}"))
}

fn err(kv: &[(&str, &str)]) -> String {
    match build_strings(kv) {
        Ok(adj) => panic!("{kv:?} accepted: {adj:?}"),
        Err(e) => e,
    }
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| a.parse().expect("addr")).collect()
}

#[test]
fn defaults_are_waitress_defaults() {
    let adj = ok(&[]);
    assert_eq!(adj, Adjustments::default());
    assert_eq!(adj.listen, addrs(&["0.0.0.0:8080"]));
    assert_eq!(adj.threads, 4);
    assert_eq!(adj.trusted_proxy, None);
    assert_eq!(adj.trusted_proxy_count, Some(1));
    assert!(adj.trusted_proxy_headers.is_empty());
    assert!(!adj.log_untrusted_proxy_headers);
    assert!(adj.clear_untrusted_proxy_headers);
    assert_eq!(adj.url_scheme, "http");
    assert_eq!(adj.url_prefix, "");
    assert_eq!(adj.ident.as_deref(), Some("waitress"));
    assert_eq!(adj.backlog, 1024);
    assert_eq!(adj.recv_bytes, 8192);
    assert_eq!(adj.send_bytes, 1);
    assert_eq!(adj.outbuf_overflow, 1_048_576);
    assert_eq!(adj.outbuf_high_watermark, 16_777_216);
    assert_eq!(adj.inbuf_overflow, 524_288);
    assert_eq!(adj.connection_limit, 100);
    assert_eq!(adj.cleanup_interval, 30);
    assert_eq!(adj.channel_timeout, 120);
    assert!(adj.log_socket_errors);
    assert_eq!(adj.max_request_header_size, 262_144);
    assert_eq!(adj.max_request_body_size, 1_073_741_824);
    assert!(!adj.expose_tracebacks);
    assert_eq!(adj.asyncore_loop_timeout, 1);
    assert!(!adj.asyncore_use_poll);
    assert_eq!(adj.unix_socket, None);
    assert_eq!(adj.unix_socket_perms, 0o600);
    assert!(adj.sockets.is_empty());
    assert_eq!(adj.channel_request_lookahead, 0);
    assert_eq!(adj.server_name, "waitress.invalid");
    assert!(adj.ipv4 && adj.ipv6);
    assert_eq!(adj.shutdown_timeout, 30);
    assert_eq!(adj.workers, 1);
    assert_eq!(adj.max_requests, 0);
    assert_eq!(adj.max_requests_jitter, 0);
}

/// One integer setting: a valid value, then an invalid literal and an out
/// of range value with their messages.
macro_rules! int_setting {
    ($test:ident, $name:literal, $field:ident, $valid:literal => $expected:expr, $out_of_range:literal, $range_msg:literal) => {
        #[test]
        fn $test() {
            assert_eq!(ok(&[($name, $valid)]).$field, $expected);
            assert_eq!(
                err(&[($name, "abc")]),
                concat!($name, ": invalid literal for int() with base 10: 'abc'")
            );
            assert_eq!(
                err(&[($name, $out_of_range)]),
                concat!($name, ": ", $range_msg)
            );
        }
    };
}

int_setting!(threads, "threads", threads, " 8 " => 8, "0", "0 is out of range (must be between 1 and 1024)");
int_setting!(backlog, "backlog", backlog, "+2_048" => 2048, "-1", "-1 is out of range (must be between 0 and 2147483647)");
int_setting!(recv_bytes, "recv_bytes", recv_bytes, "16384" => 16384, "0", "0 is out of range (must be at least 1)");
int_setting!(send_bytes, "send_bytes", send_bytes, "18000" => 18000, "-5", "-5 is out of range (must not be negative)");
int_setting!(outbuf_overflow, "outbuf_overflow", outbuf_overflow, "0" => 0, "-1", "-1 is out of range (must not be negative)");
int_setting!(outbuf_high_watermark, "outbuf_high_watermark", outbuf_high_watermark, "1024" => 1024, "-1", "-1 is out of range (must not be negative)");
int_setting!(inbuf_overflow, "inbuf_overflow", inbuf_overflow, "1" => 1, "-1", "-1 is out of range (must not be negative)");
int_setting!(connection_limit, "connection_limit", connection_limit, "1000" => 1000, "0", "0 is out of range (must be between 1 and 1000000)");
int_setting!(cleanup_interval, "cleanup_interval", cleanup_interval, "1" => 1, "0", "0 is out of range (must be between 1 and 1000000000)");
int_setting!(channel_timeout, "channel_timeout", channel_timeout, "0" => 0, "-1", "-1 is out of range (must be between 0 and 1000000000)");
int_setting!(max_request_header_size, "max_request_header_size", max_request_header_size, "1024" => 1024, "0", "0 is out of range (must be at least 1)");
int_setting!(max_request_body_size, "max_request_body_size", max_request_body_size, "0" => 0, "-1", "-1 is out of range (must not be negative)");
int_setting!(asyncore_loop_timeout, "asyncore_loop_timeout", asyncore_loop_timeout, "5" => 5, "-1", "-1 is out of range (must be between 0 and 1000000000)");
int_setting!(channel_request_lookahead, "channel_request_lookahead", channel_request_lookahead, "5" => 5, "-1", "-1 is out of range (must be between 0 and 2147483647)");
int_setting!(shutdown_timeout, "shutdown_timeout", shutdown_timeout, "0" => 0, "1000000001", "1000000001 is out of range (must be between 0 and 1000000000)");
int_setting!(workers, "workers", workers, "0" => 0, "1025", "1025 is out of range (must be between 0 and 1024)");
int_setting!(max_requests, "max_requests", max_requests, "1000" => 1000, "-1", "-1 is out of range (must be between 0 and 2147483647)");
int_setting!(max_requests_jitter, "max_requests_jitter", max_requests_jitter, "50" => 50, "-5", "-5 is out of range (must be between 0 and 2147483647)");

/// One boolean setting: asbool words both ways (never an error).
macro_rules! bool_setting {
    ($test:ident, $name:literal, $field:ident) => {
        #[test]
        fn $test() {
            for yes in ["true", "1", "yes", "On", " t "] {
                assert!(ok(&[($name, yes)]).$field, "{yes}");
            }
            for no in ["false", "0", "no", "off", "", "nonsense"] {
                assert!(!ok(&[($name, no)]).$field, "{no}");
            }
        }
    };
}

bool_setting!(
    log_untrusted_proxy_headers,
    "log_untrusted_proxy_headers",
    log_untrusted_proxy_headers
);
bool_setting!(
    clear_untrusted_proxy_headers,
    "clear_untrusted_proxy_headers",
    clear_untrusted_proxy_headers
);
bool_setting!(log_socket_errors, "log_socket_errors", log_socket_errors);
bool_setting!(expose_tracebacks, "expose_tracebacks", expose_tracebacks);
bool_setting!(asyncore_use_poll, "asyncore_use_poll", asyncore_use_poll);

#[test]
fn ipv4_ipv6_switches_select_families() {
    let adj = ok(&[("listen", "*:81"), ("ipv6", "false")]);
    assert_eq!(adj.listen, addrs(&["0.0.0.0:81"]));
    let adj = ok(&[("listen", "*:81"), ("ipv4", "false")]);
    assert_eq!(adj.listen, addrs(&["[::]:81"]));
    // as waitress: both off means no filter
    let adj = ok(&[("listen", "*:81"), ("ipv4", "false"), ("ipv6", "false")]);
    assert_eq!(adj.listen, addrs(&["0.0.0.0:81", "[::]:81"]));
    assert!(!adj.ipv4 && !adj.ipv6);
    // an address of a disabled family does not resolve
    assert!(err(&[("listen", "127.0.0.1:81"), ("ipv4", "no")]).starts_with(INVALID));
}

const INVALID: &str = "Invalid host/port specified.";

#[test]
fn ipv4_off_without_ipv6_refuses_to_start() {
    let system = FakeSystem {
        no_ipv6: true,
        ..FakeSystem::default()
    };
    let result = adjustments_from_strings_with(&[("ipv4", "false")], &system);
    assert_eq!(
        result.map_err(|e| e.to_string()).err().as_deref(),
        Some("IPv4 is disabled but IPv6 is not available. Cowardly refusing to start.")
    );
    assert!(adjustments_from_strings_with(&[("ipv6", "false")], &system).is_ok());
}

#[test]
fn host_and_port_replace_listen() {
    assert_eq!(
        ok(&[("host", "127.0.0.1")]).listen,
        addrs(&["127.0.0.1:8080"])
    );
    assert_eq!(ok(&[("port", "81")]).listen, addrs(&["0.0.0.0:81"]));
    assert_eq!(
        ok(&[("host", "::1"), ("port", "0")]).listen,
        addrs(&["[::1]:0"])
    );
    let adj = ok(&[("host", "127.0.0.1"), ("port", " 82 ")]);
    assert_eq!(
        (adj.listen, adj.host.as_str(), adj.port),
        (addrs(&["127.0.0.1:82"]), "127.0.0.1", 82)
    );
    // even the default values count as "set"
    assert_eq!(ok(&[("port", "8080")]).listen, addrs(&["0.0.0.0:8080"]));
    assert_eq!(
        err(&[("port", "http")]),
        "port: invalid literal for int() with base 10: 'http'"
    );
    assert!(err(&[("port", "70000")]).starts_with(INVALID));
    assert!(err(&[("port", "-1")]).starts_with(INVALID));
    assert!(err(&[("host", "no such host")]).starts_with(INVALID));
}

#[test]
fn listen_forms() {
    assert_eq!(
        ok(&[(
            "listen",
            "127.0.0.1:81 [::1]:82 *:83 127.0.0.2 localhost:http"
        )])
        .listen,
        addrs(&[
            "127.0.0.1:81",
            "[::1]:82",
            "0.0.0.0:83",
            "[::]:83",
            "127.0.0.2:8080",
            "127.0.0.1:80",
            "[::1]:80"
        ])
    );
    // duplicates dropped, port 0 kept
    assert_eq!(
        ok(&[(
            "listen",
            "127.0.0.1:81\n127.0.0.1:81 127.0.0.1:0 127.0.0.1:0"
        )])
        .listen,
        addrs(&["127.0.0.1:81", "127.0.0.1:0", "127.0.0.1:0"])
    );
    let message = err(&[("listen", "127.0.0.1:81 bogus:82")]);
    assert_eq!(
        message,
        "Invalid host/port specified. (bogus:82: Name or service not known)"
    );
    assert_eq!(err(&[("listen", "")]), "listen: no address to listen on");
}

#[test]
fn conflict_rules_in_order_on_presence() {
    let l = ("listen", "127.0.0.1:81");
    let h = ("host", "0.0.0.0");
    let p = ("port", "8080");
    let s = ("sockets", "3");
    let u = ("unix_socket", "/tmp/x.sock");
    assert_eq!(
        err(&[l, h]),
        "host or port may not be set if listen is set."
    );
    assert_eq!(
        err(&[l, p]),
        "host or port may not be set if listen is set."
    );
    assert_eq!(err(&[l, s]), "socket may not be set if listen is set.");
    assert_eq!(
        err(&[s, h]),
        "host or port may not be set if sockets is set."
    );
    assert_eq!(
        err(&[s, p]),
        "host or port may not be set if sockets is set."
    );
    assert_eq!(err(&[s, u]), "unix_socket may not be set if sockets is set");
    assert_eq!(
        err(&[u, h]),
        "unix_socket may not be set if host or port is set"
    );
    assert_eq!(
        err(&[u, p]),
        "unix_socket may not be set if host or port is set"
    );
    assert_eq!(err(&[u, l]), "unix_socket may not be set if listen is set");
    // order: the first rule wins when several apply
    assert_eq!(
        err(&[u, l, s, h]),
        "host or port may not be set if listen is set."
    );
    assert_eq!(
        err(&[u, s, h]),
        "host or port may not be set if sockets is set."
    );
    // presence, not value: empty values still conflict, before any casting
    assert_eq!(
        err(&[("listen", ""), ("port", "x")]),
        "host or port may not be set if listen is set."
    );
    assert_eq!(
        err(&[("unix_socket", ""), ("host", "")]),
        "unix_socket may not be set if host or port is set"
    );
}

#[test]
fn trusted_proxy_rules() {
    assert_eq!(
        err(&[("trusted_proxy_count", "2")]),
        "trusted_proxy_count has no meaning without setting trusted_proxy"
    );
    assert_eq!(
        err(&[("trusted_proxy_headers", "x-forwarded-for")]),
        "trusted_proxy_headers has no meaning without setting trusted_proxy"
    );
    // an empty header list is no list (waitress tests truthiness)
    assert!(build_strings(&[("trusted_proxy_headers", " ")]).is_ok());
    assert_eq!(
        err(&[("trusted_proxy", "*"), ("trusted_proxy_count", "0")]),
        "trusted_proxy_count: 0 is out of range (must be at least 1)"
    );
    assert_eq!(
        err(&[
            ("trusted_proxy", "*"),
            ("trusted_proxy_headers", "X-Forwarded-For bogus x-evil")
        ]),
        "Received unknown trusted_proxy_headers value (bogus, x-evil) expected one of forwarded, \
         x-forwarded-for, x-forwarded-host, x-forwarded-proto, x-forwarded-port, x-forwarded-by"
    );
    assert_eq!(
        err(&[
            ("trusted_proxy", "*"),
            ("trusted_proxy_headers", "forwarded x-forwarded-for")
        ]),
        "The Forwarded proxy header and the X-Forwarded-{By,Host,Proto,Port,For} headers are \
         mutually exclusive. Can't trust both!"
    );
    let adj = ok(&[
        ("trusted_proxy", "10.0.0.1"),
        ("trusted_proxy_count", "2"),
        (
            "trusted_proxy_headers",
            "X-Forwarded-Host x-forwarded-for\nx-forwarded-for",
        ),
    ]);
    assert_eq!(adj.trusted_proxy.as_deref(), Some("10.0.0.1"));
    assert_eq!(adj.trusted_proxy_count, Some(2));
    assert_eq!(
        adj.trusted_proxy_headers,
        vec!["x-forwarded-for".to_owned(), "x-forwarded-host".into()]
    );
    assert_eq!(
        ok(&[
            ("trusted_proxy", "*"),
            ("trusted_proxy_headers", "Forwarded")
        ])
        .trusted_proxy_headers,
        vec!["forwarded".to_owned()]
    );
    // P-11: trusted_proxy alone implies x-forwarded-proto, with a warning
    let (adj, warnings) =
        adjustments_from_strings_with(&[("trusted_proxy", "*")], &FakeSystem::default())
            .expect("valid");
    assert_eq!(
        adj.trusted_proxy_headers,
        vec!["x-forwarded-proto".to_owned()]
    );
    assert_eq!(warnings, vec![IMPLICIT_PROTO_WARNING.to_owned()]);
    // str_iftruthy: empty is unset
    assert_eq!(ok(&[("trusted_proxy", "")]).trusted_proxy, None);
    assert_eq!(
        err(&[("trusted_proxy", ""), ("trusted_proxy_count", "1")]),
        "trusted_proxy_count has no meaning without setting trusted_proxy"
    );
}

#[test]
fn string_settings() {
    assert_eq!(ok(&[("url_scheme", "https")]).url_scheme, "https");
    assert_eq!(ok(&[("url_prefix", " app/ ")]).url_prefix, "/app");
    assert_eq!(ok(&[("url_prefix", "")]).url_prefix, "");
    assert_eq!(
        ok(&[("ident", "myserver")]).ident.as_deref(),
        Some("myserver")
    );
    assert_eq!(ok(&[("ident", "")]).ident, None);
    assert_eq!(
        ok(&[("server_name", "example.com")]).server_name,
        "example.com"
    );
}

#[test]
fn unix_socket_settings() {
    let adj = ok(&[
        ("unix_socket", "/run/app.sock"),
        ("unix_socket_perms", "660"),
    ]);
    assert_eq!(adj.unix_socket, Some(PathBuf::from("/run/app.sock")));
    assert_eq!(adj.unix_socket_perms, 0o660);
    assert!(adj.listen.is_empty(), "listen is ignored with unix_socket");
    assert_eq!(
        ok(&[("unix_socket_perms", "0o777")]).unix_socket_perms,
        0o777
    );
    assert_eq!(
        err(&[("unix_socket_perms", "999")]),
        "unix_socket_perms: invalid literal for int() with base 8: '999'"
    );
    assert_eq!(
        err(&[("unix_socket_perms", "17777")]),
        "unix_socket_perms: 8191 is out of range (must be between 0 and 4095)"
    );
    // empty means unset, as `if adj.unix_socket` in waitress
    assert_eq!(ok(&[("unix_socket", "")]).unix_socket, None);
    assert_eq!(ok(&[("unix_socket", "")]).listen, addrs(&["0.0.0.0:8080"]));
}

#[test]
fn sockets_rules() {
    let system = FakeSystem {
        fds: vec![
            (3, SocketKind::InetStream),
            (4, SocketKind::InetStream),
            (5, SocketKind::UnixStream),
            (6, SocketKind::Unsupported),
        ],
        ..FakeSystem::default()
    };
    let run = |fds: &str| {
        adjustments_from_strings_with(&[("sockets", fds)], &system)
            .map(|(adj, _)| adj)
            .map_err(|e| e.to_string())
    };
    let adj = run("3 4").expect("inet sockets");
    assert_eq!(adj.sockets, vec![3, 4]);
    assert!(adj.listen.is_empty());
    assert_eq!(run("5").map(|a| a.sockets), Ok(vec![5]));
    assert_eq!(
        run("3 5").err().as_deref(),
        Some("Internet and UNIX sockets may not be mixed.")
    );
    assert_eq!(
        run("3 6").err().as_deref(),
        Some("Only Internet or UNIX stream sockets may be used.")
    );
    assert_eq!(
        run("3 5 6").err().as_deref(),
        Some("Internet and UNIX sockets may not be mixed.")
    );
    assert_eq!(
        run("9").err().as_deref(),
        Some("sockets: file descriptor 9 is not an open socket (Bad file descriptor (os error 9))")
    );
    assert_eq!(
        run("x").err().as_deref(),
        Some("sockets: invalid literal for int() with base 10: 'x'")
    );
    assert_eq!(
        run("-1").err().as_deref(),
        Some("sockets: -1 is out of range (must be between 0 and 2147483647)")
    );
}

#[test]
fn send_bytes_warns() {
    let (_, warnings) =
        adjustments_from_strings_with(&[("send_bytes", "1")], &FakeSystem::default())
            .expect("valid");
    assert_eq!(warnings, vec![SEND_BYTES_WARNING.to_owned()]);
}

#[test]
fn unknown_adjustment_suggests() {
    assert_eq!(
        err(&[("thread", "4")]),
        "Unknown adjustment 'thread' (did you mean 'threads'?)"
    );
    // serve options are not adjustments
    assert!(err(&[("app", "x:y")]).starts_with("Unknown adjustment 'app'"));
}

#[test]
fn casting_errors_follow_schema_order_after_conflicts() {
    assert_eq!(
        err(&[("threads", "x"), ("backlog", "y")]),
        "threads: invalid literal for int() with base 10: 'x'"
    );
    // casting errors come before the listen and proxy rules
    assert_eq!(
        err(&[("listen", "bogus:1"), ("threads", "x")]),
        "threads: invalid literal for int() with base 10: 'x'"
    );
}
