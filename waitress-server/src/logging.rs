//! Log output in waitress's shape: `LEVEL:logger:message` on stderr, the format
//! of Python's `logging.basicConfig()`, with tracing targets as logger names
//! (`waitress`, `waitress.queue`).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::log_sink::{LogSink, LogSinkGuard};

/// Logger names used as tracing targets, as waitress names its loggers.
pub const LOGGER: &str = "waitress";
pub const QUEUE_LOGGER: &str = "waitress.queue";

/// Python's level names for tracing's levels.
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// `FormatEvent` that prints `LEVEL:target:message` and nothing else.
#[derive(Debug, Default, Clone, Copy)]
pub struct WaitressFormat;

impl<S, N> FormatEvent<S, N> for WaitressFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        write!(writer, "{}:{}:", level_name(meta.level()), meta.target())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Fields as tracing-subscriber's default writes them (`message`, then
/// ` name=value`) with the same escaping of terminal control characters
/// (applied to every field, where the default spares all but the message),
/// but written a run of ordinary characters at a time: the default escapes
/// character by character, which under load (`Task queue depth` on every
/// queued request) was a few percent of the I/O thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct WaitressFields;

impl<'w> FormatFields<'w> for WaitressFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = FieldWriter {
            out: writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct FieldWriter<'w> {
    out: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let pad = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        let mut out = Escaping(&mut self.out);
        self.result = match field.name() {
            "message" => write!(out, "{pad}{value:?}"),
            name => {
                let name = name.strip_prefix("r#").unwrap_or(name);
                write!(out, "{pad}{name}={value:?}")
            }
        };
    }
}

/// Writes text with the control characters a terminal could act on (ESC,
/// BEL, BS, FF, DEL and the C1 range) escaped as tracing-subscriber does.
struct Escaping<'a, W: fmt::Write>(&'a mut W);

fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
    )
}

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(needs_escape) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
                _ => write!(self.0, "\\x{:02x}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// Keeps the log writer thread alive; dropping it writes every pending line.
pub type LogGuard = LogSinkGuard;

/// Installs the global subscriber: waitress format, stderr, `max_level` and
/// up. Lines are written by a background thread in batches (see
/// `log_sink`), so a busy server (e.g. `Task queue depth` on every request
/// under load) never waits for stderr in a connection task or a worker;
/// none are dropped.
pub fn init(max_level: Level) -> std::io::Result<LogGuard> {
    let (sink, guard) = LogSink::stderr()?;
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(max_level)
        .with_writer(sink)
        .event_format(WaitressFormat)
        .fmt_fields(WaitressFields)
        .finish();
    // A second install (tests embedding the server twice) keeps the first one.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_as_tracing_subscriber_does() {
        let mut out = String::new();
        write!(
            Escaping(&mut out),
            "plain \x1b[31mred\x07 bs\x08 ff\x0c del\x7f c1\u{85}\u{9f} é ok"
        )
        .unwrap();
        assert_eq!(
            out,
            "plain \\x1b[31mred\\x07 bs\\x08 ff\\x0c del\\x7f c1\\u{85}\\u{9f} é ok"
        );
    }

    /// A subscriber with the given field formatter, writing to a buffer.
    fn render<N>(fields: N, emit: impl FnOnce()) -> String
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        let capture = crate::log_sink::Capture::default();
        let sink = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .event_format(WaitressFormat)
            .fmt_fields(fields)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        capture.text()
    }

    #[test]
    fn lines_are_those_of_the_default_field_format() {
        let emit = || {
            let depth = 3;
            tracing::warn!(target: QUEUE_LOGGER, "Task queue depth is {depth}");
            tracing::error!(target: LOGGER, "Socket error\nbad \x1b]0;title\x07 byte \u{9b}");
            tracing::info!(target: LOGGER, "");
            let name = "app";
            tracing::info!(target: LOGGER, worker = 2, r#type = name, "started {name}");
        };
        let ours = render(WaitressFields, emit);
        let default = render(tracing_subscriber::fmt::format::DefaultFields::new(), emit);
        assert_eq!(ours, default);
        assert!(ours.starts_with("WARNING:waitress.queue:Task queue depth is 3\n"));
        assert!(
            ours.contains("bad \\x1b]0;title\\x07 byte \\u{9b}"),
            "{ours}"
        );
        assert!(
            ours.contains("INFO:waitress:started app worker=2 type=\"app\"\n"),
            "{ours}"
        );
    }
}
