//! waitress-serve style flag parsing (K-01, K-02, D-21).
//!
//! Like Python's `getopt`: long options only, `--name=value` or `--name
//! value`, unique prefixes, boolean flags refuse an argument and have `--no-`
//! forms, `--listen` accumulates, otherwise the last flag wins. Unlike
//! waitress (D-21) options may also follow the application; `--` ends them.

use crate::error::ConfigError;
use crate::raw::{Raw, Settings};
use crate::schema::{self, Kind, Setting};

/// The flags given on a command line, uncast.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CliArgs {
    pub help: bool,
    pub version: bool,
    pub config: Option<String>,
    /// `--app=MODULE:OBJECT`
    pub app: Option<String>,
    pub positionals: Vec<String>,
    /// Every other flag, as settings (`call`, `log_level`, adjustments...).
    pub settings: Settings,
}

/// What one long option does.
#[derive(Clone, Copy, Debug)]
enum Action {
    Help,
    Version,
    Config,
    App,
    /// A boolean setting set to the given value.
    Switch(&'static Setting, bool),
    /// A setting taking a value.
    Value(&'static Setting),
}

impl Action {
    fn takes_value(self) -> bool {
        matches!(self, Action::Config | Action::App | Action::Value(_))
    }
}

/// One recognised long option.
#[derive(Clone, Debug)]
struct LongOption {
    name: String,
    action: Action,
}

/// Every long option: waitress's, derived from the schema, plus ours.
fn long_options() -> Vec<LongOption> {
    let mut options = vec![
        LongOption {
            name: "help".into(),
            action: Action::Help,
        },
        LongOption {
            name: "version".into(),
            action: Action::Version,
        },
        LongOption {
            name: "config".into(),
            action: Action::Config,
        },
    ];
    for setting in schema::SETTINGS {
        let flag = flag_name(setting);
        match setting.kind {
            // `--call` has no `--no-` form in waitress-serve; adding one would
            // make `--no-c` ambiguous for existing command lines.
            Kind::Bool if setting.name == "call" => options.push(LongOption {
                name: flag,
                action: Action::Switch(setting, true),
            }),
            Kind::Bool => {
                options.push(LongOption {
                    name: format!("no-{flag}"),
                    action: Action::Switch(setting, false),
                });
                options.push(LongOption {
                    name: flag,
                    action: Action::Switch(setting, true),
                });
            }
            _ if setting.name == "app" => options.push(LongOption {
                name: flag,
                action: Action::App,
            }),
            _ => options.push(LongOption {
                name: flag,
                action: Action::Value(setting),
            }),
        }
    }
    options
}

/// The kebab-case flag name of a setting.
pub(crate) fn flag_name(setting: &Setting) -> String {
    setting.name.replace('_', "-")
}

/// Finds a long option by exact name or unique prefix (getopt's rules).
fn lookup<'a>(options: &'a [LongOption], given: &str) -> Result<&'a LongOption, ConfigError> {
    if let Some(exact) = options.iter().find(|o| o.name == given) {
        return Ok(exact);
    }
    let matches: Vec<&LongOption> = options
        .iter()
        .filter(|o| o.name.starts_with(given))
        .collect();
    match matches.as_slice() {
        [only] => Ok(only),
        [] => {
            let suggestion = schema::closest(given, options.iter().map(|o| o.name.as_str()))
                .map(|name| format!(" (did you mean --{name}?)"))
                .unwrap_or_default();
            Err(ConfigError::config(format!(
                "option --{given} not recognized{suggestion}"
            )))
        }
        several => {
            let names: Vec<String> = several.iter().map(|o| format!("--{}", o.name)).collect();
            Err(ConfigError::config(format!(
                "option --{given} not a unique prefix (it could be {})",
                names.join(", ")
            )))
        }
    }
}

/// Parses `args` (without argv[0]).
pub(crate) fn parse(args: &[String]) -> Result<CliArgs, ConfigError> {
    let options = long_options();
    let mut out = CliArgs::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            out.positionals.extend(rest.by_ref().cloned());
            break;
        }
        let Some(body) = arg.strip_prefix("--") else {
            if arg.len() > 1 && arg.starts_with('-') {
                return Err(ConfigError::config(format!(
                    "option {arg} not recognized (options are long: --name=value)"
                )));
            }
            out.positionals.push(arg.clone());
            continue;
        };
        let (name, inline_value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let option = lookup(&options, name)?;
        let value = if option.action.takes_value() {
            match inline_value {
                Some(v) => Some(v.to_owned()),
                None => Some(rest.next().cloned().ok_or_else(|| {
                    ConfigError::config(format!("option --{} requires argument", option.name))
                })?),
            }
        } else if inline_value.is_some() {
            return Err(ConfigError::config(format!(
                "option --{} must not have an argument",
                option.name
            )));
        } else {
            None
        };
        record(&mut out, option.action, value.unwrap_or_default());
    }
    Ok(out)
}

