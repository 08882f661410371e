//! Everything that touches Python: the interpreter, the application, the
//! environ, `start_response`, and the request driver.

pub mod app;
pub mod body;
pub mod environ;
pub mod exchange;
pub mod file_wrapper;
pub mod input;
pub mod interpreter;
pub mod start_response;
pub mod wsgi;
