//! A complete request as the connection task hands it to a worker: the head,
//! the staged CGI variables (after proxy rules), and the body.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use waitress_core::BodyReader;
use waitress_proto::{CgiName, RequestHead, Version};

/// Per-connection facts that end up in the environ (section 10). Shared
/// text: every request's environ refers to them instead of copying.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Peer IP (IPv6 without brackets); `localhost` for Unix sockets.
    pub remote_addr: Arc<str>,
    /// Peer port; the string `None` for Unix sockets.
    pub remote_port: Arc<str>,
    /// The accepting socket's port; the socket path for Unix sockets.
    pub server_port: Arc<str>,
}

/// A staged value. Per-server and per-connection values are shared rather
/// than copied into each request: the connection task allocates, and the
/// worker frees, about a third fewer blocks per request (each such pair is
/// a trip through the malloc arena lock both threads use).
#[derive(Debug, Clone)]
enum Text {
    Owned(String),
    Shared(Arc<str>),
    Static(&'static str),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            Text::Shared(s) => s,
            Text::Static(s) => s,
        }
    }
}

/// Methods staged as static text rather than the parsed copy (the worker
/// has a ready-made Python string for each).
pub static KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/// The CGI variables every request has (section 10), in a fixed order so
/// the Python side can use pre-interned key objects.
pub const CGI_KEYS: [&str; 12] = [
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "REQUEST_URI",
    "SERVER_PROTOCOL",
    "SERVER_NAME",
    "SERVER_PORT",
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "REMOTE_PORT",
    "wsgi.url_scheme",
];

/// The per-request CGI variables, staged in Rust so the proxy rules can be
/// applied before any Python runs: the fixed keys in slots, then
/// `CONTENT_TYPE`, `CONTENT_LENGTH` and the `HTTP_*` keys from the head.
///
/// A header can never overwrite a CGI key (section 10): header-derived keys
/// are `CONTENT_*` or start with `HTTP_`, and none of the fixed keys does.
#[derive(Debug, Default, Clone)]
pub struct Staged {
    fixed: [Option<Text>; CGI_KEYS.len()],
    headers: Vec<(CgiName, String)>,
}

/// Slots of `CGI_KEYS` whose values many requests share.
pub const SLOT_METHOD: usize = 0;
pub const SLOT_PATH_INFO: usize = 2;
pub const SLOT_PROTOCOL: usize = 5;
pub const SLOT_SERVER_NAME: usize = 6;
pub const SLOT_URL_SCHEME: usize = 11;

fn slot(key: &str) -> Option<usize> {
    CGI_KEYS.iter().position(|k| *k == key)
}

impl Staged {
    /// The fixed variables present, with their index into `CGI_KEYS`.
    pub fn fixed(&self) -> impl Iterator<Item = (usize, &str)> {
        self.fixed
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i, v.as_str())))
    }

    /// PATH_INFO as staged (`""` if a proxy rule removed it).
    pub fn path_info(&self) -> &str {
        self.fixed[SLOT_PATH_INFO].as_ref().map_or("", Text::as_str)
    }

    /// The header-derived variables.
    pub fn headers(&self) -> impl Iterator<Item = (&CgiName, &str)> {
        self.headers.iter().map(|(k, v)| (k, v.as_str()))
    }
}

impl waitress_proxy::Environ for Staged {
    fn get(&self, key: &str) -> Option<&str> {
        match slot(key) {
            Some(i) => self.fixed[i].as_ref().map(Text::as_str),
            None => self
                .headers
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
        }
    }

    fn set(&mut self, key: &str, value: String) {
        if let Some(i) = slot(key) {
            self.fixed[i] = Some(Text::Owned(value));
            return;
        }
        match self.headers.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.headers.push((CgiName::Owned(key.to_string()), value)),
        }
    }

    fn remove(&mut self, key: &str) {
        match slot(key) {
            Some(i) => self.fixed[i] = None,
            None => self.headers.retain(|(k, _)| k != key),
        }
    }
}

/// Settings the staging needs, fixed for the server's life.
#[derive(Debug, Clone)]
pub struct EnvironSettings {
    pub url_prefix: String,
    pub url_scheme: Arc<str>,
    pub server_name: Arc<str>,
}

