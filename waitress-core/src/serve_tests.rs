//! Section 13 (K-01..K-03, D-19, D-21) through `parse_with`.

use super::*;
use crate::listen::tests::FakeSystem;
use crate::system::SocketKind;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn run_with(system: &FakeSystem, list: &[&str]) -> Result<Command, ConfigError> {
    parse_with(&args(list), system, Activation::Systemd)
}

fn serve(list: &[&str]) -> ServeConfig {
    serve_with(&FakeSystem::default(), list)
}

fn serve_with(system: &FakeSystem, list: &[&str]) -> ServeConfig {
    match run_with(system, list) {
        Ok(Command::Serve(config)) => *config,
        other => panic!("{list:?}: {other:?}"),
    }
}

fn error(list: &[&str]) -> ConfigError {
    error_with(&FakeSystem::default(), list)
}

fn error_with(system: &FakeSystem, list: &[&str]) -> ConfigError {
    match run_with(system, list) {
        Err(e) => e,
        Ok(other) => panic!("{list:?} accepted: {other:?}"),
    }
}

fn addrs(list: &[&str]) -> Vec<std::net::SocketAddr> {
    list.iter().map(|a| a.parse().expect("addr")).collect()
}

#[test]
fn a_waitress_serve_command_line_works_unchanged() {
    let config = serve(&[
        "--listen=127.0.0.1:8081",
        "--listen",
        "[::1]:8081",
        "--threads=8",
        "--url-prefix=/app/",
        "--no-clear-untrusted-proxy-headers",
        "--trusted-proxy=*",
        "--trusted-proxy-headers=x-forwarded-for x-forwarded-proto",
        "--expose-tracebacks",
        "--call",
        "myapp:create_app",
    ]);
    assert_eq!(config.app, "myapp:create_app");
    assert!(config.call);
    let adj = &config.adjustments;
    assert_eq!(adj.listen, addrs(&["127.0.0.1:8081", "[::1]:8081"]));
    assert_eq!(adj.threads, 8);
    assert_eq!(adj.url_prefix, "/app");
    assert!(!adj.clear_untrusted_proxy_headers);
    assert!(adj.expose_tracebacks);
    assert_eq!(
        adj.trusted_proxy_headers,
        vec!["x-forwarded-for".to_owned(), "x-forwarded-proto".into()]
    );
    assert_eq!(config.log_level, LogLevel::Info);
    assert!(config.warnings.is_empty());
}

#[test]
fn k02_help_and_version_need_no_app_and_skip_validation() {
    match run_with(&FakeSystem::default(), &["--threads=bogus", "--help"]) {
        Ok(Command::Help(text)) => assert!(text.contains("--threads=INT")),
        other => panic!("{other:?}"),
    }
    match run_with(&FakeSystem::default(), &["--version"]) {
        Ok(Command::Version(text)) => {
            assert_eq!(text, format!("waitress-cli {}", env!("CARGO_PKG_VERSION")))
        }
        other => panic!("{other:?}"),
    }
    // but an unknown flag is still an error, as with getopt
    assert_eq!(
        error(&["--help", "--bogus"]).message(),
        "option --bogus not recognized"
    );
}

#[test]
fn k03_app_resolution_errors_exit_1() {
    let err = error(&["--threads=2"]);
    assert_eq!(
        (err.message(), err.exit_code()),
        ("Specify an application", 1)
    );
    let err = error(&["a:b", "c:d"]);
    assert_eq!(
        (err.message(), err.exit_code()),
        ("Provide only one WSGI app", 1)
    );
    let err = error(&["--app=a:b", "c:d"]);
    assert_eq!(err.message(), "Provide only one WSGI app");
    assert_eq!(serve(&["--app", "a:b"]).app, "a:b");
    // an empty name is no name (found by the fuzzer)
    assert_eq!(error(&["--app="]).message(), "Specify an application");
    assert_eq!(error(&[" "]).message(), "Specify an application");
    // D-21: options after the app
    let config = serve(&["a:b", "--port=81"]);
    assert_eq!(
        (config.app.as_str(), config.adjustments.listen.clone()),
        ("a:b", addrs(&["0.0.0.0:81"]))
    );
}

