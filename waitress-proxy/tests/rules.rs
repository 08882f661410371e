//! Table-driven tests of section 11 through the public API, one table per
//! rule (P-01..P-10, D-10, D-22, D-23). Every case checks the whole environ:
//! the listed changes and nothing else.

mod common_env;

use common_env::{Settings, assert_changes, run};

const PEER: &str = "10.0.0.1";
const XFF: &[&str] = &["x-forwarded-for"];
const XFH: &[&str] = &["x-forwarded-host"];
const XFP: &[&str] = &["x-forwarded-proto"];
const XFPORT: &[&str] = &["x-forwarded-port"];
const XFB: &[&str] = &["x-forwarded-by"];
const X_ALL: &[&str] = &[
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-by",
];
const FWD: &[&str] = &["forwarded"];

const ALL_SIX: &[(&str, &str)] = &[
    ("HTTP_FORWARDED", "for=192.0.2.60;proto=https"),
    ("HTTP_X_FORWARDED_FOR", "192.0.2.60"),
    ("HTTP_X_FORWARDED_HOST", "example.com"),
    ("HTTP_X_FORWARDED_PROTO", "https"),
    ("HTTP_X_FORWARDED_PORT", "8443"),
    ("HTTP_X_FORWARDED_BY", "proxy"),
];

const REMOVE_ALL_SIX: &[(&str, Option<&str>)] = &[
    ("HTTP_FORWARDED", None),
    ("HTTP_X_FORWARDED_FOR", None),
    ("HTTP_X_FORWARDED_HOST", None),
    ("HTTP_X_FORWARDED_PROTO", None),
    ("HTTP_X_FORWARDED_PORT", None),
    ("HTTP_X_FORWARDED_BY", None),
];

const ALL_REMOVED_LINE: &str = "Removed untrusted headers (Forwarded, X-Forwarded-For, \
    X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Port, X-Forwarded-By). \
    Waitress recommends these be removed upstream.";

/// A request that must succeed with exactly `changes` and `warnings`.
struct Case<'a> {
    name: &'a str,
    settings: Settings<'a>,
    peer: &'a str,
    headers: &'a [(&'a str, &'a str)],
    changes: &'a [(&'a str, Option<&'a str>)],
    warnings: &'a [&'a str],
}

fn check(cases: &[Case<'_>]) {
    for case in cases {
        let (result, env, collected) = run(case.settings, case.peer, case.headers);
        let outcome = result.unwrap_or_else(|e| panic!("case {}: {e}", case.name));
        assert_changes(case.name, case.peer, case.headers, &env, case.changes);
        assert_eq!(outcome.warnings, case.warnings, "case {}", case.name);
        assert_eq!(collected, case.warnings, "case {}", case.name);
    }
}

/// A request that must be rejected (P-10 / D-22) with the environ untouched.
struct ErrCase<'a> {
    name: &'a str,
    settings: Settings<'a>,
    headers: &'a [(&'a str, &'a str)],
    header: &'a str,
    reason: &'a str,
    value: &'a str,
    warnings_before: &'a [&'a str],
}

fn check_errors(cases: &[ErrCase<'_>]) {
    for case in cases {
        let (result, env, collected) = run(case.settings, PEER, case.headers);
        let err = result.expect_err(case.name);
        assert_eq!(
            (
                err.header.as_str(),
                err.reason.as_str(),
                err.value.as_str(),
                err.peer.as_str()
            ),
            (case.header, case.reason, case.value, PEER),
            "case {}",
            case.name
        );
        assert_eq!(
            err.log_message(),
            format!(
                "Malformed proxy header \"{}\" from \"{PEER}\": {} value: {}",
                case.header, case.reason, case.value
            ),
            "case {}",
            case.name
        );
        assert_eq!(
            err.detail(),
            format!("Header \"{}\" malformed.", case.header)
        );
        assert_eq!(err.to_string(), err.log_message());
        // Nothing is changed or cleared: the app is not called (P-10).
        assert_changes(case.name, PEER, case.headers, &env, &[]);
        assert_eq!(collected, case.warnings_before, "case {}", case.name);
    }
}

#[test]
fn p01_activation() {
    let inactive = Settings {
        clear: false,
        ..Settings::DEFAULT
    };
    check(&[
        Case {
            name: "no trusted proxy and no clearing: nothing happens",
            settings: inactive,
            peer: PEER,
            headers: ALL_SIX,
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "defaults: the six headers are removed without any trusted proxy",
            settings: Settings::DEFAULT,
            peer: PEER,
            headers: ALL_SIX,
            changes: REMOVE_ALL_SIX,
            warnings: &[],
        },
        Case {
            name: "defaults: only present headers are removed, other headers stay",
            settings: Settings::DEFAULT,
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "https"), ("HTTP_X_FOO", "bar")],
            changes: &[("HTTP_X_FORWARDED_PROTO", None)],
            warnings: &[],
        },
    ]);
    assert!(!inactive.config().is_active());
    assert!(Settings::DEFAULT.config().is_active());
}

