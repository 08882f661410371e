//! The proxy settings, as waitress-core validated them (P-11 is core's job).

use crate::headers::{HeaderSet, ProxyHeader};
use crate::trust::TrustedProxy;

/// `trusted_proxy_count` when it is not set (P-11).
pub const DEFAULT_TRUSTED_PROXY_COUNT: usize = 1;

/// The header trusted when `trusted_proxy` is set without
/// `trusted_proxy_headers` (P-11, waitress's backwards-compatible default).
pub const DEFAULT_TRUSTED_PROXY_HEADER: ProxyHeader = ProxyHeader::XForwardedProto;

/// Everything [`crate::apply`] needs to know about the proxy settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    pub(crate) trusted_proxy: Option<TrustedProxy>,
    pub(crate) trusted_proxy_count: usize,
    pub(crate) trusted_headers: HeaderSet,
    pub(crate) clear_untrusted: bool,
    pub(crate) log_untrusted: bool,
}

impl ProxyConfig {
    /// Settings as waitress-core validated them (P-11 is core's job); returns
    /// `Err(message naming the setting)` for a `trusted_proxy` value that is
    /// not `*`, an address, a CIDR, `localhost` or a whitespace/comma list of
    /// those (D-23), and, defensively, for `trusted_proxy_headers` that
    /// Adjustments would reject (unknown names; `forwarded` mixed with the
    /// X-Forwarded-* set).
    ///
    /// An empty `trusted_proxy` means "not set" (waitress's `str_iftruthy`).
    /// With `trusted_proxy` set and no headers, `x-forwarded-proto` is trusted
    /// (P-11). A `trusted_proxy_count` of 0 trusts every hop, as waitress's
    /// `[-0:]` slice does.
    pub fn new(
        trusted_proxy: Option<&str>,
        trusted_proxy_count: Option<usize>,
        trusted_proxy_headers: &[String],
        clear_untrusted_proxy_headers: bool,
        log_untrusted_proxy_headers: bool,
    ) -> Result<Self, String> {
        let trusted_proxy = trusted_proxy
            .filter(|value| !value.is_empty())
            .map(TrustedProxy::parse)
            .transpose()?;
        let mut trusted_headers = parse_trusted_headers(trusted_proxy_headers)?;
        if trusted_proxy.is_some() && trusted_headers.is_empty() {
            trusted_headers.insert(DEFAULT_TRUSTED_PROXY_HEADER);
        }
        Ok(Self {
            trusted_proxy,
            trusted_proxy_count: trusted_proxy_count.unwrap_or(DEFAULT_TRUSTED_PROXY_COUNT),
            trusted_headers,
            clear_untrusted: clear_untrusted_proxy_headers,
            log_untrusted: log_untrusted_proxy_headers,
        })
    }

    /// P-01: false when there is nothing to do (no trusted proxy and no clearing) — fast path.
    pub fn is_active(&self) -> bool {
        self.trusted_proxy.is_some() || self.clear_untrusted
    }

    /// P-02 / D-23: whether a peer (a `REMOTE_ADDR` value, `localhost` for a
    /// Unix-socket peer) is a trusted proxy.
    pub fn trusts(&self, peer: &str) -> bool {
        self.trusted_proxy
            .as_ref()
            .is_some_and(|trusted| trusted.trusts(peer))
    }

    /// Whether a header is in the trusted set (after the P-11 default).
    pub fn trusts_header(&self, header: ProxyHeader) -> bool {
        self.trusted_headers.contains(header)
    }

    /// The effective `trusted_proxy_count`.
    pub fn trusted_proxy_count(&self) -> usize {
        self.trusted_proxy_count
    }

    /// Whether untrusted proxy headers are removed (P-03).
    pub fn clears_untrusted_headers(&self) -> bool {
        self.clear_untrusted
    }

    /// Whether removed untrusted headers are reported in a WARNING (P-03).
    pub fn logs_untrusted_headers(&self) -> bool {
        self.log_untrusted
    }
}

fn parse_trusted_headers(names: &[String]) -> Result<HeaderSet, String> {
    let mut set = HeaderSet::EMPTY;
    let mut unknown = Vec::new();
    for name in names {
        let name = name.trim();
        match ProxyHeader::from_setting_name(name) {
            Some(header) => set.insert(header),
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = ProxyHeader::ALL.iter().map(|h| h.setting_name()).collect();
        return Err(format!(
            "Received unknown trusted_proxy_headers value ({}) expected one of {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    if set.contains(ProxyHeader::Forwarded) && set != HeaderSet::from_iter([ProxyHeader::Forwarded])
    {
        return Err(
            "The Forwarded proxy header and the X-Forwarded-{By,Host,Proto,Port,For} \
                    headers are mutually exclusive. Can't trust both!"
                .to_owned(),
        );
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn p01_activation() {
        let none = ProxyConfig::new(None, None, &[], false, false).unwrap();
        assert!(!none.is_active());
        let clearing = ProxyConfig::new(None, None, &[], true, false).unwrap();
        assert!(clearing.is_active());
        let trusted = ProxyConfig::new(Some("10.0.0.1"), None, &[], false, false).unwrap();
        assert!(trusted.is_active());
        let empty = ProxyConfig::new(Some(""), None, &[], false, false).unwrap();
        assert!(!empty.is_active());
    }

    #[test]
    fn p11_defaults() {
        let config = ProxyConfig::new(Some("*"), None, &[], true, false).unwrap();
        assert_eq!(config.trusted_proxy_count(), 1);
        assert!(config.trusts_header(ProxyHeader::XForwardedProto));
        assert!(!config.trusts_header(ProxyHeader::XForwardedFor));
        let explicit = ProxyConfig::new(
            Some("*"),
            Some(3),
            &names(&["X-Forwarded-For", " x-forwarded-host "]),
            true,
            false,
        )
        .unwrap();
        assert_eq!(explicit.trusted_proxy_count(), 3);
        assert!(explicit.trusts_header(ProxyHeader::XForwardedFor));
        assert!(explicit.trusts_header(ProxyHeader::XForwardedHost));
        assert!(!explicit.trusts_header(ProxyHeader::XForwardedProto));
        // Without trusted_proxy no default header is added and nothing is trusted.
        let untrusting = ProxyConfig::new(None, None, &[], true, false).unwrap();
        assert!(!untrusting.trusts_header(ProxyHeader::XForwardedProto));
        assert!(!untrusting.trusts("127.0.0.1"));
    }

    #[test]
    fn p11_rejected_header_settings() {
        let err =
            ProxyConfig::new(Some("*"), None, &names(&["x-forwarded"]), true, false).unwrap_err();
        assert!(err.starts_with("Received unknown trusted_proxy_headers value (x-forwarded)"));
        let err = ProxyConfig::new(
            Some("*"),
            None,
            &names(&["forwarded", "x-forwarded-for"]),
            true,
            false,
        )
        .unwrap_err();
        assert!(err.contains("mutually exclusive"), "{err}");
        assert!(ProxyConfig::new(Some("*"), None, &names(&["Forwarded"]), true, false).is_ok());
    }

    #[test]
    fn d23_rejected_trusted_proxy_names_the_setting() {
        let err = ProxyConfig::new(Some("proxy.internal"), None, &[], true, false).unwrap_err();
        assert!(err.contains("trusted_proxy"), "{err}");
        assert!(err.contains("proxy.internal"), "{err}");
    }
}
