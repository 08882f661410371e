//! Reading the trusted proxy headers of a trusted peer's request
//! (P-04..P-08): which values they carry and how each header is rewritten.

use crate::config::ProxyConfig;
use crate::environ::Environ;
use crate::error::ParseFailure;
use crate::headers::ProxyHeader;
use crate::{forwarded, x_forwarded};

/// The raw values announced by the trusted headers, before P-09.
/// An empty string means "not given", as in waitress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Gathered {
    /// The client address and the header it came from.
    pub client: String,
    pub client_source: Option<ProxyHeader>,
    pub host: String,
    pub proto: String,
    pub port: String,
    /// The proto came from a `Forwarded` header (changes the error's name).
    pub proto_from_forwarded: bool,
    /// Trusted headers rewritten to their trusted hops only.
    pub rewrites: Vec<(ProxyHeader, String)>,
}

/// A header that failed to parse, with the name and value to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderFailure {
    pub header: &'static str,
    pub failure: ParseFailure,
    pub value: String,
}

impl HeaderFailure {
    /// A failure reported with the whole value of `header` from the environ.
    pub(crate) fn of_header(
        header: ProxyHeader,
        failure: ParseFailure,
        environ: &impl Environ,
    ) -> Self {
        Self {
            header: header.display_name(),
            failure,
            value: environ
                .get(header.environ_key())
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// Parses every trusted header present in the environ.
pub(crate) fn gather(
    config: &ProxyConfig,
    environ: &impl Environ,
    warnings: &mut Vec<String>,
) -> Result<Gathered, HeaderFailure> {
    let count = config.trusted_proxy_count;
    let mut gathered = Gathered::default();
    let fail = |header: ProxyHeader| {
        move |failure: ParseFailure| HeaderFailure::of_header(header, failure, environ)
    };

    if config.trusts_header(ProxyHeader::XForwardedFor)
        && let Some(value) = environ.get(ProxyHeader::XForwardedFor.environ_key())
    {
        let hops =
            x_forwarded::parse_for(value, count).map_err(fail(ProxyHeader::XForwardedFor))?;
        gathered.client = hops.selected;
        gathered.client_source = Some(ProxyHeader::XForwardedFor);
        gathered
            .rewrites
            .push((ProxyHeader::XForwardedFor, hops.rewritten));
    }
    if config.trusts_header(ProxyHeader::XForwardedHost)
        && let Some(value) = environ.get(ProxyHeader::XForwardedHost.environ_key())
    {
        let hops =
            x_forwarded::parse_host(value, count).map_err(fail(ProxyHeader::XForwardedHost))?;
        gathered.host = hops.selected;
        gathered
            .rewrites
            .push((ProxyHeader::XForwardedHost, hops.rewritten));
    }
    if config.trusts_header(ProxyHeader::XForwardedProto) {
        let value = environ
            .get(ProxyHeader::XForwardedProto.environ_key())
            .unwrap_or_default();
        gathered.proto =
            x_forwarded::parse_single(value).map_err(fail(ProxyHeader::XForwardedProto))?;
    }
    if config.trusts_header(ProxyHeader::XForwardedPort) {
        let value = environ
            .get(ProxyHeader::XForwardedPort.environ_key())
            .unwrap_or_default();
        gathered.port =
            x_forwarded::parse_single(value).map_err(fail(ProxyHeader::XForwardedPort))?;
    }
    // X-Forwarded-By is never interpreted (P-07): trusting it only keeps it.

    if config.trusts_header(ProxyHeader::Forwarded) {
        // An absent or empty Forwarded header changes nothing (P-08).
        let value = environ
            .get(ProxyHeader::Forwarded.environ_key())
            .filter(|value| !value.is_empty());
        if let Some(value) = value {
            let values =
                forwarded::parse(value, count, warnings).map_err(fail(ProxyHeader::Forwarded))?;
            // Forwarded is exclusive with the X-Forwarded-* set (P-11), so
            // these replace nothing that was gathered above.
            gathered.client = values.for_;
            gathered.client_source = Some(ProxyHeader::Forwarded);
            gathered.host = values.host;
            gathered.proto = values.proto;
            gathered.port = String::new();
            gathered.proto_from_forwarded = true;
            gathered
                .rewrites
                .push((ProxyHeader::Forwarded, values.rewritten));
        }
    }
    Ok(gathered)
}