#[test]
fn d19_config_errors_exit_2() {
    for list in [
        &["--threads=x", "a:b"][..],
        &["--bogus", "a:b"],
        &["--listen=127.0.0.1:1", "--port=2", "a:b"],
        &["--expose-tracebacks=1", "a:b"],
        &["--log-level=loud", "a:b"],
        &["--config=missing.toml", "a:b"],
    ] {
        let err = error(list);
        assert_eq!(err.exit_code(), 2, "{list:?}: {err}");
        assert!(!err.message().contains('\n'));
    }
    assert_eq!(
        error(&["--log-level=loud", "a:b"]).message(),
        "log_level: expected one of debug, info, warning, error, critical, got 'loud'"
    );
    assert!(
        error(&["--config=missing.toml", "a:b"])
            .message()
            .starts_with("cannot read config file missing.toml: ")
    );
}

#[test]
fn log_level_and_virtualenv_flags() {
    let config = serve(&["--log-level=WARNING", "--virtualenv=/srv/venv", "a:b"]);
    assert_eq!(config.log_level, LogLevel::Warning);
    assert_eq!(config.virtualenv, Some(PathBuf::from("/srv/venv")));
    for (level, name) in LogLevel::ALL {
        assert_eq!(LogLevel::parse(name), Some(level));
        assert_eq!(level.to_string(), name);
    }
}

const FILE: &str = r#"
app = "hello:app"
call = false
log_level = "debug"
virtualenv = "/srv/venv"
listen = ["127.0.0.1:9001", "127.0.0.1:9002"]
threads = 6
trusted_proxy = "127.0.0.1"
trusted_proxy_headers = "x-forwarded-for x-forwarded-host"
expose_tracebacks = "yes"
unix_socket_perms = "660"
"#;

fn with_file(text: &str) -> FakeSystem {
    FakeSystem {
        files: vec![("server.toml", text.to_owned())],
        ..FakeSystem::default()
    }
}

#[test]
fn config_file_supplies_everything() {
    let config = serve_with(&with_file(FILE), &["--config", "server.toml"]);
    assert_eq!(config.app, "hello:app");
    assert!(!config.call);
    assert_eq!(config.log_level, LogLevel::Debug);
    assert_eq!(config.virtualenv, Some(PathBuf::from("/srv/venv")));
    let adj = &config.adjustments;
    assert_eq!(adj.listen, addrs(&["127.0.0.1:9001", "127.0.0.1:9002"]));
    assert_eq!(adj.threads, 6);
    assert!(adj.expose_tracebacks);
    assert_eq!(adj.unix_socket_perms, 0o660);
    assert_eq!(
        adj.trusted_proxy_headers,
        vec!["x-forwarded-for".to_owned(), "x-forwarded-host".into()]
    );
}

#[test]
fn flags_override_the_file_and_replace_conflicting_keys() {
    let system = with_file(FILE);
    let config = serve_with(
        &system,
        &[
            "--threads=2",
            "other:app",
            "--config=server.toml",
            "--port=9100",
        ],
    );
    assert_eq!(config.app, "other:app");
    assert_eq!(config.adjustments.threads, 2);
    // --port replaced the file's listen instead of conflicting with it
    assert_eq!(config.adjustments.listen, addrs(&["0.0.0.0:9100"]));
    let config = serve_with(
        &system,
        &[
            "--config=server.toml",
            "--listen=127.0.0.1:1",
            "--listen=127.0.0.1:2",
        ],
    );
    assert_eq!(
        config.adjustments.listen,
        addrs(&["127.0.0.1:1", "127.0.0.1:2"])
    );
    // within one source the conflict rules still apply
    let bad = with_file("listen = \"127.0.0.1:1\"\nport = 2\n");
    assert_eq!(
        error_with(&bad, &["--config=server.toml", "a:b"]).message(),
        "host or port may not be set if listen is set."
    );
}

#[test]
fn bad_config_files() {
    let cases: [(&str, &str); 6] = [
        (
            "thread = 4",
            "server.toml: Unknown adjustment 'thread' (did you mean 'threads'?)",
        ),
        (
            "threads = \"x\"",
            "threads: invalid literal for int() with base 10: 'x'",
        ),
        (
            "threads = true",
            "threads: expected an integer, got a boolean",
        ),
        ("ident = 5", "ident: expected a string, got an integer"),
        (
            "unix_socket_perms = 600",
            "unix_socket_perms: give octal permissions as a string, e.g. \"600\"",
        ),
        (
            "listen = [1.5]",
            "listen: expected an array of strings, got a float",
        ),
    ];
    for (text, message) in cases {
        let err = error_with(&with_file(text), &["--config=server.toml", "a:b"]);
        assert_eq!((err.message(), err.exit_code()), (message, 2), "{text}");
    }
    let err = error_with(
        &with_file("threads = = 4"),
        &["--config=server.toml", "a:b"],
    );
    assert!(
        err.message()
            .starts_with("server.toml: invalid TOML at line 1, column"),
        "{err}"
    );
}

