// Without the rpath the binary silently loads another libpython than the one it
// was built against (DESIGN.md: "Linking").
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
