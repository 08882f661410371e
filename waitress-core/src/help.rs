//! The `--help` text, generated from the schema and grouped as
//! waitress-serve groups its options.

use std::fmt::Write as _;

use crate::cli::flag_name;
use crate::schema::{self, Group, Kind, Setting};

/// The program name shown in usage lines.
pub const PROGRAM: &str = "waitress-cli";

/// The full help text.
pub fn help_text() -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "Usage:\n\n    {PROGRAM} [OPTS] [MODULE:OBJECT]\n\n\
         Options may come before or after MODULE:OBJECT; `--name=value` and\n\
         `--name value` both work, as do unique prefixes of option names.\n\n\
         Standard options:\n\n"
    );
    entry(&mut out, "--help", "Show this information and exit.");
    entry(&mut out, "--version", "Show the version and exit.");
    entry(
        &mut out,
        "--config=FILE",
        "Read settings from a TOML file (keys as below, in snake_case); flags override it.",
    );
    group(&mut out, Group::Standard);
    out.push_str("Tuning options:\n\n");
    group(&mut out, Group::Tuning);
    out
}

fn group(out: &mut String, which: Group) {
    for setting in schema::SETTINGS.iter().filter(|s| s.group == which) {
        entry(
            out,
            &usage(setting),
            &format!("{} (default: {})", setting.help, setting.default),
        );
    }
}

/// `--name=METAVAR`, `--[no-]name` or `--call`.
fn usage(setting: &Setting) -> String {
    let flag = flag_name(setting);
    match setting.kind {
        Kind::Bool if setting.name == "call" => format!("--{flag}"),
        Kind::Bool => format!("--[no-]{flag}"),
        _ => format!("--{flag}={}", setting.metavar),
    }
}

fn entry(out: &mut String, flag: &str, help: &str) {
    let _ = write!(out, "    {flag}\n        {help}\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_listed_once_with_its_default() {
        let text = help_text();
        for setting in schema::SETTINGS {
            let line = usage(setting);
            assert_eq!(text.matches(&format!("    {line}\n")).count(), 1, "{line}");
            assert!(
                text.contains(&format!("(default: {})", setting.default)),
                "{line}"
            );
        }
        assert!(text.contains("--[no-]expose-tracebacks\n"));
        assert!(text.contains("--threads=INT\n"));
        assert!(text.contains("--call\n"));
    }

    #[test]
    fn grouped_like_waitress() {
        let text = help_text();
        let standard = text.find("Standard options:").expect("standard");
        let tuning = text.find("Tuning options:").expect("tuning");
        let at = |flag: &str| text.find(flag).expect(flag);
        assert!(standard < at("--listen=") && at("--listen=") < tuning);
        assert!(tuning < at("--threads=") && tuning < at("--[no-]asyncore-use-poll"));
    }
}
