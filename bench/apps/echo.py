"""bench `echo`: reads the whole request body from wsgi.input and answers its length."""


def app(environ, start_response):
    stream = environ["wsgi.input"]
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        remaining = 0
    total = 0
    # Read in blocks, the way real apps consume uploads (not one huge read()).
    while remaining > 0:
        block = stream.read(min(remaining, 16384))
        if not block:
            break
        total += len(block)
        remaining -= len(block)
    body = str(total).encode("ascii")
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]