/// Builds the request-specific CGI variables of section 10. The method,
/// query, target and header values are moved out of `head`, not copied:
/// after staging, only `RequestLine::of` still reads it.
pub fn stage_environ(
    head: &mut RequestHead,
    body_len: u64,
    conn: &ConnInfo,
    settings: &EnvironSettings,
) -> Staged {
    let (script_name, path_info) = head.take_script_and_path_info(&settings.url_prefix);
    let shared = |s: &Arc<str>| Some(Text::Shared(Arc::clone(s)));
    let owned = |s: &mut String| Some(Text::Owned(std::mem::take(s)));
    let method = match KNOWN_METHODS.iter().find(|m| **m == head.method) {
        Some(known) => Some(Text::Static(known)),
        None => owned(&mut head.method),
    };
    Staged {
        fixed: [
            method,
            Some(Text::Owned(script_name)),
            Some(Text::Owned(path_info)),
            owned(&mut head.query),
            owned(&mut head.request_uri),
            Some(Text::Static(head.version.as_str())),
            shared(&settings.server_name),
            shared(&conn.server_port),
            shared(&conn.remote_addr),
            shared(&conn.remote_addr),
            shared(&conn.remote_port),
            shared(&settings.url_scheme),
        ],
        headers: head.take_cgi_variables(body_len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waitress_proxy::Environ;

    #[test]
    fn fixed_and_header_keys_are_found_set_and_removed() {
        let mut staged = Staged::default();
        staged.set("REMOTE_ADDR", "1.2.3.4".into());
        staged.set("HTTP_X_FORWARDED_FOR", "5.6.7.8".into());
        assert_eq!(staged.get("REMOTE_ADDR"), Some("1.2.3.4"));
        assert_eq!(staged.get("HTTP_X_FORWARDED_FOR"), Some("5.6.7.8"));
        staged.set("HTTP_X_FORWARDED_FOR", "9.9.9.9".into());
        assert_eq!(staged.headers().count(), 1);
        staged.remove("HTTP_X_FORWARDED_FOR");
        staged.remove("REMOTE_ADDR");
        assert_eq!(staged.get("REMOTE_ADDR"), None);
        assert_eq!(staged.fixed().count() + staged.headers().count(), 0);
    }

    #[test]
    fn the_named_slots_hold_their_keys() {
        assert_eq!(CGI_KEYS[SLOT_METHOD], "REQUEST_METHOD");
        assert_eq!(CGI_KEYS[SLOT_PATH_INFO], "PATH_INFO");
        assert_eq!(CGI_KEYS[SLOT_PROTOCOL], "SERVER_PROTOCOL");
        assert_eq!(CGI_KEYS[SLOT_SERVER_NAME], "SERVER_NAME");
        assert_eq!(CGI_KEYS[SLOT_URL_SCHEME], "wsgi.url_scheme");
    }

    #[test]
    fn known_methods_are_staged_as_static_text_with_their_spelling() {
        let conn = ConnInfo {
            remote_addr: "1.2.3.4".into(),
            remote_port: "5".into(),
            server_port: "80".into(),
        };
        let settings = EnvironSettings {
            url_prefix: String::new(),
            url_scheme: "http".into(),
            server_name: "s".into(),
        };
        for method in ["GET", "PATCH", "PURGE", "get"] {
            let mut head = waitress_proto::RequestHead {
                method: method.into(),
                version: Version::Http11,
                request_uri: "/".into(),
                path: "/".into(),
                query: String::new(),
                headers: Vec::new(),
                body: waitress_proto::BodyKind::Empty,
                expect_continue: false,
                keep_alive: true,
            };
            let staged = stage_environ(&mut head, 0, &conn, &settings);
            assert_eq!(
                staged.fixed[SLOT_METHOD].as_ref().map(Text::as_str),
                Some(method)
            );
            let is_static = matches!(staged.fixed[SLOT_METHOD], Some(Text::Static(_)));
            assert_eq!(is_static, KNOWN_METHODS.contains(&method), "{method}");
        }
    }

    #[test]
    fn no_fixed_key_looks_like_a_header_key() {
        // The section-10 guarantee the layout relies on.
        for key in CGI_KEYS {
            assert!(
                !key.starts_with("HTTP_") && !key.starts_with("CONTENT_"),
                "{key}"
            );
        }
    }
}

/// What the worker needs of the request head besides the environ.
#[derive(Debug)]
pub struct RequestLine {
    pub version: Version,
    pub head_request: bool,
    /// Whether the request allows the connection to stay open.
    pub keep_alive: bool,
    /// The decoded path, for log lines; None when staging moved it into
    /// PATH_INFO unchanged (one allocation fewer per request).
    pub path: Option<String>,
}

impl RequestLine {
    /// Takes what is left of a staged head (`head_request` is read before
    /// staging moves the method out).
    pub fn of(head: &mut RequestHead, head_request: bool) -> Self {
        RequestLine {
            version: head.version,
            head_request,
            keep_alive: head.keep_alive,
            path: (!head.path.is_empty()).then(|| std::mem::take(&mut head.path)),
        }
    }
}

/// Everything a worker needs to run the application for one request.
#[derive(Debug)]
pub struct Request {
    pub line: RequestLine,
    pub environ: Staged,
    pub body: BodyReader,
    /// The connection's flag behind `waitress.client_disconnected`.
    pub disconnected: Arc<AtomicBool>,
    /// Set by shutdown: responses still to come carry `Connection: close`.
    pub shutting_down: Arc<AtomicBool>,
}
