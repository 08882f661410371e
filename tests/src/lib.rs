//! Test harness: starts the real `waitress-cli` binary on a free loopback port
//! with a fixture app from `tests/apps`, and talks to it over real sockets.

pub mod client;
pub mod server;

pub use client::{Reader, Response, connect, read_response, request, send_raw};
pub use server::{Server, ServerBuilder, workspace_root};