#[test]
fn systemd_socket_activation() {
    let system = FakeSystem {
        activation: Some(vec![3, 4]),
        fds: vec![(3, SocketKind::InetStream), (4, SocketKind::InetStream)],
        ..FakeSystem::default()
    };
    let config = serve_with(&system, &["a:b"]);
    assert_eq!(config.adjustments.sockets, vec![3, 4]);
    assert!(config.adjustments.listen.is_empty());
    assert_eq!(
        error_with(&system, &["--port=81", "a:b"]).message(),
        "port may not be set when systemd socket activation passes sockets (LISTEN_FDS)"
    );
    for flag in [
        "--listen=127.0.0.1:1",
        "--host=::1",
        "--sockets=4",
        "--unix-socket=/tmp/x.sock",
    ] {
        let name = flag
            .trim_start_matches("--")
            .split('=')
            .next()
            .unwrap_or_default()
            .replace('-', "_");
        assert_eq!(
            error_with(&system, &[flag, "a:b"]).message(),
            format!(
                "{name} may not be set when systemd socket activation passes sockets (LISTEN_FDS)"
            )
        );
    }
    // a mixed activation set is refused like the sockets setting
    let mixed = FakeSystem {
        activation: Some(vec![3, 4]),
        fds: vec![(3, SocketKind::InetStream), (4, SocketKind::UnixStream)],
        ..FakeSystem::default()
    };
    assert_eq!(
        error_with(&mixed, &["a:b"]).message(),
        "Internet and UNIX sockets may not be mixed."
    );
}

#[test]
fn strings_api_reads_no_environment() {
    let system = FakeSystem {
        activation: Some(vec![3]),
        ..FakeSystem::default()
    };
    let (adj, _) = adjustments_from_strings_with(&[], &system).expect("defaults");
    assert!(adj.sockets.is_empty());
}

#[test]
fn send_bytes_flag_warns() {
    let config = serve(&["--send-bytes=9000", "a:b"]);
    assert_eq!(config.warnings, vec![crate::SEND_BYTES_WARNING.to_owned()]);
}

const EXAMPLE: &str = include_str!("../../examples/server.toml");

/// The `# key = value` lines of the example file.
fn example_lines() -> Vec<(&'static str, &'static str)> {
    EXAMPLE
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter_map(|line| line.split_once(" = "))
        .filter(|(key, _)| crate::schema::find(key).is_some())
        .collect()
}

#[test]
fn example_file_runs_and_lists_every_key() {
    let config = serve_with(&with_file(EXAMPLE), &["--config=server.toml"]);
    assert_eq!(config.app, "examples.hello:app");
    assert_eq!(config.adjustments, crate::Adjustments::default());
    let listed = example_lines();
    for setting in crate::schema::SETTINGS {
        let mentioned = listed.iter().any(|(key, _)| *key == setting.name)
            || EXAMPLE
                .lines()
                .any(|l| l.starts_with(&format!("{} = ", setting.name)));
        assert!(
            mentioned,
            "{} missing from examples/server.toml",
            setting.name
        );
    }
}

#[test]
fn example_file_values_are_the_defaults() {
    // Keys whose example is not the default (no default exists) or that
    // only make sense together with another key.
    const NOT_STANDALONE: [&str; 7] = [
        "virtualenv",
        "unix_socket",
        "sockets",
        "trusted_proxy",
        "trusted_proxy_count",
        "trusted_proxy_headers",
        "app",
    ];
    for (key, value) in example_lines() {
        let file = FakeSystem {
            files: vec![("server.toml", format!("app = \"a:b\"\n{key} = {value}\n"))],
            fds: vec![(3, SocketKind::InetStream), (4, SocketKind::InetStream)],
            ..FakeSystem::default()
        };
        let config = match run_with(&file, &["--config=server.toml"]) {
            Ok(Command::Serve(config)) => config,
            other if NOT_STANDALONE.contains(&key) => {
                assert!(key.starts_with("trusted_proxy_"), "{key}: {other:?}");
                continue;
            }
            other => panic!("{key} = {value}: {other:?}"),
        };
        if NOT_STANDALONE.contains(&key) {
            continue;
        }
        let defaults = ServeConfig {
            app: "a:b".into(),
            call: false,
            virtualenv: None,
            log_level: LogLevel::Info,
            adjustments: crate::Adjustments::default(),
            warnings: config.warnings.clone(),
        };
        assert_eq!(*config, defaults, "{key} = {value} is not the default");
    }
}
