//! Uncast setting values as they arrive from TOML, flags or strings, and the
//! typed casts of section 12 applied to them.

use std::collections::BTreeMap;

use crate::cast::{self, IntError};
use crate::error::ConfigError;
use crate::schema::{IntRange, Setting};

/// One uncast value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Raw {
    /// A string (flags and string settings always give strings).
    Text(String),
    /// A TOML integer.
    Int(i64),
    /// A TOML boolean, or a boolean flag.
    Bool(bool),
    /// A TOML array.
    Array(Vec<Raw>),
    /// A TOML value no setting takes; holds its description.
    Other(&'static str),
}

impl Raw {
    /// "a string", "an integer", ... for type errors.
    fn describe(&self) -> &'static str {
        match self {
            Raw::Text(_) => "a string",
            Raw::Int(_) => "an integer",
            Raw::Bool(_) => "a boolean",
            Raw::Array(_) => "an array",
            Raw::Other(what) => what,
        }
    }
}

/// The settings given, by name; presence matters (section 12's conflict
/// rules look at which keys were given, not at their values).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Settings {
    values: BTreeMap<&'static str, Raw>,
}

impl Settings {
    pub fn set(&mut self, setting: &'static Setting, value: Raw) {
        self.values.insert(setting.name, value);
    }

    pub fn get(&self, name: &str) -> Option<&Raw> {
        self.values.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.keys().copied()
    }
}

fn type_error(setting: &Setting, expected: &str, got: &Raw) -> ConfigError {
    ConfigError::config(format!(
        "{}: expected {expected}, got {}",
        setting.name,
        got.describe()
    ))
}

/// `str`: text only (a TOML number or boolean for a text setting is a typo
/// more often than not).
pub(crate) fn text(setting: &Setting, raw: &Raw) -> Result<String, ConfigError> {
    match raw {
        Raw::Text(s) => Ok(s.clone()),
        other => Err(type_error(setting, "a string", other)),
    }
}

/// `int` with a range check; the error names the setting.
pub(crate) fn int(setting: &Setting, raw: &Raw, range: IntRange) -> Result<i128, ConfigError> {
    let value = match raw {
        Raw::Int(i) => i128::from(*i),
        Raw::Text(s) => cast::py_int(s, 10).map_err(|e| int_error(setting, s, e))?,
        other => return Err(type_error(setting, "an integer", other)),
    };
    check_range(setting, value, range)
}

/// `asoctal`. A TOML integer is refused: `0o600` and `600` both parse to a
/// number and the two readings cannot be told apart afterwards.
pub(crate) fn octal(setting: &Setting, raw: &Raw, range: IntRange) -> Result<i128, ConfigError> {
    let value = match raw {
        Raw::Text(s) => cast::py_int(s, 8).map_err(|e| int_error(setting, s, e))?,
        Raw::Int(_) => {
            return Err(ConfigError::config(format!(
                "{}: give octal permissions as a string, e.g. \"600\"",
                setting.name
            )));
        }
        other => return Err(type_error(setting, "a string of octal digits", other)),
    };
    check_range(setting, value, range)
}

fn int_error(setting: &Setting, text: &str, error: IntError) -> ConfigError {
    match error {
        IntError::Literal(message) => ConfigError::config(format!("{}: {message}", setting.name)),
        IntError::TooLarge => ConfigError::config(format!(
            "{}: {} is out of range",
            setting.name,
            cast::py_repr(cast::py_strip(text))
        )),
    }
}

fn check_range(setting: &Setting, value: i128, range: IntRange) -> Result<i128, ConfigError> {
    if (range.min..=range.max).contains(&value) {
        return Ok(value);
    }
    let bounds = if range.max == crate::schema::MAX_BYTES && range.min == 0 {
        "must not be negative".to_owned()
    } else if range.min == 1 && range.max >= crate::schema::MAX_COUNT {
        "must be at least 1".to_owned()
    } else {
        format!("must be between {} and {}", range.min, range.max)
    };
    Err(ConfigError::config(format!(
        "{}: {value} is out of range ({bounds})",
        setting.name
    )))
}

