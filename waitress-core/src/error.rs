//! The one error type of configuration, listening and app naming.
//!
//! Every error is a single line (D-19): the CLI prints `Error: <message>` and
//! exits with [`ConfigError::exit_code`].

use std::fmt;

/// Exit status for configuration mistakes (D-19).
pub const EXIT_CONFIG: i32 = 2;
/// Exit status for app resolution errors (K-03) and OS errors while binding,
/// as waitress exits for them.
pub const EXIT_FAILURE: i32 = 1;

/// What kind of mistake a [`ConfigError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A wrong setting, flag, TOML file or conflict (exit 2).
    Config,
    /// No application or more than one was named (K-03, exit 1). waitress
    /// prints the help text after these.
    AppResolution,
    /// The OS refused a listening socket (bind, listen, chmod; exit 1).
    Bind,
}

/// A configuration, app-naming or binding error with a one-line message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
}

impl ConfigError {
    /// A configuration error (exit status 2).
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Config, message)
    }

    /// An app resolution error of K-03 (exit status 1).
    pub fn app_resolution(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::AppResolution, message)
    }

    /// A listening-socket error from the OS (exit status 1).
    pub fn bind(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Bind, message)
    }

    fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        // One line, always: a stray newline would break the `Error: ` format.
        let message = message.into().replace(['\r', '\n'], " ");
        Self { kind, message }
    }

    /// The message, without the `Error: ` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ConfigErrorKind::Config => EXIT_CONFIG,
            ConfigErrorKind::AppResolution | ConfigErrorKind::Bind => EXIT_FAILURE,
        }
    }

    /// What kind of mistake this is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d19_config_errors_exit_2_app_errors_exit_1() {
        assert_eq!(ConfigError::config("x").exit_code(), 2);
        assert_eq!(ConfigError::app_resolution("x").exit_code(), 1);
        assert_eq!(ConfigError::bind("x").exit_code(), 1);
    }

    #[test]
    fn d19_message_is_one_line() {
        let err = ConfigError::config("a\nb\r\nc");
        assert_eq!(err.message(), "a b  c");
        assert_eq!(err.to_string(), "a b  c");
    }
}
