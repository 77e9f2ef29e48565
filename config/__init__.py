"""CertHub project configuration; loads the Celery app with Django."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
