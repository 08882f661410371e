//! P-09: turning the gathered proxy values into environ changes.

use crate::environ::{Environ, keys};
use crate::error::ParseFailure;
use crate::gather::{Gathered, HeaderFailure};
use crate::headers::ProxyHeader;
use crate::text::{has_port_suffix, py_strip, split_last_colon, strip_brackets};

/// The default port of each scheme a proxy may announce.
const HTTP_DEFAULT_PORT: &str = "80";
const HTTPS_DEFAULT_PORT: &str = "443";

/// The header name of a bad proto that came from `Forwarded` (P-10).
const FORWARDED_PROTO_HEADER: &str = "Forwarded Proto=";

/// Every environ change a trusted proxy's headers cause; applied only once
/// all of them are known to be valid, so an error leaves the environ untouched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    rewrites: Vec<(ProxyHeader, String)>,
    url_scheme: Option<&'static str>,
    server_name: Option<String>,
    http_host: Option<String>,
    server_port: Option<String>,
    remote_addr: Option<String>,
    remote_port: Option<String>,
}

impl Changes {
    pub(crate) fn apply(self, environ: &mut impl Environ) {
        for (header, value) in self.rewrites {
            environ.set(header.environ_key(), value);
        }
        if let Some(scheme) = self.url_scheme {
            environ.set(keys::URL_SCHEME, scheme.to_owned());
        }
        if let Some(name) = self.server_name {
            environ.set(keys::SERVER_NAME, name);
        }
        if let Some(host) = self.http_host {
            environ.set(keys::HTTP_HOST, host);
        }
        if let Some(port) = self.server_port {
            environ.set(keys::SERVER_PORT, port);
        }
        if let Some(port) = self.remote_port {
            environ.set(keys::REMOTE_PORT, port);
        }
        if let Some(addr) = self.remote_addr {
            environ.set(keys::REMOTE_HOST, addr.clone());
            environ.set(keys::REMOTE_ADDR, addr);
        }
    }
}

/// Computes the P-09 changes; `environ` supplies the current scheme and the
/// header values reported by errors.
pub(crate) fn resolve(
    gathered: Gathered,
    environ: &impl Environ,
) -> Result<Changes, HeaderFailure> {
    let mut changes = Changes {
        rewrites: gathered.rewrites,
        ..Changes::default()
    };
    let mut port = gathered.port;

    if !gathered.proto.is_empty() {
        let proto = gathered.proto.to_lowercase();
        let (scheme, default_port) = match proto.as_str() {
            "http" => ("http", HTTP_DEFAULT_PORT),
            "https" => ("https", HTTPS_DEFAULT_PORT),
            _ => {
                let header = if gathered.proto_from_forwarded {
                    FORWARDED_PROTO_HEADER
                } else {
                    ProxyHeader::XForwardedProto.display_name()
                };
                return Err(HeaderFailure {
                    header,
                    failure: ParseFailure::UnsupportedProto,
                    value: proto,
                });
            }
        };
        changes.url_scheme = Some(scheme);
        if port.is_empty() {
            port = default_port.to_owned();
        }
    }

    let host = gathered.host;
    if !host.is_empty() {
        match split_last_colon(&host).filter(|_| has_port_suffix(&host)) {
            Some((name, host_port)) => {
                // The port in the host wins over X-Forwarded-Port and the proto default.
                port = host_port.to_owned();
                changes.server_name = Some(py_strip(name).to_owned());
            }
            None => {
                let scheme = changes.url_scheme.or(environ.get(keys::URL_SCHEME));
                changes.server_name = Some(host.clone());
                if !port.is_empty() && !is_default_port(&port, scheme) {
                    changes.http_host = Some(format!("{host}:{port}"));
                }
            }
        }
        if changes.http_host.is_none() {
            changes.http_host = Some(host);
        }
    }

    if !port.is_empty() {
        changes.server_port = Some(port);
    }

    if !gathered.client.is_empty() {
        let client = gathered.client;
        let addr = match split_last_colon(&client).filter(|_| has_port_suffix(&client)) {
            Some((addr, client_port)) => {
                changes.remote_port = Some(py_strip(client_port).to_owned());
                strip_brackets(py_strip(addr))
            }
            None => strip_brackets(py_strip(&client)),
        };
        if addr.is_empty() {
            // waitress fails with an internal error (or sets an empty
            // REMOTE_ADDR); a proxy that sends this is answered with a 400.
            let source = gathered.client_source.unwrap_or(ProxyHeader::XForwardedFor);
            return Err(HeaderFailure::of_header(
                source,
                ParseFailure::EmptyClientAddress,
                environ,
            ));
        }
        changes.remote_addr = Some(addr.to_owned());
    }

    Ok(changes)
}

/// Whether `port` is the default of `scheme`, so `HTTP_HOST` needs no port.
fn is_default_port(port: &str, scheme: Option<&str>) -> bool {
    matches!(
        (port, scheme),
        (HTTP_DEFAULT_PORT, Some("http")) | (HTTPS_DEFAULT_PORT, Some("https"))
    )
}
