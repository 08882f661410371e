//! T-04, K-05, unix_socket and inherited sockets against the real OS.

use super::*;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};

fn adj_with(f: impl FnOnce(&mut Adjustments)) -> Adjustments {
    let mut adj = Adjustments::default();
    f(&mut adj);
    adj
}

fn local(listener: &BoundListener) -> SocketAddr {
    match listener.local_addr() {
        Ok(ListenerAddr::Tcp(addr)) => addr,
        other => panic!("not tcp: {other:?}"),
    }
}

fn int_opt(fd: i32, level: libc::c_int, option: libc::c_int) -> libc::c_int {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: valid out-pointers for one c_int.
    let rc = unsafe { libc::getsockopt(fd, level, option, (&raw mut value).cast(), &raw mut len) };
    assert_eq!(rc, 0, "getsockopt");
    value
}

fn fd_of(listener: &BoundListener) -> i32 {
    match listener {
        BoundListener::Tcp(l) => l.as_raw_fd(),
        BoundListener::Unix(l, _) => l.as_raw_fd(),
    }
}

#[test]
fn t04_tcp_listeners_reuseaddr_v6only_and_they_accept() {
    let adj = adj_with(|a| {
        a.listen = vec![
            "127.0.0.1:0".parse().expect("v4"),
            "[::1]:0".parse().expect("v6"),
        ]
    });
    let listeners = match bind_listeners(&adj) {
        Ok(l) => l,
        // a machine without IPv6 loopback cannot run the v6 half
        Err(e) if e.message().contains("[::1]") => return,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(listeners.len(), 2);
    for listener in &listeners {
        assert_eq!(
            int_opt(fd_of(listener), libc::SOL_SOCKET, libc::SO_REUSEADDR),
            1
        );
        assert_eq!(
            int_opt(fd_of(listener), libc::SOL_SOCKET, libc::SO_ACCEPTCONN),
            1
        );
    }
    assert_eq!(
        int_opt(fd_of(&listeners[1]), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY),
        1
    );
    let BoundListener::Tcp(server) = &listeners[0] else {
        panic!("tcp")
    };
    let mut client = TcpStream::connect(local(&listeners[0])).expect("connect");
    let (accepted, _) = server.accept().expect("accept");
    configure_accepted(&accepted).expect("configure");
    assert_eq!(
        int_opt(accepted.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY),
        1
    );
    client.write_all(b"x").expect("write");
    let urls = serving_urls(&listeners);
    assert_eq!(
        urls[0],
        format!("http://127.0.0.1:{}", local(&listeners[0]).port())
    );
    assert_eq!(
        urls[1],
        format!("http://[::1]:{}", local(&listeners[1]).port())
    );
}

#[test]
fn k05_serving_urls_bracket_v6_only_with_several_listeners() {
    let v6 = ListenerAddr::Tcp("[::1]:8080".parse().expect("v6"));
    let v4 = ListenerAddr::Tcp("127.0.0.1:8080".parse().expect("v4"));
    assert_eq!(
        serving_urls_for(std::slice::from_ref(&v6)),
        vec!["http://::1:8080".to_owned()]
    );
    assert_eq!(
        serving_urls_for(&[v4.clone(), v6]),
        vec![
            "http://127.0.0.1:8080".to_owned(),
            "http://[::1]:8080".to_owned()
        ]
    );
    assert_eq!(
        serving_urls_for(&[v4]),
        vec!["http://127.0.0.1:8080".to_owned()]
    );
    assert_eq!(
        serving_urls_for(&[ListenerAddr::Unix("/tmp/app.sock".into())]),
        vec!["http://unix:/tmp/app.sock".to_owned()]
    );
}

#[test]
fn address_in_use_is_a_bind_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    // without SO_REUSEADDR on the first socket a listening port stays taken
    let err = bind_listeners(&adj_with(|a| a.listen = vec![addr])).expect_err("in use");
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.message()
            .starts_with(&format!("cannot listen on {addr}: ")),
        "{err}"
    );
}

#[test]
fn unix_socket_perms_stale_socket_and_cleanup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.sock");
    // a stale socket file from an earlier run
    drop(std::os::unix::net::UnixListener::bind(&path).expect("stale"));
    assert!(
        std::fs::symlink_metadata(&path)
            .expect("exists")
            .file_type()
            .is_socket()
    );
    let adj = adj_with(|a| {
        a.unix_socket = Some(path.clone());
        a.unix_socket_perms = 0o660;
        a.listen.clear();
    });
    let listeners = bind_listeners(&adj).expect("bind over stale socket");
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o660);
    assert_eq!(
        serving_urls(&listeners),
        vec![format!("http://unix:{}", path.display())]
    );
    let BoundListener::Unix(server, _) = &listeners[0] else {
        panic!("unix")
    };
    let mut client = std::os::unix::net::UnixStream::connect(&path).expect("connect");
    let (mut conn, _) = server.accept().expect("accept");
    client.write_all(b"ping").expect("write");
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).expect("read");
    assert_eq!(&buf, b"ping");
    drop(listeners);
    cleanup_unix_sockets(&adj).expect("cleanup");
    assert!(!path.exists());
    cleanup_unix_sockets(&adj).expect("cleanup twice is fine");
}