#[test]
fn p02_trust() {
    let xff = &[("HTTP_X_FORWARDED_FOR", "192.0.2.60")];
    let bad = &[
        ("HTTP_X_FORWARDED_FOR", "\"bad"),
        ("HTTP_X_FORWARDED_PROTO", "gopher"),
    ];
    let applied = &[
        ("REMOTE_ADDR", Some("192.0.2.60")),
        ("REMOTE_HOST", Some("192.0.2.60")),
    ];
    let removed = &[("HTTP_X_FORWARDED_FOR", None)];
    check(&[
        Case {
            name: "single address, matching peer",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: xff,
            changes: applied,
            warnings: &[],
        },
        Case {
            name: "single address, other peer: not interpreted, cleared",
            settings: Settings::trust(PEER, 1, XFF),
            peer: "10.0.0.2",
            headers: xff,
            changes: removed,
            warnings: &[],
        },
        Case {
            name: "untrusted peer: bad values cause no error",
            settings: Settings::trust(PEER, 1, &["x-forwarded-for", "x-forwarded-proto"]),
            peer: "10.0.0.2",
            headers: bad,
            changes: &[
                ("HTTP_X_FORWARDED_FOR", None),
                ("HTTP_X_FORWARDED_PROTO", None),
            ],
            warnings: &[],
        },
        Case {
            name: "star trusts any peer",
            settings: Settings::trust("*", 1, XFF),
            peer: "203.0.113.99",
            headers: xff,
            changes: applied,
            warnings: &[],
        },
        Case {
            name: "single IPv6 address",
            settings: Settings::trust("2001:db8::7", 1, XFF),
            peer: "2001:db8::7",
            headers: xff,
            changes: applied,
            warnings: &[],
        },
    ]);
}

#[test]
fn d23_cidr_lists_and_unix_peers() {
    let xff = &[("HTTP_X_FORWARDED_FOR", "192.0.2.60")];
    let applied = &[
        ("REMOTE_ADDR", Some("192.0.2.60")),
        ("REMOTE_HOST", Some("192.0.2.60")),
    ];
    let removed = &[("HTTP_X_FORWARDED_FOR", None)];
    let list = Settings::trust("10.0.0.0/8, 2001:db8::/32 192.168.1.7", 1, XFF);
    let mut cases = Vec::new();
    for peer in [
        "10.1.2.3",
        "10.255.255.255",
        "2001:db8::5",
        "2001:db8:1::1",
        "192.168.1.7",
    ] {
        cases.push(Case {
            name: "trusted by the list",
            settings: list,
            peer,
            headers: xff,
            changes: applied,
            warnings: &[],
        });
    }
    for peer in ["11.0.0.1", "192.168.1.8", "::1", "2001:db9::1", "localhost"] {
        cases.push(Case {
            name: "not in the list",
            settings: list,
            peer,
            headers: xff,
            changes: removed,
            warnings: &[],
        });
    }
    cases.push(Case {
        name: "localhost trusts the Unix-socket peer",
        settings: Settings::trust("localhost", 1, XFF),
        peer: "localhost",
        headers: xff,
        changes: applied,
        warnings: &[],
    });
    cases.push(Case {
        name: "localhost is not 127.0.0.1",
        settings: Settings::trust("localhost", 1, XFF),
        peer: "127.0.0.1",
        headers: xff,
        changes: removed,
        warnings: &[],
    });
    check(&cases);
    let headers: Vec<String> = Vec::new();
    let err =
        waitress_proxy::ProxyConfig::new(Some("10.0.0.0/8 nope"), None, &headers, true, false)
            .unwrap_err();
    assert!(
        err.contains("trusted_proxy") && err.contains("nope"),
        "{err}"
    );
}

