//! The parsed request head and the CGI variables derived from it (section 10).

use std::borrow::Cow;

use crate::version::Version;

/// A CGI variable name: one of [`KNOWN_CGI_NAMES`] (borrowed from that
/// table, no allocation) or any other (owned).
pub type CgiName = Cow<'static, str>;

/// The CGI names of the request headers most clients send. Turning a head
/// into CGI variables allocates no key for these, and a server may keep a
/// ready-made object per name (`known_cgi_name_index`).
pub static KNOWN_CGI_NAMES: [&str; 36] = [
    "HTTP_HOST",
    "HTTP_USER_AGENT",
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_CONNECTION",
    "HTTP_COOKIE",
    "HTTP_REFERER",
    "HTTP_CACHE_CONTROL",
    "HTTP_PRAGMA",
    "HTTP_ORIGIN",
    "HTTP_AUTHORIZATION",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_RANGE",
    "HTTP_TE",
    "HTTP_DNT",
    "HTTP_PRIORITY",
    "HTTP_UPGRADE_INSECURE_REQUESTS",
    "HTTP_SEC_FETCH_DEST",
    "HTTP_SEC_FETCH_MODE",
    "HTTP_SEC_FETCH_SITE",
    "HTTP_SEC_FETCH_USER",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_MOBILE",
    "HTTP_SEC_CH_UA_PLATFORM",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
    "HTTP_X_REQUESTED_WITH",
    "HTTP_X_REQUEST_ID",
    "HTTP_FORWARDED",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
];

/// The position of `name` in [`KNOWN_CGI_NAMES`]. A name borrowed from the
/// table is recognised by its address, without comparing text.
pub fn known_cgi_name_index(name: &str) -> Option<usize> {
    KNOWN_CGI_NAMES
        .iter()
        .position(|known| std::ptr::eq(known.as_ptr(), name.as_ptr()) && known.len() == name.len())
        .or_else(|| KNOWN_CGI_NAMES.iter().position(|known| *known == name))
}

/// The known CGI name of a header name (F-08 applied), if it is one.
fn known_cgi_name(header: &str) -> Option<&'static str> {
    KNOWN_CGI_NAMES.iter().copied().find(|cgi| {
        let bare = cgi.strip_prefix("HTTP_").unwrap_or(cgi);
        bare.len() == header.len()
            && bare.bytes().zip(header.bytes()).all(|(c, h)| match c {
                // Only a dash becomes an underscore: `Content_Type` is
                // not `Content-Type`.
                b'_' => h == b'-',
                c => c == h.to_ascii_uppercase(),
            })
    })
}

/// How the request body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body: no Content-Length (B-02) or `Content-Length: 0`.
    Empty,
    /// Exactly this many bytes (B-01, B-04); always > 0.
    Length(u64),
    /// Chunked (B-05); the decoded length is known at the end (B-13).
    Chunked,
}

/// A complete, validated request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// L-03/L-04: an all-uppercase token.
    pub method: String,
    /// L-05 with D-03.
    pub version: Version,
    /// U-01: the raw target, latin-1.
    pub request_uri: String,
    /// U-02..U-04: decoded PATH_INFO (latin-1 tunnelled), before U-05/U-07.
    pub path: String,
    /// U-06: the raw query, `""` when absent.
    pub query: String,
    /// F-05..F-07: names as spelled, values trimmed, latin-1, arrival order;
    /// `Transfer-Encoding` removed on 1.1 (B-05), `Content-Length` removed when
    /// chunked (B-06).
    pub headers: Vec<(String, String)>,
    pub body: BodyKind,
    /// A `100 Continue` is owed before the body is read (E-01, D-09).
    pub expect_continue: bool,
    /// Whether the request allows the connection to stay open (C-01/C-02
    /// request side, D-08, false for D-05).
    pub keep_alive: bool,
}

/// CGI name of the decoded length of a chunked body (B-13), in
/// `KNOWN_CGI_NAMES`.
const CONTENT_LENGTH: usize = 35;
/// D-16: Cookie values are joined with `"; "`, everything else with `", "` (F-09).
const COOKIE_KEY: &str = "HTTP_COOKIE";
/// Above this many distinct keys a hash index replaces the linear search.
const LINEAR_SEARCH_MAX: usize = 16;

impl RequestHead {
    /// U-05 + U-07: `(SCRIPT_NAME, PATH_INFO)`; `url_prefix` is already
    /// normalized (`""` or `"/x"`).
    pub fn script_and_path_info(&self, url_prefix: &str) -> (String, String) {
        crate::target::script_and_path_info(&self.path, url_prefix)
    }

