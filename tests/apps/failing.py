"""Apps that fail at different moments (X-04, X-05, S-01, S-05, S-06)."""


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/ok":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"still serving"]
    if path == "/raise":
        raise RuntimeError("boom before start_response")
    if path == "/raise-after-start":
        start_response("200 OK", [])
        raise ValueError("boom after start_response")
    if path == "/raise-mid-body":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def gen():
            yield b"first part"
            raise KeyError("boom mid body")

        return gen()
    if path == "/twice":
        start_response("200 OK", [])
        start_response("200 OK", [])
        return [b"unreachable"]
    if path == "/no-start":
        return [b"body without start_response"]
    if path == "/hop-by-hop":
        start_response("200 OK", [("Connection", "close")])
        return [b"x"]
    if path == "/bad-status":
        start_response("200", [])
        return [b"x"]
    if path == "/str-chunk":
        start_response("200 OK", [("Content-Length", "5")])
        return ["hello"]
    start_response("404 Not Found", [])
    return [b"not found"]
