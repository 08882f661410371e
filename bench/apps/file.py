"""bench `file`: a 10 MiB file served through wsgi.file_wrapper.

The harness generates the file (it is not committed) and names it in
WAITRESS_BENCH_FILE. A server without wsgi.file_wrapper gets the PEP 3333
fallback (blocks read in Python); the X-File-Wrapper header says which one
ran, and the bench report shows it.
"""

import os

PATH = os.environ["WAITRESS_BENCH_FILE"]
SIZE = os.path.getsize(PATH)
BLOCK = 256 * 1024


def _blocks(f):
    try:
        while True:
            block = f.read(BLOCK)
            if not block:
                return
            yield block
    finally:
        f.close()


def app(environ, start_response):
    f = open(PATH, "rb")
    wrapper = environ.get("wsgi.file_wrapper")
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(SIZE)),
            ("X-File-Wrapper", "server" if wrapper else "fallback"),
        ],
    )
    if wrapper:
        return wrapper(f, BLOCK)
    return _blocks(f)
