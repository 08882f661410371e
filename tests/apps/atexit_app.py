"""Registers an atexit handler that writes the file named by ATEXIT_MARKER:
graceful shutdown runs atexit (D-18)."""

import atexit
import logging
import os

log = logging.getLogger("atexit_app")


def _on_exit():
    with open(os.environ["ATEXIT_MARKER"], "w") as f:
        f.write("atexit ran")


atexit.register(_on_exit)


def app(environ, start_response):
    log.warning("app log line from %s", environ["PATH_INFO"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
