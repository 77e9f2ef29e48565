"""Demo data and benchmarks: the realistic data set, the expiry job against its SQL floor, the API against a bare view.

Used by the ``seed_demo``, ``bench_expiry`` and ``bench_api`` management
commands; nothing here runs in a normal request or job.
"""
