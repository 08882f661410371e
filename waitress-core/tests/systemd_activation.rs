//! systemd socket activation through the real environment: the test
//! re-executes itself (via `sh`, so `LISTEN_PID` is the child's own pid)
//! with a listening socket on descriptor 3, as systemd would.

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use waitress_core::{
    BoundListener, Command as Parsed, bind_listeners, parse_command_line, serving_urls,
};

const CHILD: &str = "WAITRESS_CORE_ACTIVATION_CHILD";
const TEST_NAME: &str = "systemd_socket_activation";

/// In the child: what the parent expects (`port:<n>` or `ignored`).
fn child(expectation: &str) {
    let args = vec!["app:x".to_owned()];
    let config = match parse_command_line(&args) {
        Ok(Parsed::Serve(config)) => config,
        other => panic!("child parse: {other:?}"),
    };
    let adj = &config.adjustments;
    if expectation == "ignored" {
        assert!(adj.sockets.is_empty(), "{:?}", adj.sockets);
        assert_eq!(adj.listen.len(), 1);
        return;
    }
    let port: u16 = expectation
        .trim_start_matches("port:")
        .parse()
        .expect("port");
    assert_eq!(adj.sockets, vec![3]);
    assert!(adj.listen.is_empty());
    let listeners = bind_listeners(adj).expect("adopt fd 3");
    let [BoundListener::Tcp(listener)] = listeners.as_slice() else {
        panic!("one tcp listener expected");
    };
    assert_eq!(listener.local_addr().expect("addr").port(), port);
    assert_eq!(
        serving_urls(&listeners),
        vec![format!("http://127.0.0.1:{port}")]
    );
    // `--port` together with activation is a clear error
    let args = vec!["--port=1".to_owned(), "app:x".to_owned()];
    let err = parse_command_line(&args).expect_err("conflict");
    assert_eq!(
        err.message(),
        "port may not be set when systemd socket activation passes sockets (LISTEN_FDS)"
    );
}

/// Runs this test binary again with `listener` on fd 3 and `env_prefix`
/// (shell assignments) in its environment.
fn run_child(listener: &TcpListener, env_prefix: &str, expectation: &str) {
    let exe = std::env::current_exe().expect("test binary");
    let fd = listener.as_raw_fd();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "{env_prefix} exec \"$0\" --exact {TEST_NAME} --test-threads=1"
        ))
        .arg(exe)
        .env(CHILD, expectation)
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS");
    // SAFETY: only async-signal-safe calls (dup2/fcntl) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if fd == 3 {
                // dup2 onto itself keeps close-on-exec; clear it instead.
                if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().expect("spawn child");
    assert!(
        output.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 passed"), "child ran no test: {stdout}");
}

#[test]
fn systemd_socket_activation() {
    if let Ok(expectation) = std::env::var(CHILD) {
        child(&expectation);
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    run_child(
        &listener,
        "LISTEN_PID=$$ LISTEN_FDS=1",
        &format!("port:{port}"),
    );
    // variables meant for another process are ignored
    run_child(&listener, "LISTEN_PID=1 LISTEN_FDS=1", "ignored");
}
