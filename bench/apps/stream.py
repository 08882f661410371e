"""bench `stream`: a generator of 100 x 1 KiB chunks, no Content-Length."""

CHUNK = b"x" * 1024
COUNT = 100


def _chunks():
    for _ in range(COUNT):
        yield CHUNK


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return _chunks()
