//! The `--config` TOML file: the adjustments as top-level keys plus `app`,
//! `call`, `virtualenv` and `log_level`.

use crate::error::ConfigError;
use crate::raw::{Raw, Settings};
use crate::schema;

/// Parses a config file's text; `origin` names the file in errors.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Settings, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let position = e
            .span()
            .map(|span| {
                let (line, column) = line_column(text, span.start);
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        ConfigError::config(format!(
            "{origin}: invalid TOML{position}: {}",
            e.message().trim()
        ))
    })?;
    let mut settings = Settings::default();
    for (key, value) in &table {
        let setting = schema::find(key).ok_or_else(|| unknown_key(key, origin))?;
        settings.set(setting, to_raw(value));
    }
    Ok(settings)
}

/// waitress's `Unknown adjustment 'x'`, with the closest valid key.
pub(crate) fn unknown_key(key: &str, origin: &str) -> ConfigError {
    let suggestion = schema::closest(key, schema::SETTINGS.iter().map(|s| s.name))
        .map(|name| format!(" (did you mean '{name}'?)"))
        .unwrap_or_default();
    let place = if origin.is_empty() {
        String::new()
    } else {
        format!("{origin}: ")
    };
    ConfigError::config(format!(
        "{place}Unknown adjustment {}{suggestion}",
        crate::cast::py_repr(key)
    ))
}

fn to_raw(value: &toml::Value) -> Raw {
    match value {
        toml::Value::String(s) => Raw::Text(s.clone()),
        toml::Value::Integer(i) => Raw::Int(*i),
        toml::Value::Boolean(b) => Raw::Bool(*b),
        toml::Value::Array(items) => Raw::Array(items.iter().map(to_raw).collect()),
        toml::Value::Float(_) => Raw::Other("a float"),
        toml::Value::Datetime(_) => Raw::Other("a date/time"),
        toml::Value::Table(_) => Raw::Other("a table"),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_toml_types() {
        let settings = parse(
            "threads = 8\nlisten = [\"a:1\", \"b:2\"]\nexpose_tracebacks = true\nident = \"x\"\n",
            "f.toml",
        )
        .expect("valid");
        assert_eq!(settings.get("threads"), Some(&Raw::Int(8)));
        assert_eq!(
            settings.get("listen"),
            Some(&Raw::Array(vec![
                Raw::Text("a:1".into()),
                Raw::Text("b:2".into())
            ]))
        );
        assert_eq!(settings.get("expose_tracebacks"), Some(&Raw::Bool(true)));
        assert_eq!(settings.get("ident"), Some(&Raw::Text("x".into())));
        assert!(parse("t = 1.5", "f").is_err());
        assert_eq!(
            parse("threads = 1.5", "f").map(|s| s.get("threads").cloned()),
            Ok(Some(Raw::Other("a float")))
        );
    }

    #[test]
    fn unknown_key_suggests_the_closest_name() {
        assert_eq!(
            parse("thread = 4", "server.toml").map_err(|e| e.to_string()),
            Err("server.toml: Unknown adjustment 'thread' (did you mean 'threads'?)".into())
        );
        assert_eq!(
            parse("[listen]\nx=1", "s.toml").map(|s| s.get("listen").cloned()),
            Ok(Some(Raw::Other("a table")))
        );
        assert_eq!(
            parse("qqqqqqqqqq = 1", "s.toml").map_err(|e| e.to_string()),
            Err("s.toml: Unknown adjustment 'qqqqqqqqqq'".into())
        );
    }

    #[test]
    fn syntax_errors_are_one_line_with_position() {
        let err = parse("threads = 4\nport = \n", "s.toml").expect_err("bad toml");
        assert!(
            err.message()
                .starts_with("s.toml: invalid TOML at line 2, column"),
            "{err}"
        );
        assert!(!err.message().contains('\n'));
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
