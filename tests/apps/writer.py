"""Uses the write() callable returned by start_response (S-05, R-12)."""


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/write-only":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        write(b"by write()")
        return []
    if path == "/write-and-iterate":
        write = start_response("200 OK", [("Content-Length", "11")])
        write(b"hello")
        return [b" ", b"world"]
    if path == "/write-empty":
        write = start_response("200 OK", [("X-Head", "sent")])
        write(b"")
        return []
    start_response("404 Not Found", [])
    return [b""]