#[test]
fn p03_clearing_and_logging() {
    let no_clear = |log| Settings {
        clear: false,
        log,
        ..Settings::trust(PEER, 1, XFF)
    };
    let logging = Settings {
        log: true,
        ..Settings::DEFAULT
    };
    check(&[
        Case {
            name: "trusted peer: only the untrusted headers are removed",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: ALL_SIX,
            changes: &[
                ("HTTP_FORWARDED", None),
                ("HTTP_X_FORWARDED_HOST", None),
                ("HTTP_X_FORWARDED_PROTO", None),
                ("HTTP_X_FORWARDED_PORT", None),
                ("HTTP_X_FORWARDED_BY", None),
                ("REMOTE_ADDR", Some("192.0.2.60")),
                ("REMOTE_HOST", Some("192.0.2.60")),
            ],
            warnings: &[],
        },
        Case {
            name: "clearing off, untrusted peer: everything passes through",
            settings: no_clear(true),
            peer: "10.9.9.9",
            headers: ALL_SIX,
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "clearing off, trusted peer: trusted applied, others kept",
            settings: no_clear(false),
            peer: PEER,
            headers: ALL_SIX,
            changes: &[
                ("REMOTE_ADDR", Some("192.0.2.60")),
                ("REMOTE_HOST", Some("192.0.2.60")),
            ],
            warnings: &[],
        },
        Case {
            name: "logging: one line naming every removed header",
            settings: logging,
            peer: PEER,
            headers: ALL_SIX,
            changes: REMOVE_ALL_SIX,
            warnings: &[ALL_REMOVED_LINE],
        },
        Case {
            name: "logging: names only the headers present, empty values count",
            settings: logging,
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PORT", ""), ("HTTP_FORWARDED", "for=x")],
            changes: &[("HTTP_X_FORWARDED_PORT", None), ("HTTP_FORWARDED", None)],
            warnings: &["Removed untrusted headers (Forwarded, X-Forwarded-Port). \
                         Waitress recommends these be removed upstream."],
        },
        Case {
            name: "logging: nothing removed, nothing logged",
            settings: logging,
            peer: PEER,
            headers: &[("HTTP_X_FOO", "bar")],
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "logging: trusted peer logs the untrusted ones only",
            settings: Settings {
                log: true,
                ..Settings::trust(PEER, 1, FWD)
            },
            peer: PEER,
            headers: &[
                ("HTTP_X_FORWARDED_FOR", "[2001:db8::1]"),
                (
                    "HTTP_FORWARDED",
                    "For=198.51.100.2;host=example.com:8080;proto=https",
                ),
            ],
            changes: &[
                ("HTTP_X_FORWARDED_FOR", None),
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:8080")),
                ("SERVER_PORT", Some("8080")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &["Removed untrusted headers (X-Forwarded-For). \
                         Waitress recommends these be removed upstream."],
        },
        Case {
            name: "logging without clearing logs nothing",
            settings: Settings {
                log: true,
                clear: false,
                ..Settings::trust(PEER, 1, XFF)
            },
            peer: "10.9.9.9",
            headers: ALL_SIX,
            changes: &[],
            warnings: &[],
        },
    ]);
}

fn addr(value: &str) -> [(&str, Option<&str>); 2] {
    [("REMOTE_ADDR", Some(value)), ("REMOTE_HOST", Some(value))]
}

#[test]
fn p04_x_forwarded_for() {
    const CHAIN: &str = "192.0.2.1, 198.51.100.2, 203.0.113.1";
    let chain = &[("HTTP_X_FORWARDED_FOR", CHAIN)];
    let a = addr("192.0.2.60");
    let v6 = addr("2001:db8::1");
    let mut cases = vec![
        Case {
            name: "alone",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "192.0.2.60")],
            changes: &a,
            warnings: &[],
        },
        Case {
            name: "absent: nothing happens",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[],
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "empty value: not rejected, nothing applied",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "")],
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "IPv4 with port",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "192.0.2.60:4711")],
            changes: &[
                ("REMOTE_ADDR", Some("192.0.2.60")),
                ("REMOTE_HOST", Some("192.0.2.60")),
                ("REMOTE_PORT", Some("4711")),
            ],
            warnings: &[],
        },
        Case {
            name: "quoted IPv4",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "\"192.0.2.60\"")],
            changes: &a,
            warnings: &[],
        },
        Case {
            name: "IPv6 without brackets",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "2001:db8::1")],
            changes: &v6,
            warnings: &[],
        },
        Case {
            name: "IPv6 with brackets",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "[2001:db8::1]")],
            changes: &v6,
            warnings: &[],
        },
        Case {
            name: "quoted IPv6 without brackets",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "\"2001:db8::1\"")],
            changes: &v6,
            warnings: &[],
        },
        Case {
            name: "quoted value with escapes",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "\"\\u\\n\\k\\nown\"")],
            changes: &[
                ("REMOTE_ADDR", Some("unknown")),
                ("REMOTE_HOST", Some("unknown")),
            ],
            warnings: &[],
        },
        Case {
            name: "IPv4-mapped IPv6 without brackets splits at the last colon (waitress)",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", "::ffff:192.0.2.60")],
            changes: &[
                ("REMOTE_ADDR", Some("::ffff")),
                ("REMOTE_HOST", Some("::ffff")),
                ("REMOTE_PORT", Some("192.0.2.60")),
            ],
            warnings: &[],
        },
        Case {
            name: "elements are stripped, the rewrite keeps raw text",
            settings: Settings::trust(PEER, 2, XFF),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_FOR", " 192.0.2.60 ,\t198.51.100.2 ")],
            changes: &[
                ("HTTP_X_FORWARDED_FOR", Some("192.0.2.60 ,\t198.51.100.2")),
                ("REMOTE_ADDR", Some("192.0.2.60")),
                ("REMOTE_HOST", Some("192.0.2.60")),
            ],
            warnings: &[],
        },
    ];
    let chain_expectations: [(usize, &str, &str); 4] = [
        (1, "203.0.113.1", "203.0.113.1"),
        (2, "198.51.100.2", "198.51.100.2, 203.0.113.1"),
        (3, "192.0.2.1", CHAIN),
        (4, "192.0.2.1", CHAIN),
    ];
    let chain_changes: Vec<[(&str, Option<&str>); 3]> = chain_expectations
        .iter()
        .map(|(_, client, rewritten)| {
            [
                ("HTTP_X_FORWARDED_FOR", Some(*rewritten)),
                ("REMOTE_ADDR", Some(*client)),
                ("REMOTE_HOST", Some(*client)),
            ]
        })
        .collect();
    for ((count, _, _), changes) in chain_expectations.iter().zip(&chain_changes) {
        cases.push(Case {
            name: "chain with count 1..4",
            settings: Settings::trust(PEER, *count, XFF),
            peer: PEER,
            headers: chain,
            changes,
            warnings: &[],
        });
    }
    check(&cases);
}

