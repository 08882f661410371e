//! Issue 4 through the real binary: configuration errors, listening forms,
//! unix sockets and socket activation.

use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use waitress_tests::client::Reader;
use waitress_tests::{ServerBuilder, request};

#[test]
fn conflicting_flags_exit_2_with_waitress_message() {
    // The harness passes --listen; --port conflicts with it (section 12, rule 1).
    let (status, _, stderr) = ServerBuilder::new("hello:app")
        .arg("--port=8081")
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "Error: host or port may not be set if listen is set."
    );
    let (status, _, stderr) = ServerBuilder::new("hello:app")
        .no_default_listen()
        .arg("--unix-socket=/tmp/x.sock")
        .arg("--host=127.0.0.1")
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "Error: unix_socket may not be set if host or port is set"
    );
}

#[test]
fn bad_values_name_the_setting_and_nothing_binds() {
    for (flag, needle) in [
        ("--threads=many", "threads"),
        ("--connection-limit=-1", "connection_limit"),
        (
            "--trusted-proxy-count=2",
            "trusted_proxy_count has no meaning without setting trusted_proxy",
        ),
        (
            "--unix-socket-perms=999",
            "invalid literal for int() with base 8",
        ),
        ("--listen=bogus.invalid.:82", "Invalid host/port specified."),
    ] {
        let (status, _, stderr) = ServerBuilder::new("hello:app")
            .no_default_listen()
            .arg(flag)
            .run_to_exit();
        assert_eq!(status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.starts_with("Error: "), "{flag}: {stderr}");
        assert!(stderr.contains(needle), "{flag}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{flag}: one line: {stderr}"
        );
    }
}

#[test]
fn bad_toml_file_is_one_line_error() {
    let dir = std::env::temp_dir().join(format!("waitress-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "app = \"hello:app\"\nthreads = [\n").unwrap();
    let (status, _, stderr) = ServerBuilder::bare()
        .arg(format!("--config={}", cfg.display()))
        .run_to_exit();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("Error: "), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn waitress_serve_command_lines_work_unchanged() {
    // Options before the app, unique prefixes, --name value, --no- forms.
    let server = ServerBuilder::bare()
        .arg("--thr")
        .arg("2")
        .arg("--no-expose-tracebacks")
        .arg("--ident=compat")
        .arg("hello:app")
        .start();
    let resp = request(server.addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(resp.header("Server"), Some("compat"));
}

#[test]
fn help_and_version() {
    let (status, stdout, _) = ServerBuilder::bare()
        .no_default_listen()
        .arg("--help")
        .run_to_exit();
    assert!(status.success());
    for flag in [
        "--listen",
        "--threads",
        "--trusted-proxy",
        "--channel-timeout",
        "--config",
    ] {
        assert!(stdout.contains(flag), "{flag} in help");
    }
    let (status, stdout, _) = ServerBuilder::bare()
        .no_default_listen()
        .arg("--version")
        .run_to_exit();
    assert!(status.success());
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")), "{stdout}");
}

#[cfg(unix)]
#[test]
fn unix_socket_with_permissions_and_environ() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    use std::os::unix::net::UnixStream;

    let dir = std::env::temp_dir().join(format!("waitress-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.sock");
    let mut server = ServerBuilder::new("environ_dump:app")
        .no_default_listen()
        .arg(format!("--unix-socket={}", path.display()))
        .arg("--unix-socket-perms=660")
        .start();
    assert_eq!(server.urls, [format!("http://unix:{}", path.display())]);
    let meta = std::fs::metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    let mut stream = UnixStream::connect(&path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    assert!(out.contains("\"REMOTE_ADDR\": \"localhost\""), "{out}");
    assert!(out.contains("\"REMOTE_PORT\": \"None\""), "{out}");
    assert!(
        out.contains(&format!("\"SERVER_PORT\": \"{}\"", path.display())),
        "{out}"
    );

    server.signal(libc::SIGTERM);
    assert!(server.wait_exit().success());
    assert!(!path.exists(), "the socket file is removed on clean exit");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wildcard_listen_serves_ipv4_and_ipv6() {
    if TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_err() {
        panic!("this machine has no IPv6 loopback; the wildcard test needs ::1");
    }
    // A port free on both families.
    let port = loop {
        let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        if TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            break port;
        }
    };
    let server = ServerBuilder::new("environ_dump:app")
        .no_default_listen()
        .arg(format!("--listen=*:{port}"))
        .start();
    assert_eq!(server.urls.len(), 2, "{:?}", server.urls);
    assert!(
        server.urls.contains(&format!("http://0.0.0.0:{port}")),
        "{:?}",
        server.urls
    );
    assert!(
        server.urls.contains(&format!("http://[::]:{port}")),
        "{:?}",
        server.urls
    );
    for addr in [
        SocketAddr::from(([127, 0, 0, 1], port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ] {
        let resp = request(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(resp.status, 200);
        let expected = if addr.is_ipv6() { "::1" } else { "127.0.0.1" };
        assert!(
            resp.text()
                .contains(&format!("\"REMOTE_ADDR\": \"{expected}\"")),
            "{}",
            resp.text()
        );
    }
}

#[cfg(unix)]
#[test]
fn systemd_socket_activation_with_an_inherited_descriptor() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = ServerBuilder::new("hello:app")
        .systemd_socket(listener)
        .start();
    assert_eq!(server.urls, vec![format!("http://{addr}")]);
    let mut reader = Reader::new(TcpStream::connect(addr).unwrap());
    reader
        .stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    reader.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(reader.response(false).body, b"Hello, world!");
}
