//! waitress-proxy: the trusted proxy headers of waitress (spec section 11,
//! P-01..P-10, with D-10, D-22 and D-23), as a pure function over the staged
//! WSGI environ.
//!
//! Theory of operation. [`apply`] runs once per request, after the server
//! has staged the CGI variables and before the application sees them:
//!
//! 1. P-01: nothing to do without a trusted proxy and without clearing.
//! 2. P-02: trust is decided from `REMOTE_ADDR` (`localhost` for Unix peers).
//! 3. For a trusted peer, the trusted headers are parsed (P-04..P-08) and the
//!    resulting environ changes computed (P-09). Any error stops here with a
//!    [`ProxyError`] (P-10, D-22) and the environ untouched.
//! 4. The changes are applied, then (P-03) every proxy header that is not
//!    trusted — all six for an untrusted peer — is removed when clearing is on.
//!
//! For an untrusted peer no environ value is changed except the removal of
//! the proxy headers.

mod config;
mod environ;
mod error;
mod forwarded;
mod gather;
mod headers;
mod resolve;
mod text;
mod trust;
mod x_forwarded;

pub use config::{DEFAULT_TRUSTED_PROXY_COUNT, DEFAULT_TRUSTED_PROXY_HEADER, ProxyConfig};
pub use environ::Environ;
pub use error::ProxyError;
pub use headers::{HeaderSet, ProxyHeader};
pub use trust::UNIX_PEER;

use environ::keys;

/// What a successful [`apply`] has to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// WARNING lines for logger "waitress" (P-03 Removed untrusted..., P-08 Unknown Forwarded token), in order.
    pub warnings: Vec<String>,
}

/// Trust is decided from environ["REMOTE_ADDR"] ("localhost" for unix peers). Mutates the environ
/// (REMOTE_ADDR/REMOTE_PORT/REMOTE_HOST/SERVER_NAME/SERVER_PORT/HTTP_HOST/wsgi.url_scheme and the
/// HTTP_FORWARDED / HTTP_X_FORWARDED_* keys). For an untrusted peer it never changes any value
/// other than removing the untrusted proxy headers (when clearing is on).
///
/// On error the environ is unchanged; the `Unknown Forwarded token` warnings
/// logged before the error are dropped — use [`apply_collecting`] to keep them.
pub fn apply(config: &ProxyConfig, environ: &mut impl Environ) -> Result<Outcome, ProxyError> {
    let mut warnings = Vec::new();
    apply_collecting(config, environ, &mut warnings)?;
    Ok(Outcome { warnings })
}

/// [`apply`], pushing the WARNING lines onto `warnings` as they arise, so that
/// on error the ones logged before it (P-08) are kept, as waitress logs them.
/// The caller logs [`ProxyError::log_message`] after them.
pub fn apply_collecting(
    config: &ProxyConfig,
    environ: &mut impl Environ,
    warnings: &mut Vec<String>,
) -> Result<(), ProxyError> {
    if !config.is_active() {
        return Ok(());
    }
    let peer = environ.get(keys::REMOTE_ADDR).unwrap_or_default();
    let untrusted = if config.trusts(peer) {
        let changes = gather::gather(config, environ, warnings)
            .and_then(|gathered| resolve::resolve(gathered, environ))
            .map_err(|failure| {
                ProxyError::new(
                    failure.header,
                    failure.failure.reason(),
                    &failure.value,
                    peer,
                )
            })?;
        changes.apply(environ);
        HeaderSet::all().difference(config.trusted_headers)
    } else {
        HeaderSet::all()
    };
    if config.clear_untrusted {
        clear_untrusted(environ, untrusted, config.log_untrusted, warnings);
    }
    Ok(())
}

/// P-03: removes the untrusted proxy headers present in the environ and,
/// when asked, reports them in one WARNING line.
fn clear_untrusted(
    environ: &mut impl Environ,
    untrusted: HeaderSet,
    log: bool,
    warnings: &mut Vec<String>,
) {
    let mut removed = Vec::new();
    for header in untrusted.iter() {
        if environ.get(header.environ_key()).is_some() {
            environ.remove(header.environ_key());
            removed.push(header.display_name());
        }
    }
    if log && !removed.is_empty() {
        warnings.push(format!(
            "Removed untrusted headers ({}). Waitress recommends these be removed upstream.",
            removed.join(", ")
        ));
    }
}
