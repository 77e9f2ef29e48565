"""Prometheus metrics: the counters every process adds to, the gauges read at scrape time, ``/metrics``.

- ``files``: the multiprocess directory's cleaning at start (decision 0034).
- ``series``: the request and task counters and the request histogram, and what feeds them.
- ``gauges``: the registry of gauges each app registers in ``ready()`` (the domain's, the
  outbox's, the notices'), read from indexes or maintained totals at scrape time.
- ``exposition``: who may scrape, and the text a scrape answers.
"""
