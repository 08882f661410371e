//! The request body buffer (B-15) and the response output queue:
//! held in memory, moved to an anonymous temporary file once the pending
//! bytes reach the overflow setting, never losing or reordering data.

mod output;
mod spill;

pub use output::OutputBuffer;
pub use spill::{BodyReader, SpillBuffer};
