//! waitress-core: the one settings schema of waitress-rs (every adjustment
//! of waitress, with its names, casts, defaults and messages), the
//! waitress-serve style command line and `--config` TOML file, listen specs
//! and listening sockets, and the request body buffer that spills to a
//! temporary file.
//!
//! No tokio, no Python: everything here is plain std + libc and can be
//! tested and fuzzed alone.
//!
//! # Where settings come from
//!
//! [`parse_command_line`] reads waitress-serve flags and, with `--config
//! FILE`, a TOML file whose top-level keys are the adjustment names plus
//! `app`, `call`, `virtualenv` and `log_level`. A flag overrides the same
//! key of the file and also drops the file's keys it conflicts with (so
//! `--port` replaces the file's `listen`). Validation then runs once, in
//! section 12's order: conflict rules on the keys present, casts (waitress's
//! `asbool`, Python `int()`, `int(s, 8)`, `aslist`, `slash_fixed_str`) with
//! range checks, the IPv4/IPv6 rule, listen resolution, the trusted-proxy
//! rules, the `sockets` rules. Under systemd socket activation the unit's
//! descriptors become `sockets`. [`adjustments_from_strings`] runs the same
//! validation on string key/values.
//!
//! Not validated here: the syntax of `trusted_proxy` beyond waitress's
//! rules (D-23 address/CIDR lists belong to waitress-proxy's parser) and
//! whether `app` imports (Python's job).

mod adjustments;
mod bind;
mod buffer;
mod cast;
mod cli;
mod error;
mod help;
mod listen;
mod raw;
mod schema;
mod serve;
mod system;
mod toml_file;

#[doc(hidden)]
pub mod fuzzing;

pub use adjustments::{
    Adjustments, DEFAULT_HOST, DEFAULT_PORT, IMPLICIT_PROTO_WARNING, KNOWN_PROXY_HEADERS,
    SEND_BYTES_WARNING,
};
pub use bind::{
    BoundListener, ListenerAddr, bind_listener_groups, bind_listeners, cleanup_unix_sockets,
    configure_accepted, configure_accepted_fd, serving_urls, serving_urls_for,
};
pub use buffer::{BodyReader, SpillBuffer};
pub use error::{ConfigError, ConfigErrorKind, EXIT_CONFIG, EXIT_FAILURE};
pub use help::{PROGRAM, help_text};
pub use listen::INVALID_HOST_PORT;
pub use schema::{
    MAX_BACKLOG, MAX_BYTES, MAX_CONNECTION_LIMIT, MAX_PERMS, MAX_SECONDS, MAX_THREADS,
};
pub use serve::{
    Command, LogLevel, ServeConfig, adjustments_and_warnings_from_strings,
    adjustments_from_strings, parse_command_line, version_text,
};
pub use system::SD_LISTEN_FDS_START;
