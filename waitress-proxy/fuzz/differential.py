"""Differential check against Python waitress, step 2 of 2 (see README.md).

Reads the JSON lines of `differential_dump`, runs waitress's own
proxy_headers_middleware on each staged environ (with the trust decision
waitress-rs made, so D-23 lists are compared too) and compares the outcome:
status, environ seen by the app, and WARNING lines. Known, decided
differences are counted by category; anything else is printed and makes the
exit status 1.

usage: python3 differential.py <dump.jsonl> <waitress checkout>/src
"""

import json
import re
import sys

sys.path.insert(0, sys.argv[2])
from waitress.proxy_headers import proxy_headers_middleware  # noqa: E402


class Logger:
    def __init__(self):
        self.lines = []

    def warning(self, msg, *args):
        self.lines.append(msg % args if args else msg)


def normalize(line):
    # waitress lists removed headers in set order (P-03: unspecified).
    m = re.match(r"Removed untrusted headers \((.*)\)\. Waitress", line)
    return ("removed", frozenset(m.group(1).split(", "))) if m else line


def run_waitress(case):
    seen = {}

    def app(environ, start_response):
        seen["env"] = dict(environ)
        start_response("200 OK", [])
        return [b""]

    logger = Logger()
    middleware = proxy_headers_middleware(
        app,
        trusted_proxy="*" if case["trusted"] else None,
        trusted_proxy_count=case["count"],
        trusted_proxy_headers=set(case["headers"]),
        clear_untrusted=case["clear"],
        log_untrusted=case["log"],
        logger=logger,
    )
    status = {}
    try:
        body = b"".join(middleware(dict(case["before"]), lambda s, h: status.update(s=s)))
    except Exception as exc:  # waitress turns these into a 500
        return ("exception", repr(exc), None, [normalize(x) for x in logger.lines])
    if status["s"].startswith("400"):
        detail = body.decode().split("\r\n\r\n")[1]
        return ("error", detail, None, [normalize(x) for x in logger.lines])
    return ("ok", None, seen["env"], [normalize(x) for x in logger.lines])


def ours(case):
    kind = "ok" if case["error"] is None else "error"
    env = case["after"] if kind == "ok" else None
    return (kind, case["error"], env, [normalize(x) for x in case["warnings"]])


def classify(theirs, mine):
    empty_client = any("empty client address" in w for w in mine[3] if isinstance(w, str))
    if theirs[0] == "exception" and mine[0] == "error" and empty_client:
        return "empty client address: waitress 500 (IndexError), ours 400"
    if theirs[0] == "ok" and mine[0] == "error" and empty_client and theirs[2]["REMOTE_ADDR"] == "":
        return "empty client address: waitress empty REMOTE_ADDR, ours 400"
    if theirs[0] == mine[0] == "ok":
        addr = theirs[2].get("REMOTE_ADDR", "")
        if addr.startswith("[") and "]:" in addr:
            a, b = dict(theirs[2]), dict(mine[2])
            for key in ("REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT"):
                a.pop(key, None)
                b.pop(key, None)
            if a == b and theirs[3] == mine[3]:
                return "D-10: [v6]:port split"
    return None


def main():
    counts = {"identical": 0}
    unexplained = 0
    for line in open(sys.argv[1]):
        case = json.loads(line)
        if not case["active"]:
            assert case["before"] == case["after"], case["name"]
            counts["identical"] += 1
            continue
        theirs, mine = run_waitress(case), ours(case)
        if theirs == mine:
            counts["identical"] += 1
            continue
        category = classify(theirs, mine)
        if category is None:
            unexplained += 1
            print("UNEXPLAINED", case["name"])
            print("  waitress:", theirs)
            print("  ours:    ", mine)
            category = "unexplained"
        counts[category] = counts.get(category, 0) + 1
    for category, n in sorted(counts.items()):
        print(f"{n:7d}  {category}")
    sys.exit(1 if unexplained else 0)


main()
