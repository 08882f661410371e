"""The bundled example application: `cargo run --release -p waitress-cli --
--config examples/server.toml`, then `curl http://127.0.0.1:8080/`."""


def app(environ, start_response):
    body = b"Hello from waitress-rs! You asked for %s\n" % environ["PATH_INFO"].encode("latin-1")
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
