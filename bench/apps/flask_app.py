"""bench `flask`: a Flask route returning a short string."""

import flask

app = flask.Flask(__name__)


@app.route("/")
def index():
    return "Hello, world!"
