//! The fuzz input format of the `apply` target and the invariants it checks.
//!
//! Shared by the cargo-fuzz target (`fuzz_targets/apply.rs`) and the stable
//! corpus replay test (`waitress-proxy/tests/fuzz_corpus.rs`, which includes
//! this file), so both decode inputs the same way. Std and waitress-proxy only.
//!
//! Input layout (missing bytes read as 0):
//! - byte 0, settings: bit 0 clear_untrusted_proxy_headers, bit 1
//!   log_untrusted_proxy_headers, bit 2 trusted_proxy_count given, bits 3-5
//!   the count (0..=7), bits 6-7 trusted_proxy: 0 unset, 1 `*`, 2 the peer's
//!   own address, 3 the text of field 0;
//! - byte 1, bits 0-5: trusted_proxy_headers (one bit per header, in
//!   `ProxyHeader::ALL` order); bit 6 writes the names in upper case;
//! - byte 2, bits 0-5: which of the six headers are present; bit 6 stages
//!   `wsgi.url_scheme` as `https` instead of `http`; bit 7 makes the peer a
//!   Unix-socket peer (`localhost`) instead of field 1;
//! - the rest: fields separated by NUL bytes, each decoded as latin-1 (one
//!   char per byte, as the server decodes header values): 0 trusted_proxy
//!   text, 1 peer, then the values of the six headers in `ProxyHeader::ALL`
//!   order.
//!
//! Invariants: `apply` never panics; for an untrusted peer the environ is
//! unchanged except for the removal of the six proxy headers when clearing
//! is on; for a trusted peer an error leaves the environ untouched, and a
//! success changes only the keys section 11 may change.

use std::collections::{BTreeMap, HashMap};

use waitress_proxy::{ProxyConfig, ProxyHeader, UNIX_PEER, apply, apply_collecting};

/// Keys `apply` may set for a trusted peer, besides the proxy headers.
const TRUSTED_WRITABLE_KEYS: [&str; 7] = [
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "REMOTE_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "wsgi.url_scheme",
];

/// A decoded fuzz input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub trusted_proxy: Option<String>,
    pub trusted_proxy_count: Option<usize>,
    pub trusted_proxy_headers: Vec<String>,
    pub clear: bool,
    pub log: bool,
    pub peer: String,
    pub scheme: &'static str,
    pub headers: Vec<(ProxyHeader, String)>,
}

impl Input {
    /// Decodes any byte string (never fails).
    pub fn decode(data: &[u8]) -> Input {
        let byte = |index: usize| data.get(index).copied().unwrap_or(0);
        let (settings, trusted_mask, present_mask) = (byte(0), byte(1), byte(2));
        let mut fields = data
            .get(3..)
            .unwrap_or_default()
            .split(|b| *b == 0)
            .map(latin1);
        let proxy_text = fields.next().unwrap_or_default();
        let peer_text = fields.next().unwrap_or_default();
        let peer = if present_mask & 0x80 != 0 {
            UNIX_PEER.to_owned()
        } else {
            peer_text
        };
        let trusted_proxy = match settings >> 6 {
            0 => None,
            1 => Some("*".to_owned()),
            2 => Some(peer.clone()),
            _ => Some(proxy_text),
        };
        let upper = trusted_mask & 0x40 != 0;
        let trusted_proxy_headers = ProxyHeader::ALL
            .iter()
            .enumerate()
            .filter(|(bit, _)| trusted_mask & (1 << bit) != 0)
            .map(|(_, header)| {
                let name = header.setting_name();
                if upper {
                    name.to_ascii_uppercase()
                } else {
                    name.to_owned()
                }
            })
            .collect();
        let headers = ProxyHeader::ALL
            .iter()
            .enumerate()
            .map(|(bit, header)| (bit, *header, fields.next().unwrap_or_default()))
            .filter(|(bit, _, _)| present_mask & (1 << bit) != 0)
            .map(|(_, header, value)| (header, value))
            .collect();
        Input {
            trusted_proxy,
            trusted_proxy_count: (settings & 0x04 != 0)
                .then_some(usize::from((settings >> 3) & 0x07)),
            trusted_proxy_headers,
            clear: settings & 0x01 != 0,
            log: settings & 0x02 != 0,
            peer,
            scheme: if present_mask & 0x40 != 0 {
                "https"
            } else {
                "http"
            },
            headers,
        }
    }

    /// The environ the server would stage for this request.
    pub fn environ(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let remote_port = if self.peer == UNIX_PEER {
            "None"
        } else {
            "40000"
        };
        for (key, value) in [
            ("REMOTE_ADDR", self.peer.as_str()),
            ("REMOTE_HOST", self.peer.as_str()),
            ("REMOTE_PORT", remote_port),
            ("SERVER_NAME", "waitress.invalid"),
            ("SERVER_PORT", "8080"),
            ("HTTP_HOST", "localhost:8080"),
            ("wsgi.url_scheme", self.scheme),
            ("PATH_INFO", "/"),
            ("HTTP_X_UNRELATED", "kept"),
        ] {
            env.insert(key.to_owned(), value.to_owned());
        }
        for (header, value) in &self.headers {
            env.insert(header.environ_key().to_owned(), value.clone());
        }
        env
    }

