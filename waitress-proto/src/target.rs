//! Request target -> PATH_INFO / QUERY_STRING (section 4: U-02..U-07, D-07).
//!
//! Mirrors waitress's `split_uri`: targets starting with `//` are split by hand
//! (U-02); everything else follows CPython >= 3.11 `urlsplit` on bytes (U-03),
//! whose scheme and authority are parsed only to be validated and dropped.

use std::borrow::Cow;
use std::net::Ipv6Addr;

use crate::chars::latin1_to_string;

/// The target cannot be split (U-03 non-ASCII, D-07 urlsplit errors).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadUri;

/// Splits a raw target into the decoded path (U-04, before U-05/U-07) and the
/// raw query (U-06). The fragment is dropped.
pub(crate) fn split_target(target: &[u8]) -> Result<(String, String), BadUri> {
    if target.starts_with(b"//") {
        // U-02: fragment first, then query; raw non-ASCII is accepted.
        let before_fragment = match memchr::memchr(b'#', target) {
            Some(i) => &target[..i],
            None => target,
        };
        let (path, query) = split_once(before_fragment, b'?');
        return Ok((percent_decode_latin1(path), latin1_to_string(query)));
    }
    // U-03: urlsplit decodes the bytes as ASCII first.
    if !target.is_ascii() {
        return Err(BadUri);
    }
    let url = urlsplit_clean(target);
    let mut rest: &[u8] = &url;
    if let Some(colon) = memchr::memchr(b':', rest)
        && colon > 0
        && rest[0].is_ascii_alphabetic()
        && rest[..colon].iter().all(|&b| is_scheme_char(b))
    {
        rest = &rest[colon + 1..];
    }
    if let Some(after) = rest.strip_prefix(b"//") {
        let end = after
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        check_netloc(&after[..end])?;
        rest = &after[end..];
    }
    let before_fragment = match memchr::memchr(b'#', rest) {
        Some(i) => &rest[..i],
        None => rest,
    };
    let (path, query) = split_once(before_fragment, b'?');
    Ok((percent_decode_latin1(path), latin1_to_string(query)))
}

fn split_once(s: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match memchr::memchr(sep, s) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, b""),
    }
}

fn is_scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// urlsplit's input cleaning: leading C0 controls and spaces are stripped,
/// TAB/CR/LF removed everywhere.
fn urlsplit_clean(target: &[u8]) -> Cow<'_, [u8]> {
    let start = target
        .iter()
        .position(|&b| b > b' ')
        .unwrap_or(target.len());
    let trimmed = &target[start..];
    if memchr::memchr3(b'\t', b'\r', b'\n', trimmed).is_none() {
        return Cow::Borrowed(trimmed);
    }
    Cow::Owned(
        trimmed
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\t' | b'\r' | b'\n'))
            .collect(),
    )
}

/// urlsplit's netloc checks: brackets must pair, and a bracketed host must be
/// an IPv6 address or an IPvFuture literal (D-07: failures become `Bad URI`).
fn check_netloc(netloc: &[u8]) -> Result<(), BadUri> {
    let open = memchr::memchr(b'[', netloc).is_some();
    let close = memchr::memchr(b']', netloc).is_some();
    if open != close {
        return Err(BadUri);
    }
    if !open {
        return Ok(());
    }
    let host_port = match memchr::memrchr(b'@', netloc) {
        Some(i) => &netloc[i + 1..],
        None => netloc,
    };
    let Some(bracket) = memchr::memchr(b'[', host_port) else {
        // The only bracket is in the userinfo; urlsplit then checks the host
        // before the first ':' as a bracketed host too.
        let host = split_once(host_port, b':').0;
        return check_bracketed_host(host);
    };
    if bracket != 0 {
        return Err(BadUri);
    }
    let inner = &host_port[1..];
    let (host, port) = split_once(inner, b']');
    if memchr::memchr(b']', inner).is_none() || (!port.is_empty() && port[0] != b':') {
        return Err(BadUri);
    }
    check_bracketed_host(host)
}

fn check_bracketed_host(host: &[u8]) -> Result<(), BadUri> {
    if let Some(rest) = host.strip_prefix(b"v") {
        // IPvFuture: "v" 1*HEXDIG "." 1*char
        let dot = memchr::memchr(b'.', rest).ok_or(BadUri)?;
        let ok = dot > 0 && rest[..dot].iter().all(u8::is_ascii_hexdigit) && dot + 1 < rest.len();
        return if ok { Ok(()) } else { Err(BadUri) };
    }
    let text = std::str::from_utf8(host).map_err(|_| BadUri)?;
    // Python's ipaddress accepts a scope id after '%' for IPv6.
    let addr = text.split_once('%').map_or(text, |(a, _)| a);
    // A bracketed IPv4 address (or anything else) is an error.
    addr.parse::<Ipv6Addr>().map(|_| ()).map_err(|_| BadUri)
}