#[test]
fn unix_socket_refuses_to_replace_other_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data.txt");
    std::fs::write(&path, b"keep me").expect("write");
    let adj = adj_with(|a| a.unix_socket = Some(path.clone()));
    let err = bind_listeners(&adj).expect_err("regular file");
    assert_eq!(
        err.message(),
        format!("unix_socket: {} exists and is not a socket", path.display())
    );
    assert_eq!(std::fs::read(&path).expect("still there"), b"keep me");
    cleanup_unix_sockets(&adj).expect("leaves other files alone");
    assert!(path.exists());
}

#[test]
fn inherited_sockets_are_adopted_by_duplicate() {
    let original = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = original.local_addr().expect("addr");
    let adj = adj_with(|a| {
        a.sockets = vec![original.as_raw_fd()];
        a.listen.clear();
    });
    let listeners = bind_listeners(&adj).expect("adopt");
    assert_eq!(local(&listeners[0]), addr);
    assert_ne!(fd_of(&listeners[0]), original.as_raw_fd());
    // adopting twice is fine: each call owns its own duplicate
    let again = bind_listeners(&adj).expect("adopt again");
    drop(listeners);
    let BoundListener::Tcp(server) = &again[0] else {
        panic!("tcp")
    };
    let _client = TcpStream::connect(addr).expect("connect");
    server.accept().expect("accept through the duplicate");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("inherited.sock");
    let unix = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    let adj = adj_with(|a| a.sockets = vec![unix.as_raw_fd()]);
    let listeners = bind_listeners(&adj).expect("adopt unix");
    assert_eq!(
        serving_urls(&listeners),
        vec![format!("http://unix:{}", path.display())]
    );
    // inherited sockets are not ours to clean up
    cleanup_unix_sockets(&adj).expect("cleanup");
    assert!(path.exists());
}

#[test]
fn adopting_a_closed_descriptor_fails_cleanly() {
    let adj = adj_with(|a| a.sockets = vec![-1]);
    assert!(
        bind_listeners(&adj)
            .expect_err("bad fd")
            .message()
            .starts_with("cannot listen on inherited socket -1")
    );
}

#[test]
fn wildcard_listen_binds_every_family_side_by_side() {
    let adj = crate::adjustments_from_strings(&[("listen", "*:0")]).expect("wildcard");
    let families: Vec<bool> = adj.listen.iter().map(SocketAddr::is_ipv6).collect();
    assert!(families.contains(&false), "{:?}", adj.listen);
    let listeners = bind_listeners(&adj).expect("v4 and v6 wildcards bind together (v6-only)");
    assert_eq!(listeners.len(), adj.listen.len());
    for listener in &listeners {
        assert!(local(listener).ip().is_unspecified());
        assert_ne!(local(listener).port(), 0);
    }
    // the same port on both families: possible only because of IPV6_V6ONLY
    if listeners.len() == 2 {
        let port = listeners.first().map(local).map_or(0, |a| a.port());
        drop(listeners);
        let spec = format!("*:{port}");
        let same =
            crate::adjustments_from_strings(&[("listen", spec.as_str())]).expect("same port");
        let both = bind_listeners(&same).expect("v4 and v6 on one port");
        assert_eq!(
            both.iter().map(|l| local(l).port()).collect::<Vec<_>>(),
            vec![port; 2]
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn each_worker_gets_its_own_socket_on_the_same_port_and_connections_spread() {
    let adj = adj_with(|a| a.listen = vec!["127.0.0.1:0".parse().expect("v4")]);
    let groups = bind_listener_groups(&adj, 3).expect("bound");
    assert_eq!(groups.len(), 3);
    let port = local(&groups[0][0]).port();
    for group in &groups {
        assert_eq!(group.len(), 1);
        assert_eq!(local(&group[0]).port(), port);
        assert_eq!(
            int_opt(fd_of(&group[0]), libc::SOL_SOCKET, libc::SO_REUSEPORT),
            1
        );
    }
    // 60 connections hashed over 3 sockets: each gets some (the chance of
    // one getting none is below 1e-10).
    let clients: Vec<_> = (0..60)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    for group in &groups {
        let BoundListener::Tcp(listener) = &group[0] else {
            panic!("tcp");
        };
        listener.set_nonblocking(true).expect("nonblocking");
        assert!(listener.accept().is_ok(), "a socket got no connection");
    }
    drop(clients);
}

#[test]
fn one_worker_or_a_unix_socket_gets_one_shared_set() {
    let adj = adj_with(|a| a.listen = vec!["127.0.0.1:0".parse().expect("v4")]);
    let groups = bind_listener_groups(&adj, 1).expect("bound");
    assert_eq!(groups.len(), 1);
    assert_eq!(
        int_opt(fd_of(&groups[0][0]), libc::SOL_SOCKET, libc::SO_REUSEPORT),
        0
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("w.sock");
    let adj = adj_with(|a| a.unix_socket = Some(path.clone()));
    let groups = bind_listener_groups(&adj, 4).expect("bound");
    assert_eq!(groups.len(), 1);
    assert!(matches!(groups[0][0], BoundListener::Unix(..)));
}

#[cfg(target_os = "linux")]
#[test]
fn a_port_held_without_reuse_port_still_refuses_worker_sockets() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let err = bind_listener_groups(&adj_with(|a| a.listen = vec![addr]), 2).expect_err("in use");
    assert!(
        err.message()
            .starts_with(&format!("cannot listen on {addr}: ")),
        "{err}"
    );
}