    /// `script_and_path_info`, moving `path` itself into PATH_INFO when
    /// that is all U-05 and U-07 make of it (no prefix, at most one leading
    /// slash): `path` is then left empty, and PATH_INFO is the path.
    pub fn take_script_and_path_info(&mut self, url_prefix: &str) -> (String, String) {
        if url_prefix.is_empty() && !self.path.starts_with("//") {
            return (String::new(), std::mem::take(&mut self.path));
        }
        self.script_and_path_info(url_prefix)
    }

    /// `CONTENT_TYPE` (if sent), `CONTENT_LENGTH` (original text; when chunked
    /// the decoded length, B-13) and `HTTP_<NAME>` for every other header (F-08),
    /// repeated headers joined (F-09, D-16), in first-arrival order.
    pub fn cgi_variables(&self, decoded_body_len: u64) -> Vec<(CgiName, String)> {
        collect_cgi(
            self.headers.iter().map(|(n, v)| (n, v)),
            self.body,
            decoded_body_len,
        )
    }

    /// `cgi_variables`, moving the header values out of the head instead of
    /// copying them (a server that is done with the headers saves one
    /// allocation per header); `headers` is left empty.
    pub fn take_cgi_variables(&mut self, decoded_body_len: u64) -> Vec<(CgiName, String)> {
        collect_cgi(
            std::mem::take(&mut self.headers),
            self.body,
            decoded_body_len,
        )
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// The first header with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// F-08, F-09, D-16 and B-13 over `(name, value)` pairs in arrival order;
/// a value is moved when the pairs own it, copied when they borrow it.
fn collect_cgi<N, V>(
    headers: impl IntoIterator<Item = (N, V)>,
    body: BodyKind,
    decoded_body_len: u64,
) -> Vec<(CgiName, String)>
where
    N: AsRef<str>,
    V: AsRef<str> + Into<String>,
{
    let headers = headers.into_iter();
    let mut out: Vec<(CgiName, String)> = Vec::with_capacity(headers.size_hint().0 + 1);
    let mut index: Option<std::collections::HashMap<CgiName, usize>> = None;
    for (name, value) in headers {
        let key = cgi_key(name.as_ref());
        let existing = match &index {
            Some(map) => map.get(&key).copied(),
            None => out.iter().position(|(k, _)| *k == key),
        };
        match existing.and_then(|i| out.get_mut(i)) {
            Some((k, joined)) => {
                joined.push_str(if k == COOKIE_KEY { "; " } else { ", " });
                joined.push_str(value.as_ref());
            }
            None => {
                if let Some(map) = &mut index {
                    map.insert(key.clone(), out.len());
                }
                out.push((key, value.into()));
                if index.is_none() && out.len() > LINEAR_SEARCH_MAX {
                    index = Some(
                        out.iter()
                            .enumerate()
                            .map(|(i, (k, _))| (k.clone(), i))
                            .collect(),
                    );
                }
            }
        }
    }
    if body == BodyKind::Chunked {
        out.push((
            Cow::Borrowed(KNOWN_CGI_NAMES[CONTENT_LENGTH]),
            decoded_body_len.to_string(),
        ));
    }
    out
}

/// F-08: `name.upper().replace("-", "_")`, with the `HTTP_` prefix except for
/// the two CGI names.
fn cgi_key(name: &str) -> CgiName {
    if let Some(known) = known_cgi_name(name) {
        return Cow::Borrowed(known);
    }
    let mut key = String::with_capacity(name.len() + 5);
    if !name.eq_ignore_ascii_case("content-type") && !name.eq_ignore_ascii_case("content-length") {
        key.push_str("HTTP_");
    }
    key.extend(name.chars().map(|c| {
        if c == '-' {
            '_'
        } else {
            c.to_ascii_uppercase()
        }
    }));
    Cow::Owned(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)], body: BodyKind) -> RequestHead {
        RequestHead {
            method: "GET".into(),
            version: Version::Http11,
            request_uri: "/".into(),
            path: "//a".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body,
            expect_continue: false,
            keep_alive: true,
        }
    }

    fn vars(v: &[(&str, &str)]) -> Vec<(CgiName, String)> {
        v.iter()
            .map(|(n, v)| (CgiName::from(n.to_string()), v.to_string()))
            .collect()
    }

    /// F-08 spelled out, as the reference the table must agree with.
    fn generic_cgi_key(name: &str) -> String {
        let upper = name.to_ascii_uppercase().replace('-', "_");
        if name.eq_ignore_ascii_case("content-type") || name.eq_ignore_ascii_case("content-length")
        {
            upper
        } else {
            format!("HTTP_{upper}")
        }
    }