/// U-04: `%XX` with two hex digits becomes that byte, anything else (`%zz`,
/// `%4`, lone `%`) stays literal; `+` is not a space. Bytes map to chars as
/// latin-1.
pub(crate) fn percent_decode_latin1(path: &[u8]) -> String {
    if memchr::memchr(b'%', path).is_none() {
        return latin1_to_string(path);
    }
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        if b == b'%'
            && let (Some(hi), Some(lo)) = (
                path.get(i + 1).and_then(|&h| hex_value(h)),
                path.get(i + 2).and_then(|&l| hex_value(l)),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    latin1_to_string(&out)
}

pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// U-05 then U-07: the `(SCRIPT_NAME, PATH_INFO)` pair for a decoded path.
pub(crate) fn script_and_path_info(path: &str, url_prefix: &str) -> (String, String) {
    let collapsed = if path.starts_with('/') {
        // U-05: all leading slashes collapse to one (keep the last of them).
        let rest = path.trim_start_matches('/');
        path.get(path.len() - rest.len() - 1..).unwrap_or(path)
    } else {
        path
    };
    if url_prefix.is_empty() {
        return (String::new(), collapsed.to_owned());
    }
    let path_info = if collapsed == url_prefix {
        ""
    } else {
        match collapsed.strip_prefix(url_prefix) {
            Some(rest) if rest.starts_with('/') => rest,
            _ => collapsed,
        }
    };
    (url_prefix.to_owned(), path_info.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(t: &[u8]) -> Result<(String, String), BadUri> {
        split_target(t)
    }

    fn ok(t: &[u8]) -> (String, String) {
        split(t).unwrap()
    }

    #[test]
    fn u02_double_slash_targets() {
        assert_eq!(ok(b"//a/b?q=1#f"), ("//a/b".into(), "q=1".into()));
        assert_eq!(ok(b"//a#f?x"), ("//a".into(), "".into()));
        assert_eq!(ok(b"//\xe9"), ("//\u{e9}".into(), "".into()));
        assert_eq!(ok(b"//x\t%41"), ("//x\tA".into(), "".into()));
    }

    #[test]
    fn u03_urlsplit() {
        assert_eq!(ok(b"/p?q#f"), ("/p".into(), "q".into()));
        assert_eq!(ok(b"http://host:81/p?q#f"), ("/p".into(), "q".into()));
        assert_eq!(ok(b"http://example.com"), ("".into(), "".into()));
        assert_eq!(ok(b"localhost:8080/x"), ("8080/x".into(), "".into()));
        assert_eq!(ok(b"foo/bar"), ("foo/bar".into(), "".into()));
        assert_eq!(ok(b"*"), ("*".into(), "".into()));
        assert_eq!(ok(b"/a\tb?c\td"), ("/ab".into(), "cd".into()));
        assert_eq!(ok(b"\x01\x02/x"), ("/x".into(), "".into()));
        assert_eq!(ok(b"1a:b"), ("1a:b".into(), "".into()));
        assert_eq!(ok(b"/p?"), ("/p".into(), "".into()));
        assert_eq!(ok(b"http://[::1]:80/x"), ("/x".into(), "".into()));
        assert_eq!(ok(b"http://[v1.x]/x"), ("/x".into(), "".into()));
        assert_eq!(split(b"/\xe9"), Err(BadUri));
        assert_eq!(split(b"http://[::1/x"), Err(BadUri));
        assert_eq!(split(b"http://::1]/x"), Err(BadUri));
        assert_eq!(split(b"http://[1.2.3.4]/x"), Err(BadUri));
        assert_eq!(split(b"http://a[::1]/x"), Err(BadUri));
        assert_eq!(split(b"http://[::1]x/x"), Err(BadUri));
        assert_eq!(split(b"http://[vz.x]/x"), Err(BadUri));
    }

    #[test]
    fn u04_percent_decoding() {
        assert_eq!(percent_decode_latin1(b"/a%2Fb"), "/a/b");
        assert_eq!(percent_decode_latin1(b"/%C3%A9"), "/\u{c3}\u{a9}");
        assert_eq!(percent_decode_latin1(b"/%00"), "/\0");
        assert_eq!(percent_decode_latin1(b"/%zz%4%"), "/%zz%4%");
        assert_eq!(percent_decode_latin1(b"/a+b/../c;p"), "/a+b/../c;p");
        assert_eq!(percent_decode_latin1(b"%%41"), "%A");
    }

    #[test]
    fn u05_u07_script_name() {
        let s = |p: &str, pre: &str| script_and_path_info(p, pre);
        assert_eq!(s("////x", ""), ("".into(), "/x".into()));
        assert_eq!(s("//foo//bar", ""), ("".into(), "/foo//bar".into()));
        assert_eq!(s("/", ""), ("".into(), "/".into()));
        assert_eq!(s("//", ""), ("".into(), "/".into()));
        assert_eq!(s("x//", ""), ("".into(), "x//".into()));
        assert_eq!(s("/app", "/app"), ("/app".into(), "".into()));
        assert_eq!(s("//app/x", "/app"), ("/app".into(), "/x".into()));
        assert_eq!(s("/apple", "/app"), ("/app".into(), "/apple".into()));
        assert_eq!(s("/other", "/app"), ("/app".into(), "/other".into()));
        assert_eq!(s("", "/app"), ("/app".into(), "".into()));
    }
}