#[test]
fn d10_bracketed_ipv6_with_port_is_split() {
    let changes = &[
        ("REMOTE_ADDR", Some("2001:db8::1")),
        ("REMOTE_HOST", Some("2001:db8::1")),
        ("REMOTE_PORT", Some("4711")),
    ];
    let mut cases = Vec::new();
    for value in ["\"[2001:db8::1]:4711\"", "[2001:db8::1]:4711"] {
        cases.push(Case {
            name: value,
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers: &[],
            changes,
            warnings: &[],
        });
    }
    let headers_quoted = [("HTTP_X_FORWARDED_FOR", "\"[2001:db8::1]:4711\"")];
    let headers_bare = [("HTTP_X_FORWARDED_FOR", "[2001:db8::1]:4711")];
    cases[0].headers = &headers_quoted;
    cases[1].headers = &headers_bare;
    let chained = [(
        "HTTP_X_FORWARDED_FOR",
        "\"[2001:db8::1]:4711\", 198.51.100.2",
    )];
    cases.push(Case {
        name: "in a chain of two",
        settings: Settings::trust(PEER, 2, XFF),
        peer: PEER,
        headers: &chained,
        changes,
        warnings: &[],
    });
    check(&cases);
}

#[test]
fn p05_x_forwarded_host() {
    check(&[
        Case {
            name: "alone",
            settings: Settings::trust(PEER, 1, XFH),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_HOST", "example.com")],
            changes: &[
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com")),
            ],
            warnings: &[],
        },
        Case {
            name: "with port: the port wins",
            settings: Settings::trust(PEER, 1, XFH),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_HOST", "example.com:8443")],
            changes: &[
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:8443")),
                ("SERVER_PORT", Some("8443")),
            ],
            warnings: &[],
        },
        Case {
            name: "empty port after the colon leaves SERVER_PORT",
            settings: Settings::trust(PEER, 1, XFH),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_HOST", "example.com:")],
            changes: &[
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:")),
            ],
            warnings: &[],
        },
        Case {
            name: "bracketed IPv6 host with port",
            settings: Settings::trust(PEER, 1, XFH),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_HOST", "[2001:db8::1]:8443")],
            changes: &[
                ("SERVER_NAME", Some("[2001:db8::1]")),
                ("HTTP_HOST", Some("[2001:db8::1]:8443")),
                ("SERVER_PORT", Some("8443")),
            ],
            warnings: &[],
        },
        Case {
            name: "bracketed IPv6 host without port",
            settings: Settings::trust(PEER, 1, XFH),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_HOST", "\"[2001:db8::1]\"")],
            changes: &[
                ("SERVER_NAME", Some("[2001:db8::1]")),
                ("HTTP_HOST", Some("[2001:db8::1]")),
            ],
            warnings: &[],
        },
        Case {
            name: "count 2: first of the last two, header rewritten",
            settings: Settings::trust(PEER, 2, XFH),
            peer: PEER,
            headers: &[(
                "HTTP_X_FORWARDED_HOST",
                "evil.com, example.com, example.org",
            )],
            changes: &[
                ("HTTP_X_FORWARDED_HOST", Some("example.com, example.org")),
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com")),
            ],
            warnings: &[],
        },
        Case {
            name: "empty value: nothing applied",
            settings: Settings::trust(PEER, 1, XFH),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_HOST", "")],
            changes: &[],
            warnings: &[],
        },
    ]);
}

