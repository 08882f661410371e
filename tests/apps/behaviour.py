"""Fixture app for the server-behaviour tests (issue 6): slow responses,
streaming, uploads, file_wrapper, close() tracking. Routes by PATH_INFO."""

import os
import tempfile
import threading
import time

_lock = threading.Lock()
_events = []


def _record(event):
    with _lock:
        _events.append(event)


def _spilled_fds():
    """Open descriptors of this process that are deleted temporary files: a
    request body past inbuf_overflow lives in one (B-15)."""
    count = 0
    tmp = os.path.realpath(tempfile.gettempdir())
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if target.startswith(tmp) and target.endswith("(deleted)"):
            count += 1
    return count


class Stream:
    """A streaming body that records its close()."""

    def __init__(self, name, count, size, delay):
        self.name = name
        self.count = count
        self.size = size
        self.delay = delay

    def __iter__(self):
        for i in range(self.count):
            if self.delay:
                time.sleep(self.delay)
            yield (b"%08d" % i) + b"x" * (self.size - 8)

    def close(self):
        _record("closed:" + self.name)


class CountingFile:
    def __init__(self, path, name):
        self._f = open(path, "rb")
        self.name = name
        self.reads = 0

    def fileno(self):
        return self._f.fileno()

    def seekable(self):
        return True

    def seek(self, *args):
        return self._f.seek(*args)

    def tell(self):
        return self._f.tell()

    def read(self, *args):
        self.reads += 1
        return self._f.read(*args)

    def close(self):
        _record("file:%s reads=%d" % (self.name, self.reads))
        self._f.close()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = environ["QUERY_STRING"]
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)

    if path == "/upload":
        stream = environ["wsgi.input"]
        spilled = _spilled_fds()
        body = stream.read()
        start_response(
            "200 OK",
            [("Content-Type", "application/octet-stream"), ("X-Spilled", str(spilled))],
        )
        return [body]

    if path == "/sleep":
        time.sleep(float(params.get("s", "0.5")))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"slept"]

    if path == "/spin":
        # CPU-bound with the GIL held (no blocking call) for `s` seconds.
        end = time.monotonic() + float(params.get("s", "0.5"))
        while time.monotonic() < end:
            sum(range(1000))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"spun"]

    if path == "/stream":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Stream(
            params.get("name", "stream"),
            int(params.get("count", "100")),
            int(params.get("size", "1024")),
            float(params.get("delay", "0")),
        )

    if path == "/file":
        f = open(params["path"], "rb")
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](f, 65536)

    if path == "/file-counted":
        # A real file whose read() calls are counted: the zero-copy path
        # (W-03) never reads it through Python.
        f = CountingFile(params["path"], params.get("name", "counted"))
        if "skip" in params:
            f.seek(int(params["skip"]))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](f)

    if path == "/pid":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]

    if path == "/events":
        with _lock:
            body = "\n".join(_events).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    if path == "/disconnected":
        # C-07: with lookahead the server sees the client go away.
        deadline = time.time() + float(params.get("wait", "5"))
        seen = False
        while time.time() < deadline:
            if environ["waitress.client_disconnected"]():
                seen = True
                break
            time.sleep(0.02)
        _record("client_disconnected:%s" % seen)
        start_response("200 OK", [])
        return [b"done"]

    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok " + path.encode("latin-1")]
