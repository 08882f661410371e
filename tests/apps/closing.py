"""Records every close() the server calls on returned iterables (W-01)."""

import threading

_lock = threading.Lock()
_closed = []


class Body:
    def __init__(self, name, chunks, fail=False):
        self.name = name
        self.chunks = chunks
        self.fail = fail

    def __iter__(self):
        for chunk in self.chunks:
            yield chunk
        if self.fail:
            raise RuntimeError("iteration failed")

    def close(self):
        with _lock:
            _closed.append(self.name)


class ClosingList(list):
    """A list body with a close(): the server's list fast path must still
    call it."""

    def __init__(self, name, chunks):
        super().__init__(chunks)
        self.name = name

    def close(self):
        with _lock:
            _closed.append(self.name)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/closed":
        with _lock:
            body = ",".join(_closed).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    start_response("200 OK", [("Content-Type", "text/plain")])
    name = path.strip("/")
    if name.startswith("list"):
        return ClosingList(name, [b"a", b"b", b"c"])
    return Body(name, [b"a", b"b", b"c"], fail=name.startswith("fail"))
