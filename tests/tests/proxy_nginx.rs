//! Issue 5 end to end: waitress-cli behind a real nginx (Debian package),
//! trusting it for X-Forwarded-*; the same headers sent directly by a client
//! are removed (P-01..P-04, P-06, P-09).

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use waitress_tests::client::Reader;
use waitress_tests::{Server, ServerBuilder};

/// The client's own loopback address, distinct from nginx's 127.0.0.1.
const CLIENT_IP: [u8; 4] = [127, 0, 0, 2];

fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!("nginx is not installed: `apt-get install nginx-light` (.ci/run does this)");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Nginx {
    child: Child,
    port: u16,
    _dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(upstream: SocketAddr) -> Nginx {
    let dir = std::env::temp_dir().join(format!("waitress-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
           fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
               proxy_pass http://{upstream};\n      proxy_http_version 1.1;\n\
               proxy_set_header Host $host;\n\
               proxy_set_header X-Forwarded-For $remote_addr;\n\
               proxy_set_header X-Forwarded-Proto https;\n\
               proxy_set_header X-Forwarded-Host public.example;\n\
               proxy_set_header X-Forwarded-Port 8443;\n    }}\n  }}\n}}\n"
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx {
        child,
        port,
        _dir: dir,
    }
}

/// Connects from 127.0.0.2 so the client's address differs from nginx's.
fn connect_from_client_ip(addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from((CLIENT_IP, 0)).into())
        .unwrap();
    socket.connect(&addr.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

fn get_environ(addr: SocketAddr, extra_headers: &str) -> String {
    let mut stream = connect_from_client_ip(addr);
    write!(
        stream,
        "GET /path?q=1 HTTP/1.1\r\nHost: direct.example\r\n{extra_headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = Reader::new(stream);
    let resp = reader.response(false);
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.text()
}

fn start_server() -> Server {
    ServerBuilder::new("environ_dump:app")
        .no_default_listen()
        .arg("--listen=127.0.0.1:0")
        .arg("--trusted-proxy=127.0.0.1")
        .arg("--trusted-proxy-headers=x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port")
        .start()
}

#[test]
fn behind_nginx_the_app_sees_the_client_address_and_scheme() {
    let server = start_server();
    let nginx = start_nginx(server.addr());
    let env = get_environ(SocketAddr::from(([127, 0, 0, 1], nginx.port)), "");
    assert!(
        env.contains("\"REMOTE_ADDR\": \"127.0.0.2\""),
        "P-04/P-09: {env}"
    );
    assert!(env.contains("\"REMOTE_HOST\": \"127.0.0.2\""), "{env}");
    assert!(
        env.contains("\"wsgi.url_scheme\": \"https\""),
        "P-06/P-09: {env}"
    );
    assert!(
        env.contains("\"SERVER_NAME\": \"public.example\""),
        "P-05/P-09: {env}"
    );
    assert!(env.contains("\"SERVER_PORT\": \"8443\""), "P-09: {env}");
    assert!(
        env.contains("\"HTTP_HOST\": \"public.example:8443\""),
        "P-09: {env}"
    );
}

#[test]
fn the_same_headers_sent_directly_are_removed() {
    let server = start_server();
    let env = get_environ(
        server.addr(),
        "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Port: 1\r\n",
    );
    assert!(env.contains("\"REMOTE_ADDR\": \"127.0.0.2\""), "{env}");
    assert!(env.contains("\"wsgi.url_scheme\": \"http\""), "{env}");
    assert!(
        env.contains("\"SERVER_NAME\": \"waitress.invalid\""),
        "{env}"
    );
    assert!(env.contains("\"HTTP_HOST\": \"direct.example\""), "{env}");
    assert!(
        !env.contains("X_FORWARDED"),
        "P-03: untrusted proxy headers removed: {env}"
    );
}
