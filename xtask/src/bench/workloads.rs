//! The workloads: which WSGI app (in `bench/apps`), which request, how many
//! connections, and what a correct answer looks like.

/// Connections wrk keeps open for every workload (issue 7: `-t1 -c50`).
pub const CONNECTIONS: u32 = 50;
/// Body size the `echo` workload POSTs (`bench/wrk/post.lua` sends this many bytes).
pub const ECHO_BODY_BYTES: usize = 64 * 1024;
/// Body size of the `large` workload (`bench/apps/large.py`).
pub const LARGE_BODY_BYTES: usize = 1024 * 1024;
/// Size of the file the `file` workload serves (generated into target/bench).
pub const FILE_BYTES: usize = 10 * 1024 * 1024;
/// `stream`: 100 chunks of 1 KiB (`bench/apps/stream.py`).
pub const STREAM_BYTES: usize = 100 * 1024;
/// How long the `sleep` app sleeps per request, in milliseconds.
pub const SLEEP_MS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    Hello,
    Flask,
    Echo,
    Large,
    File,
    Sleep,
    Stream,
}

/// What the probe request must get back before a server is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly these bytes.
    Body(&'static [u8]),
    /// A body of exactly this many bytes.
    Length(usize),
}

impl Workload {
    pub const ALL: [Workload; 7] = [
        Workload::Hello,
        Workload::Flask,
        Workload::Echo,
        Workload::Large,
        Workload::File,
        Workload::Sleep,
        Workload::Stream,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Hello => "hello",
            Workload::Flask => "flask",
            Workload::Echo => "echo",
            Workload::Large => "large",
            Workload::File => "file",
            Workload::Sleep => "sleep",
            Workload::Stream => "stream",
        }
    }

    pub fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// One line for the report.
    pub fn description(self) -> &'static str {
        match self {
            Workload::Hello => "GET, 13-byte body with Content-Length",
            Workload::Flask => "GET, a Flask route returning a short string",
            Workload::Echo => "POST 64 KiB, the app reads wsgi.input and returns its length",
            Workload::Large => "GET, a 1 MiB bytes body",
            Workload::File => "GET, wsgi.file_wrapper over a 10 MiB file",
            Workload::Sleep => "GET, the app sleeps 10 ms",
            Workload::Stream => "GET, a generator of 100 x 1 KiB chunks, no Content-Length",
        }
    }

    /// `module:callable` inside `bench/apps`.
    pub fn app(self) -> &'static str {
        match self {
            Workload::Hello => "hello:app",
            Workload::Flask => "flask_app:app",
            Workload::Echo => "echo:app",
            Workload::Large => "large:app",
            Workload::File => "file:app",
            Workload::Sleep => "sleep:app",
            Workload::Stream => "stream:app",
        }
    }

    /// The wrk lua script (in `bench/wrk`) that shapes the request, if any.
    pub fn lua_script(self) -> Option<&'static str> {
        match self {
            Workload::Echo => Some("post.lua"),
            _ => None,
        }
    }

    /// Bytes the probe request sends as a POST body (None: a GET).
    pub fn probe_body_len(self) -> Option<usize> {
        match self {
            Workload::Echo => Some(ECHO_BODY_BYTES),
            _ => None,
        }
    }

    pub fn expect(self) -> Expect {
        match self {
            Workload::Hello | Workload::Flask => Expect::Body(b"Hello, world!"),
            // The literal must match ECHO_BODY_BYTES (checked by a test).
            Workload::Echo => Expect::Body(b"65536"),
            Workload::Large => Expect::Length(LARGE_BODY_BYTES),
            Workload::File => Expect::Length(FILE_BYTES),
            Workload::Sleep => Expect::Body(b"slept"),
            Workload::Stream => Expect::Length(STREAM_BYTES),
        }
    }

    /// The best possible req/s for a server with `threads` threads, where
    /// the app (not the server) is the limit.
    pub fn ideal_rps(self, threads: u32) -> Option<f64> {
        match self {
            Workload::Sleep => Some(f64::from(threads) * 1000.0 / f64::from(SLEEP_MS)),
            _ => None,
        }
    }

    /// CPU-bound workloads also measured in the all-cores configuration.
    pub fn in_all_cores(self) -> bool {
        matches!(self, Workload::Hello | Workload::Flask)
    }
}

/// Parses `a,b,c` into workloads, in the order given, without duplicates.
pub fn parse_list(list: &str) -> Result<Vec<Workload>, String> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let w = Workload::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
            format!("unknown workload `{name}` (known: {})", known.join(", "))
        })?;
        if !out.contains(&w) {
            out.push(w);
        }
    }
    if out.is_empty() {
        return Err("--workloads needs at least one name".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()), Some(w));
        }
        assert_eq!(Workload::parse("Hello"), None);
    }

    #[test]
    fn echo_expectation_matches_the_body_size() {
        let Expect::Body(body) = Workload::Echo.expect() else {
            panic!("echo expects an exact body");
        };
        assert_eq!(body, ECHO_BODY_BYTES.to_string().as_bytes());
        // The lua script must send that many bytes.
        let lua = std::fs::read_to_string(crate::workspace_root().join("bench/wrk/post.lua"))
            .expect("bench/wrk/post.lua");
        assert!(lua.contains(&format!("string.rep(\"x\", {ECHO_BODY_BYTES})")));
    }

    #[test]
    fn sleep_ideal_is_threads_over_sleep_time() {
        assert_eq!(Workload::Sleep.ideal_rps(4), Some(400.0));
        assert_eq!(Workload::Hello.ideal_rps(4), None);
    }

    #[test]
    fn list_parsing_keeps_order_and_drops_duplicates() {
        assert_eq!(
            parse_list("flask, hello,flask").unwrap(),
            vec![Workload::Flask, Workload::Hello]
        );
        assert!(parse_list("hello,nope").unwrap_err().contains("nope"));
        assert!(parse_list(" , ").is_err());
    }
}
