"""The API benchmark's server without the request metrics: ``bench_api --metrics both`` measures what they add.

Started by ``bench_api`` (``DJANGO_SETTINGS_MODULE``) beside the server with
``benchmarks.settings``; only the request metrics' middleware is left out.
"""

from benchmarks.settings import *  # noqa: F403

MIDDLEWARE = [name for name in MIDDLEWARE if name != "certhub.metrics.series.RequestMetricsMiddleware"]  # noqa: F405
