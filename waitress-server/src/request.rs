//! A complete request as the connection task hands it to a worker: the head,
//! the staged CGI variables (after proxy rules), and the body.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use waitress_core::BodyReader;
use waitress_proto::RequestHead;

/// Per-connection facts that end up in the environ (section 10).
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Peer IP (IPv6 without brackets); `localhost` for Unix sockets.
    pub remote_addr: String,
    /// Peer port; the string `None` for Unix sockets.
    pub remote_port: String,
    /// The accepting socket's port; the socket path for Unix sockets.
    pub server_port: String,
}

/// The per-request CGI variables, staged in Rust so the proxy rules can be
/// applied before any Python runs. Keys are few, so a vector beats a map.
#[derive(Debug, Default, Clone)]
pub struct Staged {
    vars: Vec<(String, String)>,
}

impl Staged {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            vars: Vec::with_capacity(n),
        }
    }

    /// Adds `key` unless present: a header can never overwrite a CGI key.
    pub fn insert_new(&mut self, key: &str, value: String) {
        if !self.vars.iter().any(|(k, _)| k == key) {
            self.vars.push((key.to_string(), value));
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl waitress_proxy::Environ for Staged {
    fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, key: &str, value: String) {
        match self.vars.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((key.to_string(), value)),
        }
    }

    fn remove(&mut self, key: &str) {
        self.vars.retain(|(k, _)| k != key);
    }
}

/// Settings the staging needs, fixed for the server's life.
#[derive(Debug, Clone)]
pub struct EnvironSettings {
    pub url_prefix: String,
    pub url_scheme: String,
    pub server_name: String,
}

/// Builds the request-specific CGI variables of section 10.
pub fn stage_environ(
    head: &RequestHead,
    body_len: u64,
    conn: &ConnInfo,
    settings: &EnvironSettings,
) -> Staged {
    let (script_name, path_info) = head.script_and_path_info(&settings.url_prefix);
    let cgi = head.cgi_variables(body_len);
    let mut staged = Staged::with_capacity(12 + cgi.len());
    staged.insert_new("REQUEST_METHOD", head.method.clone());
    staged.insert_new("SCRIPT_NAME", script_name);
    staged.insert_new("PATH_INFO", path_info);
    staged.insert_new("QUERY_STRING", head.query.clone());
    staged.insert_new("REQUEST_URI", head.request_uri.clone());
    staged.insert_new("SERVER_PROTOCOL", head.version.as_str().to_string());
    staged.insert_new("SERVER_NAME", settings.server_name.clone());
    staged.insert_new("SERVER_PORT", conn.server_port.clone());
    staged.insert_new("REMOTE_ADDR", conn.remote_addr.clone());
    staged.insert_new("REMOTE_HOST", conn.remote_addr.clone());
    staged.insert_new("REMOTE_PORT", conn.remote_port.clone());
    staged.insert_new("wsgi.url_scheme", settings.url_scheme.clone());
    for (key, value) in cgi {
        staged.insert_new(&key, value);
    }
    staged
}

/// Everything a worker needs to run the application for one request.
#[derive(Debug)]
pub struct Request {
    pub head: Box<RequestHead>,
    pub environ: Staged,
    pub body: BodyReader,
    /// The connection's flag behind `waitress.client_disconnected`.
    pub disconnected: Arc<AtomicBool>,
    /// Set by shutdown: responses still to come carry `Connection: close`.
    pub shutting_down: Arc<AtomicBool>,
}
