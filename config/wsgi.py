"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from certhub.heap import freeze_startup_heap  # noqa: E402 -- needs the settings get_wsgi_application set up

# Each worker imports this module once, before its first request (decision 0049).
freeze_startup_heap()
