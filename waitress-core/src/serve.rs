//! The entry points: the command line (flags + `--config` TOML file) and
//! string key/values, all through one schema and one validation.

use std::fmt;
use std::path::PathBuf;

use crate::adjustments::{self, Activation, Adjustments};
use crate::cli;
use crate::error::ConfigError;
use crate::raw::{self, Raw, Settings};
use crate::schema::{self, Scope};
use crate::system::{Os, System};
use crate::toml_file;

/// The `log_level` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug,
    #[default]
    Info,
    Warning,
    Error,
    Critical,
}

impl LogLevel {
    /// Every level, lowest first, with its configuration name.
    pub const ALL: [(LogLevel, &'static str); 5] = [
        (LogLevel::Debug, "debug"),
        (LogLevel::Info, "info"),
        (LogLevel::Warning, "warning"),
        (LogLevel::Error, "error"),
        (LogLevel::Critical, "critical"),
    ];

    /// The configuration name (`"info"`, ...).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(level, _)| *level == self)
            .map_or("info", |(_, name)| name)
    }

    /// Parses a level name, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        let wanted = text.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|(_, name)| *name == wanted)
            .map(|(level, _)| *level)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything `waitress-cli` needs to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// `module:callable` (or a dotted name), as given.
    pub app: String,
    /// Call the named object to get the application.
    pub call: bool,
    /// The virtual environment whose site-packages the app uses.
    pub virtualenv: Option<PathBuf>,
    pub log_level: LogLevel,
    pub adjustments: Adjustments,
    /// Warnings to log at startup (deprecations).
    pub warnings: Vec<String>,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Serve(Box<ServeConfig>),
    /// `--help`: the full help text, for stdout.
    Help(String),
    /// `--version`: the version line, for stdout.
    Version(String),
}

/// The version line printed by `--version`.
pub fn version_text() -> String {
    format!("{} {}", crate::help::PROGRAM, env!("CARGO_PKG_VERSION"))
}

/// Parses a command line (`args` excludes argv[0]), reading the `--config`
/// file and systemd's socket activation variables. Validation follows
/// section 12, in its order.
pub fn parse_command_line(args: &[String]) -> Result<Command, ConfigError> {
    parse_with(args, &Os, Activation::Systemd)
}

/// Validates string key/values (PasteDeploy / `serve(**kw)` style) with the
/// same schema. Only adjustments are accepted; no environment is read.
pub fn adjustments_from_strings(kv: &[(&str, &str)]) -> Result<Adjustments, ConfigError> {
    adjustments_from_strings_with(kv, &Os).map(|(adj, _)| adj)
}

/// [`adjustments_from_strings`], also returning the warnings to log.
pub fn adjustments_and_warnings_from_strings(
    kv: &[(&str, &str)],
) -> Result<(Adjustments, Vec<String>), ConfigError> {
    adjustments_from_strings_with(kv, &Os)
}

pub(crate) fn adjustments_from_strings_with(
    kv: &[(&str, &str)],
    system: &dyn System,
) -> Result<(Adjustments, Vec<String>), ConfigError> {
    let mut settings = Settings::default();
    for (key, value) in kv {
        let setting = schema::find(key)
            .filter(|s| s.scope == Scope::Adjustment)
            .ok_or_else(|| toml_file::unknown_key(key, ""))?;
        settings.set(setting, Raw::Text((*value).to_owned()));
    }
    adjustments::build(&settings, system, Activation::Off)
}

pub(crate) fn parse_with(
    args: &[String],
    system: &dyn System,
    activation: Activation,
) -> Result<Command, ConfigError> {
    let mut flags = cli::parse(args)?;
    if flags.help {
        return Ok(Command::Help(crate::help::help_text()));
    }
    if flags.version {
        return Ok(Command::Version(version_text()));
    }
    let mut settings = match &flags.config {
        Some(path) => {
            let text = system
                .read_file(path.as_ref())
                .map_err(|e| ConfigError::config(format!("cannot read config file {path}: {e}")))?;
            toml_file::parse(&text, path)?
        }
        None => Settings::default(),
    };
    merge_flags(&mut settings, &flags.settings);
    let app = resolve_app_name(flags.app.take(), &mut flags.positionals, &settings)?;
    let call = match settings.get("call") {
        Some(value) => raw::boolean(setting("call")?, value)?,
        None => false,
    };
    let virtualenv = match settings.get("virtualenv") {
        Some(value) => Some(raw::text(setting("virtualenv")?, value)?)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        None => None,
    };
    let log_level = match settings.get("log_level") {
        Some(value) => {
            let text = raw::text(setting("log_level")?, value)?;
            LogLevel::parse(&text).ok_or_else(|| {
                let names: Vec<&str> = LogLevel::ALL.iter().map(|(_, n)| *n).collect();
                ConfigError::config(format!(
                    "log_level: expected one of {}, got {}",
                    names.join(", "),
                    crate::cast::py_repr(&text)
                ))
            })?
        }
        None => LogLevel::Info,
    };
    for name in ["app", "call", "virtualenv", "log_level"] {
        settings.remove(name);
    }
    let (adjustments, warnings) = adjustments::build(&settings, system, activation)?;
    Ok(Command::Serve(Box::new(ServeConfig {
        app,
        call,
        virtualenv,
        log_level,
        adjustments,
        warnings,
    })))
}

fn setting(name: &str) -> Result<&'static schema::Setting, ConfigError> {
    schema::find(name)
        .ok_or_else(|| ConfigError::config(format!("internal error: no setting {name}")))
}

/// Flags override the file: a flag replaces the same key, and also the
/// file's keys it may not be combined with (a `--port` flag replaces the
/// file's `listen`), so a file plus flags never trips a conflict rule that
/// neither alone breaks.
fn merge_flags(settings: &mut Settings, flags: &Settings) {
    let from_file: Vec<&'static str> = settings.names().collect();
    for name in flags.names() {
        for existing in &from_file {
            if adjustments::conflicting(name, existing) {
                settings.remove(existing);
            }
        }
    }
    for name in flags.names() {
        if let (Some(value), Some(s)) = (flags.get(name), schema::find(name)) {
            settings.set(s, value.clone());
        }
    }
}

/// K-03: `--app`, else the first positional, else the file's `app`.
fn resolve_app_name(
    flag: Option<String>,
    positionals: &mut Vec<String>,
    settings: &Settings,
) -> Result<String, ConfigError> {
    let mut app = flag;
    if app.is_none() && !positionals.is_empty() {
        app = Some(positionals.remove(0));
    }
    if app.is_none()
        && let Some(value) = settings.get("app")
    {
        app = Some(raw::text(setting("app")?, value)?).filter(|a| !a.is_empty());
    }
    // An empty name (`--app=`, `""`) names nothing either.
    let Some(app) = app.filter(|a| !a.trim().is_empty()) else {
        return Err(ConfigError::app_resolution("Specify an application"));
    };
    if !positionals.is_empty() {
        return Err(ConfigError::app_resolution("Provide only one WSGI app"));
    }
    Ok(app)
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
