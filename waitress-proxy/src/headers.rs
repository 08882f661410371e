//! The six proxy headers of P-01 and a small set type over them.

/// One of the six proxy headers waitress knows (P-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyHeader {
    Forwarded,
    XForwardedFor,
    XForwardedHost,
    XForwardedProto,
    XForwardedPort,
    XForwardedBy,
}

impl ProxyHeader {
    /// All six, in the fixed order used for the P-03 log line.
    pub const ALL: [ProxyHeader; 6] = [
        ProxyHeader::Forwarded,
        ProxyHeader::XForwardedFor,
        ProxyHeader::XForwardedHost,
        ProxyHeader::XForwardedProto,
        ProxyHeader::XForwardedPort,
        ProxyHeader::XForwardedBy,
    ];

    /// The CGI key of the header in the environ.
    pub fn environ_key(self) -> &'static str {
        match self {
            Self::Forwarded => "HTTP_FORWARDED",
            Self::XForwardedFor => "HTTP_X_FORWARDED_FOR",
            Self::XForwardedHost => "HTTP_X_FORWARDED_HOST",
            Self::XForwardedProto => "HTTP_X_FORWARDED_PROTO",
            Self::XForwardedPort => "HTTP_X_FORWARDED_PORT",
            Self::XForwardedBy => "HTTP_X_FORWARDED_BY",
        }
    }

    /// The header name as waitress writes it in log lines and error details.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Forwarded => "Forwarded",
            Self::XForwardedFor => "X-Forwarded-For",
            Self::XForwardedHost => "X-Forwarded-Host",
            Self::XForwardedProto => "X-Forwarded-Proto",
            Self::XForwardedPort => "X-Forwarded-Port",
            Self::XForwardedBy => "X-Forwarded-By",
        }
    }

    /// The value naming this header in the `trusted_proxy_headers` setting.
    pub fn setting_name(self) -> &'static str {
        match self {
            Self::Forwarded => "forwarded",
            Self::XForwardedFor => "x-forwarded-for",
            Self::XForwardedHost => "x-forwarded-host",
            Self::XForwardedProto => "x-forwarded-proto",
            Self::XForwardedPort => "x-forwarded-port",
            Self::XForwardedBy => "x-forwarded-by",
        }
    }

    /// Parses a `trusted_proxy_headers` value, case-insensitively.
    pub fn from_setting_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|header| header.setting_name().eq_ignore_ascii_case(name))
    }

    fn bit(self) -> u8 {
        match self {
            Self::Forwarded => 1,
            Self::XForwardedFor => 1 << 1,
            Self::XForwardedHost => 1 << 2,
            Self::XForwardedProto => 1 << 3,
            Self::XForwardedPort => 1 << 4,
            Self::XForwardedBy => 1 << 5,
        }
    }
}

/// A set of proxy headers (a bit set: copying it is free).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderSet(u8);

impl HeaderSet {
    /// No header.
    pub const EMPTY: HeaderSet = HeaderSet(0);

    /// All six headers.
    pub fn all() -> Self {
        ProxyHeader::ALL.into_iter().collect()
    }

    pub fn contains(self, header: ProxyHeader) -> bool {
        self.0 & header.bit() != 0
    }

    pub fn insert(&mut self, header: ProxyHeader) {
        self.0 |= header.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The headers of `self` that are not in `other`.
    pub fn difference(self, other: HeaderSet) -> HeaderSet {
        HeaderSet(self.0 & !other.0)
    }

    /// The members in the fixed order of [`ProxyHeader::ALL`].
    pub fn iter(self) -> impl Iterator<Item = ProxyHeader> {
        ProxyHeader::ALL
            .into_iter()
            .filter(move |header| self.contains(*header))
    }
}

impl FromIterator<ProxyHeader> for HeaderSet {
    fn from_iter<I: IntoIterator<Item = ProxyHeader>>(iter: I) -> Self {
        let mut set = HeaderSet::EMPTY;
        for header in iter {
            set.insert(header);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p01_six_headers_round_trip_through_setting_names() {
        for header in ProxyHeader::ALL {
            assert_eq!(
                ProxyHeader::from_setting_name(header.setting_name()),
                Some(header)
            );
            let upper = header.setting_name().to_ascii_uppercase();
            assert_eq!(ProxyHeader::from_setting_name(&upper), Some(header));
        }
        assert_eq!(ProxyHeader::from_setting_name("x-forwarded"), None);
        assert_eq!(ProxyHeader::from_setting_name(""), None);
    }

    #[test]
    fn header_set_operations() {
        let all = HeaderSet::all();
        assert_eq!(all.iter().count(), 6);
        let only_forwarded: HeaderSet = [ProxyHeader::Forwarded].into_iter().collect();
        let rest = all.difference(only_forwarded);
        assert!(!rest.contains(ProxyHeader::Forwarded));
        assert!(rest.contains(ProxyHeader::XForwardedBy));
        assert_eq!(rest.iter().count(), 5);
        assert!(HeaderSet::EMPTY.is_empty());
        assert!(!only_forwarded.is_empty());
    }
}
