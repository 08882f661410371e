//! A real Flask app served from a virtualenv the test harness prepared:
//! proves the venv's site-packages (not the global ones) are used.

use waitress_tests::server::test_venv;
use waitress_tests::{ServerBuilder, request};

#[test]
fn flask_app_from_configured_virtualenv() {
    let venv = test_venv();
    let server = ServerBuilder::new("flask_app:app")
        .arg(format!("--virtualenv={}", venv.display()))
        .start();
    let resp = request(server.addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log_text());
    assert!(
        resp.text().starts_with("Hello from Flask "),
        "{}",
        resp.text()
    );

    let resp = request(
        server.addr(),
        b"GET /json/caf%C3%A9?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("application/json"));
    assert!(resp.text().contains("\"a\":\"1\""), "{}", resp.text());

    let body = "b=2&a=1";
    let raw = format!(
        "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = request(server.addr(), raw.as_bytes());
    assert_eq!(resp.text(), "form:a=1,b=2");

    let resp = request(server.addr(), b"GET /where HTTP/1.1\r\nHost: x\r\n\r\n");
    let venv_text = venv.canonicalize().unwrap().display().to_string();
    let text = resp.text();
    assert!(
        text.contains(&format!("\"prefix\":\"{venv_text}\"")),
        "sys.prefix is the venv: {text}"
    );
    assert!(
        text.contains(&format!("{venv_text}/lib/")),
        "flask comes from the venv: {text}"
    );
}

#[test]
fn flask_app_from_activated_virtualenv() {
    let venv = test_venv();
    let server = ServerBuilder::new("flask_app:app")
        .env("VIRTUAL_ENV", venv.display().to_string())
        .start();
    let resp = request(server.addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log_text());
}

#[test]
fn django_app_from_the_virtualenv() {
    let venv = test_venv();
    let server = ServerBuilder::new("django_site:application")
        .arg(format!("--virtualenv={}", venv.display()))
        .start();
    let resp = request(server.addr(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), server.log_text());
    assert!(
        resp.text().starts_with("Hello from Django "),
        "{}",
        resp.text()
    );

    let body = "{\"k\": 1}";
    let raw = format!(
        "POST /echo/?a=1&b=two HTTP/1.1\r\nHost: site.example:8080\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = request(server.addr(), raw.as_bytes());
    assert_eq!(resp.status, 200, "{}", resp.text());
    let text = resp.text();
    for expected in [
        "\"method\": \"POST\"",
        "\"path\": \"/echo/\"",
        "\"query\": {\"a\": \"1\", \"b\": \"two\"}",
        "\"body\": \"{\\\"k\\\": 1}\"",
        "\"host\": \"site.example:8080\"",
        "\"scheme\": \"http\"",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }

    // CommonMiddleware's APPEND_SLASH redirect comes back through start_response.
    let resp = request(server.addr(), b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(resp.status, 301, "{}", resp.text());
    assert_eq!(resp.header("Location"), Some("/echo/"));

    let resp = request(server.addr(), b"GET /where/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let venv_text = venv.canonicalize().unwrap().display().to_string();
    assert!(
        resp.text().contains(&format!("{venv_text}/lib/")),
        "{}",
        resp.text()
    );
}
