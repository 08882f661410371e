//! `Host` header validation (D-02): `uri-host [":" port]` of RFC 3986.

use std::net::Ipv6Addr;

use crate::target::hex_value;

/// True when `value` (already trimmed of OWS) is `uri-host [":" port]`.
/// An empty value is valid (RFC 9112 3.2: targets without an authority).
pub(crate) fn is_valid_host(value: &[u8]) -> bool {
    let (host_ok, rest) = if let Some(inner) = value.strip_prefix(b"[") {
        match memchr::memchr(b']', inner) {
            Some(end) => (is_ip_literal(&inner[..end]), &inner[end + 1..]),
            None => return false,
        }
    } else {
        let end = memchr::memchr(b':', value).unwrap_or(value.len());
        (is_reg_name(&value[..end]), &value[end..])
    };
    host_ok
        && match rest.split_first() {
            None => true,
            Some((b':', port)) => port.iter().all(u8::is_ascii_digit),
            Some(_) => false,
        }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )` (IPv4 is a subset).
fn is_reg_name(s: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let escaped = s.get(i + 1).and_then(|&h| hex_value(h)).is_some()
                && s.get(i + 2).and_then(|&l| hex_value(l)).is_some();
            if !escaped {
                return false;
            }
            i += 3;
        } else if is_unreserved(b) || is_sub_delim(b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// The inside of `[...]`: an IPv6 address or `IPvFuture`.
fn is_ip_literal(s: &[u8]) -> bool {
    if let Some(rest) = s.strip_prefix(b"v").or_else(|| s.strip_prefix(b"V")) {
        let Some(dot) = memchr::memchr(b'.', rest) else {
            return false;
        };
        let (digits, tail) = (&rest[..dot], &rest[dot + 1..]);
        return !digits.is_empty()
            && digits.iter().all(u8::is_ascii_hexdigit)
            && !tail.is_empty()
            && tail
                .iter()
                .all(|&b| is_unreserved(b) || is_sub_delim(b) || b == b':');
    }
    std::str::from_utf8(s).is_ok_and(|t| t.parse::<Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d02_host_grammar() {
        for ok in [
            &b""[..],
            b"example.com",
            b"example.com:8080",
            b"example.com:",
            b"127.0.0.1:80",
            b"[::1]",
            b"[::1]:8080",
            b"[v1.fe:80]",
            b"a%20b",
            b"xn--bcher-kva.example",
            b"a_b~c!$&'()*+,;=",
        ] {
            assert!(is_valid_host(ok), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"exa mple.com"[..],
            b"example.com:80:80",
            b"example.com:8o",
            b"a/b",
            b"a@b",
            b"[::1",
            b"[::1]x",
            b"[1.2.3.4]",
            b"[::1%eth0]",
            b"[v.x]",
            b"a%2",
            b"a%zz",
            b"\xe9",
            b"a?b",
            b"a#b",
        ] {
            assert!(!is_valid_host(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
