"""Settings of the API benchmark's server: the project's settings plus the bare comparison views.

Used only by ``manage.py bench_api``, which starts gunicorn with
``DJANGO_SETTINGS_MODULE=benchmarks.settings``; a normal run never
loads this module, so the ``/bench/bare/...`` URLs do not exist there.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
