"""Benchmarks and load tests of CertHub: nothing here runs in a normal request or job.

- ``manage.py bench_expiry`` (``expiry``, ``run_job``): the expiry job against
  its hand-written SQL floor and a per-row loop, on identical copies of one
  data set (PostgreSQL).
- ``manage.py bench_api`` (``api``, ``settings``, ``urls``): the certification
  API under gunicorn against bare Django views; those views are routed only by
  ``benchmarks.settings``, never by the project's settings.
- ``loadtest``: mixed traffic against any running server (standard library only).

The data sets come from the product's demo data (``certifications.demo``).
"""
