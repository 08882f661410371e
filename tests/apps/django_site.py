"""A minimal Django project in one module (settings, URLs, views), served
through Django's own WSGI handler from the test virtualenv."""

import os
import sys

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="waitress-rs-tests-only",
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
        ],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def index(request):
    return HttpResponse("Hello from Django %s" % django.get_version())


def echo(request):
    return JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "query": request.GET.dict(),
            "body": request.body.decode("utf-8"),
            "host": request.get_host(),
            "scheme": request.scheme,
        }
    )


def where(request):
    return JsonResponse({"prefix": sys.prefix, "django_file": django.__file__})


urlpatterns = [
    path("", index),
    path("echo/", echo),
    path("where/", where),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
