//! Running `waitress-cli` as a child process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server may take to print its `Serving on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stopping server may take to exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long `expect_log` waits for a line.
const LOG_TIMEOUT: Duration = Duration::from_secs(5);

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The target directory cargo builds into.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_relative() {
                workspace_root().join(p)
            } else {
                p
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `waitress-cli` binary of this build profile.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WAITRESS_CLI") {
        return PathBuf::from(path);
    }
    // Test executables live in target/<profile>/deps.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| target_dir().join("debug"));
    let bin = profile_dir.join(format!("waitress-cli{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p waitress-cli` (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// The virtualenv with Flask and Django that `cargo xtask test` prepares.
pub fn test_venv() -> PathBuf {
    let venv = std::env::var_os("WAITRESS_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("test-venv"));
    assert!(
        venv.join("pyvenv.cfg").exists(),
        "test virtualenv {} is missing: run the tests with `cargo xtask test`, which creates it",
        venv.display()
    );
    venv
}

/// Builder for a server process.
pub struct ServerBuilder {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
    listen: bool,
    /// A listening socket handed over as fd 3 with systemd's LISTEN_FDS.
    #[cfg(unix)]
    activation: Option<std::os::fd::OwnedFd>,
}

impl ServerBuilder {
    /// Serves `app` (e.g. `"hello:app"`) from `tests/apps`.
    pub fn new(app: &str) -> Self {
        Self {
            args: vec![app.to_string()],
            envs: Vec::new(),
            cwd: workspace_root().join("tests").join("apps"),
            listen: true,
            #[cfg(unix)]
            activation: None,
        }
    }

    /// No app argument at all (for error tests).
    pub fn bare() -> Self {
        Self {
            args: Vec::new(),
            envs: Vec::new(),
            cwd: workspace_root().join("tests").join("apps"),
            listen: true,
            #[cfg(unix)]
            activation: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.envs.push((key.to_string(), value.into()));
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = dir.into();
        self
    }

    /// Do not add `--listen=127.0.0.1:0` (the test gives its own).
    pub fn no_default_listen(mut self) -> Self {
        self.listen = false;
        self
    }

    /// Socket activation: `socket` becomes fd 3 of the server with
    /// `LISTEN_FDS=1` and `LISTEN_PID` set to the server's own pid.
    #[cfg(unix)]
    pub fn systemd_socket(mut self, socket: impl Into<std::os::fd::OwnedFd>) -> Self {
        self.activation = Some(socket.into());
        self.listen = false;
        self
    }

    fn command(&self) -> Command {
        let mut cmd = self.base_command();
        if self.listen {
            cmd.arg("--listen=127.0.0.1:0");
        }
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("VIRTUAL_ENV")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    /// The binary itself, or for socket activation a shell that puts the
    /// socket on fd 3 and sets LISTEN_PID to its own pid before exec'ing it.
    fn base_command(&self) -> Command {
        #[cfg(unix)]
        if let Some(fd) = &self.activation {
            use std::os::fd::AsRawFd;
            use std::os::unix::process::CommandExt;
            let raw = fd.as_raw_fd();
            let mut cmd = Command::new("/bin/sh");
            cmd.arg("-c")
                .arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"")
                .arg(binary());
            // SAFETY: dup2 and fcntl are async-signal-safe. When the socket
            // already is fd 3, dup2 is a no-op that keeps CLOEXEC: clear it.
            unsafe {
                cmd.pre_exec(move || {
                    if raw != 3 && libc::dup2(raw, 3) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            return cmd;
        }
        Command::new(binary())
    }

    /// Spawns the server with its output collected (and `Serving on`
    /// lines forwarded to `Server::banner`).
    fn spawn_logged(self) -> Server {
        let mut child = self.command().spawn().expect("spawn waitress-cli");
        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("Serving on ") {
                    let _ = tx.send(line.clone());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout piped");
        let out_sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                out_sink.lock().unwrap().push(format!("stdout: {line}"));
            }
        });
        Server {
            child,
            log,
            urls: Vec::new(),
            banner: Some(rx),
        }
    }

    /// Starts the server and waits for its first `Serving on` line.
    pub fn start(self) -> Server {
        let mut server = self.spawn_logged();
        let rx = server.banner.take().expect("a fresh server");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(line) => {
                    let url = line.split("Serving on ").nth(1).unwrap_or("").to_string();
                    server.urls.push(url);
                    // Other listeners print their lines right after the first.
                    while let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
                        let url = line.split("Serving on ").nth(1).unwrap_or("").to_string();
                        server.urls.push(url);
                    }
                    return server;
                }
                Err(_) => {
                    if let Ok(Some(status)) = server.child.try_wait() {
                        panic!(
                            "waitress-cli exited with {status} before serving:\n{}",
                            server.log_text()
                        );
                    }
                    if Instant::now() >= deadline {
                        panic!("waitress-cli did not start in time:\n{}", server.log_text());
                    }
                }
            }
        }
    }

    /// Starts a server that prints no `Serving on` line (a log level above
    /// INFO) and waits until `addr`, which the caller passed, accepts.
    pub fn start_quiet(self, addr: std::net::SocketAddr) -> Server {
        let mut server = Self {
            listen: false,
            ..self
        }
        .arg(format!("--listen={addr}"))
        .spawn_logged();
        server.urls.push(format!("http://{addr}"));
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while std::net::TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("waitress-cli exited with {status}:\n{}", server.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Runs the command to completion (for configuration errors).
    pub fn run_to_exit(self) -> (ExitStatus, String, String) {
        let mut cmd = self.command();
        let out = cmd.output().expect("run waitress-cli");
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A running server; killed on drop if still running.
pub struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// The URLs of the `Serving on` lines.
    pub urls: Vec<String>,
    banner: Option<mpsc::Receiver<String>>,
}

impl Server {
    /// The path of a unix-socket listener (`http://unix:/path`).
    pub fn unix_path(&self) -> PathBuf {
        let url = self.urls.first().expect("a Serving on line");
        PathBuf::from(url.strip_prefix("http://unix:").expect("a unix listener"))
    }

    /// The port of the first listener.
    pub fn port(&self) -> u16 {
        let url = self.urls.first().expect("a Serving on line");
        url.rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url}"))
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port()))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server printed so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits for a log line containing `needle`; panics with the whole log
    /// if none comes. The server writes its log from a background thread,
    /// so a line can reach us after the response that followed it.
    pub fn expect_log(&self, needle: &str) {
        assert!(
            self.wait_for_log(needle, LOG_TIMEOUT),
            "no log line containing {needle:?} in:\n{}",
            self.log_text()
        );
    }

    /// Waits until a log line containing `needle` appears.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends a signal (unix).
    #[cfg(unix)]
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("pid fits");
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Give the reader threads a moment to collect the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("server did not exit in time:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
