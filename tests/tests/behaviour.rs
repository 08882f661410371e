//! Issue 6: waitress behaviours of a running server, through the real binary.
//! Each test names the spec ids it covers.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use waitress_tests::client::Reader;
use waitress_tests::{ServerBuilder, connect, request};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

#[test]
fn e02_100_continue_exchange() {
    let server = ServerBuilder::new("echo:app").start();
    let mut reader = Reader::new(connect(server.addr()));
    reader.write(
        b"POST /read HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    );
    // The 100 comes before any body byte was sent.
    let interim = reader.response(false);
    assert_eq!(interim.status, 100);
    assert!(interim.headers.is_empty(), "E-02: no headers on the 100");
    reader.write(b"hello");
    let resp = reader.response(false);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello");
}

#[test]
fn d09_expect_without_body_is_dispatched_at_once() {
    let server = ServerBuilder::new("hello:app").start();
    let resp = request(
        server.addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(resp.status, 200, "D-09: no 100, the request is served");
}

#[test]
fn b15_two_mebibyte_upload_spills_to_disk_and_reads_back_intact() {
    let server = ServerBuilder::new("behaviour:app")
        .arg("--inbuf-overflow=65536")
        .start();
    let body: Vec<u8> = (0..2 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let mut raw = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let resp = request(server.addr(), &raw);
    assert_eq!(
        resp.header("X-Spilled"),
        Some("1"),
        "the body is in a temp file"
    );
    assert_eq!(resp.body.len(), body.len());
    assert!(resp.body == body, "body read back differs");

    // A small body stays in memory.
    let resp = request(
        server.addr(),
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(resp.header("X-Spilled"), Some("0"));
    assert_eq!(resp.body, b"abc");
}

#[test]
fn b14_chunked_upload_is_decoded() {
    let server = ServerBuilder::new("echo:app").start();
    let resp = request(
        server.addr(),
        b"POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
    );
    assert_eq!(resp.body, b"hello world");
    assert_eq!(resp.header("X-Content-Length"), Some("11"), "B-13");
}

#[test]
fn r13_slow_reader_does_not_stall_other_clients() {
    // 8 MiB streamed to a client that does not read, with a small watermark:
    // the worker waits for room without blocking other connections.
    slow_reader_leaves_other_clients_served(&["--outbuf-high-watermark=65536"]);
}

#[test]
fn a_slow_readers_output_does_not_hold_up_other_workers() {
    // With the default watermark the worker produces all 8 MiB while the
    // connection task is stuck writing, 16 times the server's write backlog
    // limit: other clients are still served (the accounting that leaves
    // such output out is unit-tested in waitress-server's response.rs).
    slow_reader_leaves_other_clients_served(&[]);
}

fn slow_reader_leaves_other_clients_served(args: &[&str]) {
    let mut builder = ServerBuilder::new("behaviour:app").arg("--threads=2");
    for arg in args {
        builder = builder.arg(*arg);
    }
    let server = builder.start();
    let mut slow = connect(server.addr());
    slow.write_all(&get("/stream?name=slow&count=8192&size=1024"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    for _ in 0..20 {
        let resp = request(server.addr(), &get("/fast"));
        assert_eq!(resp.status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "other clients were stalled"
    );
    // Now drain the slow one completely: every byte arrives in order.
    let mut reader = Reader::new(slow);
    let resp = reader.response(false);
    assert_eq!(resp.body.len(), 8192 * 1024);
    for (i, chunk) in resp.body.chunks(1024).enumerate() {
        assert_eq!(&chunk[..8], format!("{i:08}").as_bytes());
    }
}

#[test]
fn r13_client_disconnect_mid_stream_stops_iteration_and_closes() {
    let server = ServerBuilder::new("behaviour:app")
        .arg("--outbuf-high-watermark=16384")
        .start();
    {
        let mut s = connect(server.addr());
        s.write_all(&get("/stream?name=gone&count=100000&size=1024&delay=0.001"))
            .unwrap();
        let mut first = [0u8; 4096];
        let _ = s.read(&mut first).unwrap();
        // Dropping the socket disconnects mid-stream.
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = request(server.addr(), &get("/events")).text();
        if events.contains("closed:gone") {
            break;
        }
        assert!(Instant::now() < deadline, "close() not called: {events}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.expect_log("INFO:waitress:Client disconnected while serving /stream");
}

#[test]
fn w03_file_wrapper_sends_ten_mebibytes_byte_identical() {
    let dir = std::env::temp_dir().join(format!("waitress-fw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ten.bin");
    let data: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    std::fs::write(&path, &data).unwrap();
    let server = ServerBuilder::new("behaviour:app").start();
    let resp = request(
        server.addr(),
        &get(&format!("/file?path={}", path.display())),
    );
    assert_eq!(resp.status, 200);
    // W-03: a seekable file gets its size as Content-Length.
    assert_eq!(
        resp.header("Content-Length"),
        Some(data.len().to_string().as_str())
    );
    assert!(resp.body == data, "file body differs");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn w03_file_wrapper_is_sent_without_reading_through_python() {
    let dir = std::env::temp_dir().join(format!("waitress-fw0-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let server = ServerBuilder::new("behaviour:app").start();
    // From the file's current position (W-03): the first 1000 bytes skipped.
    let resp = request(
        server.addr(),
        &get(&format!(
            "/file-counted?name=zc&skip=1000&path={}",
            path.display()
        )),
    );
    assert_eq!(resp.header("Content-Length"), Some("299000"));
    assert!(resp.body == data[1000..], "body differs");
    // HEAD: same headers, no body, the file still closed (D-11, W-01).
    let resp = request(
        server.addr(),
        format!(
            "HEAD /file-counted?name=head&path={} HTTP/1.1\r\nHost: x\r\n\r\n",
            path.display()
        )
        .as_bytes(),
    );
    assert_eq!(resp.header("Content-Length"), Some("300000"));
    let events = request(server.addr(), &get("/events")).text();
    assert!(events.contains("file:zc reads=0"), "{events}");
    assert!(events.contains("file:head reads=0"), "{events}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn t01_idle_connections_are_reaped() {
    let server = ServerBuilder::new("hello:app")
        .arg("--channel-timeout=1")
        .arg("--cleanup-interval=1")
        .start();
    // An idle keep-alive connection and one with half a head.
    let mut idle = connect(server.addr());
    idle.write_all(&get("/")).unwrap();
    let mut reader = Reader::new(idle);
    assert_eq!(reader.response(false).status, 200);
    let mut partial = connect(server.addr());
    partial.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    let started = Instant::now();
    assert!(reader.is_closed(), "idle keep-alive connection closed");
    let mut buf = Vec::new();
    assert_eq!(partial.read_to_end(&mut buf).unwrap(), 0, "closed silently");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn t02_a_request_being_served_is_never_timed_out() {
    let server = ServerBuilder::new("behaviour:app")
        .arg("--channel-timeout=1")
        .arg("--cleanup-interval=1")
        .start();
    let resp = request(server.addr(), &get("/sleep?s=2.5"));
    assert_eq!(resp.body, b"slept");
}

#[test]
fn t03_connection_limit_reached_and_recovered() {
    let server = ServerBuilder::new("hello:app")
        .arg("--connection-limit=2")
        .start();
    let a = connect(server.addr());
    let b = connect(server.addr());
    server.expect_log("WARNING:waitress:total open connections reached the connection limit, no longer accepting new connections");
    // A third client waits in the backlog...
    let mut c = connect(server.addr());
    c.write_all(&get("/")).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert!(
        c.read(&mut buf).is_err(),
        "D-17: not served while at the limit"
    );
    // ...and is served once one closes.
    drop(a);
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = Reader::new(c);
    assert_eq!(reader.response(false).status, 200);
    server.expect_log(
        "INFO:waitress:total open connections dropped below the connection limit, listening again",
    );
    drop(b);
}

#[test]
fn task_queue_depth_warning_with_one_thread() {
    let server = ServerBuilder::new("behaviour:app")
        .arg("--threads=1")
        .start();
    let addr = server.addr();
    let clients: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100 * i));
                request(addr, &get("/sleep?s=0.4")).status
            })
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 200);
    }
    server.expect_log("WARNING:waitress.queue:Task queue depth is 1");
    server.expect_log("WARNING:waitress.queue:Task queue depth is 2");
}

#[cfg(unix)]
#[test]
fn d18_graceful_shutdown_answers_requests_in_flight() {
    let mut server = ServerBuilder::new("behaviour:app")
        .arg("--threads=4")
        .start();
    let addr = server.addr();
    let in_flight: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut reader = Reader::new(connect(addr));
                reader.write(&get("/sleep?s=1"));
                reader.response(false)
            })
        })
        .collect();
    // A keep-alive connection that already had its response is idle.
    let mut idle_reader = Reader::new(connect(addr));
    idle_reader.write(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(idle_reader.response(false).status, 200);
    // A connection accepted before the stop whose request comes just after.
    let late = connect(addr);
    std::thread::sleep(Duration::from_millis(300));
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    let mut late = Reader::new(late);
    late.write(&get("/late"));
    let resp = late.response(false);
    assert_eq!(
        resp.body, b"ok /late",
        "an accepted connection is not dropped"
    );
    assert_eq!(resp.header("Connection"), Some("close"));
    for t in in_flight {
        let resp = t.join().unwrap();
        assert_eq!(resp.body, b"slept");
        assert_eq!(resp.header("Connection"), Some("close"), "D-18");
    }
    assert!(
        idle_reader.is_closed(),
        "idle connection closed at shutdown"
    );
    let status = server.wait_exit();
    assert!(status.success(), "{status}\n{}", server.log_text());
    // New connections are refused once the server stopped accepting.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn c07_lookahead_lets_the_app_see_a_client_disconnect() {
    let server = ServerBuilder::new("behaviour:app")
        .arg("--channel-request-lookahead=1")
        .start();
    {
        let mut s = connect(server.addr());
        s.write_all(&get("/disconnected?wait=5")).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let events = request(server.addr(), &get("/events")).text();
        if events.contains("client_disconnected:True") {
            break;
        }
        assert!(!events.contains("client_disconnected:False"), "{events}");
        assert!(Instant::now() < deadline, "disconnect not seen: {events}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn c06_without_lookahead_request_then_half_close_still_gets_its_response() {
    let server = ServerBuilder::new("behaviour:app").start();
    let mut s = connect(server.addr());
    s.write_all(&get("/sleep?s=0.3")).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.ends_with("slept"), "{text}");
}

/// Deleted temporary files the process holds open.
fn spilled_files(pid: u32) -> usize {
    let tmp = std::env::temp_dir().canonicalize().unwrap();
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter(|t| t.starts_with(&tmp) && t.to_string_lossy().ends_with("(deleted)"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn r13_output_past_outbuf_overflow_spills_to_a_temp_file() {
    let server = ServerBuilder::new("behaviour:app")
        .arg("--outbuf-overflow=65536")
        .arg("--outbuf-high-watermark=4194304")
        .start();
    assert_eq!(spilled_files(server.pid()), 0);
    let mut slow = connect(server.addr());
    slow.write_all(&get("/stream?name=spill&count=4096&size=2048"))
        .unwrap();
    // The client reads nothing: output beyond 64 KiB goes to a temp file.
    let deadline = Instant::now() + Duration::from_secs(10);
    while spilled_files(server.pid()) == 0 {
        assert!(Instant::now() < deadline, "no spill file appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut reader = Reader::new(slow);
    let resp = reader.response(false);
    assert_eq!(resp.body.len(), 4096 * 2048);
    for (i, chunk) in resp.body.chunks(2048).enumerate() {
        assert_eq!(
            &chunk[..8],
            format!("{i:08}").as_bytes(),
            "chunk {i} in order"
        );
    }
}

#[test]
fn t02_blocking_requests_run_concurrently_up_to_threads() {
    // Four requests that each block 0.6 s with the GIL released: with
    // threads=4 they overlap (about 0.6 s in all), serially they would take
    // 2.4 s. Waking workers lazily must not serialise them.
    let server = ServerBuilder::new("behaviour:app")
        .arg("--threads=4")
        .start();
    let addr = server.addr();
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || request(addr, &get("/sleep?s=0.6")).status))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 200);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1800), "serialised: {took:?}");
}

#[test]
fn a_response_is_not_held_back_while_its_worker_serves_a_slow_request() {
    // Under load a worker may leave the wake-up of a connection task in a
    // batch (waitress-server's wake_batch): three quick requests queued
    // behind a busy worker, then a 3 s one. The quick answers must go out
    // when they are ready, not when the worker is done with the slow one.
    let server = ServerBuilder::new("behaviour:app")
        .arg("--threads=1")
        .start();
    let addr = server.addr();
    let client = |path: &'static str, after_ms: u64| {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(after_ms));
            let status = request(addr, &get(path)).status;
            (status, Instant::now())
        })
    };
    let busy = client("/sleep?s=0.3", 0);
    let quick: Vec<_> = (0..3).map(|i| client("/sleep?s=0", 100 + 20 * i)).collect();
    let slow = client("/sleep?s=3", 200);
    assert_eq!(busy.join().unwrap().0, 200);
    let (status, slow_done) = slow.join().unwrap();
    assert_eq!(status, 200);
    for q in quick {
        let (status, done) = q.join().unwrap();
        assert_eq!(status, 200);
        assert!(
            done + Duration::from_secs(2) < slow_done,
            "a quick response waited for the slow request"
        );
    }
}

#[test]
fn t02_a_cpu_bound_request_does_not_hold_up_quick_ones() {
    // The pool keeps a second worker asleep while the running one is busy
    // in Python (waking it only trades the GIL), but not for longer than a
    // GIL switch interval: a 1.5 s CPU-bound request must not make a quick
    // one wait for it, as waitress's threads would share the GIL.
    let server = ServerBuilder::new("behaviour:app")
        .arg("--threads=2")
        .start();
    let addr = server.addr();
    let spin = std::thread::spawn(move || {
        let status = request(addr, &get("/spin?s=1.5")).status;
        (status, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(request(addr, &get("/sleep?s=0")).status, 200);
    let quick_done = Instant::now();
    let (status, spin_done) = spin.join().unwrap();
    assert_eq!(status, 200);
    assert!(
        quick_done < spin_done,
        "the quick request waited for the CPU-bound one"
    );
}

#[cfg(unix)]
#[test]
fn d18_shutdown_runs_atexit_and_app_logging_works() {
    let marker = std::env::temp_dir().join(format!("waitress-atexit-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let mut server = ServerBuilder::new("atexit_app:app")
        .env("ATEXIT_MARKER", marker.display().to_string())
        .start();
    assert_eq!(request(server.addr(), &get("/x")).status, 200);
    // K-05: logging.basicConfig() is in place for the app's own loggers.
    server.expect_log("WARNING:atexit_app:app log line from /x");
    server.signal(libc::SIGINT);
    assert!(server.wait_exit().success());
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "atexit ran");
    let _ = std::fs::remove_file(&marker);
}

/// log lines name the decoded request path as it came, whether PATH_INFO
/// is that path itself or what U-05 and U-07 made of it.
#[test]
fn x04_log_lines_name_the_decoded_path_before_u05_u07() {
    for (prefix, target, logged) in [
        (None, "/raise", "/raise"),
        (None, "/%72aise", "/raise"),
        (None, "//raise", "//raise"),
        (Some("--url-prefix=/app"), "/app/raise", "/app/raise"),
    ] {
        let mut builder = ServerBuilder::new("failing:app");
        if let Some(arg) = prefix {
            builder = builder.arg(arg);
        }
        let server = builder.start();
        let resp = request(server.addr(), &get(target));
        assert_eq!(resp.status, 500, "{target}");
        let line = format!("ERROR:waitress:Exception while serving {logged}");
        server.expect_log(&line);
        assert!(
            server.log_text().lines().any(|l| l.ends_with(&line)),
            "{target}: {}",
            server.log_text()
        );
    }
}

#[test]
fn log_level_filters_waitress_messages() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let server = ServerBuilder::new("failing:app")
        .arg("--log-level=error")
        .start_quiet(addr);
    let resp = request(addr, &get("/raise"));
    assert_eq!(resp.status, 500);
    server.expect_log("ERROR:waitress:Exception while serving /raise");
    // No INFO line at level error, not even "Serving on".
    assert!(
        !server.log_text().contains("INFO:"),
        "{}",
        server.log_text()
    );
}