/// `asbool`: never an error for text; a TOML integer is read as its text.
pub(crate) fn boolean(setting: &Setting, raw: &Raw) -> Result<bool, ConfigError> {
    match raw {
        Raw::Bool(b) => Ok(*b),
        Raw::Text(s) => Ok(cast::asbool(s)),
        Raw::Int(i) => Ok(cast::asbool(&i.to_string())),
        other => Err(type_error(setting, "a boolean", other)),
    }
}

/// `aslist`: a whitespace-separated string, or an array whose items are
/// split the same way (as waitress splits each item of a list).
pub(crate) fn list(setting: &Setting, raw: &Raw) -> Result<Vec<String>, ConfigError> {
    match raw {
        Raw::Text(s) => Ok(cast::aslist(s)),
        Raw::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Raw::Text(s) => out.extend(cast::aslist(s)),
                    Raw::Int(i) => out.push(i.to_string()),
                    other => {
                        return Err(type_error(setting, "an array of strings", other));
                    }
                }
            }
            Ok(out)
        }
        other => Err(type_error(
            setting,
            "a string or an array of strings",
            other,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::find;

    fn setting(name: &str) -> &'static Setting {
        find(name).expect("known setting")
    }

    #[test]
    fn int_names_the_setting_and_value() {
        let threads = setting("threads");
        let range = IntRange { min: 1, max: 1024 };
        assert_eq!(int(threads, &Raw::Text(" 8 ".into()), range), Ok(8));
        assert_eq!(int(threads, &Raw::Int(8), range), Ok(8));
        assert_eq!(
            int(threads, &Raw::Text("abc".into()), range).map_err(|e| e.to_string()),
            Err("threads: invalid literal for int() with base 10: 'abc'".into())
        );
        assert_eq!(
            int(threads, &Raw::Int(0), range).map_err(|e| e.to_string()),
            Err("threads: 0 is out of range (must be between 1 and 1024)".into())
        );
        assert_eq!(
            int(threads, &Raw::Bool(true), range).map_err(|e| e.to_string()),
            Err("threads: expected an integer, got a boolean".into())
        );
        assert_eq!(
            int(
                threads,
                &Raw::Text("99999999999999999999999999999999999999999".into()),
                range
            )
            .map_err(|e| e.to_string()),
            Err("threads: '99999999999999999999999999999999999999999' is out of range".into())
        );
    }

    #[test]
    fn octal_refuses_toml_integers() {
        let perms = setting("unix_socket_perms");
        let range = IntRange {
            min: 0,
            max: 0o7777,
        };
        assert_eq!(octal(perms, &Raw::Text("660".into()), range), Ok(0o660));
        assert!(octal(perms, &Raw::Int(660), range).is_err());
        assert_eq!(
            octal(perms, &Raw::Text("999".into()), range).map_err(|e| e.to_string()),
            Err("unix_socket_perms: invalid literal for int() with base 8: '999'".into())
        );
    }

    #[test]
    fn boolean_and_list_casts() {
        let ipv4 = setting("ipv4");
        assert_eq!(boolean(ipv4, &Raw::Text("yes".into())), Ok(true));
        assert_eq!(boolean(ipv4, &Raw::Text("nope".into())), Ok(false));
        assert_eq!(boolean(ipv4, &Raw::Int(1)), Ok(true));
        assert_eq!(boolean(ipv4, &Raw::Int(2)), Ok(false));
        assert!(boolean(ipv4, &Raw::Array(vec![])).is_err());
        let listen = setting("listen");
        assert_eq!(
            list(
                listen,
                &Raw::Array(vec![Raw::Text("a:1 b:2".into()), Raw::Text("c:3".into())])
            ),
            Ok(vec!["a:1".to_owned(), "b:2".into(), "c:3".into()])
        );
        assert!(list(listen, &Raw::Array(vec![Raw::Bool(true)])).is_err());
    }
}