    fn config(&self) -> Result<ProxyConfig, String> {
        ProxyConfig::new(
            self.trusted_proxy.as_deref(),
            self.trusted_proxy_count,
            &self.trusted_proxy_headers,
            self.clear,
            self.log,
        )
    }
}

/// Latin-1: every byte is the char of the same code point.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

fn is_proxy_key(key: &str) -> bool {
    ProxyHeader::ALL.iter().any(|h| h.environ_key() == key)
}

/// Decodes `data`, runs `apply` and panics if an invariant does not hold.
pub fn check(data: &[u8]) {
    let input = Input::decode(data);
    let Ok(config) = input.config() else {
        return;
    };
    let before = input.environ();
    let mut after = before.clone();
    let result = apply(&config, &mut after);

    // The HashMap implementation of Environ behaves the same.
    let mut hashed: HashMap<String, String> = before.clone().into_iter().collect();
    let hashed_result = apply(&config, &mut hashed);
    assert_eq!(result, hashed_result, "HashMap and BTreeMap results differ");
    assert_eq!(
        after,
        hashed.into_iter().collect::<BTreeMap<_, _>>(),
        "HashMap and BTreeMap environs differ"
    );

    // apply_collecting agrees with apply.
    let mut collected = Vec::new();
    let mut again = before.clone();
    let collecting_result = apply_collecting(&config, &mut again, &mut collected);
    assert_eq!(
        again, after,
        "apply_collecting changed the environ differently"
    );
    match (&result, collecting_result) {
        (Ok(outcome), Ok(())) => assert_eq!(outcome.warnings, collected),
        (Err(a), Err(b)) => assert_eq!(a, &b),
        _ => panic!("apply and apply_collecting disagree"),
    }

    if !config.trusts(&input.peer) {
        check_untrusted(&config, &before, &after, result.map(|o| o.warnings));
        return;
    }
    match result {
        Err(err) => {
            assert_eq!(after, before, "an error must leave the environ untouched");
            assert_eq!(err.peer, input.peer);
            assert_eq!(
                err.detail(),
                format!("Header \"{}\" malformed.", err.header)
            );
            assert!(err.log_message().starts_with("Malformed proxy header \""));
        }
        Ok(_) => check_trusted(&config, &before, &after),
    }
}

/// The untrusted-peer invariant of the crate's contract.
fn check_untrusted(
    config: &ProxyConfig,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    result: Result<Vec<String>, waitress_proxy::ProxyError>,
) {
    let warnings = result.expect("an untrusted peer's headers are never an error");
    let mut expected = before.clone();
    if config.clears_untrusted_headers() {
        expected.retain(|key, _| !is_proxy_key(key));
    }
    assert_eq!(
        after, &expected,
        "untrusted peer: only proxy headers may be removed"
    );
    let removed = before.len() - after.len();
    let logged = config.logs_untrusted_headers() && removed > 0;
    assert_eq!(warnings.len(), usize::from(logged), "{warnings:?}");
}

/// What a trusted peer's headers may change.
fn check_trusted(
    config: &ProxyConfig,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) {
    for (key, value) in before {
        let writable = TRUSTED_WRITABLE_KEYS.contains(&key.as_str()) || is_proxy_key(key);
        if !writable {
            assert_eq!(after.get(key), Some(value), "{key} changed");
        }
    }
    for key in after.keys() {
        assert!(before.contains_key(key), "{key} was added");
    }
    for header in ProxyHeader::ALL {
        let key = header.environ_key();
        match (before.get(key), after.get(key)) {
            (Some(_), None) => assert!(!config.trusts_header(header), "trusted {key} removed"),
            (Some(original), Some(rewritten)) => {
                // A rewrite keeps a part of what the proxy sent, never new text.
                assert!(
                    original.contains(rewritten.as_str()),
                    "{key}: {rewritten:?}"
                );
                if !config.trusts_header(header) {
                    assert!(!config.clears_untrusted_headers(), "untrusted {key} kept");
                }
            }
            _ => {}
        }
    }
    let scheme = after.get("wsgi.url_scheme").map(String::as_str);
    assert!(
        matches!(scheme, Some("http" | "https")),
        "scheme {scheme:?}"
    );
    let remote = after
        .get("REMOTE_ADDR")
        .map(String::as_str)
        .unwrap_or_default();
    let before_remote = before
        .get("REMOTE_ADDR")
        .map(String::as_str)
        .unwrap_or_default();
    assert!(
        remote == before_remote || !remote.is_empty(),
        "REMOTE_ADDR became empty"
    );
    // The staged REMOTE_HOST equals REMOTE_ADDR, and P-09 keeps them equal.
    assert_eq!(after.get("REMOTE_HOST"), after.get("REMOTE_ADDR"));
}
