//! The request body buffer (B-15): held in memory, moved to an anonymous
//! temporary file once the body reaches `inbuf_overflow`, never losing or
//! reordering data. (Response output spills in waitress-server's exchange,
//! which sends its file with sendfile.)

mod spill;

pub use spill::{BodyReader, SpillBuffer};
