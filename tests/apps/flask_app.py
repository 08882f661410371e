"""A real Flask application, imported from the test virtualenv."""

import flask

app = flask.Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask %s" % flask.__version__


@app.route("/json/<name>")
def json_route(name):
    return flask.jsonify(name=name, args=flask.request.args.to_dict())


@app.route("/form", methods=["POST"])
def form():
    return "form:" + ",".join("%s=%s" % kv for kv in sorted(flask.request.form.items()))


@app.route("/where")
def where():
    import sys

    return flask.jsonify(prefix=sys.prefix, flask_file=flask.__file__)
