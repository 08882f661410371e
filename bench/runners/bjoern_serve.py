"""Runs a WSGI app under bjoern, which has no command line of its own.

usage: python bjoern_serve.py module:callable HOST PORT
The current directory is put on sys.path, as waitress-serve does.
"""

import importlib
import os
import sys

import bjoern


def main():
    target, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    module_name, _, attr = target.partition(":")
    sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module_name), attr or "app")
    bjoern.run(app, host, port)


if __name__ == "__main__":
    main()