    #[test]
    fn f08_known_names_are_borrowed_from_the_table_and_agree_with_the_rule() {
        for (i, known) in KNOWN_CGI_NAMES.iter().enumerate() {
            let bare = known.strip_prefix("HTTP_").unwrap_or(known);
            let dashed = bare.replace('_', "-");
            for header in [dashed.clone(), dashed.to_ascii_lowercase()] {
                let key = cgi_key(&header);
                assert!(matches!(key, Cow::Borrowed(_)), "{header}");
                assert_eq!(key, generic_cgi_key(&header), "{header}");
                assert_eq!(known_cgi_name_index(&key), Some(i), "{header}");
            }
            // The text alone finds it too (a copy elsewhere in memory).
            let copy: String = known.chars().collect();
            assert_eq!(known_cgi_name_index(&copy), Some(i));
            // An underscore is not a dash (waitress 1.0.0 spoofing): such a
            // name keeps its own key, never a known one.
            if bare.contains('_') {
                let key = cgi_key(bare);
                assert!(matches!(key, Cow::Owned(_)), "{bare}");
                assert_eq!(key, generic_cgi_key(bare));
            }
        }
        assert_eq!(KNOWN_CGI_NAMES[CONTENT_LENGTH], "CONTENT_LENGTH");
        for other in ["X-Custom", "Hos", "Hostt", "Content-Typ", "Http-Host"] {
            let key = cgi_key(other);
            assert!(matches!(key, Cow::Owned(_)), "{other}");
            assert_eq!(key, generic_cgi_key(other));
            assert_eq!(known_cgi_name_index(&key), None);
        }
    }

    #[test]
    fn f08_f09_d16_cgi_variables() {
        let h = head(
            &[
                ("Host", "h"),
                ("X-A", "1"),
                ("Content-Type", "text/plain"),
                ("Cookie", "a=1"),
                ("x-a", "2"),
                ("Content-Length", "002"),
                ("cookie", "b=2"),
                ("X-A", "3"),
            ],
            BodyKind::Length(2),
        );
        assert_eq!(
            h.cgi_variables(2),
            vars(&[
                ("HTTP_HOST", "h"),
                ("HTTP_X_A", "1, 2, 3"),
                ("CONTENT_TYPE", "text/plain"),
                ("HTTP_COOKIE", "a=1; b=2"),
                ("CONTENT_LENGTH", "002"),
            ])
        );
    }

    #[test]
    fn f08_f09_d16_b13_taking_the_variables_gives_the_same_and_empties_the_headers() {
        let names: Vec<String> = (0..40).map(|i| format!("X-{}", i % 25)).collect();
        let mut many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        many.extend([("Cookie", "a=1"), ("cookie", "b=2"), ("Content-Type", "t")]);
        for (headers, body) in [
            (
                &[("Host", "h"), ("x-a", "1"), ("X-A", "2")][..],
                BodyKind::Empty,
            ),
            (&many[..], BodyKind::Chunked),
        ] {
            let mut h = head(headers, body);
            let copied = h.cgi_variables(7);
            assert_eq!(h.take_cgi_variables(7), copied);
            assert!(h.headers.is_empty());
        }
    }

    #[test]
    fn b13_chunked_content_length() {
        let h = head(&[("Host", "h")], BodyKind::Chunked);
        assert_eq!(
            h.cgi_variables(0),
            vars(&[("HTTP_HOST", "h"), ("CONTENT_LENGTH", "0")])
        );
        assert_eq!(h.cgi_variables(42)[1].1, "42");
    }

    #[test]
    fn many_headers_use_the_index_and_keep_order() {
        let names: Vec<String> = (0..40).map(|i| format!("X-{i}")).collect();
        let mut hs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        hs.push(("x-3", "w"));
        hs.push(("x-39", "z"));
        let out = head(&hs, BodyKind::Empty).cgi_variables(0);
        assert_eq!(out.len(), 40);
        assert_eq!(out[3..4], vars(&[("HTTP_X_3", "v, w")]));
        assert_eq!(out[39..40], vars(&[("HTTP_X_39", "v, z")]));
    }

    #[test]
    fn u05_u07_taking_gives_the_same_and_moves_only_an_unchanged_path() {
        for (path, prefix) in [
            ("/a/b", ""),
            ("//a", ""),
            ("///", ""),
            ("/", ""),
            ("", ""),
            ("*", ""),
            ("/app/x", "/app"),
            ("/app", "/app"),
            ("//app/x", "/app"),
        ] {
            let mut h = head(&[], BodyKind::Empty);
            h.path = path.to_string();
            let expect = h.script_and_path_info(prefix);
            assert_eq!(
                h.take_script_and_path_info(prefix),
                expect,
                "{path} {prefix}"
            );
            let moved = prefix.is_empty() && !path.starts_with("//");
            assert_eq!(
                h.path.is_empty(),
                moved || path.is_empty(),
                "{path} {prefix}"
            );
            if moved {
                assert_eq!(expect.1, path);
            }
        }
    }

    #[test]
    fn u05_u07_via_head() {
        let h = head(&[], BodyKind::Empty);
        assert_eq!(
            h.script_and_path_info(""),
            (String::new(), "/a".to_string())
        );
        assert!(!h.is_head());
        assert_eq!(h.header("HOST"), None);
    }
}
