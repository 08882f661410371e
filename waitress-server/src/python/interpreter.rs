//! Starting the embedded CPython: the right interpreter, the right virtualenv.
//!
//! CPython never reads `VIRTUAL_ENV`; a venv is honoured by initialising with
//! `program_name = <venv>/bin/python`, which gives the venv's own `sys.prefix`
//! and site-packages (DESIGN.md, "Virtual environments").

use std::ffi::CString;
use std::fmt;
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use pyo3::ffi;
use pyo3::prelude::*;

/// Why the interpreter could not be started; the message names the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError(pub String);

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InitError {}

/// Picks the virtualenv: the `virtualenv` setting wins over an activated one.
pub fn choose_virtualenv(configured: Option<&Path>) -> Option<PathBuf> {
    configured.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("VIRTUAL_ENV")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// `major.minor` of the libpython this binary runs, read before initialising.
fn runtime_minor_version() -> String {
    // SAFETY: Py_GetVersion returns a static NUL-terminated string and may be
    // called before Py_Initialize.
    let full = unsafe { std::ffi::CStr::from_ptr(ffi::Py_GetVersion()) };
    let text = full.to_string_lossy();
    let number = text.split_whitespace().next().unwrap_or("");
    number.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Checks that `venv` is a virtualenv made by the same Python minor version:
/// a mismatched venv silently loses its site-packages, so refuse it.
fn check_virtualenv(venv: &Path) -> Result<PathBuf, InitError> {
    let cfg_path = venv.join("pyvenv.cfg");
    let cfg = std::fs::read_to_string(&cfg_path).map_err(|e| {
        InitError(format!(
            "virtualenv {}: cannot read {}: {e}",
            venv.display(),
            cfg_path.display()
        ))
    })?;
    let runtime = runtime_minor_version();
    let venv_version = cfg.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        let key = key.trim();
        (key == "version" || key == "version_info").then(|| value.trim().to_string())
    });
    if let Some(v) = venv_version {
        let minor: String = v.split('.').take(2).collect::<Vec<_>>().join(".");
        if minor != runtime {
            return Err(InitError(format!(
                "virtualenv {} was made by Python {v}, but waitress-cli embeds Python {runtime}; \
                 recreate it with python{runtime} -m venv",
                venv.display()
            )));
        }
    }
    let python = venv.join("bin").join("python");
    if !python.exists() {
        return Err(InitError(format!(
            "virtualenv {}: {} does not exist",
            venv.display(),
            python.display()
        )));
    }
    Ok(python)
}

/// Turns a PyStatus failure into an error.
fn check_status(status: ffi::PyStatus, what: &str) -> Result<(), InitError> {
    // SAFETY: PyStatus_Exception only reads the struct.
    if unsafe { ffi::PyStatus_Exception(status) } == 0 {
        return Ok(());
    }
    let msg = if status.err_msg.is_null() {
        "unknown error".to_string()
    } else {
        // SAFETY: err_msg is a static C string when set.
        unsafe { std::ffi::CStr::from_ptr(status.err_msg) }
            .to_string_lossy()
            .into_owned()
    };
    Err(InitError(format!("cannot start Python ({what}): {msg}")))
}

/// Initialises CPython once for the whole process and releases the GIL so
/// worker threads can take it. Signal handlers are left to the server: Python
/// installs none (DESIGN.md, "Signals").
pub fn initialize(virtualenv: Option<&Path>) -> Result<(), InitError> {
    let program = match virtualenv {
        Some(venv) => Some(check_virtualenv(venv)?),
        None => None,
    };
    // SAFETY: the PyConfig API is used as documented: init, set, initialise,
    // clear; the config never outlives this function.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return Ok(());
        }
        let mut config = MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.install_signal_handlers = 0;
        let result = (|| {
            if let Some(program) = &program {
                let c = CString::new(program.as_os_str().as_encoded_bytes())
                    .map_err(|_| InitError("virtualenv path contains a NUL byte".into()))?;
                let status =
                    ffi::PyConfig_SetBytesString(&mut config, &mut config.program_name, c.as_ptr());
                check_status(status, "virtualenv")?;
            }
            check_status(ffi::Py_InitializeFromConfig(&config), "initialise")
        })();
        ffi::PyConfig_Clear(&mut config);
        result?;
        // The main thread holds the GIL after initialisation; release it for
        // good. The thread state is never restored: shutdown runs its Python
        // work through `Python::attach` like any other thread.
        ffi::PyEval_SaveThread();
    }
    Python::attach(|py| -> PyResult<()> {
        // waitress appends the working directory to sys.path (K-03), and
        // serve() calls logging.basicConfig() (K-05).
        let sys = py.import("sys")?;
        let cwd = std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| ".".into());
        sys.getattr("path")?.call_method1("append", (cwd,))?;
        py.import("logging")?.call_method0("basicConfig")?;
        Ok(())
    })
    .map_err(|e| InitError(format!("cannot prepare Python: {e}")))
}

/// End of life: run `atexit` handlers and flush stdio. The interpreter is not
/// finalised (a worker may still be inside Python; finalising would abort).
pub fn run_exit_handlers() {
    Python::attach(|py| {
        let run = || -> PyResult<()> {
            py.import("atexit")?.call_method0("_run_exitfuncs")?;
            let sys = py.import("sys")?;
            for stream in ["stdout", "stderr"] {
                let s = sys.getattr(stream)?;
                if !s.is_none() {
                    s.call_method0("flush")?;
                }
            }
            Ok(())
        };
        if let Err(e) = run() {
            e.print(py);
        }
    });
}
