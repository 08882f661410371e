//! waitress-proxy
