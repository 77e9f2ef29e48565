"""The Celery application, configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery, signals
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# A filesystem:// broker URL means kombu's filesystem transport with each message written
# atomically (certhub/broker.py); any other URL keeps its own transport.
TRANSPORT_ALIASES["filesystem"] = "certhub.broker:Transport"

app = Celery("certhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_django_logging(**_):
    """The worker logs through the settings' LOGGING (request id, task name and id; LOG_FORMAT), not Celery's own."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.worker_init.connect
def lower_cpu_priority(**_):
    """The worker and the pool it forks run at niceness ``WORKER_NICE`` (off, 0, by default; decision 0054).

    On a machine it shares with the web server the API's requests may then come first; never lowered.
    """
    raw = os.environ.get("WORKER_NICE", "0")
    try:
        wanted = min(max(int(raw), -20), 19)
    except ValueError:
        raise ImproperlyConfigured(f"WORKER_NICE must be a whole number (0 to 19), not {raw!r}.") from None
    if wanted > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, wanted)


@signals.worker_init.connect
def clean_metrics_files(**_):
    """Drop the counter files of processes that no longer run (decision 0034)."""
    from django.conf import settings

    from certhub.metrics.files import clean

    clean(settings.METRICS_DIR)
