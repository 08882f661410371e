//! Shared helpers of the integration tests: a staged environ as the server
//! builds it, and a runner that checks every key of the result.

#![allow(dead_code)]

use std::collections::BTreeMap;

use waitress_proxy::{Outcome, ProxyConfig, ProxyError, apply_collecting};

pub type Env = BTreeMap<String, String>;

/// The environ the server stages for a TCP request from `peer` to port 8080
/// (section 10), plus the given request headers (CGI keys).
pub fn staged(peer: &str, headers: &[(&str, &str)]) -> Env {
    let mut env = Env::new();
    let base = [
        ("REMOTE_ADDR", peer),
        ("REMOTE_HOST", peer),
        ("REMOTE_PORT", "54321"),
        ("SERVER_NAME", "waitress.invalid"),
        ("SERVER_PORT", "8080"),
        ("HTTP_HOST", "localhost:8080"),
        ("wsgi.url_scheme", "http"),
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/"),
        ("HTTP_X_OTHER", "kept"),
    ];
    for (key, value) in base.into_iter().chain(headers.iter().copied()) {
        env.insert(key.to_owned(), value.to_owned());
    }
    env
}

/// Settings of one case.
#[derive(Clone, Copy)]
pub struct Settings<'a> {
    pub trusted_proxy: Option<&'a str>,
    pub count: Option<usize>,
    pub headers: &'a [&'a str],
    pub clear: bool,
    pub log: bool,
}

impl<'a> Settings<'a> {
    /// waitress's defaults: no trusted proxy, clearing on, logging off.
    pub const DEFAULT: Settings<'static> = Settings {
        trusted_proxy: None,
        count: None,
        headers: &[],
        clear: true,
        log: false,
    };

    /// Trust `proxy` for `headers` with `count` hops.
    pub fn trust(proxy: &'a str, count: usize, headers: &'a [&'a str]) -> Self {
        Settings {
            trusted_proxy: Some(proxy),
            count: Some(count),
            headers,
            clear: true,
            log: false,
        }
    }

    pub fn config(self) -> ProxyConfig {
        let headers: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        ProxyConfig::new(
            self.trusted_proxy,
            self.count,
            &headers,
            self.clear,
            self.log,
        )
        .unwrap_or_else(|e| panic!("config: {e}"))
    }
}

/// Runs `apply` and returns the result, the resulting environ and every warning.
pub fn run(
    settings: Settings<'_>,
    peer: &str,
    headers: &[(&str, &str)],
) -> (Result<Outcome, ProxyError>, Env, Vec<String>) {
    let config = settings.config();
    let mut env = staged(peer, headers);
    let mut collected = Vec::new();
    let result = apply_collecting(&config, &mut env, &mut collected);
    // `apply` must agree with `apply_collecting`.
    let mut env_again = staged(peer, headers);
    let plain = waitress_proxy::apply(&config, &mut env_again);
    assert_eq!(env, env_again, "apply and apply_collecting differ");
    match (&result, &plain) {
        (Ok(()), Ok(outcome)) => assert_eq!(outcome.warnings, collected),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("apply and apply_collecting disagree"),
    }
    (plain, env, collected)
}

/// Asserts that the environ equals the staged one with exactly `changes`
/// applied (`None` = removed): every other key must be untouched.
pub fn assert_changes(
    name: &str,
    peer: &str,
    headers: &[(&str, &str)],
    env: &Env,
    changes: &[(&str, Option<&str>)],
) {
    let mut expected = staged(peer, headers);
    for (key, value) in changes {
        match value {
            Some(value) => expected.insert((*key).to_owned(), (*value).to_owned()),
            None => expected.remove(*key),
        };
    }
    assert_eq!(env, &expected, "case {name}");
}
