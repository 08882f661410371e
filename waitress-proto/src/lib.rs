//! waitress-proto
