//! Log output in waitress's shape: `LEVEL:logger:message` on stderr, the format
//! of Python's `logging.basicConfig()`, with tracing targets as logger names
//! (`waitress`, `waitress.queue`).

use std::fmt;

use tracing::{Event, Level, Subscriber};
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
        .finish();
    // A second install (tests embedding the server twice) keeps the first one.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(guard)
}
