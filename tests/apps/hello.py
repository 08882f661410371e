"""The smallest WSGI app: a 13-byte body; the server computes Content-Length."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, world!"]
