"""bench `sleep`: the app sleeps 10 ms (a slow backend call); shows the thread pool."""

import time

BODY = b"slept"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    time.sleep(0.010)
    start_response("200 OK", HEADERS)
    return [BODY]
