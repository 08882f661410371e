"""Response framing cases (section 8) chosen by PATH_INFO."""

import sys


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/cl-excess":
        start_response("200 OK", [("Content-Length", "5")])
        return [b"hello world"]
    if path == "/cl-short":
        start_response("200 OK", [("Content-Length", "10")])
        return [b"hel", b"lo"]
    if path == "/no-length":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"chunk-one;", b"chunk-two"])
    if path == "/204":
        start_response("204 No Content", [("Content-Length", "3")])
        return [b"abc"]
    if path == "/304":
        start_response("304 Not Modified", [])
        return []
    if path == "/headers":
        start_response(
            "200 OK",
            [("x-lower", "1"), ("X-UPPER", "2"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        )
        return [b"h"]
    if path == "/server-header":
        start_response("200 OK", [("Server", "app/1.0")])
        return [b"s"]
    if path == "/exc-info-before-head":
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ValueError("replaced")
        except ValueError:
            start_response("503 Service Unavailable", [("X-Second", "1")], sys.exc_info())
        return [b"recovered"]
    if path == "/exc-info-after-head":
        write = start_response("200 OK", [])
        write(b"partial")
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())
        return [b"never"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"body-of-" + path.encode("latin-1")]
