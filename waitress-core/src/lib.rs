//! waitress-core
