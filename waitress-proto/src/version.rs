//! The two HTTP versions a request is served as (L-05 with D-03).

/// Protocol version of a request and of its response's status line.
///
/// D-03: `HTTP/1.0` and `HTTP/1.1` are served as themselves and any other
/// `HTTP/1.x` as `Http11`; everything else is rejected before a `Version`
/// exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"` (status line and `SERVER_PROTOCOL`).
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