#[test]
fn p06_x_forwarded_proto_and_port() {
    let https = &[
        ("wsgi.url_scheme", Some("https")),
        ("SERVER_PORT", Some("443")),
    ];
    check(&[
        Case {
            name: "proto https alone",
            settings: Settings::trust(PEER, 1, XFP),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "https")],
            changes: https,
            warnings: &[],
        },
        Case {
            name: "proto is lowercased, the header is kept as sent",
            settings: Settings::trust(PEER, 1, XFP),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "HTTPS")],
            changes: https,
            warnings: &[],
        },
        Case {
            name: "quoted proto",
            settings: Settings::trust(PEER, 1, XFP),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "\"https\"")],
            changes: https,
            warnings: &[],
        },
        Case {
            name: "proto http sets port 80",
            settings: Settings::trust(PEER, 1, XFP),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "http")],
            changes: &[
                ("wsgi.url_scheme", Some("http")),
                ("SERVER_PORT", Some("80")),
            ],
            warnings: &[],
        },
        Case {
            name: "trusted proto absent: fine, nothing changes",
            settings: Settings::trust(PEER, 1, &["x-forwarded-proto", "x-forwarded-port"]),
            peer: PEER,
            headers: &[],
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "empty proto: nothing changes",
            settings: Settings::trust(PEER, 1, XFP),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "")],
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "port alone",
            settings: Settings::trust(PEER, 1, XFPORT),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PORT", "8443")],
            changes: &[("SERVER_PORT", Some("8443"))],
            warnings: &[],
        },
        Case {
            name: "port is not validated (waitress)",
            settings: Settings::trust(PEER, 1, XFPORT),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PORT", "\"abc\"")],
            changes: &[("SERVER_PORT", Some("abc"))],
            warnings: &[],
        },
        Case {
            name: "port wins over the proto default",
            settings: Settings::trust(PEER, 1, &["x-forwarded-proto", "x-forwarded-port"]),
            peer: PEER,
            headers: &[
                ("HTTP_X_FORWARDED_PROTO", "https"),
                ("HTTP_X_FORWARDED_PORT", "8443"),
            ],
            changes: &[
                ("wsgi.url_scheme", Some("https")),
                ("SERVER_PORT", Some("8443")),
            ],
            warnings: &[],
        },
        Case {
            name: "untrusted proto is not applied and is cleared",
            settings: Settings::trust(PEER, 1, XFPORT),
            peer: PEER,
            headers: &[
                ("HTTP_X_FORWARDED_PROTO", "https"),
                ("HTTP_X_FORWARDED_PORT", "8443"),
            ],
            changes: &[
                ("HTTP_X_FORWARDED_PROTO", None),
                ("SERVER_PORT", Some("8443")),
            ],
            warnings: &[],
        },
    ]);
}

#[test]
fn p07_x_forwarded_by_is_kept_never_interpreted() {
    let headers = &[
        ("HTTP_X_FORWARDED_FOR", "198.51.100.2"),
        ("HTTP_X_FORWARDED_BY", "\"not even valid"),
        ("HTTP_X_FORWARDED_PROTO", "https"),
        ("HTTP_X_FORWARDED_HOST", "example.org"),
    ];
    check(&[
        Case {
            name: "trusting only X-Forwarded-By keeps it and clears the rest",
            settings: Settings::trust(PEER, 1, XFB),
            peer: PEER,
            headers,
            changes: &[
                ("HTTP_X_FORWARDED_FOR", None),
                ("HTTP_X_FORWARDED_PROTO", None),
                ("HTTP_X_FORWARDED_HOST", None),
            ],
            warnings: &[],
        },
        Case {
            name: "not trusted: removed",
            settings: Settings::trust(PEER, 1, XFF),
            peer: PEER,
            headers,
            changes: &[
                ("HTTP_X_FORWARDED_BY", None),
                ("HTTP_X_FORWARDED_PROTO", None),
                ("HTTP_X_FORWARDED_HOST", None),
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
            ],
            warnings: &[],
        },
        Case {
            name: "clearing off keeps everything",
            settings: Settings {
                clear: false,
                ..Settings::trust(PEER, 1, XFB)
            },
            peer: PEER,
            headers,
            changes: &[],
            warnings: &[],
        },
    ]);
}

