"""Echoes the request body back, reading wsgi.input the way PATH_INFO asks."""

import hashlib


def _read_all(stream, how):
    if how == "/read":
        return stream.read()
    if how == "/readn":
        parts = []
        while True:
            block = stream.read(1000)
            if not block:
                break
            parts.append(block)
        return b"".join(parts)
    if how == "/readline":
        parts = []
        while True:
            line = stream.readline()
            if not line:
                break
            parts.append(line)
        return b"".join(parts)
    if how == "/readlines":
        return b"".join(stream.readlines())
    if how == "/iter":
        return b"".join(line for line in stream)
    raise ValueError("unknown read mode " + how)


def app(environ, start_response):
    body = _read_all(environ["wsgi.input"], environ["PATH_INFO"])
    # Reading past the end gives b"" (B-15).
    assert environ["wsgi.input"].read() == b""
    headers = [
        ("Content-Type", "application/octet-stream"),
        ("X-Body-Sha256", hashlib.sha256(body).hexdigest()),
        ("X-Content-Length", environ.get("CONTENT_LENGTH", "<absent>")),
    ]
    start_response("200 OK", headers)
    return [body]