/// Stores one parsed option.
fn record(out: &mut CliArgs, action: Action, value: String) {
    match action {
        Action::Help => out.help = true,
        Action::Version => out.version = true,
        Action::Config => out.config = Some(value),
        Action::App => out.app = Some(value),
        Action::Switch(setting, on) => out.settings.set(setting, Raw::Bool(on)),
        Action::Value(setting) if setting.name == "listen" => {
            // `--listen` accumulates, space-joined, as in waitress-serve.
            let joined = match out.settings.get("listen") {
                Some(Raw::Text(previous)) => format!("{previous} {value}"),
                _ => value,
            };
            out.settings.set(setting, Raw::Text(joined));
        }
        Action::Value(setting) => out.settings.set(setting, Raw::Text(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn parsed(list: &[&str]) -> CliArgs {
        parse(&args(list)).unwrap_or_else(|e| panic!("{list:?}: {e}"))
    }

    fn error(list: &[&str]) -> String {
        match parse(&args(list)) {
            Ok(out) => panic!("{list:?} parsed: {out:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn text(out: &CliArgs, name: &str) -> Option<Raw> {
        out.settings.get(name).cloned()
    }

    #[test]
    fn k01_value_forms() {
        let out = parsed(&["--threads=2", "--port", "81", "app:x"]);
        assert_eq!(text(&out, "threads"), Some(Raw::Text("2".into())));
        assert_eq!(text(&out, "port"), Some(Raw::Text("81".into())));
        assert_eq!(out.positionals, vec!["app:x".to_owned()]);
        // `--name value` takes the next argument whatever it looks like.
        let out = parsed(&["--ident", "--threads=3"]);
        assert_eq!(text(&out, "ident"), Some(Raw::Text("--threads=3".into())));
        assert_eq!(text(&out, "threads"), None);
        // an empty inline value is a value
        assert_eq!(
            text(&parsed(&["--ident="]), "ident"),
            Some(Raw::Text(String::new()))
        );
    }

    #[test]
    fn k01_unique_prefixes() {
        assert_eq!(
            text(&parsed(&["--thr=2"]), "threads"),
            Some(Raw::Text("2".into()))
        );
        assert_eq!(
            text(&parsed(&["--expose"]), "expose_tracebacks"),
            Some(Raw::Bool(true))
        );
        assert_eq!(
            text(&parsed(&["--no-expose"]), "expose_tracebacks"),
            Some(Raw::Bool(false))
        );
        // exact names win over longer ones they prefix
        assert_eq!(text(&parsed(&["--ipv4"]), "ipv4"), Some(Raw::Bool(true)));
        let err = error(&["--c=1"]);
        assert!(
            err.starts_with("option --c not a unique prefix (it could be --config, --call,"),
            "{err}"
        );
        // our extra flags keep waitress's unique prefixes unique
        assert_eq!(
            text(&parsed(&["--no-c"]), "clear_untrusted_proxy_headers"),
            Some(Raw::Bool(false))
        );
    }

    #[test]
    fn k01_bool_flags_refuse_an_argument() {
        assert_eq!(
            error(&["--expose-tracebacks=1"]),
            "option --expose-tracebacks must not have an argument"
        );
        assert_eq!(
            error(&["--call=yes"]),
            "option --call must not have an argument"
        );
        assert_eq!(
            error(&["--no-ipv6="]),
            "option --no-ipv6 must not have an argument"
        );
    }

    #[test]
    fn k01_missing_argument_and_unknown_options() {
        assert_eq!(error(&["--threads"]), "option --threads requires argument");
        assert_eq!(error(&["--bogus"]), "option --bogus not recognized");
        assert_eq!(
            error(&["--treads=4"]),
            "option --treads not recognized (did you mean --threads?)"
        );
        assert_eq!(
            error(&["-p", "80"]),
            "option -p not recognized (options are long: --name=value)"
        );
        assert!(error(&["--no-call"]).starts_with("option --no-call not recognized"));
    }

    #[test]
    fn k01_listen_accumulates_others_last_wins() {
        let out = parsed(&[
            "--listen=a:1",
            "--threads=2",
            "--listen",
            "b:2",
            "--threads=3",
        ]);
        assert_eq!(text(&out, "listen"), Some(Raw::Text("a:1 b:2".into())));
        assert_eq!(text(&out, "threads"), Some(Raw::Text("3".into())));
    }

    #[test]
    fn k02_help_version_config_app_call() {
        let out = parsed(&[
            "--help",
            "--version",
            "--config",
            "x.toml",
            "--app=m:a",
            "--call",
        ]);
        assert!(out.help && out.version);
        assert_eq!(out.config.as_deref(), Some("x.toml"));
        assert_eq!(out.app.as_deref(), Some("m:a"));
        assert_eq!(text(&out, "call"), Some(Raw::Bool(true)));
    }

    #[test]
    fn d21_options_after_the_app_and_double_dash() {
        let out = parsed(&["app:x", "--port=1", "-", "--", "--threads=2"]);
        assert_eq!(text(&out, "port"), Some(Raw::Text("1".into())));
        assert_eq!(out.positionals, args(&["app:x", "-", "--threads=2"]));
        assert_eq!(text(&out, "threads"), None);
    }

    #[test]
    fn every_setting_has_a_flag() {
        let options = long_options();
        for setting in schema::SETTINGS {
            let flag = flag_name(setting);
            assert!(options.iter().any(|o| o.name == flag), "{flag}");
        }
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::*;

    /// Every prefix of every option resolves to that option exactly when no
    /// other option shares the prefix (getopt's rule), whatever the split
    /// point between what is typed and what is left out.
    #[test]
    fn k01_every_prefix_of_every_option() {
        let options = long_options();
        for option in &options {
            for end in 1..=option.name.len() {
                let prefix = &option.name[..end];
                let sharing = options
                    .iter()
                    .filter(|o| o.name.starts_with(prefix))
                    .count();
                let exact = options.iter().any(|o| o.name == prefix);
                let resolved = lookup(&options, prefix);
                if exact || sharing == 1 {
                    let found = resolved.map(|o| o.name.clone()).unwrap_or_default();
                    if exact {
                        assert_eq!(found, prefix);
                    } else {
                        assert_eq!(found, option.name, "--{prefix}");
                    }
                } else {
                    let err = resolved.map(|o| o.name.clone()).expect_err(prefix);
                    assert!(
                        err.message().contains("not a unique prefix"),
                        "--{prefix}: {err}"
                    );
                }
            }
        }
    }

    /// `--name=value` and `--name value` are the same for every value option.
    #[test]
    fn k01_both_value_forms_for_every_option() {
        for option in long_options()
            .iter()
            .filter(|o| matches!(o.action, Action::Value(_)))
        {
            let inline = parse(&[format!("--{}=v 1", option.name)]).expect("inline");
            let separate =
                parse(&[format!("--{}", option.name), "v 1".to_owned()]).expect("separate");
            assert_eq!(inline, separate, "--{}", option.name);
            let Action::Value(setting) = option.action else {
                continue;
            };
            assert_eq!(
                inline.settings.get(setting.name),
                Some(&Raw::Text("v 1".into()))
            );
        }
    }

    /// waitress-serve's own unique prefixes stay unique with our extra flags
    /// (except `--con`, which now also matches `--config`).
    #[test]
    fn waitress_prefixes_stay_unique() {
        let ours = [
            "version",
            "config",
            "log-level",
            "virtualenv",
            "shutdown-timeout",
        ];
        let options = long_options();
        let waitress: Vec<&LongOption> = options
            .iter()
            .filter(|o| !ours.contains(&o.name.as_str()))
            .collect();
        for option in &waitress {
            for end in 1..=option.name.len() {
                let prefix = &option.name[..end];
                let unique_in_waitress = waitress
                    .iter()
                    .filter(|o| o.name.starts_with(prefix))
                    .count()
                    == 1;
                if unique_in_waitress && !"config".starts_with(prefix) {
                    assert_eq!(
                        lookup(&options, prefix).map(|o| o.name.clone()),
                        Ok(option.name.clone()),
                        "--{prefix}"
                    );
                }
            }
        }
    }
}
