//! The minimal view of the staged WSGI environ this crate reads and writes.

use std::collections::{BTreeMap, HashMap};

/// Minimal view of the staged WSGI environ (keys like "REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "wsgi.url_scheme").
pub trait Environ {
    fn get(&self, key: &str) -> Option<&str>;
    fn set(&mut self, key: &str, value: String);
    fn remove(&mut self, key: &str);
}

impl Environ for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }

    fn remove(&mut self, key: &str) {
        HashMap::remove(self, key);
    }
}

impl Environ for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }

    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }

    fn remove(&mut self, key: &str) {
        BTreeMap::remove(self, key);
    }
}

/// The environ keys this crate reads or writes besides the proxy headers.
pub(crate) mod keys {
    pub const REMOTE_ADDR: &str = "REMOTE_ADDR";
    pub const REMOTE_PORT: &str = "REMOTE_PORT";
    pub const REMOTE_HOST: &str = "REMOTE_HOST";
    pub const SERVER_NAME: &str = "SERVER_NAME";
    pub const SERVER_PORT: &str = "SERVER_PORT";
    pub const HTTP_HOST: &str = "HTTP_HOST";
    pub const URL_SCHEME: &str = "wsgi.url_scheme";
}
