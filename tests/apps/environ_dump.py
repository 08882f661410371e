"""Returns the WSGI environ as JSON: strings as they are, other values as
type names or reprs, so tests can check every key of section 10."""

import json
import sys


def describe(key, value):
    if isinstance(value, str):
        return value
    if key == "wsgi.errors":
        return "sys.stderr" if value is sys.stderr else repr(value)
    if key == "wsgi.input":
        return "input"
    if key == "waitress.client_disconnected":
        return "callable:%r" % (value(),)
    if key == "wsgi.file_wrapper":
        return "file_wrapper" if callable(value) else repr(value)
    return repr(value)


def app(environ, start_response):
    data = {k: describe(k, v) for k, v in environ.items()}
    body = json.dumps(data, sort_keys=True).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