#[test]
fn p08_forwarded() {
    const THREE: &str = "For=192.0.2.1;host=fake.com, \
                         For=198.51.100.2;host=example.com:8080, For=203.0.113.1";
    check(&[
        Case {
            name: "single element with every value",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[(
                "HTTP_FORWARDED",
                "For=198.51.100.2:5858;host=example.com:8080;proto=https",
            )],
            changes: &[
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
                ("REMOTE_PORT", Some("5858")),
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:8080")),
                ("SERVER_PORT", Some("8080")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &[],
        },
        Case {
            name: "values are lowercased",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", "HOST=Example.COM;PROTO=HTTPS")],
            changes: &[
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com")),
                ("SERVER_PORT", Some("443")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &[],
        },
        Case {
            name: "chain count 1: newest element only",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", THREE)],
            changes: &[
                ("HTTP_FORWARDED", Some("For=203.0.113.1")),
                ("REMOTE_ADDR", Some("203.0.113.1")),
                ("REMOTE_HOST", Some("203.0.113.1")),
            ],
            warnings: &[],
        },
        Case {
            name: "chain count 2: oldest trusted value wins",
            settings: Settings::trust(PEER, 2, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", THREE)],
            changes: &[
                (
                    "HTTP_FORWARDED",
                    Some("For=198.51.100.2;host=example.com:8080, For=203.0.113.1"),
                ),
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:8080")),
                ("SERVER_PORT", Some("8080")),
            ],
            warnings: &[],
        },
        Case {
            name: "chain count 3",
            settings: Settings::trust(PEER, 3, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", THREE)],
            changes: &[
                ("REMOTE_ADDR", Some("192.0.2.1")),
                ("REMOTE_HOST", Some("192.0.2.1")),
                ("SERVER_NAME", Some("fake.com")),
                ("HTTP_HOST", Some("fake.com")),
            ],
            warnings: &[],
        },
        Case {
            name: "quoted IPv6 with port, values from different elements",
            settings: Settings::trust(PEER, 2, FWD),
            peer: PEER,
            headers: &[(
                "HTTP_FORWARDED",
                "for=\"[2001:db8::1]:3821\";host=\"example.com:8443\";proto=\"https\", \
                 for=192.0.2.1;host=\"example.internal:8080\"",
            )],
            changes: &[
                ("REMOTE_ADDR", Some("2001:db8::1")),
                ("REMOTE_HOST", Some("2001:db8::1")),
                ("REMOTE_PORT", Some("3821")),
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:8443")),
                ("SERVER_PORT", Some("8443")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &[],
        },
        Case {
            name: "minimal: quoted IPv6 without port, proto gives the port",
            settings: Settings::trust(PEER, 2, FWD),
            peer: PEER,
            headers: &[(
                "HTTP_FORWARDED",
                "for=\"[2001:db8::1]\";proto=\"https\", for=192.0.2.1;host=\"example.org\"",
            )],
            changes: &[
                ("REMOTE_ADDR", Some("2001:db8::1")),
                ("REMOTE_HOST", Some("2001:db8::1")),
                ("SERVER_NAME", Some("example.org")),
                ("HTTP_HOST", Some("example.org")),
                ("SERVER_PORT", Some("443")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &[],
        },
        Case {
            name: "empty pairs are skipped, by is ignored",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", "For=198.51.100.2;;proto=https;by=_unused")],
            changes: &[
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
                ("SERVER_PORT", Some("443")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &[],
        },
        Case {
            name: "unknown tokens warn and are ignored",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", "for=198.51.100.2;Secret=x;port=81")],
            changes: &[
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
            ],
            warnings: &[
                "Unknown Forwarded token: secret",
                "Unknown Forwarded token: port",
            ],
        },
        Case {
            name: "X-Forwarded-* are untrusted and cleared in Forwarded mode",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: ALL_SIX,
            changes: &[
                ("HTTP_X_FORWARDED_FOR", None),
                ("HTTP_X_FORWARDED_HOST", None),
                ("HTTP_X_FORWARDED_PROTO", None),
                ("HTTP_X_FORWARDED_PORT", None),
                ("HTTP_X_FORWARDED_BY", None),
                ("REMOTE_ADDR", Some("192.0.2.60")),
                ("REMOTE_HOST", Some("192.0.2.60")),
                ("SERVER_PORT", Some("443")),
                ("wsgi.url_scheme", Some("https")),
            ],
            warnings: &[],
        },
        Case {
            name: "Forwarded absent: X-Forwarded-* still cleared, nothing applied",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[("HTTP_X_FORWARDED_PROTO", "https")],
            changes: &[("HTTP_X_FORWARDED_PROTO", None)],
            warnings: &[],
        },
        Case {
            name: "Forwarded empty: kept, nothing applied",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", "")],
            changes: &[],
            warnings: &[],
        },
        Case {
            name: "Forwarded of empty elements: rewritten, nothing applied",
            settings: Settings::trust(PEER, 2, FWD),
            peer: PEER,
            headers: &[("HTTP_FORWARDED", " ,, ")],
            changes: &[("HTTP_FORWARDED", Some(","))],
            warnings: &[],
        },
        Case {
            name: "X-Forwarded-For is ignored in Forwarded mode",
            settings: Settings::trust(PEER, 1, FWD),
            peer: PEER,
            headers: &[
                ("HTTP_X_FORWARDED_FOR", "192.0.2.9"),
                ("HTTP_FORWARDED", "proto=http"),
            ],
            changes: &[
                ("HTTP_X_FORWARDED_FOR", None),
                ("SERVER_PORT", Some("80")),
                ("wsgi.url_scheme", Some("http")),
            ],
            warnings: &[],
        },
    ]);
}

#[test]
fn p09_applying_host_port_and_scheme() {
    let x3 = &["x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"];
    let host = |h: &'static str, proto: &'static str, port: &'static str| {
        let mut headers = vec![("HTTP_X_FORWARDED_HOST", h)];
        if !proto.is_empty() {
            headers.push(("HTTP_X_FORWARDED_PROTO", proto));
        }
        if !port.is_empty() {
            headers.push(("HTTP_X_FORWARDED_PORT", port));
        }
        headers
    };
    // (host, proto, port, SERVER_NAME, HTTP_HOST, SERVER_PORT, scheme)
    let table: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
        (
            "example.com",
            "https",
            "8443",
            "example.com",
            "example.com:8443",
            "8443",
            "https",
        ),
        (
            "example.com",
            "https",
            "443",
            "example.com",
            "example.com",
            "443",
            "https",
        ),
        (
            "example.com",
            "https",
            "80",
            "example.com",
            "example.com:80",
            "80",
            "https",
        ),
        (
            "example.com",
            "http",
            "443",
            "example.com",
            "example.com:443",
            "443",
            "http",
        ),
        (
            "example.com",
            "http",
            "80",
            "example.com",
            "example.com",
            "80",
            "http",
        ),
        (
            "example.com",
            "http",
            "",
            "example.com",
            "example.com",
            "80",
            "http",
        ),
        (
            "example.com",
            "https",
            "",
            "example.com",
            "example.com",
            "443",
            "https",
        ),
        // No proto: the staged scheme (http) decides whether the port is shown.
        (
            "example.com",
            "",
            "80",
            "example.com",
            "example.com",
            "80",
            "http",
        ),
        (
            "example.com",
            "",
            "443",
            "example.com",
            "example.com:443",
            "443",
            "http",
        ),
        (
            "example.com",
            "",
            "8080",
            "example.com",
            "example.com:8080",
            "8080",
            "http",
        ),
        // A port in the host wins over X-Forwarded-Port and the proto default.
        (
            "example.com:8080",
            "https",
            "9090",
            "example.com",
            "example.com:8080",
            "8080",
            "https",
        ),
        (
            "example.com:8080",
            "https",
            "",
            "example.com",
            "example.com:8080",
            "8080",
            "https",
        ),
        (
            "example.com:443",
            "http",
            "",
            "example.com",
            "example.com:443",
            "443",
            "http",
        ),
        (
            "[::1]",
            "https",
            "8443",
            "[::1]",
            "[::1]:8443",
            "8443",
            "https",
        ),
    ];
    for (h, proto, port, server_name, http_host, server_port, scheme) in table {
        let headers = host(h, proto, port);
        let (result, env, _) = run(Settings::trust(PEER, 1, x3), PEER, &headers);
        assert!(result.is_ok(), "{h} {proto} {port}");
        assert_changes(
            &format!("{h} {proto} {port}"),
            PEER,
            &headers,
            &env,
            &[
                ("SERVER_NAME", Some(server_name)),
                ("HTTP_HOST", Some(http_host)),
                ("SERVER_PORT", Some(server_port)),
                ("wsgi.url_scheme", Some(scheme)),
            ],
        );
    }

    // Everything at once, as waitress's own tests (chains of 2 and 1).
    let all = &[
        (
            "HTTP_X_FORWARDED_FOR",
            "192.0.2.1, 198.51.100.2, 203.0.113.1",
        ),
        ("HTTP_X_FORWARDED_PROTO", "http"),
        ("HTTP_X_FORWARDED_HOST", "example.com, example.org"),
        ("HTTP_X_FORWARDED_PORT", "8080"),
    ];
    check(&[
        Case {
            name: "all X-Forwarded-* with count 2",
            settings: Settings::trust(PEER, 2, X_ALL),
            peer: PEER,
            headers: all,
            changes: &[
                ("REMOTE_ADDR", Some("198.51.100.2")),
                ("REMOTE_HOST", Some("198.51.100.2")),
                ("SERVER_NAME", Some("example.com")),
                ("HTTP_HOST", Some("example.com:8080")),
                ("SERVER_PORT", Some("8080")),
                ("HTTP_X_FORWARDED_FOR", Some("198.51.100.2, 203.0.113.1")),
            ],
            warnings: &[],
        },
        Case {
            name: "all X-Forwarded-* with count 1",
            settings: Settings::trust(PEER, 1, X_ALL),
            peer: PEER,
            headers: all,
            changes: &[
                ("REMOTE_ADDR", Some("203.0.113.1")),
                ("REMOTE_HOST", Some("203.0.113.1")),
                ("SERVER_NAME", Some("example.org")),
                ("HTTP_HOST", Some("example.org:8080")),
                ("SERVER_PORT", Some("8080")),
                ("HTTP_X_FORWARDED_FOR", Some("203.0.113.1")),
                ("HTTP_X_FORWARDED_HOST", Some("example.org")),
            ],
            warnings: &[],
        },
        Case {
            name: "default headers (P-11): only X-Forwarded-Proto is trusted",
            settings: Settings {
                trusted_proxy: Some(PEER),
                ..Settings::DEFAULT
            },
            peer: PEER,
            headers: all,
            changes: &[
                ("HTTP_X_FORWARDED_FOR", None),
                ("HTTP_X_FORWARDED_HOST", None),
                ("HTTP_X_FORWARDED_PORT", None),
                ("wsgi.url_scheme", Some("http")),
                ("SERVER_PORT", Some("80")),
            ],
            warnings: &[],
        },
    ]);
}

#[test]
fn p10_d22_every_error() {
    check_errors(&[
        ErrCase {
            name: "X-Forwarded-For bad quoting",
            settings: Settings::trust(PEER, 1, XFF),
            headers: &[("HTTP_X_FORWARDED_FOR", "\"foo")],
            header: "X-Forwarded-For",
            reason: "Invalid quoting in value",
            value: "\"foo",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-For bad quoting in an untrusted hop",
            settings: Settings::trust(PEER, 1, XFF),
            headers: &[("HTTP_X_FORWARDED_FOR", "foo\", 192.0.2.1")],
            header: "X-Forwarded-For",
            reason: "Invalid quoting in value",
            value: "foo\", 192.0.2.1",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-For empty client address",
            settings: Settings::trust(PEER, 1, XFF),
            headers: &[("HTTP_X_FORWARDED_FOR", "\" \"")],
            header: "X-Forwarded-For",
            reason: "empty client address",
            value: "\" \"",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Host bad quoting",
            settings: Settings::trust(PEER, 1, XFH),
            headers: &[("HTTP_X_FORWARDED_HOST", "\"foo")],
            header: "X-Forwarded-Host",
            reason: "Invalid quoting in value",
            value: "\"foo",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Proto multiple values",
            settings: Settings::trust(PEER, 1, XFP),
            headers: &[("HTTP_X_FORWARDED_PROTO", "http, https")],
            header: "X-Forwarded-Proto",
            reason: "Unspecified behavior for multiple values found in header",
            value: "http, https",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Proto bad quoting",
            settings: Settings::trust(PEER, 1, XFP),
            headers: &[("HTTP_X_FORWARDED_PROTO", "https\"")],
            header: "X-Forwarded-Proto",
            reason: "Invalid quoting in value",
            value: "https\"",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Proto unsupported (value lowercased)",
            settings: Settings::trust(PEER, 1, XFP),
            headers: &[("HTTP_X_FORWARDED_PROTO", "FTP")],
            header: "X-Forwarded-Proto",
            reason: "unsupported proto value",
            value: "ftp",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Proto URL",
            settings: Settings::trust(PEER, 1, XFP),
            headers: &[("HTTP_X_FORWARDED_PROTO", "http://p02n3e.com?url=http")],
            header: "X-Forwarded-Proto",
            reason: "unsupported proto value",
            value: "http://p02n3e.com?url=http",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Port multiple values",
            settings: Settings::trust(PEER, 1, XFPORT),
            headers: &[("HTTP_X_FORWARDED_PORT", "443, 80")],
            header: "X-Forwarded-Port",
            reason: "Unspecified behavior for multiple values found in header",
            value: "443, 80",
            warnings_before: &[],
        },
        ErrCase {
            name: "X-Forwarded-Port bad quoting",
            settings: Settings::trust(PEER, 1, XFPORT),
            headers: &[("HTTP_X_FORWARDED_PORT", "\"443")],
            header: "X-Forwarded-Port",
            reason: "Invalid quoting in value",
            value: "\"443",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded pair without =",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "For")],
            header: "Forwarded",
            reason: "Invalid forwarded-pair missing \"=\"",
            value: "For",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded token whitespace",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "For=198.51.100.2; proto =https")],
            header: "Forwarded",
            reason: "Token may not be surrounded by whitespace",
            value: "For=198.51.100.2; proto =https",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded value whitespace",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "For= \"198.51.100.2\"; proto =https")],
            header: "Forwarded",
            reason: "Value may not be surrounded by whitespace",
            value: "For= \"198.51.100.2\"; proto =https",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded bad quoting",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "for=\"[2001:db8::1]")],
            header: "Forwarded",
            reason: "Invalid quoting in value",
            value: "for=\"[2001:db8::1]",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded unsupported proto",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "for=192.0.2.1;proto=Gopher")],
            header: "Forwarded Proto=",
            reason: "unsupported proto value",
            value: "gopher",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded empty client address",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "for=\"[]\"")],
            header: "Forwarded",
            reason: "empty client address",
            value: "for=\"[]\"",
            warnings_before: &[],
        },
        ErrCase {
            name: "Forwarded: warnings logged before the error are kept",
            settings: Settings::trust(PEER, 1, FWD),
            headers: &[("HTTP_FORWARDED", "x=1, For")],
            header: "Forwarded",
            reason: "Invalid forwarded-pair missing \"=\"",
            value: "x=1, For",
            warnings_before: &["Unknown Forwarded token: x"],
        },
        ErrCase {
            name: "first failing header in waitress's order is reported",
            settings: Settings::trust(PEER, 1, X_ALL),
            headers: &[
                ("HTTP_X_FORWARDED_PORT", "1,2"),
                ("HTTP_X_FORWARDED_PROTO", "1,2"),
                ("HTTP_X_FORWARDED_HOST", "\"h"),
            ],
            header: "X-Forwarded-Host",
            reason: "Invalid quoting in value",
            value: "\"h",
            warnings_before: &[],
        },
    ]);
}
