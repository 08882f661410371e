//! Which peers are trusted proxies (P-02, extended by D-23).
//!
//! `trusted_proxy` is `*` (every peer), or a whitespace/comma separated list
//! of IPv4/IPv6 addresses, CIDR ranges and `localhost` (the `REMOTE_ADDR` of
//! a Unix-socket peer). A single address keeps waitress's meaning.

use std::net::IpAddr;

use ipnet::IpNet;

/// The name Unix-socket peers carry in `REMOTE_ADDR` (section 10).
pub const UNIX_PEER: &str = "localhost";

/// The parsed `trusted_proxy` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TrustedProxy {
    /// `*`: every peer is trusted.
    Any,
    /// Only the listed peers are trusted.
    Listed {
        /// `localhost` was listed: Unix-socket peers are trusted.
        unix_peers: bool,
        /// Addresses (as host ranges, /32 or /128) and CIDR ranges.
        networks: Vec<IpNet>,
    },
}

impl TrustedProxy {
    /// Parses a non-empty `trusted_proxy` value; the error names the setting.
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        let mut unix_peers = false;
        let mut networks = Vec::new();
        let mut any = false;
        let tokens = value
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|token| !token.is_empty());
        for token in tokens {
            match parse_token(token) {
                Some(Entry::Any) => any = true,
                Some(Entry::Unix) => unix_peers = true,
                Some(Entry::Network(net)) => networks.push(net),
                None => {
                    return Err(format!(
                        "Invalid trusted_proxy value \"{token}\": expected \"*\", \"localhost\", \
                         an IP address or a CIDR range (in a list separated by spaces or commas)"
                    ));
                }
            }
        }
        if any {
            return Ok(Self::Any);
        }
        if !unix_peers && networks.is_empty() {
            return Err(format!(
                "Invalid trusted_proxy value \"{value}\": no address given"
            ));
        }
        Ok(Self::Listed {
            unix_peers,
            networks,
        })
    }

    /// Whether `peer` (a `REMOTE_ADDR` value) is trusted.
    pub(crate) fn trusts(&self, peer: &str) -> bool {
        let (unix_peers, networks) = match self {
            Self::Any => return true,
            Self::Listed {
                unix_peers,
                networks,
            } => (*unix_peers, networks),
        };
        if peer == UNIX_PEER {
            return unix_peers;
        }
        let Some(addr) = parse_peer(peer) else {
            return false;
        };
        // An IPv4 peer accepted on a dual-stack socket shows as ::ffff:a.b.c.d;
        // it is the same host as a.b.c.d, so IPv4 entries match it too.
        let mapped = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        networks
            .iter()
            .any(|net| net.contains(&addr) || mapped.is_some_and(|v4| net.contains(&v4)))
    }
}

enum Entry {
    Any,
    Unix,
    Network(IpNet),
}

fn parse_token(token: &str) -> Option<Entry> {
    if token == "*" {
        return Some(Entry::Any);
    }
    if token.eq_ignore_ascii_case(UNIX_PEER) {
        return Some(Entry::Unix);
    }
    if token.contains('/') {
        return token.parse::<IpNet>().ok().map(Entry::Network);
    }
    let bare = token
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(token);
    bare.parse::<IpAddr>()
        .ok()
        .map(|addr| Entry::Network(IpNet::from(addr)))
}

/// A `REMOTE_ADDR` as an address; an IPv6 zone (`%eth0`) is ignored.
fn parse_peer(peer: &str) -> Option<IpAddr> {
    let without_zone = peer.split_once('%').map_or(peer, |(addr, _zone)| addr);
    without_zone.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(setting: &str, peer: &str) -> bool {
        TrustedProxy::parse(setting)
            .unwrap_or_else(|e| panic!("{setting:?}: {e}"))
            .trusts(peer)
    }

    #[test]
    fn p02_trust_table() {
        let cases: &[(&str, &str, bool)] = &[
            // `*` trusts everything, including Unix peers and garbage.
            ("*", "10.1.2.3", true),
            ("*", "localhost", true),
            ("*", "", true),
            // A single address: exactly that peer.
            ("192.168.1.1", "192.168.1.1", true),
            ("192.168.1.1", "192.168.1.2", false),
            ("192.168.1.1", "localhost", false),
            ("::1", "::1", true),
            ("::1", "0:0:0:0:0:0:0:1", true),
            ("[::1]", "::1", true),
            ("::1", "127.0.0.1", false),
            ("2001:db8::1", "2001:db8::2", false),
            // IPv4 entries match IPv4-mapped IPv6 peers (dual-stack sockets).
            ("127.0.0.1", "::ffff:127.0.0.1", true),
            ("10.0.0.0/8", "::ffff:10.9.8.7", true),
            ("10.0.0.0/8", "::ffff:11.9.8.7", false),
            // D-23: CIDR ranges v4 and v6.
            ("10.0.0.0/8", "10.255.0.1", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("10.0.0.0/8", "::1", false),
            ("192.168.1.0/24", "192.168.1.255", true),
            ("192.168.1.0/24", "192.168.2.0", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("fe80::/10", "fe80::1%eth0", true),
            // D-23: lists separated by spaces and/or commas.
            ("10.0.0.0/8 192.168.1.7 ::1", "192.168.1.7", true),
            ("10.0.0.0/8 192.168.1.7 ::1", "::1", true),
            ("10.0.0.0/8 192.168.1.7 ::1", "10.0.0.1", true),
            ("10.0.0.0/8 192.168.1.7 ::1", "192.168.1.8", false),
            ("10.0.0.1,10.0.0.2", "10.0.0.2", true),
            (" 10.0.0.1 ,\t10.0.0.2 ", "10.0.0.1", true),
            ("10.0.0.1, *", "1.1.1.1", true),
            // `localhost` is the Unix-socket peer, not 127.0.0.1.
            ("localhost", "localhost", true),
            ("LOCALHOST", "localhost", true),
            ("localhost", "127.0.0.1", false),
            ("127.0.0.1", "localhost", false),
            ("10.0.0.0/8 localhost", "localhost", true),
            // Garbage peers are never trusted by a list.
            ("10.0.0.0/8", "", false),
            ("10.0.0.0/8", "10.0.0.1:80", false),
            ("10.0.0.0/8", "unknown", false),
        ];
        for (setting, peer, expected) in cases {
            assert_eq!(trusted(setting, peer), *expected, "{setting:?} vs {peer:?}");
        }
    }

    #[test]
    fn d23_invalid_settings_name_the_setting() {
        for bad in [
            "example.com",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.1/",
            "10.0.0.1 nope",
            "1.2.3",
            "[::1",
            "**",
            " ",
            ",",
        ] {
            let err = TrustedProxy::parse(bad).expect_err(bad);
            assert!(err.contains("trusted_proxy"), "{bad:?}: {err}");
        }
    }
}
